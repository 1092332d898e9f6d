//! The trusted circle's messages and answers: its public face (JSON examples in the README).
//!
//! Input messages are read from a JSON value by hand (one small set of field readers instead
//! of a serde monomorph per message, which keeps the wasm lean). They behave like serde's
//! `deny_unknown_fields`: unknown variants and unknown fields are errors, a missing required
//! field is an error, `null` equals an absent optional field. The tg4 part (queries, answers,
//! the hook message) follows contracts/INTERFACES.md exactly.

use conclave_sdk::serde_json::{Map, Value};
use conclave_sdk::{StdError, Uint128};
use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::state::Status;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstantiateMsg {
    /// The native denom escrow is paid in.
    pub denom: String,
    /// Escrow a member must hold to become (and be promoted to) a voting member; > 0.
    pub escrow_amount: Uint128,
    /// Seconds: a batch's grace period, and half of the leaving freeze.
    pub voting_period: u64,
    pub admin: Option<String>,
    /// Voting from the start; instantiate funds must be exactly escrow_amount x their number.
    pub initial_members: Vec<String>,
    pub deny_list: Vec<String>,
}

impl InstantiateMsg {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        let ty = "InstantiateMsg";
        let obj = match value {
            Value::Object(obj) => obj,
            _ => return Err(parse_err(ty, "invalid type: expected an object")),
        };
        let allowed = ["denom", "escrow_amount", "voting_period", "admin", "initial_members", "deny_list"];
        let mut f = Fields::new(obj, ty, &allowed)?;
        Ok(InstantiateMsg {
            denom: f.string("denom")?,
            escrow_amount: f.uint128("escrow_amount")?,
            voting_period: f.u64("voting_period")?,
            admin: f.opt_string("admin")?,
            initial_members: f.strings("initial_members")?,
            deny_list: f.strings("deny_list")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecuteMsg {
    // --- admin (the voting contract) ---
    /// One batch: every address becomes `pending` and has one voting period to pay escrow.
    AddVotingMembers { addrs: Vec<String> },
    AddRemoveNonVotingMembers { add: Vec<String>, remove: Vec<String> },
    PunishMembers { punishments: Vec<Punishment> },
    UpdateDenyList { add: Vec<String>, remove: Vec<String> },
    EditRules { escrow_amount: Option<Uint128>, voting_period: Option<u64> },
    UpdateAdmin { admin: Option<String> },
    AddHook { addr: String },
    RemoveHook { addr: String },
    // --- members ---
    /// Funds: exactly one coin of the escrow denom, non-zero.
    DepositEscrow {},
    /// Only the part above escrow_amount; null = all of it.
    ReturnEscrow { amount: Option<Uint128> },
    Leave {},
    ClaimEscrow {},
    // --- anyone ---
    /// Does nothing but the checks every execute runs (batch promotion).
    CheckPending {},
}

const EXECUTE_VARIANTS: &[&str] = &[
    "add_voting_members", "add_remove_non_voting_members", "punish_members", "update_deny_list", "edit_rules",
    "update_admin", "add_hook", "remove_hook", "deposit_escrow", "return_escrow", "leave", "claim_escrow",
    "check_pending",
];

impl ExecuteMsg {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        let ty = "ExecuteMsg";
        let (name, obj) = variant(value, ty, EXECUTE_VARIANTS)?;
        let msg = match name.as_str() {
            "add_voting_members" => {
                let mut f = Fields::new(obj, ty, &["addrs"])?;
                ExecuteMsg::AddVotingMembers { addrs: f.required_strings("addrs")? }
            }
            "add_remove_non_voting_members" => {
                let mut f = Fields::new(obj, ty, &["add", "remove"])?;
                ExecuteMsg::AddRemoveNonVotingMembers { add: f.strings("add")?, remove: f.strings("remove")? }
            }
            "punish_members" => {
                let mut f = Fields::new(obj, ty, &["punishments"])?;
                let list = f.list("punishments")?.ok_or_else(|| missing(ty, "punishments"))?;
                let punishments = list.into_iter().map(Punishment::parse).collect::<Result<Vec<_>, _>>()?;
                ExecuteMsg::PunishMembers { punishments }
            }
            "update_deny_list" => {
                let mut f = Fields::new(obj, ty, &["add", "remove"])?;
                ExecuteMsg::UpdateDenyList { add: f.strings("add")?, remove: f.strings("remove")? }
            }
            "edit_rules" => {
                let mut f = Fields::new(obj, ty, &["escrow_amount", "voting_period"])?;
                ExecuteMsg::EditRules {
                    escrow_amount: f.opt_uint128("escrow_amount")?,
                    voting_period: f.opt_u64("voting_period")?,
                }
            }
            "update_admin" => {
                let mut f = Fields::new(obj, ty, &["admin"])?;
                ExecuteMsg::UpdateAdmin { admin: f.opt_string("admin")? }
            }
            "add_hook" => ExecuteMsg::AddHook { addr: Fields::new(obj, ty, &["addr"])?.string("addr")? },
            "remove_hook" => ExecuteMsg::RemoveHook { addr: Fields::new(obj, ty, &["addr"])?.string("addr")? },
            "deposit_escrow" => no_fields(obj, ty, ExecuteMsg::DepositEscrow {})?,
            "return_escrow" => {
                ExecuteMsg::ReturnEscrow { amount: Fields::new(obj, ty, &["amount"])?.opt_uint128("amount")? }
            }
            "leave" => no_fields(obj, ty, ExecuteMsg::Leave {})?,
            "claim_escrow" => no_fields(obj, ty, ExecuteMsg::ClaimEscrow {})?,
            _ => no_fields(obj, ty, ExecuteMsg::CheckPending {})?,
        };
        Ok(msg)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Punishment {
    pub member: String,
    /// Share of the member's escrow to slash, "0" ..= "1", at most 9 decimal places.
    pub slash_ratio: String,
    pub distribution: Distribution,
    pub kick_out: bool,
}

impl Punishment {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        let ty = "Punishment";
        let obj = match value {
            Value::Object(obj) => obj,
            _ => return Err(parse_err(ty, "invalid type: expected an object")),
        };
        let mut f = Fields::new(obj, ty, &["member", "slash_ratio", "distribution", "kick_out"])?;
        let member = f.string("member")?;
        let slash_ratio = f.string("slash_ratio")?;
        let distribution = f.take("distribution").ok_or_else(|| missing(ty, "distribution"))?;
        let dist_ty = "Distribution";
        let (name, value) = variant_value(distribution, dist_ty, &["burn", "send_to"])?;
        let distribution = match value {
            Value::Object(obj) if name == "burn" => no_fields(obj, dist_ty, Distribution::Burn {})?,
            _ if name == "burn" => return Err(invalid_type(dist_ty, "burn", "an object")),
            value => Distribution::SendTo(string_list(value, dist_ty, "send_to")?),
        };
        Ok(Punishment { member, slash_ratio, distribution, kick_out: f.bool("kick_out")? })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// The slashed tokens are destroyed (BankMsg burn).
    Burn {},
    /// The slashed tokens are split equally among these addresses.
    SendTo(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SudoMsg {
    /// Promote due batches, return matured escrows of leaving members.
    EndBlock {},
    /// Governance granted or revoked a privilege (e.g. end_blocker): accepted, nothing to set up.
    PrivilegeChange,
}

impl SudoMsg {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        let (name, obj) = variant(value, "SudoMsg", &["end_block", "privilege_change"])?;
        if name == "privilege_change" {
            let (_, inner) = variant(Value::Object(obj), "PrivilegeChange", &["promoted", "demoted"])?;
            return no_fields(inner, "PrivilegeChange", SudoMsg::PrivilegeChange);
        }
        no_fields(obj, "SudoMsg", SudoMsg::EndBlock {})
    }
}

/// `{}`: no options.
pub struct MigrateMsg {}

impl MigrateMsg {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        match value {
            Value::Object(obj) => no_fields(obj, "MigrateMsg", MigrateMsg {}),
            _ => Err(parse_err("MigrateMsg", "invalid type: expected an object")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryMsg {
    // --- tg4 ---
    Admin {},
    TotalPoints { at_height: Option<u64> },
    Member { addr: String, at_height: Option<u64> },
    ListMembers { start_after: Option<String>, limit: Option<u32> },
    ListMembersByPoints { start_after: Option<Member>, limit: Option<u32> },
    Hooks {},
    // --- the trusted circle ---
    MemberStatus { addr: String },
    Escrow { addr: String },
    ListMembersWithStatus { start_after: Option<String>, limit: Option<u32> },
    Rules {},
    DenyList { start_after: Option<String>, limit: Option<u32> },
    IsDenied { addr: String },
    PendingBatches { start_after: Option<u64>, limit: Option<u32> },
}

const QUERY_VARIANTS: &[&str] = &[
    "admin", "total_points", "member", "list_members", "list_members_by_points", "hooks", "member_status",
    "escrow", "list_members_with_status", "rules", "deny_list", "is_denied", "pending_batches",
];

impl QueryMsg {
    pub fn parse(value: Value) -> Result<Self, ContractError> {
        let ty = "QueryMsg";
        let (name, obj) = variant(value, ty, QUERY_VARIANTS)?;
        let page = ["start_after", "limit"];
        let msg = match name.as_str() {
            "admin" => no_fields(obj, ty, QueryMsg::Admin {})?,
            "total_points" => {
                QueryMsg::TotalPoints { at_height: Fields::new(obj, ty, &["at_height"])?.opt_u64("at_height")? }
            }
            "member" => {
                let mut f = Fields::new(obj, ty, &["addr", "at_height"])?;
                QueryMsg::Member { addr: f.string("addr")?, at_height: f.opt_u64("at_height")? }
            }
            "list_members" => {
                let mut f = Fields::new(obj, ty, &page)?;
                QueryMsg::ListMembers { start_after: f.opt_string("start_after")?, limit: f.opt_u32("limit")? }
            }
            "list_members_by_points" => {
                let mut f = Fields::new(obj, ty, &page)?;
                let start_after = match f.take("start_after") {
                    Some(v) => Some(parse_member(v)?),
                    None => None,
                };
                QueryMsg::ListMembersByPoints { start_after, limit: f.opt_u32("limit")? }
            }
            "hooks" => no_fields(obj, ty, QueryMsg::Hooks {})?,
            "member_status" => QueryMsg::MemberStatus { addr: Fields::new(obj, ty, &["addr"])?.string("addr")? },
            "escrow" => QueryMsg::Escrow { addr: Fields::new(obj, ty, &["addr"])?.string("addr")? },
            "list_members_with_status" => {
                let mut f = Fields::new(obj, ty, &page)?;
                QueryMsg::ListMembersWithStatus { start_after: f.opt_string("start_after")?, limit: f.opt_u32("limit")? }
            }
            "rules" => no_fields(obj, ty, QueryMsg::Rules {})?,
            "deny_list" => {
                let mut f = Fields::new(obj, ty, &page)?;
                QueryMsg::DenyList { start_after: f.opt_string("start_after")?, limit: f.opt_u32("limit")? }
            }
            "is_denied" => QueryMsg::IsDenied { addr: Fields::new(obj, ty, &["addr"])?.string("addr")? },
            _ => {
                let mut f = Fields::new(obj, ty, &page)?;
                QueryMsg::PendingBatches { start_after: f.opt_u64("start_after")?, limit: f.opt_u32("limit")? }
            }
        };
        Ok(msg)
    }
}

// --- the field readers ---

pub type Obj = Map<String, Value>;

#[inline(never)]
fn parse_err(ty: &str, msg: impl Into<String>) -> ContractError {
    ContractError::Std(StdError::parse_err(ty, msg.into()))
}

#[inline(never)]
fn missing(ty: &str, field: &str) -> ContractError {
    parse_err(ty, format!("missing field `{}`", field))
}

#[inline(never)]
fn invalid_type(ty: &str, field: &str, expected: &str) -> ContractError {
    parse_err(ty, format!("invalid type for `{}`: expected {}", field, expected))
}

/// Splits `{"variant":{...}}` into the variant's name and its fields.
#[inline(never)]
fn variant(value: Value, ty: &str, variants: &[&str]) -> Result<(String, Obj), ContractError> {
    let (name, fields) = variant_value(value, ty, variants)?;
    match fields {
        Value::Object(fields) => Ok((name, fields)),
        _ => Err(parse_err(ty, format!("invalid type for `{}`: expected an object", name))),
    }
}

/// Splits `{"variant":<value>}` into the variant's name and its value.
#[inline(never)]
fn variant_value(value: Value, ty: &str, variants: &[&str]) -> Result<(String, Value), ContractError> {
    let obj = match value {
        Value::Object(obj) if obj.len() == 1 => obj,
        _ => return Err(parse_err(ty, "expected an object with exactly one key, the message name")),
    };
    let (name, fields) = obj.into_iter().next().unwrap_or_default();
    if !variants.contains(&name.as_str()) {
        return Err(parse_err(
            ty,
            format!("unknown variant `{}`, expected one of `{}`", name, variants.join("`, `")),
        ));
    }
    Ok((name, fields))
}

fn no_fields<T>(obj: Obj, ty: &'static str, msg: T) -> Result<T, ContractError> {
    Fields::new(obj, ty, &[])?;
    Ok(msg)
}

#[inline(never)]
fn string_list(value: Value, ty: &str, name: &str) -> Result<Vec<String>, ContractError> {
    let items = match value {
        Value::Array(items) => items,
        _ => return Err(invalid_type(ty, name, "a list of strings")),
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(s),
            _ => Err(invalid_type(ty, name, "a list of strings")),
        })
        .collect()
}

/// The fields of one object, checked against the allowed names.
pub struct Fields {
    obj: Obj,
    ty: &'static str,
}

impl Fields {
    #[inline(never)]
    pub fn new(obj: Obj, ty: &'static str, allowed: &[&str]) -> Result<Self, ContractError> {
        if let Some(unknown) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            let expected = if allowed.is_empty() {
                "there are no fields".to_string()
            } else {
                format!("expected one of `{}`", allowed.join("`, `"))
            };
            return Err(parse_err(ty, format!("unknown field `{}`, {}", unknown, expected)));
        }
        Ok(Fields { obj, ty })
    }

    /// The value of a field; null counts as absent.
    #[inline(never)]
    pub fn take(&mut self, name: &str) -> Option<Value> {
        match self.obj.remove(name) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        }
    }

    #[inline(never)]
    pub fn opt_string(&mut self, name: &str) -> Result<Option<String>, ContractError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid_type(self.ty, name, "a string")),
        }
    }

    #[inline(never)]
    pub fn string(&mut self, name: &str) -> Result<String, ContractError> {
        self.opt_string(name)?.ok_or_else(|| missing(self.ty, name))
    }

    #[inline(never)]
    pub fn list(&mut self, name: &str) -> Result<Option<Vec<Value>>, ContractError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(invalid_type(self.ty, name, "a list")),
        }
    }

    /// A list of strings; absent or null = empty.
    #[inline(never)]
    pub fn strings(&mut self, name: &str) -> Result<Vec<String>, ContractError> {
        match self.take(name) {
            None => Ok(vec![]),
            Some(value) => string_list(value, self.ty, name),
        }
    }

    #[inline(never)]
    pub fn required_strings(&mut self, name: &str) -> Result<Vec<String>, ContractError> {
        if !self.obj.get(name).map(|v| !v.is_null()).unwrap_or(false) {
            return Err(missing(self.ty, name));
        }
        self.strings(name)
    }

    #[inline(never)]
    pub fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, ContractError> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| invalid_type(self.ty, name, "an unsigned integer (u64)")),
        }
    }

    #[inline(never)]
    pub fn u64(&mut self, name: &str) -> Result<u64, ContractError> {
        self.opt_u64(name)?.ok_or_else(|| missing(self.ty, name))
    }

    #[inline(never)]
    pub fn opt_u32(&mut self, name: &str) -> Result<Option<u32>, ContractError> {
        match self.opt_u64(name)? {
            None => Ok(None),
            Some(n) if n <= u32::MAX as u64 => Ok(Some(n as u32)),
            Some(_) => Err(invalid_type(self.ty, name, "an unsigned integer (u32)")),
        }
    }

    /// A Uint128 as a decimal string of digits.
    #[inline(never)]
    pub fn opt_uint128(&mut self, name: &str) -> Result<Option<Uint128>, ContractError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 39 && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse::<u128>().map(|n| Some(Uint128::new(n))).map_err(|_| invalid_type(self.ty, name, "a Uint128"))
            }
            Some(_) => Err(invalid_type(self.ty, name, "a Uint128 as a decimal string")),
        }
    }

    #[inline(never)]
    pub fn uint128(&mut self, name: &str) -> Result<Uint128, ContractError> {
        self.opt_uint128(name)?.ok_or_else(|| missing(self.ty, name))
    }

    /// A bool; absent or null = false.
    #[inline(never)]
    pub fn bool(&mut self, name: &str) -> Result<bool, ContractError> {
        match self.take(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(invalid_type(self.ty, name, "a bool")),
        }
    }
}

// --- tg4 shapes (from the shared tg4 package) ---

pub use tg4::{
    AdminResponse, HooksResponse, Member, MemberChangedExecuteMsg, MemberChangedHookMsg, MemberDiff,
    MemberListResponse, MemberResponse, TotalPointsResponse,
};

/// Reads a tg4 `Member` (the `start_after` of `list_members_by_points`) by hand.
fn parse_member(value: Value) -> Result<Member, ContractError> {
    let ty = "Member";
    let obj = match value {
        Value::Object(obj) => obj,
        _ => return Err(parse_err(ty, "invalid type: expected an object")),
    };
    let mut f = Fields::new(obj, ty, &["addr", "points", "start_height"])?;
    Ok(Member { addr: f.string("addr")?, points: f.u64("points")?, start_height: f.opt_u64("start_height")? })
}

// --- trusted-circle answers ---

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberStatusResponse {
    /// null when the address is not in the circle at all.
    pub status: Option<Status>,
    pub claim_at: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EscrowResponse {
    pub amount: Uint128,
    pub status: Option<Status>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberWithStatus {
    pub addr: String,
    pub status: Status,
    pub claim_at: Option<u64>,
    pub escrow: Uint128,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MembersWithStatusResponse {
    pub members: Vec<MemberWithStatus>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DenyListResponse {
    pub deny_list: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IsDeniedResponse {
    pub denied: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchResponse {
    pub id: u64,
    pub grace_ends_at: u64,
    /// Members not yet promoted (pending or pending_paid), address order.
    pub members: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PendingBatchesResponse {
    pub batches: Vec<BatchResponse>,
}
