//! test-counter: the test counter built as version 1 (`{"version":{}}` answers 1,
//! `{"increment":{}}` adds 1). The logic lives in test-counter-core.

use test_counter_core::{counter_contract, Flavor};

/// This build's version and increment step.
pub const FLAVOR: Flavor = Flavor { version: 1, step: 1 };

counter_contract!(FLAVOR);
