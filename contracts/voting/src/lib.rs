//! voting: governance over a tg4 electorate. Members open proposals carrying messages, vote
//! with their points as of the proposal's creation, and a passed proposal's messages are
//! dispatched by anyone calling execute. The tally is cw3's ThresholdQuorum in integer
//! billionths; code proposals (store_code, migrate_contract, pin_code) are reserved to the
//! members of an admins group.

pub mod contract;
pub mod error;
pub mod msg;
pub mod state;

pub use crate::error::ContractError;

// With the `library` feature another contract (test-voting-v2) links this crate and exports
// its own entry points; two definitions of one export would not link.
#[cfg(not(feature = "library"))]
conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => contract::execute,
    query => contract::query,
    migrate => contract::migrate,
    sudo => contract::sudo,
}
