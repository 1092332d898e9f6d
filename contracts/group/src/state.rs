//! Storage layout. Values are JSON; heights in keys are 8-byte big-endian so they sort.
//!
//! | key                                        | value                                      |
//! |--------------------------------------------|--------------------------------------------|
//! | `admin`                                    | address or null                            |
//! | `hooks`                                    | list of addresses, in registration order   |
//! | `total`                                    | current total points                       |
//! | `member:<addr>`                            | `{"points":n,"start_height":h}`            |
//! | `by_points:<!points BE8><addr>`            | empty: index, points descending then addr  |
//! | `member_log:<len u16 BE><addr><height BE8>`| points before the first change at height (null = not a member) |
//! | `total_log:<height BE8>`                   | total before the first change at height    |
//! | `contract_info`                            | `{"contract":"group","version":"0.1.0"}`   |
//!
//! The logs are the snapshots: the value as of the *start* of height H is the old value of
//! the first logged change at a height >= H, or the current value if there is none. So a
//! change made at height H is visible to `at_height` queries from H+1 on.

use conclave_sdk::{from_json, to_json_vec, Addr, Order, StdResult, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const ADMIN: &[u8] = b"admin";
pub const HOOKS: &[u8] = b"hooks";
pub const TOTAL: &[u8] = b"total";
pub const CONTRACT_INFO: &[u8] = b"contract_info";
const MEMBER_PREFIX: &[u8] = b"member:";
const BY_POINTS_PREFIX: &[u8] = b"by_points:";
const MEMBER_LOG_PREFIX: &[u8] = b"member_log:";
const TOTAL_LOG_PREFIX: &[u8] = b"total_log:";

/// A current member.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    pub points: u64,
    /// The height at which the address (last) joined.
    pub start_height: Option<u64>,
}

/// The code name and version, written at instantiate and migrate.
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

pub fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The smallest key strictly greater than `key` (for exclusive starts).
fn just_after(mut key: Vec<u8>) -> Vec<u8> {
    key.push(0);
    key
}

/// The first key after every key starting with `prefix` (prefix ends in ':', so ';').
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    end
}

// --- admin, hooks, total -----------------------------------------------------------------

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<Addr>> {
    Ok(may_load::<Option<Addr>>(storage, ADMIN)?.flatten())
}

pub fn save_admin(storage: &mut dyn Storage, admin: &Option<Addr>) -> StdResult<()> {
    save(storage, ADMIN, admin)
}

pub fn load_hooks(storage: &dyn Storage) -> StdResult<Vec<Addr>> {
    Ok(may_load(storage, HOOKS)?.unwrap_or_default())
}

pub fn save_hooks(storage: &mut dyn Storage, hooks: &[Addr]) -> StdResult<()> {
    save(storage, HOOKS, &hooks)
}

pub fn load_total(storage: &dyn Storage) -> StdResult<u64> {
    Ok(may_load(storage, TOTAL)?.unwrap_or(0))
}

/// Sets the total, logging the old one if this is the first change at `height`.
pub fn save_total(storage: &mut dyn Storage, total: u64, height: u64) -> StdResult<()> {
    let log_key = concat(&[TOTAL_LOG_PREFIX, &height.to_be_bytes()]);
    if storage.get(&log_key).is_none() {
        let old = load_total(storage)?;
        save(storage, &log_key, &old)?;
    }
    save(storage, TOTAL, &total)
}

/// The total as of the start of `height`.
pub fn total_at(storage: &dyn Storage, height: u64) -> StdResult<u64> {
    let start = concat(&[TOTAL_LOG_PREFIX, &height.to_be_bytes()]);
    let end = prefix_end(TOTAL_LOG_PREFIX);
    let first = storage.range(Some(&start), Some(&end), Order::Ascending).next();
    match first {
        Some((_, value)) => from_json(&value),
        None => load_total(storage),
    }
}

// --- members -----------------------------------------------------------------------------

fn member_key(addr: &str) -> Vec<u8> {
    concat(&[MEMBER_PREFIX, addr.as_bytes()])
}

fn by_points_key(points: u64, addr: &str) -> Vec<u8> {
    concat(&[BY_POINTS_PREFIX, &(!points).to_be_bytes(), addr.as_bytes()])
}

fn member_log_key(addr: &str, height: u64) -> Vec<u8> {
    let len = (addr.len() as u16).to_be_bytes();
    concat(&[MEMBER_LOG_PREFIX, &len, addr.as_bytes(), &height.to_be_bytes()])
}

pub fn load_member(storage: &dyn Storage, addr: &str) -> StdResult<Option<MemberInfo>> {
    may_load(storage, &member_key(addr))
}

/// Sets (Some) or removes (None) a member, keeping the points index and logging the old
/// points if this is the member's first change at `height`.
pub fn save_member(storage: &mut dyn Storage, addr: &str, info: Option<MemberInfo>, height: u64) -> StdResult<()> {
    let old = load_member(storage, addr)?;
    let log_key = member_log_key(addr, height);
    if storage.get(&log_key).is_none() {
        save(storage, &log_key, &old.map(|m| m.points))?;
    }
    if let Some(old) = old {
        storage.remove(&by_points_key(old.points, addr));
    }
    match info {
        Some(info) => {
            save(storage, &member_key(addr), &info)?;
            storage.set(&by_points_key(info.points, addr), b"");
        }
        None => storage.remove(&member_key(addr)),
    }
    Ok(())
}

/// A member's points as of the start of `height` (None: not a member then).
pub fn member_points_at(storage: &dyn Storage, addr: &str, height: u64) -> StdResult<Option<u64>> {
    let start = member_log_key(addr, height);
    let end = member_log_key(addr, u64::MAX);
    let first = storage.range(Some(&start), Some(&end), Order::Ascending).next();
    match first {
        Some((_, value)) => from_json(&value),
        None => Ok(load_member(storage, addr)?.map(|m| m.points)),
    }
}

/// Up to `limit` members after `start_after`, in address order.
pub fn members_by_addr(
    storage: &dyn Storage,
    start_after: Option<&str>,
    limit: usize,
) -> StdResult<Vec<(String, MemberInfo)>> {
    let start = match start_after {
        Some(addr) => just_after(member_key(addr)),
        None => MEMBER_PREFIX.to_vec(),
    };
    let end = prefix_end(MEMBER_PREFIX);
    storage
        .range(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|(key, value)| {
            let addr = String::from_utf8(key[MEMBER_PREFIX.len()..].to_vec())?;
            Ok((addr, from_json(&value)?))
        })
        .collect()
}

/// Up to `limit` members after (`points`, `addr`), by points descending then address.
pub fn members_by_points(
    storage: &dyn Storage,
    start_after: Option<(u64, &str)>,
    limit: usize,
) -> StdResult<Vec<(String, MemberInfo)>> {
    let start = match start_after {
        Some((points, addr)) => just_after(by_points_key(points, addr)),
        None => BY_POINTS_PREFIX.to_vec(),
    };
    let end = prefix_end(BY_POINTS_PREFIX);
    let skip = BY_POINTS_PREFIX.len() + 8;
    storage
        .range_keys(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|key| {
            let addr = String::from_utf8(key[skip..].to_vec())?;
            let info = load_member(storage, &addr)?
                .ok_or_else(|| conclave_sdk::StdError::not_found(format!("member {}", addr)))?;
            Ok((addr, info))
        })
        .collect()
}
