//! test-reflect: dispatches whatever submessages it is given, emits whatever events it is
//! told, records every reply, and exposes each host import (storage iteration, queries,
//! address and crypto helpers) as a message, so the VM tests can exercise them one by one.

pub mod contract;
pub mod error;
pub mod msg;
pub mod state;

conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => contract::execute,
    query => contract::query,
    reply => contract::reply,
}
