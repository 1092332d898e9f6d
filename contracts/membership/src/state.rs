//! Storage layout of the trusted circle. Values are JSON unless noted; `<h>` and `<t>` are
//! big-endian u64 (so keys sort by height / time), `<addr>` is the bech32 address text
//! (characters 0-9 a-z, all different from the `:`/`;` separators used in range bounds).
//!
//! | key                    | value                                                      |
//! |------------------------|------------------------------------------------------------|
//! | `rules`                | `Rules {denom, escrow_amount, voting_period}`              |
//! | `admin`                | address or null                                            |
//! | `hooks`                | list of addresses                                          |
//! | `contract_info`        | `{"contract","version"}` (written by instantiate/migrate)  |
//! | `m:<addr>`             | `MemberRecord {status, escrow, batch, claim_at}`           |
//! | `p:<addr>`             | current tg4 points (1) — voting members only               |
//! | `total`                | current total points                                       |
//! | `pc:<addr>:<h>`        | points (or null) the address had before its change at h    |
//! | `tc:<h>`               | total before its change at h                               |
//! | `b:<id>`               | `Batch {grace_ends_at, members}` while it has unpromoted members |
//! | `next_batch`           | next batch id                                              |
//! | `l:<t><addr>`          | empty: a leaving member whose claim_at is t                |
//! | `d:<addr>`             | empty: a denied address                                    |

use conclave_sdk::serde_json::Value;
use conclave_sdk::{from_json, to_json_vec, Addr, Order, StdError, StdResult, Storage, Uint128};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ContractError;
use crate::msg::Fields;

pub const RULES: &[u8] = b"rules";
pub const ADMIN: &[u8] = b"admin";
pub const HOOKS: &[u8] = b"hooks";
pub const CONTRACT_INFO: &[u8] = b"contract_info";
pub const TOTAL: &[u8] = b"total";
pub const NEXT_BATCH: &[u8] = b"next_batch";

pub const MEMBER_PREFIX: &[u8] = b"m:";
pub const POINTS_PREFIX: &[u8] = b"p:";
pub const POINTS_CHANGELOG_PREFIX: &[u8] = b"pc:";
pub const TOTAL_CHANGELOG_PREFIX: &[u8] = b"tc:";
pub const BATCH_PREFIX: &[u8] = b"b:";
pub const LEAVING_PREFIX: &[u8] = b"l:";
pub const DENY_PREFIX: &[u8] = b"d:";

pub const CONTRACT_NAME: &str = "conclave:membership";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The rules the admin may edit.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub denom: String,
    pub escrow_amount: Uint128,
    pub voting_period: u64,
}

impl Rules {
    fn from_value(value: Value) -> Result<Self, ContractError> {
        let mut f = Fields::new(object(value)?, "Rules", &["denom", "escrow_amount", "voting_period"])?;
        Ok(Rules {
            denom: f.string("denom")?,
            escrow_amount: f.uint128("escrow_amount")?,
            voting_period: f.u64("voting_period")?,
        })
    }
}

/// Where a member stands in the circle. Serialised as a snake_case string.
#[derive(Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Listed, no vote, no escrow.
    NonVoting,
    /// In a batch, escrow below escrow_amount.
    Pending,
    /// In a batch, escrow paid, waiting for the batch to be promoted.
    PendingPaid,
    /// Points 1 in tg4 terms.
    Voting,
    /// Left (or was kicked out); escrow frozen until `claim_at`.
    Leaving,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::NonVoting => "non_voting",
            Status::Pending => "pending",
            Status::PendingPaid => "pending_paid",
            Status::Voting => "voting",
            Status::Leaving => "leaving",
        }
    }

    fn from_name(name: &str) -> Option<Status> {
        [Status::NonVoting, Status::Pending, Status::PendingPaid, Status::Voting, Status::Leaving]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub status: Status,
    pub escrow: Uint128,
    /// The batch of a pending / pending_paid member.
    pub batch: Option<u64>,
    /// Seconds; set while leaving.
    pub claim_at: Option<u64>,
}

impl MemberRecord {
    pub fn from_value(value: Value) -> Result<Self, ContractError> {
        let mut f = Fields::new(object(value)?, "MemberRecord", &["status", "escrow", "batch", "claim_at"])?;
        let status = f.string("status")?;
        Ok(MemberRecord {
            status: Status::from_name(&status).ok_or_else(|| ContractError::invalid("corrupt member status"))?,
            escrow: f.uint128("escrow")?,
            batch: f.opt_u64("batch")?,
            claim_at: f.opt_u64("claim_at")?,
        })
    }
}

/// Members added together by one `add_voting_members`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub grace_ends_at: u64,
    /// Still pending or pending_paid, address order.
    pub members: Vec<Addr>,
}

impl Batch {
    pub fn from_value(value: Value) -> Result<Self, ContractError> {
        let mut f = Fields::new(object(value)?, "Batch", &["grace_ends_at", "members"])?;
        Ok(Batch {
            grace_ends_at: f.u64("grace_ends_at")?,
            members: f.strings("members")?.into_iter().map(Addr::unchecked).collect(),
        })
    }
}

fn object(value: Value) -> Result<crate::msg::Obj, ContractError> {
    match value {
        Value::Object(obj) => Ok(obj),
        _ => Err(ContractError::invalid("corrupt storage: expected an object")),
    }
}

fn load_value(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<Value>> {
    may_load(storage, key)
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}

// --- generic helpers ---

pub fn may_load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<T>> {
    match storage.get(key) {
        Some(bytes) => from_json(&bytes).map(Some),
        None => Ok(None),
    }
}

pub fn load_required(storage: &dyn Storage, key: &[u8]) -> StdResult<Value> {
    load_value(storage, key)?.ok_or_else(|| StdError::not_found(String::from_utf8_lossy(key).into_owned()))
}

pub fn save<T: Serialize + ?Sized>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

pub fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(rest);
    k
}

/// The first key after every key starting with `prefix` (prefix with its last byte + 1).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

/// Start of a page that begins after `after` (exclusive) within `prefix`.
pub fn page_start(prefix: &[u8], after: Option<&[u8]>) -> Vec<u8> {
    match after {
        Some(a) => {
            let mut k = key(prefix, a);
            k.push(0);
            k
        }
        None => prefix.to_vec(),
    }
}

// --- rules, admin, hooks ---

pub fn load_rules(storage: &dyn Storage) -> Result<Rules, ContractError> {
    Rules::from_value(load_required(storage, RULES)?)
}

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<Addr>> {
    match load_value(storage, ADMIN)? {
        Some(Value::String(s)) => Ok(Some(Addr::unchecked(s))),
        _ => Ok(None),
    }
}

pub fn load_hooks(storage: &dyn Storage) -> StdResult<Vec<Addr>> {
    match load_value(storage, HOOKS)? {
        Some(Value::Array(items)) => {
            Ok(items.into_iter().filter_map(|v| v.as_str().map(Addr::unchecked)).collect())
        }
        _ => Ok(vec![]),
    }
}

// --- members ---

pub fn member_key(addr: &Addr) -> Vec<u8> {
    key(MEMBER_PREFIX, addr.as_str().as_bytes())
}

pub fn may_load_member(storage: &dyn Storage, addr: &Addr) -> Result<Option<MemberRecord>, ContractError> {
    match load_value(storage, &member_key(addr))? {
        Some(value) => MemberRecord::from_value(value).map(Some),
        None => Ok(None),
    }
}

pub fn save_member(storage: &mut dyn Storage, addr: &Addr, member: &MemberRecord) -> StdResult<()> {
    save(storage, &member_key(addr), member)
}

pub fn remove_member(storage: &mut dyn Storage, addr: &Addr) {
    storage.remove(&member_key(addr));
}

// --- tg4 points with snapshots ---

/// A stored JSON number (or null / absent) as an optional u64.
fn load_u64(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<u64>> {
    Ok(load_value(storage, key)?.and_then(|v| v.as_u64()))
}

fn u64_of(bytes: &[u8]) -> StdResult<Option<u64>> {
    Ok(from_json::<Value>(bytes)?.as_u64())
}

pub fn current_points(storage: &dyn Storage, addr: &str) -> StdResult<Option<u64>> {
    load_u64(storage, &key(POINTS_PREFIX, addr.as_bytes()))
}

pub fn current_total(storage: &dyn Storage) -> StdResult<u64> {
    Ok(load_u64(storage, TOTAL)?.unwrap_or(0))
}

fn changelog_key(addr: &str, height: u64) -> Vec<u8> {
    let mut k = key(POINTS_CHANGELOG_PREFIX, addr.as_bytes());
    k.push(b':');
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// Sets an address's points (None = not a member) and the total, recording the values they
/// had at the start of block `height` the first time each changes in that block.
pub fn set_points(storage: &mut dyn Storage, height: u64, addr: &str, points: Option<u64>) -> StdResult<Option<u64>> {
    let old = current_points(storage, addr)?;
    if old == points {
        return Ok(old);
    }
    let log = changelog_key(addr, height);
    if storage.get(&log).is_none() {
        save(storage, &log, &old)?;
    }
    let points_key = key(POINTS_PREFIX, addr.as_bytes());
    match points {
        Some(p) => save(storage, &points_key, &p)?,
        None => storage.remove(&points_key),
    }
    let total = current_total(storage)?;
    let new_total = total - old.unwrap_or(0) + points.unwrap_or(0);
    let total_log = key(TOTAL_CHANGELOG_PREFIX, &height.to_be_bytes());
    if storage.get(&total_log).is_none() {
        save(storage, &total_log, &total)?;
    }
    save(storage, TOTAL, &new_total)?;
    Ok(old)
}

/// Points at the start of block `height` (None = now): the old value of the first change
/// made at or after that height, or the current value when there was none.
pub fn points_at(storage: &dyn Storage, addr: &str, height: Option<u64>) -> StdResult<Option<u64>> {
    if let Some(h) = height {
        let start = changelog_key(addr, h);
        let mut end = key(POINTS_CHANGELOG_PREFIX, addr.as_bytes());
        end.push(b':' + 1);
        if let Some(bytes) = storage.range_values(Some(&start), Some(&end), Order::Ascending).next() {
            return u64_of(&bytes);
        }
    }
    current_points(storage, addr)
}

pub fn total_at(storage: &dyn Storage, height: Option<u64>) -> StdResult<u64> {
    if let Some(h) = height {
        let start = key(TOTAL_CHANGELOG_PREFIX, &h.to_be_bytes());
        let end = prefix_end(TOTAL_CHANGELOG_PREFIX);
        if let Some(bytes) = storage.range_values(Some(&start), Some(&end), Order::Ascending).next() {
            return Ok(u64_of(&bytes)?.unwrap_or(0));
        }
    }
    current_total(storage)
}

// --- batches ---

pub fn batch_key(id: u64) -> Vec<u8> {
    key(BATCH_PREFIX, &id.to_be_bytes())
}

pub fn next_batch_id(storage: &mut dyn Storage) -> StdResult<u64> {
    let id = load_u64(storage, NEXT_BATCH)?.unwrap_or(1);
    save(storage, NEXT_BATCH, &(id + 1))?;
    Ok(id)
}

/// Every open batch, oldest first.
pub fn open_batches(storage: &dyn Storage) -> Result<Vec<(u64, Batch)>, ContractError> {
    storage
        .range(Some(BATCH_PREFIX), Some(&prefix_end(BATCH_PREFIX)), Order::Ascending)
        .map(|(k, v)| Ok((batch_id_of(&k), Batch::from_value(from_json(&v)?)?)))
        .collect()
}

pub fn batch_id_of(k: &[u8]) -> u64 {
    let mut id = [0u8; 8];
    id.copy_from_slice(&k[BATCH_PREFIX.len()..BATCH_PREFIX.len() + 8]);
    u64::from_be_bytes(id)
}

/// Saves a batch, or removes it when no member is left in it.
pub fn save_batch(storage: &mut dyn Storage, id: u64, batch: &Batch) -> StdResult<()> {
    if batch.members.is_empty() {
        storage.remove(&batch_key(id));
        Ok(())
    } else {
        save(storage, &batch_key(id), batch)
    }
}

/// Takes `addr` out of its batch (when it leaves or is kicked out).
pub fn remove_from_batch(storage: &mut dyn Storage, id: u64, addr: &Addr) -> Result<(), ContractError> {
    if let Some(value) = load_value(storage, &batch_key(id))? {
        let mut batch = Batch::from_value(value)?;
        batch.members.retain(|m| m != addr);
        save_batch(storage, id, &batch)?;
    }
    Ok(())
}

// --- leaving index ---

pub fn leaving_key(claim_at: u64, addr: &Addr) -> Vec<u8> {
    let mut k = key(LEAVING_PREFIX, &claim_at.to_be_bytes());
    k.extend_from_slice(addr.as_str().as_bytes());
    k
}

/// Leaving members whose claim_at <= now, earliest first, at most `limit`.
/// Each with its index key.
pub fn matured_leaving(storage: &dyn Storage, now: u64, limit: usize) -> Vec<(Vec<u8>, Addr)> {
    let end = key(LEAVING_PREFIX, &now.saturating_add(1).to_be_bytes());
    storage
        .range_keys(Some(LEAVING_PREFIX), Some(&end), Order::Ascending)
        .take(limit)
        .map(|k| {
            let addr = Addr::unchecked(String::from_utf8_lossy(&k[LEAVING_PREFIX.len() + 8..]).into_owned());
            (k, addr)
        })
        .collect()
}

// --- deny list ---

pub fn deny_key(addr: &str) -> Vec<u8> {
    key(DENY_PREFIX, addr.as_bytes())
}

pub fn is_denied(storage: &dyn Storage, addr: &str) -> bool {
    storage.get(&deny_key(addr)).is_some()
}
