//! The voting contract's messages: its public face (JSON examples in the README, schemas in
//! schema/). Ratios travel as decimal strings ("0.51") and are held as integer billionths.

use std::fmt;

use conclave_sdk::CosmosMsg;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::state::{Proposal, Status};

/// Billionths in one: the precision of every ratio (as cw3's Decimal rounding).
pub const PRECISION: u64 = 1_000_000_000;

/// A non-negative ratio with at most 9 decimal places, e.g. "0.51", held as billionths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal(pub u64);

impl Decimal {
    pub const ONE: Decimal = Decimal(PRECISION);

    /// Parses `digits[.digits]` with 1..=9 fractional digits and an integer part of at most
    /// 9 digits; anything else (signs, exponents, spaces, ".5", "1.") is refused.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (whole, fraction) = match text.find('.') {
            Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
            None => (text, None),
        };
        if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut value = whole.parse::<u64>().ok()? * PRECISION;
        if let Some(fraction) = fraction {
            if fraction.is_empty() || fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut scale = PRECISION / 10;
            for digit in fraction.bytes() {
                value += u64::from(digit - b'0') * scale;
                scale /= 10;
            }
        }
        Some(Decimal(value))
    }
}

impl fmt::Display for Decimal {
    /// Canonical form: no trailing zeros, no dot for whole numbers ("0.3", "1").
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let whole = self.0 / PRECISION;
        let mut fraction = self.0 % PRECISION;
        if fraction == 0 {
            return write!(f, "{}", whole);
        }
        let mut digits = 9;
        while fraction % 10 == 0 {
            fraction /= 10;
            digits -= 1;
        }
        write!(f, "{}.{:0width$}", whole, fraction, width = digits)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::parse(&text).ok_or_else(|| {
            de::Error::custom(format!("invalid decimal '{}': expected digits with at most 9 decimal places", text))
        })
    }
}

/// How proposals are decided (copied into every proposal when it is created).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VotingRules {
    /// Seconds from creation until voting ends.
    pub voting_period: u64,
    /// Share of the electorate's total points that must vote (any option), in (0, 1].
    pub quorum: Decimal,
    /// Share of yes among yes + no + veto needed to pass, in [0.5, 1].
    pub threshold: Decimal,
    /// Decide as soon as the outcome cannot change any more.
    pub allow_end_early: bool,
}

/// Who may open proposals.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Proposers {
    /// Members of the electorate with points > 0.
    Members,
    /// Any account.
    Anyone,
}

impl Default for Proposers {
    fn default() -> Self {
        Proposers::Members
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub rules: VotingRules,
    /// The tg4 contract whose members vote, with their points as weights.
    pub electorate: String,
    /// The tg4 group whose members may propose code (store_code, migrate_contract, pin_code);
    /// none = code proposals are refused.
    #[serde(default)]
    pub admins_group: Option<String>,
    #[serde(default)]
    pub proposers: Proposers,
}

/// A ballot option. Veto counts as no.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Yes,
    No,
    Abstain,
    Veto,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Opens a proposal; the proposer's own points at the creation height vote yes.
    Propose {
        title: String,
        description: String,
        #[serde(default)]
        msgs: Vec<CosmosMsg>,
    },
    /// One vote per voter while the proposal is open and not expired.
    Vote { proposal_id: u64, vote: Vote },
    /// Anyone, once passed: dispatches the messages (a failure fails the execution).
    Execute { proposal_id: u64 },
    /// Anyone: finalises a rejected or expired proposal.
    Close { proposal_id: u64 },
    /// Only the contract itself (a passed proposal): changes the rules of future proposals;
    /// omitted fields keep their value.
    UpdateRules {
        #[serde(default)]
        voting_period: Option<u64>,
        #[serde(default)]
        quorum: Option<Decimal>,
        #[serde(default)]
        threshold: Option<Decimal>,
        #[serde(default)]
        allow_end_early: Option<bool>,
    },
}

/// The chain's privilege notice (`{"promoted":{}}` / `{"demoted":{}}`): one type, in the SDK.
pub use conclave_sdk::chain::PrivilegeChange;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SudoMsg {
    /// The chain opens a proposal for `proposer` (code proposals); same checks as propose.
    ProposeOnBehalf {
        proposer: String,
        title: String,
        description: String,
        #[serde(default)]
        msgs: Vec<CosmosMsg>,
    },
    /// Accepted and ignored: the contract needs no set-up when privileged.
    PrivilegeChange(PrivilegeChange),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// -> Proposal
    Proposal { proposal_id: u64 },
    /// -> ProposalListResponse, ascending ids after start_after.
    ListProposals {
        #[serde(default)]
        start_after: Option<u64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// -> ProposalListResponse, descending ids before start_before.
    ReverseProposals {
        #[serde(default)]
        start_before: Option<u64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// -> VoteResponse
    Vote { proposal_id: u64, voter: String },
    /// -> VoteListResponse, in voter address order.
    ListVotes {
        proposal_id: u64,
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// -> VoterResponse: the address's points in the electorate now.
    Voter { address: String },
    /// -> VotingRules
    Rules {},
    /// -> TallyResponse
    Tally { proposal_id: u64 },
    /// -> ConfigResponse
    Config {},
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProposalListResponse {
    pub proposals: Vec<Proposal>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VoteInfo {
    pub proposal_id: u64,
    pub voter: String,
    pub vote: Vote,
    pub points: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VoteResponse {
    pub vote: Option<VoteInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VoteListResponse {
    pub votes: Vec<VoteInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VoterResponse {
    pub points: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TallyResponse {
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub veto: u64,
    /// The electorate's total points at the proposal's creation.
    pub total: u64,
    pub quorum_reached: bool,
    pub status: Status,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigResponse {
    pub electorate: String,
    pub admins_group: Option<String>,
    pub proposers: Proposers,
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::{from_json, to_json_string};

    #[test]
    fn decimals_parse_into_billionths() {
        for (text, billionths) in [
            ("0.51", 510_000_000),
            ("0.3", 300_000_000),
            ("1", 1_000_000_000),
            ("1.0", 1_000_000_000),
            ("0", 0),
            ("0.000000001", 1),
            ("0.999999999", 999_999_999),
            ("2.5", 2_500_000_000),
        ] {
            assert_eq!(Decimal::parse(text), Some(Decimal(billionths)), "{}", text);
        }
        for text in ["", ".5", "1.", "0.1234567891", "-0.1", "+0.1", "1e-3", " 0.5", "0,5", "0.5 ", "1234567890", "0x1"] {
            assert_eq!(Decimal::parse(text), None, "{:?}", text);
        }
    }

    #[test]
    fn decimals_print_canonically() {
        for (billionths, text) in
            [(300_000_000, "0.3"), (1_000_000_000, "1"), (1, "0.000000001"), (510_000_000, "0.51"), (0, "0"), (1_500_000_000, "1.5")]
        {
            assert_eq!(Decimal(billionths).to_string(), text);
        }
        let rules: VotingRules = from_json(
            br#"{"voting_period":10,"quorum":"0.30","threshold":"0.51","allow_end_early":true}"#,
        )
        .unwrap();
        assert_eq!(rules.quorum, Decimal(300_000_000));
        assert_eq!(
            to_json_string(&rules).unwrap(),
            r#"{"voting_period":10,"quorum":"0.3","threshold":"0.51","allow_end_early":true}"#
        );
        let err = from_json::<VotingRules>(br#"{"voting_period":10,"quorum":0.3,"threshold":"0.51","allow_end_early":true}"#)
            .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{}", err);
        let err = from_json::<VotingRules>(br#"{"voting_period":10,"quorum":"1e-1","threshold":"0.51","allow_end_early":true}"#)
            .unwrap_err();
        assert!(err.to_string().contains("invalid decimal '1e-1'"), "{}", err);
    }

    #[test]
    fn messages_refuse_unknown_fields_and_variants() {
        assert!(from_json::<ExecuteMsg>(br#"{"vote":{"proposal_id":1,"vote":"yes","x":1}}"#).is_err());
        assert!(from_json::<ExecuteMsg>(br#"{"vote":{"proposal_id":1,"vote":"maybe"}}"#).is_err());
        assert!(from_json::<ExecuteMsg>(br#"{"frobnicate":{}}"#).is_err());
        let msg: ExecuteMsg = from_json(br#"{"propose":{"title":"t","description":"d"}}"#).unwrap();
        assert_eq!(msg, ExecuteMsg::Propose { title: "t".into(), description: "d".into(), msgs: vec![] });
        let msg: SudoMsg = from_json(br#"{"privilege_change":{"promoted":{}}}"#).unwrap();
        assert_eq!(msg, SudoMsg::PrivilegeChange(PrivilegeChange::Promoted {}));
        let msg: InstantiateMsg = from_json(
            br#"{"rules":{"voting_period":1,"quorum":"0.3","threshold":"0.5","allow_end_early":false},"electorate":"e"}"#,
        )
        .unwrap();
        assert_eq!(msg.proposers, Proposers::Members);
        assert_eq!(msg.admins_group, None);
    }
}
