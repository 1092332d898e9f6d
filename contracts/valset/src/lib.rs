//! valset: Conclave's validator set. Members of a tg4 contract (the mixer) register an
//! ed25519 consensus key; once per epoch the chain asks (sudo end_with_validator_update) for
//! the top members by points, and gets back the changes against the previous set. The chain
//! also reports double-sign evidence (sudo begin_block): the operator is jailed for good and
//! slashed through the mixer.

pub mod contract;
pub mod ed25519;
pub mod error;
pub mod msg;
pub mod state;

pub use crate::error::ContractError;

conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => contract::execute,
    query => contract::query,
    migrate => contract::migrate,
    sudo => contract::sudo,
    reply => contract::reply,
}
