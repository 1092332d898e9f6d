//! Storage layout. Values are JSON; heights in keys are 8-byte big-endian so they sort.
//! The tg4 part (admin, hooks, members, index, snapshots) is [`tg4::store`] with
//! [`Keys::LONG`]:
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

use serde::{Deserialize, Serialize};
use tg4::store::{Keys, Tg4Store};

pub use tg4::store::{load_admin, load_hooks, may_load, save, save_admin, save_hooks, MemberInfo};

pub const CONTRACT_INFO: &[u8] = b"contract_info";

/// The members (with their start heights) and the total.
pub const MEMBERS: Tg4Store<MemberInfo> = Tg4Store::new(Keys::LONG);

/// The code name and version, written at instantiate and migrate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}
