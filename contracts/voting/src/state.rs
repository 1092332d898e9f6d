//! Storage layout, the proposal record and its tally. Values are JSON; ids in keys are
//! 8-byte big-endian so they sort.
//!
//! | key                              | value                                         |
//! |----------------------------------|-----------------------------------------------|
//! | `config`                         | `Config`: rules, electorate, admins group, proposers |
//! | `proposal_count`                 | the last proposal id given (0 = none yet)     |
//! | `proposal:<id BE8>`              | `Proposal`                                    |
//! | `ballot:<id BE8><voter>`         | `Ballot` `{"points":n,"vote":"yes"}`          |
//! | `contract_info`                  | `{"contract":"voting","version":"0.1.0"}`     |
//!
//! The tally follows cw3's ThresholdQuorum in integer billionths; see `Proposal::current_status`.

use conclave_sdk::{from_json, to_json_vec, Addr, CosmosMsg, Order, StdResult, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::msg::{Decimal, Proposers, Vote, VotingRules, PRECISION};

pub const CONFIG: &[u8] = b"config";
pub const PROPOSAL_COUNT: &[u8] = b"proposal_count";
pub const CONTRACT_INFO: &[u8] = b"contract_info";
const PROPOSAL_PREFIX: &[u8] = b"proposal:";
const BALLOT_PREFIX: &[u8] = b"ballot:";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub rules: VotingRules,
    pub electorate: Addr,
    pub admins_group: Option<Addr>,
    pub proposers: Proposers,
}

/// The code name and version, written at instantiate and migrate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}

/// Where a proposal stands. Stored: open, executed, and the closed states rejected and
/// expired; passed (and rejected/expired before close) is computed from votes and time.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Voting is going on.
    Open,
    /// Passed: waiting for `execute`.
    Passed,
    /// It cannot pass (decided early, or quorum reached at expiry without the threshold).
    Rejected,
    /// The messages were dispatched.
    Executed,
    /// The voting period ended without reaching quorum.
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Passed => "passed",
            Status::Rejected => "rejected",
            Status::Executed => "executed",
            Status::Expired => "expired",
        }
    }
}

/// Points cast per option.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Votes {
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub veto: u64,
}

impl Votes {
    /// All points cast, abstentions included (what quorum counts).
    pub fn total(&self) -> u64 {
        self.yes.saturating_add(self.no).saturating_add(self.abstain).saturating_add(self.veto)
    }

    pub fn add(&mut self, vote: Vote, points: u64) {
        let slot = match vote {
            Vote::Yes => &mut self.yes,
            Vote::No => &mut self.no,
            Vote::Abstain => &mut self.abstain,
            Vote::Veto => &mut self.veto,
        };
        *slot = slot.saturating_add(points);
    }
}

/// One voter's ballot: the points it carried (the voter's points at the creation height).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub points: u64,
    pub vote: Vote,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub id: u64,
    pub title: String,
    pub description: String,
    pub msgs: Vec<CosmosMsg>,
    pub status: Status,
    pub proposer: String,
    /// Votes weigh the voters' points as of the start of this height.
    pub created_height: u64,
    /// Block time (seconds) from which voting is over.
    pub expires_at: u64,
    pub rules: VotingRules,
    /// The electorate's total points as of the start of `created_height`.
    pub total_points: u64,
    pub votes: Votes,
}

/// The points needed to reach `ratio` of `points`, rounded up: ceil(points * ratio) computed
/// as (points * billionths + 1e9 - 1) / 1e9 in u128 (cw3's votes_needed).
pub fn votes_needed(points: u64, ratio: Decimal) -> u64 {
    let precision = u128::from(PRECISION);
    let scaled = u128::from(points) * u128::from(ratio.0);
    ((scaled + precision - 1) / precision) as u64
}

impl Proposal {
    pub fn is_expired(&self, now_seconds: u64) -> bool {
        now_seconds >= self.expires_at
    }

    /// votes (abstentions included) >= ceil(quorum * total_points).
    pub fn quorum_reached(&self) -> bool {
        self.votes.total() >= votes_needed(self.total_points, self.rules.quorum)
    }

    /// Passed while voting runs: yes >= ceil(threshold * (total - abstain)), i.e. even if
    /// every outstanding point voted no; quorum reached; at least one yes point.
    fn passes_early(&self) -> bool {
        let base = self.total_points.saturating_sub(self.votes.abstain);
        self.quorum_reached() && self.votes.yes > 0 && self.votes.yes >= votes_needed(base, self.rules.threshold)
    }

    /// Passed at expiry: quorum reached and yes >= ceil(threshold * (votes - abstain)), with
    /// at least one yes point.
    fn passes_at_expiry(&self) -> bool {
        let base = self.votes.total().saturating_sub(self.votes.abstain);
        self.quorum_reached() && self.votes.yes > 0 && self.votes.yes >= votes_needed(base, self.rules.threshold)
    }

    /// Cannot pass any more: even if every outstanding point voted yes,
    /// yes + outstanding < max(1, ceil(threshold * (total - abstain))). Final once true
    /// (outstanding points voting abstain or not at all only make passing harder).
    fn cannot_pass(&self) -> bool {
        let outstanding = self.total_points.saturating_sub(self.votes.total());
        let base = self.total_points.saturating_sub(self.votes.abstain);
        let needed = votes_needed(base, self.rules.threshold).max(1);
        self.votes.yes.saturating_add(outstanding) < needed
    }

    /// The status as of block time `now_seconds`. Stored states other than open are final;
    /// an open proposal
    /// - before expiry, with allow_end_early: passed when `passes_early`, rejected when
    ///   `cannot_pass`, else open; without allow_end_early: open;
    /// - at or after expiry: passed when `passes_at_expiry`, else rejected when quorum was
    ///   reached or it `cannot_pass`, else expired.
    pub fn current_status(&self, now_seconds: u64) -> Status {
        if self.status != Status::Open {
            return self.status;
        }
        if self.is_expired(now_seconds) {
            if self.passes_at_expiry() {
                Status::Passed
            } else if self.quorum_reached() || self.cannot_pass() {
                Status::Rejected
            } else {
                Status::Expired
            }
        } else if self.rules.allow_end_early {
            if self.passes_early() {
                Status::Passed
            } else if self.cannot_pass() {
                Status::Rejected
            } else {
                Status::Open
            }
        } else {
            Status::Open
        }
    }
}

// --- storage helpers ---------------------------------------------------------------------

pub fn may_load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<T>> {
    match storage.get(key) {
        Some(bytes) => from_json(&bytes).map(Some),
        None => Ok(None),
    }
}

pub fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

/// The first key after every key starting with `prefix` (prefix ends in ':', so ';').
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    end
}

pub fn load_config(storage: &dyn Storage) -> StdResult<Config> {
    may_load(storage, CONFIG)?.ok_or_else(|| conclave_sdk::StdError::not_found("config"))
}

pub fn save_config(storage: &mut dyn Storage, config: &Config) -> StdResult<()> {
    save(storage, CONFIG, config)
}

/// Hands out the next proposal id (1, 2, ...).
pub fn next_proposal_id(storage: &mut dyn Storage) -> StdResult<u64> {
    let id = may_load::<u64>(storage, PROPOSAL_COUNT)?.unwrap_or(0) + 1;
    save(storage, PROPOSAL_COUNT, &id)?;
    Ok(id)
}

fn proposal_key(id: u64) -> Vec<u8> {
    [PROPOSAL_PREFIX, &id.to_be_bytes()].concat()
}

pub fn load_proposal(storage: &dyn Storage, id: u64) -> StdResult<Option<Proposal>> {
    may_load(storage, &proposal_key(id))
}

pub fn save_proposal(storage: &mut dyn Storage, proposal: &Proposal) -> StdResult<()> {
    save(storage, &proposal_key(proposal.id), proposal)
}

/// Up to `limit` proposals: ascending ids after `after`, or descending ids before `before`.
pub fn proposals_page(storage: &dyn Storage, after: Option<u64>, before: Option<u64>, order: Order, limit: usize)
    -> StdResult<Vec<Proposal>> {
    let start = match after {
        Some(id) => match id.checked_add(1) {
            Some(next) => proposal_key(next),
            None => return Ok(vec![]),
        },
        None => PROPOSAL_PREFIX.to_vec(),
    };
    let end = match before {
        Some(id) => proposal_key(id),
        None => prefix_end(PROPOSAL_PREFIX),
    };
    storage
        .range_values(Some(&start), Some(&end), order)
        .take(limit)
        .map(|value| from_json(&value))
        .collect()
}

fn ballot_key(id: u64, voter: &str) -> Vec<u8> {
    [BALLOT_PREFIX, &id.to_be_bytes(), voter.as_bytes()].concat()
}

pub fn load_ballot(storage: &dyn Storage, id: u64, voter: &str) -> StdResult<Option<Ballot>> {
    may_load(storage, &ballot_key(id, voter))
}

pub fn save_ballot(storage: &mut dyn Storage, id: u64, voter: &str, ballot: &Ballot) -> StdResult<()> {
    save(storage, &ballot_key(id, voter), ballot)
}

/// Up to `limit` ballots of proposal `id` after voter `start_after`, in address order.
pub fn ballots_page(storage: &dyn Storage, id: u64, start_after: Option<&str>, limit: usize)
    -> StdResult<Vec<(String, Ballot)>> {
    let prefix = ballot_key(id, "");
    let start = match start_after {
        Some(voter) => {
            let mut key = ballot_key(id, voter);
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let end = match id.checked_add(1) {
        Some(next) => ballot_key(next, ""),
        None => prefix_end(BALLOT_PREFIX),
    };
    storage
        .range(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|(key, value)| {
            let voter = String::from_utf8(key[prefix.len()..].to_vec())?;
            Ok((voter, from_json(&value)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn proposal(total: u64, quorum: &str, threshold: &str, early: bool, votes: (u64, u64, u64, u64)) -> Proposal {
        Proposal {
            id: 1,
            title: "t".into(),
            description: String::new(),
            msgs: vec![],
            status: Status::Open,
            proposer: "p".into(),
            created_height: 1,
            expires_at: 1000,
            rules: VotingRules { voting_period: 100, quorum: ratio(quorum), threshold: ratio(threshold), allow_end_early: early },
            total_points: total,
            votes: Votes { yes: votes.0, no: votes.1, abstain: votes.2, veto: votes.3 },
        }
    }

    const BEFORE: u64 = 999;
    const AFTER: u64 = 1000;

    #[test]
    fn votes_needed_rounds_up_in_billionths() {
        assert_eq!(votes_needed(3, ratio("0.51")), 2);
        assert_eq!(votes_needed(3, ratio("0.333")), 1);
        assert_eq!(votes_needed(3, ratio("0.334")), 2);
        assert_eq!(votes_needed(30, ratio("0.334")), 11);
        assert_eq!(votes_needed(420, ratio("0.999")), 420);
        assert_eq!(votes_needed(100, ratio("0.3")), 30);
        assert_eq!(votes_needed(15, ratio("0.5")), 8);
        assert_eq!(votes_needed(34, ratio("0.5")), 17);
        assert_eq!(votes_needed(48, ratio("0.25")), 12);
        assert_eq!(votes_needed(1, ratio("0.000000001")), 1);
        assert_eq!(votes_needed(0, ratio("0.51")), 0);
        for x in [0, 1, 2, 3, 17, 2020, 7_697_987, u64::MAX] {
            assert_eq!(votes_needed(x, Decimal(0)), 0);
            assert_eq!(votes_needed(x, Decimal::ONE), x);
            assert_eq!(votes_needed(x, ratio("0.5")), x / 2 + x % 2);
        }
    }

    #[test]
    fn quorum_boundary() {
        // total 100, quorum 0.3: 30 points voting (abstain included) reach it, 29 do not.
        assert!(proposal(100, "0.3", "0.5", false, (10, 10, 10, 0)).quorum_reached());
        assert!(!proposal(100, "0.3", "0.5", false, (10, 10, 9, 0)).quorum_reached());
        assert!(proposal(100, "0.3", "0.5", false, (0, 0, 30, 0)).quorum_reached());
        // 29 yes of 29 votes would pass the threshold, but quorum is missing: expired.
        assert_eq!(proposal(100, "0.3", "0.5", false, (29, 0, 0, 0)).current_status(AFTER), Status::Expired);
        assert_eq!(proposal(100, "0.3", "0.5", false, (30, 0, 0, 0)).current_status(AFTER), Status::Passed);
    }

    #[test]
    fn threshold_at_expiry_excludes_abstain() {
        // 40 votes >= quorum 30; base = 40 - 20 abstain = 20; yes needs ceil(0.5 * 20) = 10.
        assert_eq!(proposal(100, "0.3", "0.5", false, (10, 10, 20, 0)).current_status(AFTER), Status::Passed);
        // base 21, needs 11: rejected (quorum was reached).
        assert_eq!(proposal(100, "0.3", "0.5", false, (10, 11, 20, 0)).current_status(AFTER), Status::Rejected);
        // veto counts as no.
        assert_eq!(proposal(100, "0.3", "0.5", false, (10, 5, 20, 6)).current_status(AFTER), Status::Rejected);
        // total 3, threshold 0.51: 2 yes of 3 votes pass, 1 yes of 2 (1 no) does not.
        assert_eq!(proposal(3, "0.3", "0.51", false, (2, 1, 0, 0)).current_status(AFTER), Status::Passed);
        assert_eq!(proposal(3, "0.3", "0.51", false, (1, 1, 0, 0)).current_status(AFTER), Status::Rejected);
        // 1 yes of 1 vote (quorum ceil(0.3 * 3) = 1) passes at expiry.
        assert_eq!(proposal(3, "0.3", "0.51", false, (1, 0, 0, 0)).current_status(AFTER), Status::Passed);
        // Abstentions alone never pass a proposal.
        assert_eq!(proposal(3, "0.3", "0.51", false, (0, 0, 3, 0)).current_status(AFTER), Status::Rejected);
        // Nobody voted.
        assert_eq!(proposal(3, "0.3", "0.51", false, (0, 0, 0, 0)).current_status(AFTER), Status::Expired);
    }

    #[test]
    fn early_end() {
        // total 3, threshold 0.51 needs 2 yes even if the last point votes no.
        assert_eq!(proposal(3, "0.3", "0.51", true, (2, 0, 0, 0)).current_status(BEFORE), Status::Passed);
        assert_eq!(proposal(3, "0.3", "0.51", true, (1, 0, 0, 0)).current_status(BEFORE), Status::Open);
        assert_eq!(proposal(3, "0.3", "0.51", true, (1, 1, 0, 0)).current_status(BEFORE), Status::Open);
        // 1 yes + 0 outstanding < 2: cannot pass any more.
        assert_eq!(proposal(3, "0.3", "0.51", true, (1, 2, 0, 0)).current_status(BEFORE), Status::Rejected);
        assert_eq!(proposal(3, "0.3", "0.51", true, (0, 1, 0, 1)).current_status(BEFORE), Status::Rejected);
        // Without allow_end_early the same votes wait for expiry.
        assert_eq!(proposal(3, "0.3", "0.51", false, (2, 0, 0, 0)).current_status(BEFORE), Status::Open);
        assert_eq!(proposal(3, "0.3", "0.51", false, (0, 3, 0, 0)).current_status(BEFORE), Status::Open);
        // Abstentions shrink the base: total 10, 4 abstain, needs ceil(0.5 * 6) = 3 yes.
        assert_eq!(proposal(10, "0.3", "0.5", true, (3, 0, 4, 0)).current_status(BEFORE), Status::Passed);
        assert_eq!(proposal(10, "0.3", "0.5", true, (2, 0, 4, 0)).current_status(BEFORE), Status::Open);
        // The threshold is met early but quorum (1.0) is not: stays open.
        assert_eq!(proposal(10, "1", "0.5", true, (5, 0, 0, 0)).current_status(BEFORE), Status::Open);
        // total 10, threshold 0.5: 6 no leave 4 possible yes < 5 needed.
        assert_eq!(proposal(10, "0.3", "0.5", true, (0, 6, 0, 0)).current_status(BEFORE), Status::Rejected);
        assert_eq!(proposal(10, "0.3", "0.5", true, (0, 5, 0, 0)).current_status(BEFORE), Status::Open);
        // An early rejection stays rejected at expiry even without quorum (0.9 of 100).
        let rejected = proposal(100, "0.9", "0.5", true, (0, 51, 0, 0));
        assert_eq!(rejected.current_status(BEFORE), Status::Rejected);
        assert_eq!(rejected.current_status(AFTER), Status::Rejected);
        // An empty electorate can pass nothing.
        assert_eq!(proposal(0, "0.3", "0.5", true, (0, 0, 0, 0)).current_status(BEFORE), Status::Rejected);
        assert_eq!(proposal(0, "0.3", "0.5", false, (0, 0, 0, 0)).current_status(AFTER), Status::Rejected);
    }

    #[test]
    fn stored_final_status_wins() {
        let mut p = proposal(3, "0.3", "0.51", true, (3, 0, 0, 0));
        p.status = Status::Executed;
        assert_eq!(p.current_status(BEFORE), Status::Executed);
        p.status = Status::Expired;
        assert_eq!(p.current_status(AFTER), Status::Expired);
    }

    #[test]
    fn early_decisions_hold_at_expiry() {
        // Exhaustive over a small electorate: a status decided early never changes.
        for total in 0..7u64 {
            for threshold in ["0.5", "0.51", "0.66", "1"] {
                for yes in 0..=total {
                    for no in 0..=total - yes {
                        for abstain in 0..=total - yes - no {
                            let p = proposal(total, "0.3", threshold, true, (yes, no, abstain, 0));
                            let early = p.current_status(BEFORE);
                            if early != Status::Open {
                                assert_eq!(early, p.current_status(AFTER), "{} {} {:?}", total, threshold, p.votes);
                            }
                        }
                    }
                }
            }
        }
    }
}
