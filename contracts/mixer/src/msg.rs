//! The mixer's messages: its public face (JSON examples in the README, schemas in schema/).

use conclave_sdk::Uint64;
use serde::{Deserialize, Serialize};
use tg4::MemberDiff;

/// Most registered hooks and slashers.
pub const MAX_HOOKS: usize = 16;
pub const MAX_SLASHERS: usize = 16;
/// Default and largest page of the member lists.
pub use tg4::store::{DEFAULT_LIMIT, MAX_LIMIT};
/// Longest slash portion string.
pub const MAX_PORTION_LEN: usize = 32;

/// The function mixing stake and engagement, as given (decimals as strings).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MixerFunction {
    /// isqrt(stake * engagement).
    GeometricMean {},
    /// max_points * (2 / (1 + exp(-s * (stake * engagement)^p)) - 1).
    Sigmoid { max_points: Uint64, p: String, s: String },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The engagement group (tg4).
    pub left_group: String,
    /// The stake group (tg4, with `slash`).
    pub right_group: String,
    pub function: MixerFunction,
    /// Who manages hooks and slashers; none = nobody.
    #[serde(default)]
    pub admin: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Only from the left or right group: recompute the changed addresses.
    MemberChangedHook { diffs: Vec<MemberDiff> },
    /// Admin only.
    AddHook { addr: String },
    /// Admin only.
    RemoveHook { addr: String },
    /// Admin only.
    AddSlasher { addr: String },
    /// Admin only.
    RemoveSlasher { addr: String },
    /// Admin only: hand over (null: nobody, forever).
    UpdateAdmin {
        #[serde(default)]
        admin: Option<String>,
    },
    /// Admin or a slasher: forwarded as `{"slash":{...}}` to the right (stake) group.
    Slash { addr: String, portion: String },
}

tg4::tg4_query_msg! {
    /// The tg4 queries, then the mixer's own.
    pub enum QueryMsg {
        /// -> MixerFunctionResponse: the function applied to these values.
        MixerFunction { stake: Uint64, engagement: Uint64 },
        /// -> GroupsResponse
        Groups {},
        /// -> FunctionResponse: the function as configured.
        Function {},
        /// -> SlashersResponse
        ListSlashers {},
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MixerFunctionResponse {
    pub points: Uint64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GroupsResponse {
    pub left: String,
    pub right: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FunctionResponse {
    pub function: MixerFunction,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SlashersResponse {
    pub slashers: Vec<String>,
}

/// The message forwarded to the stake group.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StakeExecuteMsg {
    Slash { addr: String, portion: String },
}
