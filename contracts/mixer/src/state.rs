//! Storage layout. Values are JSON; heights in keys are 8-byte big-endian so they sort.
//!
//! | key                                         | value                                        |
//! |---------------------------------------------|----------------------------------------------|
//! | `config`                                    | `{"left","right","function"}`                |
//! | `admin`                                     | address or null                              |
//! | `hooks`, `slashers`                         | lists of addresses                           |
//! | `total`                                     | current total points (u128, answered capped to u64) |
//! | `member:<addr>`                             | points (> 0)                                 |
//! | `by_points:<!points BE8><addr>`             | empty: index, points descending then address |
//! | `member_log:<len u16 BE><addr><height BE8>` | points before the first change at height (null = not a member) |
//! | `total_log:<height BE8>`                    | total before the first change at height      |
//! | `contract_info`                             | `{"contract":"mixer","version":"0.1.0"}`     |
//!
//! Snapshots: the value as of the *start* of height H is the old value of the first logged
//! change at a height >= H, or the current value if there is none.

use conclave_sdk::{from_json, to_json_vec, Addr, Order, StdError, StdResult, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::msg::MixerFunction;

pub const CONFIG: &[u8] = b"config";
pub const ADMIN: &[u8] = b"admin";
pub const HOOKS: &[u8] = b"hooks";
pub const SLASHERS: &[u8] = b"slashers";
pub const TOTAL: &[u8] = b"total";
pub const CONTRACT_INFO: &[u8] = b"contract_info";
const MEMBER_PREFIX: &[u8] = b"member:";
const BY_POINTS_PREFIX: &[u8] = b"by_points:";
const MEMBER_LOG_PREFIX: &[u8] = b"member_log:";
const TOTAL_LOG_PREFIX: &[u8] = b"total_log:";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub left: Addr,
    pub right: Addr,
    pub function: MixerFunction,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}

pub fn may_load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<T>> {
    match storage.get(key) {
        Some(bytes) => from_json(&bytes).map(Some),
        None => Ok(None),
    }
}

pub fn load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<T> {
    may_load(storage, key)?.ok_or_else(|| StdError::not_found(String::from_utf8_lossy(key).into_owned()))
}

pub fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<Addr>> {
    Ok(may_load::<Option<Addr>>(storage, ADMIN)?.flatten())
}

pub fn load_list(storage: &dyn Storage, key: &[u8]) -> StdResult<Vec<Addr>> {
    Ok(may_load(storage, key)?.unwrap_or_default())
}

/// The first key after every key starting with `prefix` (prefixes end in ':').
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    end
}

fn member_key(addr: &str) -> Vec<u8> {
    [MEMBER_PREFIX, addr.as_bytes()].concat()
}

fn by_points_key(points: u64, addr: &str) -> Vec<u8> {
    [BY_POINTS_PREFIX, &(!points).to_be_bytes(), addr.as_bytes()].concat()
}

fn member_log_key(addr: &str, height: u64) -> Vec<u8> {
    let len = (addr.len() as u16).to_be_bytes();
    [MEMBER_LOG_PREFIX, &len, addr.as_bytes(), &height.to_be_bytes()].concat()
}

pub fn load_total(storage: &dyn Storage) -> StdResult<u128> {
    Ok(may_load(storage, TOTAL)?.unwrap_or(0))
}

/// Sets the total, logging the old one if this is the first change at `height`.
pub fn save_total(storage: &mut dyn Storage, total: u128, height: u64) -> StdResult<()> {
    let log_key = [TOTAL_LOG_PREFIX, &height.to_be_bytes()].concat();
    if storage.get(&log_key).is_none() {
        let old = load_total(storage)?;
        save(storage, &log_key, &old)?;
    }
    save(storage, TOTAL, &total)
}

/// The total as of the start of `height`.
pub fn total_at(storage: &dyn Storage, height: u64) -> StdResult<u128> {
    let start = [TOTAL_LOG_PREFIX, &height.to_be_bytes()].concat();
    let end = prefix_end(TOTAL_LOG_PREFIX);
    match storage.range(Some(&start), Some(&end), Order::Ascending).next() {
        Some((_, value)) => from_json(&value),
        None => load_total(storage),
    }
}

pub fn load_member(storage: &dyn Storage, addr: &str) -> StdResult<Option<u64>> {
    may_load(storage, &member_key(addr))
}

/// Sets (Some) or removes (None) a member, keeping the index and the snapshot log.
pub fn save_member(storage: &mut dyn Storage, addr: &str, points: Option<u64>, height: u64) -> StdResult<()> {
    let old = load_member(storage, addr)?;
    let log_key = member_log_key(addr, height);
    if storage.get(&log_key).is_none() {
        save(storage, &log_key, &old)?;
    }
    if let Some(old) = old {
        storage.remove(&by_points_key(old, addr));
    }
    match points {
        Some(points) => {
            save(storage, &member_key(addr), &points)?;
            storage.set(&by_points_key(points, addr), b"");
        }
        None => storage.remove(&member_key(addr)),
    }
    Ok(())
}

/// A member's points as of the start of `height` (None: not a member then).
pub fn member_at(storage: &dyn Storage, addr: &str, height: u64) -> StdResult<Option<u64>> {
    let start = member_log_key(addr, height);
    let end = member_log_key(addr, u64::MAX);
    match storage.range(Some(&start), Some(&end), Order::Ascending).next() {
        Some((_, value)) => from_json(&value),
        None => load_member(storage, addr),
    }
}

/// Up to `limit` members after `start_after`, in address order.
pub fn members_by_addr(storage: &dyn Storage, start_after: Option<&str>, limit: usize) -> StdResult<Vec<(String, u64)>> {
    let start = match start_after {
        Some(addr) => {
            let mut key = member_key(addr);
            key.push(0);
            key
        }
        None => MEMBER_PREFIX.to_vec(),
    };
    storage
        .range(Some(&start), Some(&prefix_end(MEMBER_PREFIX)), Order::Ascending)
        .take(limit)
        .map(|(key, value)| Ok((String::from_utf8(key[MEMBER_PREFIX.len()..].to_vec())?, from_json(&value)?)))
        .collect()
}

/// Up to `limit` members after (`points`, `addr`), points descending then address.
pub fn members_by_points(storage: &dyn Storage, start_after: Option<(u64, &str)>, limit: usize)
    -> StdResult<Vec<(String, u64)>> {
    let start = match start_after {
        Some((points, addr)) => {
            let mut key = by_points_key(points, addr);
            key.push(0);
            key
        }
        None => BY_POINTS_PREFIX.to_vec(),
    };
    let skip = BY_POINTS_PREFIX.len();
    storage
        .range_keys(Some(&start), Some(&prefix_end(BY_POINTS_PREFIX)), Order::Ascending)
        .take(limit)
        .map(|key| {
            let mut inverted = [0u8; 8];
            inverted.copy_from_slice(&key[skip..skip + 8]);
            let points = !u64::from_be_bytes(inverted);
            Ok((String::from_utf8(key[skip + 8..].to_vec())?, points))
        })
        .collect()
}
