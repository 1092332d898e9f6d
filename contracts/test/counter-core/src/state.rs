//! Storage layout: one key per value, JSON-encoded, so an increment is one write.
//!
//! | key                     | value                         |
//! |-------------------------|-------------------------------|
//! | `count`                 | JSON number                   |
//! | `owner`                 | JSON string (address)         |
//! | `contract_version`      | JSON number: code version     |
//! | `migrated_from_version` | JSON number, after a migrate  |

use conclave_sdk::{from_json, to_json_vec, Addr, StdError, StdResult, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const COUNT: &[u8] = b"count";
pub const OWNER: &[u8] = b"owner";
pub const CONTRACT_VERSION: &[u8] = b"contract_version";
pub const MIGRATED_FROM_VERSION: &[u8] = b"migrated_from_version";

pub fn may_load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<T>> {
    match storage.get(key) {
        Some(bytes) => from_json(&bytes).map(Some),
        None => Ok(None),
    }
}

pub fn load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<T> {
    may_load(storage, key)?
        .ok_or_else(|| StdError::not_found(String::from_utf8_lossy(key).into_owned()))
}

pub fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

pub fn load_owner(storage: &dyn Storage) -> StdResult<Addr> {
    load(storage, OWNER)
}
