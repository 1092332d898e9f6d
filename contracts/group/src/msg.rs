//! The group's messages: its public face (JSON examples in the README, schemas in schema/).

use serde::{Deserialize, Serialize};

pub use tg4::Tg4QueryMsg as QueryMsg;

/// A member as given to instantiate and update_members.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub addr: String,
    pub points: u64,
}

impl MemberInput {
    pub fn new(addr: impl Into<String>, points: u64) -> Self {
        MemberInput { addr: addr.into(), points }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Who may change the group; none = nobody, the group is fixed.
    #[serde(default)]
    pub admin: Option<String>,
    pub members: Vec<MemberInput>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Admin only: hand the group to another admin, or to none (freezing it).
    UpdateAdmin {
        #[serde(default)]
        admin: Option<String>,
    },
    /// Admin only: set the points of `add` (joining or changing), drop `remove`; every hook
    /// is called with the diffs and a failing hook undoes the update.
    UpdateMembers {
        #[serde(default)]
        add: Vec<MemberInput>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Admin only: call this contract with member_changed_hook on every change.
    AddHook { addr: String },
    /// Admin only.
    RemoveHook { addr: String },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}
