//! Storage layout. Values are JSON; heights are big-endian u64 so keys sort by height.
//! The tg4 part (admin, hooks, members, index, snapshots) is [`tg4::store`] with
//! [`Keys::SHORT`]:
//!
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

use conclave_sdk::{Order, StdResult, Storage, Uint128};
use tg4::store::{Keys, Tg4Store};

pub use tg4::store::{load, load_admin, load_hooks, may_load, save, Changes, ADMIN, HOOKS};

use crate::msg::Claim;
use serde::{Deserialize, Serialize};

pub const CONFIG: &[u8] = b"config";
pub const PREAUTHS: &[u8] = b"preauths";
pub const SLASHERS: &[u8] = b"slashers";
const STAKE: &[u8] = b"s:";
const CLAIMS: &[u8] = b"c:";
const CLAIM_QUEUE: &[u8] = b"q:";
pub const CONTRACT_INFO: &[u8] = b"contract_info";

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

/// The members (points) and the total.
pub const MEMBERS: Tg4Store<u64> = Tg4Store::new(Keys::SHORT);

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
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
