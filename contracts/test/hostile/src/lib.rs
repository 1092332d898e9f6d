//! test-hostile: every execute message misbehaves in its own way (endless loop, memory
//! bomb, stack overflow, abort, trap, malformed result regions, NaNs, oversized keys,
//! leaked iterators) so the VM tests can prove the host survives each one. Its `execute`
//! export is written by hand on the SDK's region helpers, since several answers are
//! deliberately not valid ContractResults.

pub mod msg;

#[cfg(target_arch = "wasm32")]
pub mod contract;

#[cfg(target_arch = "wasm32")]
conclave_sdk::entry_points! {
    instantiate => contract::instantiate,
}
