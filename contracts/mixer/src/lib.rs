//! mixer: proof-of-engagement points. A tg4 contract whose members are the addresses found
//! in both of two tg4 groups — left = engagement, right = stake — with points
//! f(stake, engagement) (geometric mean or sigmoid, in deterministic integer math). The
//! groups call `member_changed_hook` on every change, so the points stay in sync; the
//! valset reads them through the tg4 queries and slashes through it.

pub mod contract;
pub mod error;
pub mod functions;
pub mod msg;
pub mod state;

pub use crate::error::ContractError;

conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => contract::execute,
    query => contract::query,
    migrate => contract::migrate,
}
