//! membership: Conclave's trusted circle. Voting members (1 tg4 point each) hold an escrow
//! in the native denom; candidates join in batches proposed by governance and are promoted
//! when their batch has paid (or, for the paid ones, when its grace period ends); leaving
//! freezes the escrow for two voting periods; governance may punish (slash, burn or
//! distribute escrow, kick out) and keeps a deny list. It speaks the tg4 query interface,
//! with snapshots, so the voting contract can use it as its electorate.

pub mod contract;
pub mod error;
pub mod msg;
pub mod state;

conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => contract::execute,
    query => contract::query,
    migrate => contract::migrate,
    sudo => contract::sudo,
}
