//! engagement: a tg4 group whose points are engagement points granted by governance (the
//! admin) and halved once per `halflife` at end block. Every change of points is announced
//! to the registered hooks (the mixer) with `member_changed_hook`.

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
