//! Storage layout. Values are JSON; heights are big-endian u64 so keys sort by height.
//!
//! | key                                  | value                                         |
//! |--------------------------------------|-----------------------------------------------|
//! | `admin`                              | address or null                               |
//! | `hooks`                              | list of addresses                             |
//! | `config`                             | [`Config`]                                    |
//! | `preauths`                           | remaining add_slasher preauthorisations       |
//! | `slashers`                           | list of addresses                             |
//! | `s:` addr                            | bonded tokens (Uint128)                       |
//! | `c:` addr                            | pending claims, by release time               |
//! | `q:` release_at addr                 | empty: claims by release time, for end_block  |
//! | `contract_info`                      | `{"contract","version"}` (set by migrate too)  |
//! | `total`                              | total points                                  |
//! | `t:` height                          | total before the first change at that height  |
//! | `m:` addr                            | the member's points                           |
//! | `l:` len(addr) addr height           | points before the first change at that height (null: not a member) |
//! | `p:` (u64::MAX - points) addr        | empty: index for list_members_by_points       |

use std::collections::BTreeMap;

use conclave_sdk::{from_json, to_json_vec, Order, StdError, StdResult, Storage, Uint128};

use crate::msg::Claim;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const ADMIN: &[u8] = b"admin";
pub const HOOKS: &[u8] = b"hooks";
pub const CONFIG: &[u8] = b"config";
pub const PREAUTHS: &[u8] = b"preauths";
pub const SLASHERS: &[u8] = b"slashers";
const STAKE: &[u8] = b"s:";
const CLAIMS: &[u8] = b"c:";
const CLAIM_QUEUE: &[u8] = b"q:";
pub const CONTRACT_INFO: &[u8] = b"contract_info";
const TOTAL: &[u8] = b"total";
const TOTAL_LOG: &[u8] = b"t:";
const MEMBERS: &[u8] = b"m:";
const MEMBER_LOG: &[u8] = b"l:";
const BY_POINTS: &[u8] = b"p:";

/// The staking parameters (see InstantiateMsg).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub denom: String,
    pub tokens_per_point: Uint128,
    pub min_bond: Uint128,
    pub unbonding_period: u64,
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

pub fn save<T: Serialize + ?Sized>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

fn member_key(addr: &str) -> Vec<u8> {
    concat(&[MEMBERS, addr.as_bytes()])
}

fn member_log_key(addr: &str, height: u64) -> Vec<u8> {
    concat(&[MEMBER_LOG, &[addr.len() as u8], addr.as_bytes(), &height.to_be_bytes()])
}

fn by_points_key(points: u64, addr: &str) -> Vec<u8> {
    concat(&[BY_POINTS, &(u64::MAX - points).to_be_bytes(), addr.as_bytes()])
}

/// The current points of `addr`, None when not a member.
pub fn member_points(storage: &dyn Storage, addr: &str) -> StdResult<Option<u64>> {
    may_load(storage, &member_key(addr))
}

pub fn total_points(storage: &dyn Storage) -> StdResult<u64> {
    Ok(may_load(storage, TOTAL)?.unwrap_or(0))
}

/// The value as of the start of block `height`: the first changelog entry at or after
/// `height` holds it; without one, nothing changed since and the current value holds.
fn value_at<T: DeserializeOwned>(
    storage: &dyn Storage,
    log_prefix: &[u8],
    height: u64,
) -> StdResult<Option<T>> {
    let start = concat(&[log_prefix, &height.to_be_bytes()]);
    let end = concat(&[log_prefix, &u64::MAX.to_be_bytes()]);
    let first = storage.range(Some(&start), Some(&end), Order::Ascending).next();
    match first {
        Some((_, value)) => from_json(&value).map(Some),
        None => Ok(None),
    }
}

pub fn member_points_at(storage: &dyn Storage, addr: &str, height: Option<u64>) -> StdResult<Option<u64>> {
    if let Some(height) = height {
        let prefix = concat(&[MEMBER_LOG, &[addr.len() as u8], addr.as_bytes()]);
        if let Some(old) = value_at::<Option<u64>>(storage, &prefix, height)? {
            return Ok(old);
        }
    }
    member_points(storage, addr)
}

pub fn total_points_at(storage: &dyn Storage, height: Option<u64>) -> StdResult<u64> {
    if let Some(height) = height {
        if let Some(old) = value_at::<u64>(storage, TOTAL_LOG, height)? {
            return Ok(old);
        }
    }
    total_points(storage)
}

/// Old and new points per changed address, sorted by address: the hook diffs.
pub type Changes = BTreeMap<String, (Option<u64>, Option<u64>)>;

/// Sets the points of `addr` (None removes it) at block `height`, keeping the changelogs,
/// the points index and the total in step, and records the change in `changes`.
pub fn set_member(
    storage: &mut dyn Storage,
    height: u64,
    addr: &str,
    new: Option<u64>,
    changes: &mut Changes,
) -> StdResult<()> {
    let old = member_points(storage, addr)?;
    if old == new {
        return Ok(());
    }
    let log_key = member_log_key(addr, height);
    if storage.get(&log_key).is_none() {
        save(storage, &log_key, &old)?;
    }
    if let Some(points) = old {
        storage.remove(&by_points_key(points, addr));
    }
    match new {
        Some(points) => {
            save(storage, &member_key(addr), &points)?;
            storage.set(&by_points_key(points, addr), b"");
        }
        None => storage.remove(&member_key(addr)),
    }
    let total = total_points(storage)? - old.unwrap_or(0);
    let total = total
        .checked_add(new.unwrap_or(0))
        .ok_or_else(|| StdError::overflow("total points"))?;
    set_total(storage, height, total)?;
    changes.entry(addr.to_string()).or_insert((old, new)).1 = new;
    Ok(())
}

fn set_total(storage: &mut dyn Storage, height: u64, total: u64) -> StdResult<()> {
    let log_key = concat(&[TOTAL_LOG, &height.to_be_bytes()]);
    if storage.get(&log_key).is_none() {
        let old = total_points(storage)?;
        save(storage, &log_key, &old)?;
    }
    save(storage, TOTAL, &total)
}

/// Members in address order after `start_after` (exclusive), at most `limit`.
pub fn list_members(storage: &dyn Storage, start_after: Option<&str>, limit: usize) -> StdResult<Vec<(String, u64)>> {
    let start = match start_after {
        Some(addr) => concat(&[MEMBERS, addr.as_bytes(), b"\0"]),
        None => MEMBERS.to_vec(),
    };
    let end = b"m;".to_vec(); // ';' follows ':'
    storage
        .range(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|(key, value)| {
            let addr = String::from_utf8(key[MEMBERS.len()..].to_vec())?;
            Ok((addr, from_json(&value)?))
        })
        .collect()
}

/// Members by descending points then ascending address, after `start_after` (exclusive).
pub fn list_members_by_points(
    storage: &dyn Storage,
    start_after: Option<(u64, &str)>,
    limit: usize,
) -> StdResult<Vec<(String, u64)>> {
    let start = match start_after {
        Some((points, addr)) => concat(&[&by_points_key(points, addr), b"\0"]),
        None => BY_POINTS.to_vec(),
    };
    let end = b"p;".to_vec();
    storage
        .range_keys(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|key| {
            let mut inverted = [0u8; 8];
            inverted.copy_from_slice(&key[BY_POINTS.len()..BY_POINTS.len() + 8]);
            let points = u64::MAX - u64::from_be_bytes(inverted);
            let addr = String::from_utf8(key[BY_POINTS.len() + 8..].to_vec())?;
            Ok((addr, points))
        })
        .collect()
}

pub fn load_hooks(storage: &dyn Storage) -> StdResult<Vec<String>> {
    Ok(may_load(storage, HOOKS)?.unwrap_or_default())
}

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<String>> {
    Ok(may_load(storage, ADMIN)?.unwrap_or(None))
}

pub fn bonded(storage: &dyn Storage, addr: &str) -> StdResult<Uint128> {
    Ok(may_load(storage, &concat(&[STAKE, addr.as_bytes()]))?.unwrap_or_default())
}

pub fn set_bonded(storage: &mut dyn Storage, addr: &str, tokens: Uint128) -> StdResult<()> {
    let key = concat(&[STAKE, addr.as_bytes()]);
    if tokens.is_zero() {
        storage.remove(&key);
        Ok(())
    } else {
        save(storage, &key, &tokens)
    }
}

/// Pending claims of `addr`, ordered by release time (at most one per second).
pub fn claims(storage: &dyn Storage, addr: &str) -> StdResult<Vec<Claim>> {
    Ok(may_load(storage, &concat(&[CLAIMS, addr.as_bytes()]))?.unwrap_or_default())
}

fn queue_key(release_at: u64, addr: &str) -> Vec<u8> {
    concat(&[CLAIM_QUEUE, &release_at.to_be_bytes(), addr.as_bytes()])
}

/// Replaces the claims of `addr`, keeping the release queue in step with them.
pub fn set_claims(storage: &mut dyn Storage, addr: &str, old: &[Claim], new: &[Claim]) -> StdResult<()> {
    for claim in old {
        storage.remove(&queue_key(claim.release_at, addr));
    }
    for claim in new {
        storage.set(&queue_key(claim.release_at, addr), b"");
    }
    let key = concat(&[CLAIMS, addr.as_bytes()]);
    if new.is_empty() {
        storage.remove(&key);
        Ok(())
    } else {
        save(storage, &key, new)
    }
}

/// Addresses with a claim released at or before `now`, earliest first, at most `limit`
/// (an address appears once per matured claim).
pub fn matured_claim_owners(storage: &dyn Storage, now: u64, limit: usize) -> StdResult<Vec<String>> {
    let end = concat(&[CLAIM_QUEUE, &now.saturating_add(1).to_be_bytes()]);
    storage
        .range_keys(Some(CLAIM_QUEUE), Some(&end), Order::Ascending)
        .take(limit)
        .map(|key| Ok(String::from_utf8(key[CLAIM_QUEUE.len() + 8..].to_vec())?))
        .collect()
}
