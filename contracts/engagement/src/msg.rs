//! The engagement contract's messages: its public face (JSON examples in the README).
//!
//! The tg4 shapes (Member, MemberDiff, the hook message and the query answers) come from
//! the tg4 package; the tg4 queries are repeated here next to the contract's own.

use serde::{Deserialize, Serialize};

pub use tg4::{
    AdminResponse, HooksResponse, Member, MemberChangedHookMsg, MemberDiff, MemberListResponse, MemberResponse,
    TotalPointsResponse,
};

/// Longest address accepted anywhere (bytes).
pub const MAX_ADDR_LEN: usize = 90;
/// Most members in `instantiate.members`.
pub const MAX_INITIAL_MEMBERS: usize = 500;
/// Most entries in each of `update_members.add` and `update_members.remove`.
pub const MAX_UPDATE_MEMBERS: usize = 100;
/// Most registered hooks.
pub const MAX_HOOKS: usize = 16;
/// Default and largest page of the list queries.
pub use tg4::store::{DEFAULT_LIMIT, MAX_LIMIT};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    #[serde(default)]
    pub admin: Option<String>,
    pub members: Vec<MemberInit>,
    /// Seconds between two halvings; null: no decay.
    #[serde(default)]
    pub halflife: Option<u64>,
}

/// A member with its points, as given in instantiate and update_members.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MemberInit {
    pub addr: String,
    pub points: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Admin: remove these, then set the points of these (replacing).
    UpdateMembers {
        #[serde(default)]
        add: Vec<MemberInit>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Admin: grant `points` more to `addr` (a non-member becomes a member).
    AddPoints { addr: String, points: u64 },
    /// Admin: change the halflife (null: no decay).
    UpdateHalflife {
        #[serde(default)]
        halflife: Option<u64>,
    },
    /// Admin: register a contract to receive member_changed_hook.
    AddHook { addr: String },
    /// Admin: unregister a hook.
    RemoveHook { addr: String },
    /// Admin: hand the admin role over (null: nobody, forever).
    UpdateAdmin {
        #[serde(default)]
        admin: Option<String>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Admin {},
    TotalPoints {
        #[serde(default)]
        at_height: Option<u64>,
    },
    Member {
        addr: String,
        #[serde(default)]
        at_height: Option<u64>,
    },
    ListMembers {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    ListMembersByPoints {
        #[serde(default)]
        start_after: Option<Member>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Hooks {},
    Halflife {},
}

impl QueryMsg {
    /// The tg4 query this is (answered by the tg4 store), or itself when it is ours. (The
    /// enum keeps its own variant order: serde lists it in unknown-variant errors.)
    pub fn into_tg4(self) -> Result<tg4::Tg4QueryMsg, Self> {
        use tg4::Tg4QueryMsg as Q;
        Ok(match self {
            QueryMsg::Admin {} => Q::Admin {},
            QueryMsg::TotalPoints { at_height } => Q::TotalPoints { at_height },
            QueryMsg::Member { addr, at_height } => Q::Member { addr, at_height },
            QueryMsg::ListMembers { start_after, limit } => Q::ListMembers { start_after, limit },
            QueryMsg::ListMembersByPoints { start_after, limit } => Q::ListMembersByPoints { start_after, limit },
            QueryMsg::Hooks {} => Q::Hooks {},
            other => return Err(other),
        })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SudoMsg {
    /// Sent by the chain every block: halve all points once a halflife has passed.
    EndBlock {},
    /// Governance granted or revoked a privilege (e.g. end_blocker): accepted, nothing to set up.
    PrivilegeChange(conclave_sdk::chain::PrivilegeChange),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HalflifeResponse {
    pub halflife: Option<u64>,
    pub last_halflife: u64,
    pub next_halflife: Option<u64>,
}
