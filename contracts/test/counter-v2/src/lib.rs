//! test-counter-v2: the test counter built as version 2 (`{"version":{}}` answers 2,
//! `{"increment":{}}` adds 2). The logic lives in test-counter-core.

use test_counter_core::{counter_contract, Flavor};

/// This build's version and increment step.
pub const FLAVOR: Flavor = Flavor { version: 2, step: 2 };

counter_contract!(FLAVOR);
