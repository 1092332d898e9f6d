//! test-voting-v2: the genesis voting contract built as version 2, so that upgrading a live
//! genesis contract through governance can be tested end to end. Every message is v1's code
//! from the `voting` crate (linked with its `library` feature); v2 adds the query
//! `{"version":{}}` and a migrate that accepts only a v1 (or v2) voting instance.

pub mod contract;
pub mod msg;

conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
    execute => voting::contract::execute,
    query => contract::query,
    migrate => contract::migrate,
    sudo => voting::contract::sudo,
}
