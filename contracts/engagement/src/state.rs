//! Storage layout. Values are JSON; heights are big-endian u64 so keys sort by height.
//! The tg4 part (admin, hooks, members, index, snapshots) is [`tg4::store`] with
//! [`Keys::SHORT`]:
//!
//! | key                                  | value                                         |
//! |--------------------------------------|-----------------------------------------------|
//! | `admin`                              | address or null                               |
//! | `hooks`                              | list of addresses                             |
//! | `halflife`                           | [`Halflife`]                                  |
//! | `contract_info`                      | `{"contract","version"}` (set by migrate too)  |
//! | `total`                              | total points                                  |
//! | `t:` height                          | total before the first change at that height  |
//! | `m:` addr                            | the member's points                           |
//! | `l:` len(addr) addr height           | points before the first change at that height (null: not a member) |
//! | `p:` (u64::MAX - points) addr        | empty: index for list_members_by_points       |

use serde::{Deserialize, Serialize};
use tg4::store::{Keys, Tg4Store};

pub use tg4::store::{load, load_admin, load_hooks, may_load, save, Changes, ADMIN, HOOKS};

pub const HALFLIFE: &[u8] = b"halflife";
pub const CONTRACT_INFO: &[u8] = b"contract_info";

/// The members (points) and the total.
pub const MEMBERS: Tg4Store<u64> = Tg4Store::new(Keys::SHORT);

/// Halflife decay settings: points halve when `last_halflife + halflife <= now`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Halflife {
    /// Seconds; None: no decay.
    pub halflife: Option<u64>,
    /// Block time (seconds) of the last halving, or of instantiation.
    pub last_halflife: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}
