//! tg4: the membership interface shared by Conclave's group-like contracts — the member
//! and diff types, the member-changed hook message sent to listeners, and the queries (with
//! their answers) every tg4 contract speaks. JSON examples are in the README.

use conclave_sdk::{to_json_binary, StdResult, SubMsg, WasmMsg};
use serde::{Deserialize, Serialize};

pub mod store;

/// A member and its points.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub addr: String,
    pub points: u64,
    /// The height from which the member counts; null when the contract does not track it.
    #[serde(default)]
    pub start_height: Option<u64>,
}

impl Member {
    pub fn new(addr: impl Into<String>, points: u64) -> Self {
        Member { addr: addr.into(), points, start_height: None }
    }
}

/// One member's change: `old` None = joined, `new` None = removed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberDiff {
    pub key: String,
    pub old: Option<u64>,
    pub new: Option<u64>,
}

impl MemberDiff {
    pub fn new(key: impl Into<String>, old: Option<u64>, new: Option<u64>) -> Self {
        MemberDiff { key: key.into(), old, new }
    }
}

/// The body of `{"member_changed_hook":{"diffs":[...]}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberChangedHookMsg {
    pub diffs: Vec<MemberDiff>,
}

/// The execute message a hook contract receives (hook contracts put this variant in their
/// own ExecuteMsg).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MemberChangedExecuteMsg {
    MemberChangedHook(MemberChangedHookMsg),
}

impl MemberChangedHookMsg {
    pub fn new(diffs: Vec<MemberDiff>) -> Self {
        MemberChangedHookMsg { diffs }
    }

    pub fn one(diff: MemberDiff) -> Self {
        MemberChangedHookMsg { diffs: vec![diff] }
    }

    /// The JSON a hook receives: `{"member_changed_hook":{"diffs":[...]}}`.
    pub fn into_json_binary(self) -> StdResult<conclave_sdk::Binary> {
        to_json_binary(&MemberChangedExecuteMsg::MemberChangedHook(self))
    }

    /// A fire-and-forget call of `contract_addr` (reply never): if the hook fails, the
    /// whole transaction that changed the members fails.
    pub fn into_submsg(self, contract_addr: impl Into<String>) -> StdResult<SubMsg> {
        let msg = WasmMsg::Execute {
            contract_addr: contract_addr.into(),
            msg: self.into_json_binary()?,
            funds: vec![],
        };
        Ok(SubMsg::new(msg))
    }
}

/// Defines a query enum holding the tg4 queries (first, in this order) followed by the
/// variants given, plus `into_tg4(self) -> Result<Tg4QueryMsg, Self>` that splits a query
/// into the tg4 part (answered by [`store::Tg4Store::query`]) and the contract's own. The
/// JSON is snake_case, externally tagged, with unknown fields refused.
#[macro_export]
macro_rules! tg4_query_msg {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        $vis enum $name {
            /// tg4 -> AdminResponse
            Admin {},
            /// tg4 -> TotalPointsResponse
            TotalPoints {
                #[serde(default)]
                at_height: Option<u64>,
            },
            /// tg4 -> MemberListResponse, in address order.
            ListMembers {
                #[serde(default)]
                start_after: Option<String>,
                #[serde(default)]
                limit: Option<u32>,
            },
            /// tg4 -> MemberListResponse, by points descending then address.
            ListMembersByPoints {
                #[serde(default)]
                start_after: Option<$crate::Member>,
                #[serde(default)]
                limit: Option<u32>,
            },
            /// tg4 -> MemberResponse
            Member {
                addr: String,
                #[serde(default)]
                at_height: Option<u64>,
            },
            /// tg4 -> HooksResponse
            Hooks {},
            $($extra)*
        }

        impl $name {
            /// The tg4 query this is, or itself when it is one of the contract's own.
            #[allow(unreachable_patterns)]
            pub fn into_tg4(self) -> Result<$crate::Tg4QueryMsg, Self> {
                use $crate::Tg4QueryMsg as Q;
                Ok(match self {
                    $name::Admin {} => Q::Admin {},
                    $name::TotalPoints { at_height } => Q::TotalPoints { at_height },
                    $name::ListMembers { start_after, limit } => Q::ListMembers { start_after, limit },
                    $name::ListMembersByPoints { start_after, limit } => Q::ListMembersByPoints { start_after, limit },
                    $name::Member { addr, at_height } => Q::Member { addr, at_height },
                    $name::Hooks {} => Q::Hooks {},
                    other => return Err(other),
                })
            }
        }
    };
}

tg4_query_msg! {
    /// The queries every tg4 contract answers.
    pub enum Tg4QueryMsg {}
}

impl Tg4QueryMsg {
    /// The address a query names, if any: member's `addr`, list_members' `start_after`,
    /// list_members_by_points' `start_after.addr` (for the contract's own address checks).
    pub fn addr(&self) -> Option<&str> {
        match self {
            Tg4QueryMsg::Member { addr, .. } => Some(addr),
            Tg4QueryMsg::ListMembers { start_after, .. } => start_after.as_deref(),
            Tg4QueryMsg::ListMembersByPoints { start_after, .. } => start_after.as_ref().map(|m| m.addr.as_str()),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AdminResponse {
    pub admin: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TotalPointsResponse {
    pub points: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberListResponse {
    pub members: Vec<Member>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberResponse {
    pub points: Option<u64>,
    pub start_height: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HooksResponse {
    pub hooks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::{from_json, to_json_string, CosmosMsg, ReplyOn};

    #[test]
    fn hook_message_json() {
        let msg = MemberChangedHookMsg::new(vec![
            MemberDiff::new("a", None, Some(3)),
            MemberDiff::new("b", Some(2), None),
        ]);
        let bin = msg.clone().into_json_binary().unwrap();
        assert_eq!(
            std::str::from_utf8(bin.as_slice()).unwrap(),
            r#"{"member_changed_hook":{"diffs":[{"key":"a","old":null,"new":3},{"key":"b","old":2,"new":null}]}}"#
        );
        let parsed: MemberChangedExecuteMsg = from_json(bin.as_slice()).unwrap();
        assert_eq!(parsed, MemberChangedExecuteMsg::MemberChangedHook(msg.clone()));
        let sub = msg.into_submsg("hook").unwrap();
        assert_eq!(sub.reply_on, ReplyOn::Never);
        match sub.msg {
            CosmosMsg::Wasm(WasmMsg::Execute { contract_addr, msg, funds }) => {
                assert_eq!(contract_addr, "hook");
                assert_eq!(msg, bin);
                assert!(funds.is_empty());
            }
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn query_json() {
        let q: Tg4QueryMsg = from_json(br#"{"member":{"addr":"a"}}"#).unwrap();
        assert_eq!(q, Tg4QueryMsg::Member { addr: "a".into(), at_height: None });
        let q: Tg4QueryMsg =
            from_json(br#"{"list_members_by_points":{"start_after":{"addr":"a","points":3},"limit":2}}"#).unwrap();
        assert_eq!(
            q,
            Tg4QueryMsg::ListMembersByPoints { start_after: Some(Member::new("a", 3)), limit: Some(2) }
        );
        assert_eq!(
            to_json_string(&Tg4QueryMsg::TotalPoints { at_height: Some(4) }).unwrap(),
            r#"{"total_points":{"at_height":4}}"#
        );
        assert!(from_json::<Tg4QueryMsg>(br#"{"admin":{"x":1}}"#).is_err());
        assert_eq!(
            to_json_string(&MemberResponse { points: Some(1), start_height: None }).unwrap(),
            r#"{"points":1,"start_height":null}"#
        );
        assert_eq!(to_json_string(&Member::new("a", 1)).unwrap(), r#"{"addr":"a","points":1,"start_height":null}"#);
    }
}
