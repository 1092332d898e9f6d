//! The storage every tg4 contract keeps, written once: the admin, the hooks list, the
//! members with their points (plus an index by points) and the total, both with per-height
//! snapshots, and the answers to the tg4 queries from them. Values are JSON; heights in
//! keys are 8-byte big-endian so they sort.
//!
//! | key                                          | value                                        |
//! |----------------------------------------------|----------------------------------------------|
//! | `admin`                                      | address or null                              |
//! | `hooks`                                      | list of addresses, in registration order     |
//! | `total`                                      | current total points                         |
//! | members prefix, addr                         | the member: its points, or a [`MemberInfo`]  |
//! | by-points prefix, !points BE8, addr          | empty: index, points descending then address |
//! | member-log prefix, len(addr), addr, height   | points before the first change at that height (null: not a member) |
//! | total-log prefix, height                     | total before the first change at that height |
//!
//! The prefixes and the width of the address length come from [`Keys`]: group and mixer use
//! [`Keys::LONG`], engagement and stake [`Keys::SHORT`] (their layouts predate this module).
//!
//! Snapshots: the value as of the *start* of height H is the old value of the first logged
//! change at a height >= H, or the current value if there is none. So a change made at
//! height H is visible to `at_height` queries from H+1 on.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use conclave_sdk::{
    from_json, to_json_binary, to_json_vec, Binary, Order, Response, StdError, StdResult, Storage,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{
    AdminResponse, HooksResponse, Member, MemberChangedHookMsg, MemberDiff, MemberListResponse, MemberResponse,
    Tg4QueryMsg, TotalPointsResponse,
};

pub const ADMIN: &[u8] = b"admin";
pub const HOOKS: &[u8] = b"hooks";
pub const TOTAL: &[u8] = b"total";

/// Default and largest page of list_members and list_members_by_points.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 30;

/// The page size for a requested `limit`.
pub fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

// --- plain JSON values -------------------------------------------------------------------

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

/// The first key after every key starting with `prefix` (prefixes end in ':', so ';').
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    end
}

/// The smallest key strictly greater than `key` (for exclusive starts).
fn just_after(mut key: Vec<u8>) -> Vec<u8> {
    key.push(0);
    key
}

// --- admin and hooks ---------------------------------------------------------------------

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<String>> {
    Ok(may_load::<Option<String>>(storage, ADMIN)?.flatten())
}

pub fn save_admin(storage: &mut dyn Storage, admin: &Option<String>) -> StdResult<()> {
    save(storage, ADMIN, admin)
}

pub fn load_hooks(storage: &dyn Storage) -> StdResult<Vec<String>> {
    Ok(may_load(storage, HOOKS)?.unwrap_or_default())
}

pub fn save_hooks(storage: &mut dyn Storage, hooks: &[String]) -> StdResult<()> {
    save(storage, HOOKS, hooks)
}

/// Why add_hook or remove_hook refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookError {
    AlreadyRegistered,
    NotRegistered,
    /// Already `max` hooks.
    TooMany,
}

/// Registers `hook` (at most `max` hooks); `err` turns a refusal into the contract's error.
pub fn add_hook<E: From<StdError>>(
    storage: &mut dyn Storage,
    hook: &str,
    max: usize,
    err: impl FnOnce(HookError) -> E,
) -> Result<(), E> {
    let mut hooks = load_hooks(storage)?;
    if hooks.iter().any(|h| h == hook) {
        return Err(err(HookError::AlreadyRegistered));
    }
    if hooks.len() >= max {
        return Err(err(HookError::TooMany));
    }
    hooks.push(hook.to_string());
    Ok(save_hooks(storage, &hooks)?)
}

/// Unregisters `hook`; `err` turns a refusal into the contract's error.
pub fn remove_hook<E: From<StdError>>(
    storage: &mut dyn Storage,
    hook: &str,
    err: impl FnOnce(HookError) -> E,
) -> Result<(), E> {
    let mut hooks = load_hooks(storage)?;
    let position = hooks.iter().position(|h| h == hook).ok_or_else(|| err(HookError::NotRegistered))?;
    hooks.remove(position);
    Ok(save_hooks(storage, &hooks)?)
}

/// `response` plus `{"member_changed_hook":{"diffs":...}}` to every registered hook (in
/// registration order, reply never), whether or not `diffs` is empty.
pub fn with_hook_msgs(storage: &dyn Storage, response: Response, diffs: Vec<MemberDiff>) -> StdResult<Response> {
    let msg = MemberChangedHookMsg::new(diffs);
    let mut response = response;
    for hook in load_hooks(storage)? {
        response = response.add_submessage(msg.clone().into_submsg(hook)?);
    }
    Ok(response)
}

/// Old and new points per changed address, sorted by address: the hook diffs.
pub type Changes = BTreeMap<String, (Option<u64>, Option<u64>)>;

/// The diffs of `changes` that really changed, sorted by address.
pub fn diffs(changes: Changes) -> Vec<MemberDiff> {
    changes
        .into_iter()
        .filter(|(_, (old, new))| old != new)
        .map(|(key, (old, new))| MemberDiff { key, old, new })
        .collect()
}

// --- members and total -------------------------------------------------------------------

/// Where a contract keeps its members, index and changelogs.
#[derive(Clone, Copy, Debug)]
pub struct Keys {
    pub members: &'static [u8],
    pub by_points: &'static [u8],
    pub member_log: &'static [u8],
    pub total_log: &'static [u8],
    /// Address length in member-log keys: u16 big-endian (true) or one byte (false).
    pub wide_len: bool,
}

impl Keys {
    /// group and mixer: `member:`, `by_points:`, `member_log:<len u16>`, `total_log:`.
    pub const LONG: Keys = Keys {
        members: b"member:",
        by_points: b"by_points:",
        member_log: b"member_log:",
        total_log: b"total_log:",
        wide_len: true,
    };
    /// engagement and stake: `m:`, `p:`, `l:<len u8>`, `t:`.
    pub const SHORT: Keys =
        Keys { members: b"m:", by_points: b"p:", member_log: b"l:", total_log: b"t:", wide_len: false };
}

/// What a contract stores per member: its points, or its points and the height it joined.
pub trait MemberValue: Serialize + DeserializeOwned + Copy {
    /// Whether the value carries a start height (then list_members_by_points reads each
    /// member; otherwise the points come from the index key).
    const HAS_START: bool;
    fn points(&self) -> u64;
    fn start_height(&self) -> Option<u64>;
    fn from_points(points: u64) -> Self;
}

impl MemberValue for u64 {
    const HAS_START: bool = false;
    fn points(&self) -> u64 {
        *self
    }
    fn start_height(&self) -> Option<u64> {
        None
    }
    fn from_points(points: u64) -> Self {
        points
    }
}

/// A member with the height at which it (last) joined: `{"points":n,"start_height":h}`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    pub points: u64,
    pub start_height: Option<u64>,
}

impl MemberValue for MemberInfo {
    const HAS_START: bool = true;
    fn points(&self) -> u64 {
        self.points
    }
    fn start_height(&self) -> Option<u64> {
        self.start_height
    }
    fn from_points(points: u64) -> Self {
        MemberInfo { points, start_height: None }
    }
}

/// The type of the stored total (the mixer sums into a u128, answered capped to u64).
pub trait TotalValue: Serialize + DeserializeOwned + Copy + Default {
    fn capped(self) -> u64;
}

impl TotalValue for u64 {
    fn capped(self) -> u64 {
        self
    }
}

impl TotalValue for u128 {
    fn capped(self) -> u64 {
        self.min(u64::MAX as u128) as u64
    }
}

/// The members (values `M`) and the total (`T`) of a tg4 contract under `keys`.
pub struct Tg4Store<M, T = u64> {
    keys: Keys,
    types: PhantomData<(M, T)>,
}

impl<M, T> Tg4Store<M, T> {
    pub const fn new(keys: Keys) -> Self {
        Tg4Store { keys, types: PhantomData }
    }
}

impl<M: MemberValue, T: TotalValue> Tg4Store<M, T> {
    fn member_key(&self, addr: &str) -> Vec<u8> {
        [self.keys.members, addr.as_bytes()].concat()
    }

    fn by_points_key(&self, points: u64, addr: &str) -> Vec<u8> {
        [self.keys.by_points, &(!points).to_be_bytes(), addr.as_bytes()].concat()
    }

    fn member_log_key(&self, addr: &str, height: u64) -> Vec<u8> {
        let wide = (addr.len() as u16).to_be_bytes();
        let narrow = [addr.len() as u8];
        let len: &[u8] = if self.keys.wide_len { &wide } else { &narrow };
        [self.keys.member_log, len, addr.as_bytes(), &height.to_be_bytes()].concat()
    }

    pub fn total(&self, storage: &dyn Storage) -> StdResult<T> {
        Ok(may_load(storage, TOTAL)?.unwrap_or_default())
    }

    /// Sets the total, logging the old one if this is the first change at `height`.
    pub fn save_total(&self, storage: &mut dyn Storage, total: T, height: u64) -> StdResult<()> {
        let log_key = [self.keys.total_log, &height.to_be_bytes()].concat();
        if storage.get(&log_key).is_none() {
            let old = self.total(storage)?;
            save(storage, &log_key, &old)?;
        }
        save(storage, TOTAL, &total)
    }

    /// The total as of the start of `height`.
    pub fn total_at(&self, storage: &dyn Storage, height: u64) -> StdResult<T> {
        let start = [self.keys.total_log, &height.to_be_bytes()].concat();
        let end = prefix_end(self.keys.total_log);
        match storage.range(Some(&start), Some(&end), Order::Ascending).next() {
            Some((_, value)) => from_json(&value),
            None => self.total(storage),
        }
    }

    pub fn member(&self, storage: &dyn Storage, addr: &str) -> StdResult<Option<M>> {
        may_load(storage, &self.member_key(addr))
    }

    /// Sets (Some) or removes (None) a member, keeping the points index and logging the old
    /// points if this is the member's first change at `height`. The total is the caller's.
    pub fn save_member(&self, storage: &mut dyn Storage, addr: &str, value: Option<M>, height: u64) -> StdResult<()> {
        let old = self.member(storage, addr)?;
        let log_key = self.member_log_key(addr, height);
        if storage.get(&log_key).is_none() {
            save(storage, &log_key, &old.map(|m| m.points()))?;
        }
        if let Some(old) = old {
            storage.remove(&self.by_points_key(old.points(), addr));
        }
        match value {
            Some(value) => {
                save(storage, &self.member_key(addr), &value)?;
                storage.set(&self.by_points_key(value.points(), addr), b"");
            }
            None => storage.remove(&self.member_key(addr)),
        }
        Ok(())
    }

    /// A member's points as of the start of `height` (None: not a member then).
    pub fn points_at(&self, storage: &dyn Storage, addr: &str, height: u64) -> StdResult<Option<u64>> {
        let start = self.member_log_key(addr, height);
        let end = self.member_log_key(addr, u64::MAX);
        match storage.range(Some(&start), Some(&end), Order::Ascending).next() {
            Some((_, value)) => from_json(&value),
            None => Ok(self.member(storage, addr)?.map(|m| m.points())),
        }
    }

    /// Up to `limit` members after `start_after`, in address order.
    pub fn members_by_addr(&self, storage: &dyn Storage, start_after: Option<&str>, limit: usize)
        -> StdResult<Vec<(String, M)>> {
        let prefix = self.keys.members;
        let start = match start_after {
            Some(addr) => just_after(self.member_key(addr)),
            None => prefix.to_vec(),
        };
        storage
            .range(Some(&start), Some(&prefix_end(prefix)), Order::Ascending)
            .take(limit)
            .map(|(key, value)| Ok((String::from_utf8(key[prefix.len()..].to_vec())?, from_json(&value)?)))
            .collect()
    }

    /// Up to `limit` members after (`points`, `addr`), by points descending then address.
    pub fn members_by_points(&self, storage: &dyn Storage, start_after: Option<(u64, &str)>, limit: usize)
        -> StdResult<Vec<(String, M)>> {
        let prefix = self.keys.by_points;
        let start = match start_after {
            Some((points, addr)) => just_after(self.by_points_key(points, addr)),
            None => prefix.to_vec(),
        };
        let skip = prefix.len();
        storage
            .range_keys(Some(&start), Some(&prefix_end(prefix)), Order::Ascending)
            .take(limit)
            .map(|key| {
                let addr = String::from_utf8(key[skip + 8..].to_vec())?;
                let value = if M::HAS_START {
                    self.member(storage, &addr)?
                        .ok_or_else(|| StdError::not_found(format!("member {}", addr)))?
                } else {
                    let mut inverted = [0u8; 8];
                    inverted.copy_from_slice(&key[skip..skip + 8]);
                    M::from_points(!u64::from_be_bytes(inverted))
                };
                Ok((addr, value))
            })
            .collect()
    }

    /// `{"points","start_height"}` now or as of the start of `at_height`; the start height
    /// is the current one, given only to a member.
    pub fn member_response(&self, storage: &dyn Storage, addr: &str, at_height: Option<u64>)
        -> StdResult<MemberResponse> {
        if !M::HAS_START {
            let points = match at_height {
                Some(height) => self.points_at(storage, addr, height)?,
                None => self.member(storage, addr)?.map(|m| m.points()),
            };
            return Ok(MemberResponse { points, start_height: None });
        }
        let current = self.member(storage, addr)?;
        let points = match at_height {
            Some(height) => self.points_at(storage, addr, height)?,
            None => current.map(|m| m.points()),
        };
        let start_height = if points.is_some() { current.and_then(|m| m.start_height()) } else { None };
        Ok(MemberResponse { points, start_height })
    }

    fn member_list(page: Vec<(String, M)>) -> MemberListResponse {
        MemberListResponse {
            members: page
                .into_iter()
                .map(|(addr, m)| Member { addr, points: m.points(), start_height: m.start_height() })
                .collect(),
        }
    }

    /// Answers a tg4 query from this store. Address checks are the caller's (before).
    pub fn query(&self, storage: &dyn Storage, msg: Tg4QueryMsg) -> StdResult<Binary> {
        match msg {
            Tg4QueryMsg::Admin {} => to_json_binary(&AdminResponse { admin: load_admin(storage)? }),
            Tg4QueryMsg::TotalPoints { at_height } => {
                let total = match at_height {
                    Some(height) => self.total_at(storage, height)?,
                    None => self.total(storage)?,
                };
                to_json_binary(&TotalPointsResponse { points: total.capped() })
            }
            Tg4QueryMsg::ListMembers { start_after, limit } => {
                let page = self.members_by_addr(storage, start_after.as_deref(), page_limit(limit))?;
                to_json_binary(&Self::member_list(page))
            }
            Tg4QueryMsg::ListMembersByPoints { start_after, limit } => {
                let start = start_after.as_ref().map(|m| (m.points, m.addr.as_str()));
                let page = self.members_by_points(storage, start, page_limit(limit))?;
                to_json_binary(&Self::member_list(page))
            }
            Tg4QueryMsg::Member { addr, at_height } => to_json_binary(&self.member_response(storage, &addr, at_height)?),
            Tg4QueryMsg::Hooks {} => to_json_binary(&HooksResponse { hooks: load_hooks(storage)? }),
        }
    }
}

impl Tg4Store<u64, u64> {
    /// Sets the points of `addr` (None removes it) at `height` unless unchanged, keeping the
    /// total in step (overflow is an error), and records the change in `changes`.
    pub fn set_points(
        &self,
        storage: &mut dyn Storage,
        height: u64,
        addr: &str,
        new: Option<u64>,
        changes: &mut Changes,
    ) -> StdResult<()> {
        let old = self.member(storage, addr)?;
        if old == new {
            return Ok(());
        }
        self.save_member(storage, addr, new, height)?;
        let total = self.total(storage)? - old.unwrap_or(0);
        let total = total.checked_add(new.unwrap_or(0)).ok_or_else(|| StdError::overflow("total points"))?;
        self.save_total(storage, total, height)?;
        changes.entry(addr.to_string()).or_insert((old, new)).1 = new;
        Ok(())
    }
}
