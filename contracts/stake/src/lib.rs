//! stake: a tg4 group whose points come from bonded native tokens
//! (points = floor(tokens / tokens_per_point), members only from `min_bond` up). Unbonding
//! creates a claim paid after the unbonding period (by `claim` or at end block); registered
//! slashers burn a portion of a member's bonded tokens and pending claims. Every change of
//! points is announced to the registered hooks (the mixer) with `member_changed_hook`.

pub mod contract;
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
}
