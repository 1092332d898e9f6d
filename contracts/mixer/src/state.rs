//! Storage layout. Values are JSON; heights in keys are 8-byte big-endian so they sort.
//! The tg4 part (admin, hooks, members, index, snapshots) is [`tg4::store`] with
//! [`Keys::LONG`]:
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

use conclave_sdk::{Addr, StdResult, Storage};
use serde::{Deserialize, Serialize};
use tg4::store::{Keys, Tg4Store};

pub use tg4::store::{load, may_load, save, ADMIN, HOOKS, TOTAL};

use crate::msg::MixerFunction;

pub const CONFIG: &[u8] = b"config";
pub const SLASHERS: &[u8] = b"slashers";
pub const CONTRACT_INFO: &[u8] = b"contract_info";

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

/// The members (points > 0) and the total (a u128, answered capped to u64).
pub const MEMBERS: Tg4Store<u64, u128> = Tg4Store::new(Keys::LONG);

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<Addr>> {
    Ok(may_load::<Option<Addr>>(storage, ADMIN)?.flatten())
}

pub fn load_list(storage: &dyn Storage, key: &[u8]) -> StdResult<Vec<Addr>> {
    Ok(may_load(storage, key)?.unwrap_or_default())
}

/// Sets (Some) or removes (None) a member, keeping the index and the snapshot log.
pub fn save_member(storage: &mut dyn Storage, addr: &str, points: Option<u64>, height: u64) -> StdResult<()> {
    MEMBERS.save_member(storage, addr, points, height)
}

/// A member's points as of the start of `height` (None: not a member then).
pub fn member_at(storage: &dyn Storage, addr: &str, height: u64) -> StdResult<Option<u64>> {
    MEMBERS.points_at(storage, addr, height)
}
