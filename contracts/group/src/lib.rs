//! group: a tg4 group — a list of members with points, changed only by its admin, that
//! tells registered hook contracts about every change and answers point queries as of any
//! past height. Used at genesis for the admins group.

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
}
