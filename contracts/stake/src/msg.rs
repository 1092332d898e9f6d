//! The stake contract's messages: its public face (JSON examples in the README).
//!
//! The tg4 shapes (Member, MemberDiff, the hook message and the query answers) come from
//! the tg4 package; the tg4 queries are repeated here next to the contract's own.

use conclave_sdk::{Coin, Uint128};
use serde::{Deserialize, Serialize};

pub use tg4::{
    AdminResponse, HooksResponse, Member, MemberChangedHookMsg, MemberDiff, MemberListResponse, MemberResponse,
    TotalPointsResponse,
};

/// Longest address accepted anywhere (bytes).
pub const MAX_ADDR_LEN: usize = 90;
/// Longest stake denom (bytes).
pub const MAX_DENOM_LEN: usize = 128;
/// Longest slash portion string (bytes).
pub const MAX_PORTION_LEN: usize = 32;
/// Most pending claims per address (claims maturing at the same second are merged).
pub const MAX_CLAIMS: usize = 100;
/// Most claims paid by one `sudo end_block` (the rest are paid in the next blocks).
pub const MAX_RELEASES_PER_BLOCK: usize = 100;
/// Longest unbonding period: 10 years in seconds.
pub const MAX_UNBONDING_PERIOD: u64 = 10 * 365 * 24 * 3600;
/// Most registered hooks and slashers.
pub const MAX_HOOKS: usize = 16;
pub const MAX_SLASHERS: usize = 16;
/// Default and largest page of the list queries.
pub use tg4::store::{DEFAULT_LIMIT, MAX_LIMIT};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The only denom accepted by `bond`.
    pub denom: String,
    /// Tokens per point (> 0).
    pub tokens_per_point: Uint128,
    /// Fewest bonded tokens for membership (>= 1).
    pub min_bond: Uint128,
    /// Seconds between `unbond` and the claim's release.
    pub unbonding_period: u64,
    #[serde(default)]
    pub admin: Option<String>,
    /// How many times anyone (not only the admin) may call `add_slasher`.
    #[serde(default)]
    pub preauths_slashing: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Bond the funds sent (exactly one coin of the stake denom).
    Bond {},
    /// Unbond `tokens`: a claim released after the unbonding period.
    Unbond { tokens: Uint128 },
    /// Pay the sender's matured claims.
    Claim {},
    /// Admin (or anyone while preauths remain): register a slasher.
    AddSlasher { addr: String },
    /// Admin: unregister a slasher.
    RemoveSlasher { addr: String },
    /// Slasher: burn `portion` of `addr`'s bonded tokens and pending claims.
    Slash { addr: String, portion: String },
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
    Staked { address: String },
    Claims { address: String },
    Config {},
    ListSlashers {},
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
    /// Sent by the chain every block: pay every matured claim.
    EndBlock {},
    /// Governance granted or revoked a privilege (e.g. end_blocker): accepted, nothing to set up.
    PrivilegeChange(conclave_sdk::chain::PrivilegeChange),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StakedResponse {
    pub stake: Coin,
}

/// Tokens released to the owner at `release_at` (block time, seconds).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub amount: Uint128,
    pub release_at: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ClaimsResponse {
    pub claims: Vec<Claim>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigResponse {
    pub denom: String,
    pub tokens_per_point: Uint128,
    pub min_bond: Uint128,
    pub unbonding_period: u64,
    /// Remaining preauthorisations for `add_slasher` by anyone.
    pub preauths_slashing: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SlashersResponse {
    pub slashers: Vec<String>,
}
