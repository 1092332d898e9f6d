//! Entry points of the voting contract, one small function per message.

use conclave_sdk::{
    to_json_binary, Addr, Binary, CosmosMsg, Deps, DepsMut, Env, MessageInfo, Order, Response, StdError,
    StdResult, SubMsg,
};
use tg4::{MemberResponse, Tg4QueryMsg, TotalPointsResponse};

use crate::error::ContractError;
use crate::msg::{
    ConfigResponse, Decimal, ExecuteMsg, InstantiateMsg, MigrateMsg, ProposalListResponse, QueryMsg, Proposers,
    SudoMsg, TallyResponse, Vote, VoteInfo, VoteListResponse, VoteResponse, VoterResponse, VotingRules,
};
use crate::state::{self, Ballot, Config, ContractVersion, Proposal, Status, Votes};

pub const CONTRACT_NAME: &str = env!("CARGO_PKG_NAME");
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Page sizes of list_proposals, reverse_proposals and list_votes.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 30;
/// Bytes of a proposal title (which must not be empty) and description.
pub const MAX_TITLE_LEN: usize = 256;
pub const MAX_DESCRIPTION_LEN: usize = 16_384;
/// Messages one proposal may carry.
pub const MAX_MSGS: usize = 32;
/// The longest voting period: one year.
pub const MAX_VOTING_PERIOD: u64 = 365 * 24 * 60 * 60;
/// Custom messages that only members of the admins group may propose.
pub const CODE_MESSAGES: [&str; 3] = ["store_code", "migrate_contract", "pin_code"];

pub fn instantiate(deps: DepsMut, _env: Env, _info: MessageInfo, msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    validate_rules(&msg.rules)?;
    let electorate = deps.api.addr_validate(&msg.electorate)?;
    ensure_tg4(deps.as_ref(), &electorate, "electorate")?;
    let admins_group = match msg.admins_group {
        Some(group) => {
            let group = deps.api.addr_validate(&group)?;
            ensure_tg4(deps.as_ref(), &group, "admins_group")?;
            Some(group)
        }
        None => None,
    };
    let config = Config { rules: msg.rules, electorate, admins_group, proposers: msg.proposers };
    state::save_config(deps.storage, &config)?;
    record_version(deps.storage)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("electorate", config.electorate.into_string()))
}

/// quorum in (0, 1], threshold in [0.5, 1], 0 < voting_period <= one year.
pub fn validate_rules(rules: &VotingRules) -> Result<(), ContractError> {
    if rules.voting_period == 0 || rules.voting_period > MAX_VOTING_PERIOD {
        return Err(ContractError::InvalidRules("voting_period must be between 1 and 31536000 seconds"));
    }
    if rules.quorum.0 == 0 || rules.quorum > Decimal::ONE {
        return Err(ContractError::InvalidRules("quorum must be greater than 0 and at most 1"));
    }
    if rules.threshold < Decimal(Decimal::ONE.0 / 2) || rules.threshold > Decimal::ONE {
        return Err(ContractError::InvalidRules("threshold must be between 0.5 and 1"));
    }
    Ok(())
}

/// Fails unless `addr` answers the tg4 total_points query.
fn ensure_tg4(deps: Deps, addr: &Addr, role: &str) -> Result<(), ContractError> {
    total_points(deps, addr, None).map(|_| ()).map_err(|err| {
        ContractError::Std(StdError::generic_err(format!("{} {} is not a tg4 contract: {}", role, addr.as_str(), err)))
    })
}

fn total_points(deps: Deps, group: &Addr, at_height: Option<u64>) -> StdResult<u64> {
    let answer: TotalPointsResponse =
        deps.querier.query_wasm_smart(group.as_str(), &Tg4QueryMsg::TotalPoints { at_height })?;
    Ok(answer.points)
}

/// A member's points in a tg4 group now (None) or as of the start of `at_height`.
fn member_points(deps: Deps, group: &Addr, addr: &str, at_height: Option<u64>) -> StdResult<Option<u64>> {
    let answer: MemberResponse =
        deps.querier.query_wasm_smart(group.as_str(), &Tg4QueryMsg::Member { addr: addr.to_string(), at_height })?;
    Ok(answer.points)
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Propose { title, description, msgs } => propose(deps, env, info.sender, title, description, msgs),
        ExecuteMsg::Vote { proposal_id, vote } => cast_vote(deps, env, info, proposal_id, vote),
        ExecuteMsg::Execute { proposal_id } => execute_proposal(deps, env, proposal_id),
        ExecuteMsg::Close { proposal_id } => close(deps, env, proposal_id),
        ExecuteMsg::UpdateRules { voting_period, quorum, threshold, allow_end_early } => {
            let mut rules = state::load_config(deps.storage)?.rules;
            rules.voting_period = voting_period.unwrap_or(rules.voting_period);
            rules.quorum = quorum.unwrap_or(rules.quorum);
            rules.threshold = threshold.unwrap_or(rules.threshold);
            rules.allow_end_early = allow_end_early.unwrap_or(rules.allow_end_early);
            update_rules(deps, env, info, rules)
        }
    }
}

/// True for a custom message whose one key is store_code, migrate_contract or pin_code.
fn is_code_message(msg: &CosmosMsg) -> bool {
    match msg {
        CosmosMsg::Custom(value) => match value.as_object() {
            Some(object) => object.keys().any(|key| CODE_MESSAGES.contains(&key.as_str())),
            None => false,
        },
        _ => false,
    }
}

/// Opens a proposal by `proposer` (the sender, or the chain's propose_on_behalf). The
/// proposer's points at this height (if any) count as a yes vote.
fn propose(deps: DepsMut, env: Env, proposer: Addr, title: String, description: String, msgs: Vec<CosmosMsg>)
    -> Result<Response, ContractError> {
    if title.trim().is_empty() {
        return Err(ContractError::EmptyTitle);
    }
    if title.len() > MAX_TITLE_LEN {
        return Err(ContractError::TooLong { field: "title", max: MAX_TITLE_LEN });
    }
    if description.len() > MAX_DESCRIPTION_LEN {
        return Err(ContractError::TooLong { field: "description", max: MAX_DESCRIPTION_LEN });
    }
    if msgs.len() > MAX_MSGS {
        return Err(ContractError::TooLong { field: "msgs", max: MAX_MSGS });
    }
    let config = state::load_config(deps.storage)?;
    if config.proposers == Proposers::Members {
        let points = member_points(deps.as_ref(), &config.electorate, proposer.as_str(), None)?;
        if points.unwrap_or(0) == 0 {
            return Err(ContractError::NotAMember);
        }
    }
    if msgs.iter().any(is_code_message) {
        let admins = config.admins_group.as_ref().ok_or(ContractError::NoAdminsGroup)?;
        if member_points(deps.as_ref(), admins, proposer.as_str(), None)?.is_none() {
            return Err(ContractError::NotAnAdmin);
        }
    }

    let height = env.block.height;
    let id = state::next_proposal_id(deps.storage)?;
    let mut proposal = Proposal {
        id,
        title,
        description,
        msgs,
        status: Status::Open,
        proposer: proposer.clone().into_string(),
        created_height: height,
        expires_at: env.block.time.seconds() + config.rules.voting_period,
        rules: config.rules,
        total_points: total_points(deps.as_ref(), &config.electorate, Some(height))?,
        votes: Votes::default(),
    };
    let proposer_points = member_points(deps.as_ref(), &config.electorate, proposer.as_str(), Some(height))?;
    if let Some(points) = proposer_points.filter(|p| *p > 0) {
        proposal.votes.add(Vote::Yes, points);
        state::save_ballot(deps.storage, id, proposer.as_str(), &Ballot { points, vote: Vote::Yes })?;
    }
    state::save_proposal(deps.storage, &proposal)?;
    let status = proposal.current_status(env.block.time.seconds());
    Ok(Response::new()
        .add_attribute("action", "propose")
        .add_attribute("sender", proposer.into_string())
        .add_attribute("proposal_id", id.to_string())
        .add_attribute("status", status.as_str()))
}

fn load_proposal(deps: Deps, proposal_id: u64) -> Result<Proposal, ContractError> {
    state::load_proposal(deps.storage, proposal_id)?.ok_or(ContractError::ProposalNotFound(proposal_id))
}

/// One vote per voter, weighted by the voter's points as of the proposal's creation.
fn cast_vote(deps: DepsMut, env: Env, info: MessageInfo, proposal_id: u64, vote: Vote)
    -> Result<Response, ContractError> {
    let mut proposal = load_proposal(deps.as_ref(), proposal_id)?;
    let now = env.block.time.seconds();
    if proposal.is_expired(now) && proposal.status == Status::Open {
        return Err(ContractError::VotingClosed { proposal_id });
    }
    let status = proposal.current_status(now);
    if status != Status::Open {
        return Err(ContractError::NotOpen { proposal_id, status });
    }
    let voter = info.sender;
    if state::load_ballot(deps.storage, proposal_id, voter.as_str())?.is_some() {
        return Err(ContractError::AlreadyVoted { proposal_id });
    }
    let config = state::load_config(deps.storage)?;
    let points = member_points(deps.as_ref(), &config.electorate, voter.as_str(), Some(proposal.created_height))?
        .unwrap_or(0);
    if points == 0 {
        return Err(ContractError::NoVotingPoints { proposal_id });
    }
    state::save_ballot(deps.storage, proposal_id, voter.as_str(), &Ballot { points, vote })?;
    proposal.votes.add(vote, points);
    state::save_proposal(deps.storage, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "vote")
        .add_attribute("sender", voter.into_string())
        .add_attribute("proposal_id", proposal_id.to_string())
        .add_attribute("points", points.to_string())
        .add_attribute("status", proposal.current_status(now).as_str()))
}

/// Marks a passed proposal executed and dispatches its messages (reply never: a failing
/// message fails the whole call, so the proposal stays passed).
fn execute_proposal(deps: DepsMut, env: Env, proposal_id: u64) -> Result<Response, ContractError> {
    let mut proposal = load_proposal(deps.as_ref(), proposal_id)?;
    let status = proposal.current_status(env.block.time.seconds());
    if status != Status::Passed {
        return Err(ContractError::NotPassed { proposal_id, status });
    }
    proposal.status = Status::Executed;
    state::save_proposal(deps.storage, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "execute")
        .add_attribute("proposal_id", proposal_id.to_string())
        .add_submessages(proposal.msgs.into_iter().map(SubMsg::new)))
}

/// Stores the final status of a rejected or expired proposal.
fn close(deps: DepsMut, env: Env, proposal_id: u64) -> Result<Response, ContractError> {
    let mut proposal = load_proposal(deps.as_ref(), proposal_id)?;
    if proposal.status == Status::Rejected || proposal.status == Status::Expired {
        return Err(ContractError::AlreadyClosed { proposal_id });
    }
    let status = proposal.current_status(env.block.time.seconds());
    if status != Status::Rejected && status != Status::Expired {
        return Err(ContractError::CannotClose { proposal_id, status });
    }
    proposal.status = status;
    state::save_proposal(deps.storage, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "close")
        .add_attribute("proposal_id", proposal_id.to_string())
        .add_attribute("status", status.as_str()))
}

/// Only the contract itself (a passed proposal executing): rules for future proposals.
fn update_rules(deps: DepsMut, env: Env, info: MessageInfo, rules: VotingRules) -> Result<Response, ContractError> {
    if info.sender != env.contract.address {
        return Err(ContractError::Unauthorized);
    }
    validate_rules(&rules)?;
    let mut config = state::load_config(deps.storage)?;
    config.rules = rules;
    state::save_config(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "update_rules")
        .add_attribute("voting_period", rules.voting_period.to_string())
        .add_attribute("quorum", rules.quorum.to_string())
        .add_attribute("threshold", rules.threshold.to_string()))
}

pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::ProposeOnBehalf { proposer, title, description, msgs } => {
            let proposer = deps.api.addr_validate(&proposer)?;
            propose(deps, env, proposer, title, description, msgs)
        }
        SudoMsg::PrivilegeChange(_) => Ok(Response::new().add_attribute("action", "privilege_change")),
    }
}

pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let now = env.block.time.seconds();
    let answer = match msg {
        QueryMsg::Proposal { proposal_id } => to_json_binary(&with_status(load_proposal(deps, proposal_id)?, now))?,
        QueryMsg::ListProposals { start_after, limit } => {
            let page = state::proposals_page(deps.storage, start_after, None, Order::Ascending, page_size(limit))?;
            to_json_binary(&proposal_list(page, now))?
        }
        QueryMsg::ReverseProposals { start_before, limit } => {
            let page = state::proposals_page(deps.storage, None, start_before, Order::Descending, page_size(limit))?;
            to_json_binary(&proposal_list(page, now))?
        }
        QueryMsg::Vote { proposal_id, voter } => {
            let voter = deps.api.addr_validate(&voter)?;
            let vote = state::load_ballot(deps.storage, proposal_id, voter.as_str())?
                .map(|ballot| vote_info(proposal_id, voter.into_string(), ballot));
            to_json_binary(&VoteResponse { vote })?
        }
        QueryMsg::ListVotes { proposal_id, start_after, limit } => {
            let page = state::ballots_page(deps.storage, proposal_id, start_after.as_deref(), page_size(limit))?;
            let votes = page.into_iter().map(|(voter, ballot)| vote_info(proposal_id, voter, ballot)).collect();
            to_json_binary(&VoteListResponse { votes })?
        }
        QueryMsg::Voter { address } => {
            let address = deps.api.addr_validate(&address)?;
            let config = state::load_config(deps.storage)?;
            let points = member_points(deps, &config.electorate, address.as_str(), None)?;
            to_json_binary(&VoterResponse { points })?
        }
        QueryMsg::Rules {} => to_json_binary(&state::load_config(deps.storage)?.rules)?,
        QueryMsg::Tally { proposal_id } => {
            let proposal = load_proposal(deps, proposal_id)?;
            to_json_binary(&TallyResponse {
                yes: proposal.votes.yes,
                no: proposal.votes.no,
                abstain: proposal.votes.abstain,
                veto: proposal.votes.veto,
                total: proposal.total_points,
                quorum_reached: proposal.quorum_reached(),
                status: proposal.current_status(now),
            })?
        }
        QueryMsg::Config {} => {
            let config = state::load_config(deps.storage)?;
            to_json_binary(&ConfigResponse {
                electorate: config.electorate.into_string(),
                admins_group: config.admins_group.map(Addr::into_string),
                proposers: config.proposers,
            })?
        }
    };
    Ok(answer)
}

fn page_size(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

fn with_status(mut proposal: Proposal, now: u64) -> Proposal {
    proposal.status = proposal.current_status(now);
    proposal
}

fn proposal_list(page: Vec<Proposal>, now: u64) -> ProposalListResponse {
    ProposalListResponse { proposals: page.into_iter().map(|p| with_status(p, now)).collect() }
}

fn vote_info(proposal_id: u64, voter: String, ballot: Ballot) -> VoteInfo {
    VoteInfo { proposal_id, voter, vote: ballot.vote, points: ballot.points }
}

fn record_version(storage: &mut dyn conclave_sdk::Storage) -> StdResult<()> {
    let version = ContractVersion { contract: CONTRACT_NAME.to_string(), version: CONTRACT_VERSION.to_string() };
    state::save(storage, state::CONTRACT_INFO, &version)
}

/// Changes nothing but the recorded code version.
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    record_version(deps.storage)?;
    Ok(Response::new().add_attribute("action", "migrate").add_attribute("version", CONTRACT_VERSION))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use conclave_sdk::serde_json::{json, Value};
    use conclave_sdk::testing::{message_info, mock_env, MemoryStorage, MockApi};
    use conclave_sdk::{
        from_json, ContractResult, OwnedDeps, Querier, QueryRequest, ReplyOn, SystemError, SystemResult, Timestamp,
        WasmMsg, WasmQuery,
    };

    use crate::msg::{Decimal, PrivilegeChange};

    /// A tg4 group as the querier sees it: snapshots of the members from a height on.
    #[derive(Default)]
    struct MockGroup {
        snapshots: Vec<(u64, BTreeMap<String, u64>)>,
    }

    impl MockGroup {
        /// Members as of the start of `height` (None: now).
        fn at(&self, height: Option<u64>) -> BTreeMap<String, u64> {
            self.snapshots
                .iter()
                .rev()
                .find(|(from, _)| height.map_or(true, |h| *from <= h))
                .map(|(_, members)| members.clone())
                .unwrap_or_default()
        }
    }

    /// Answers tg4 member and total_points queries of the groups it knows.
    #[derive(Default)]
    struct Tg4Querier {
        groups: BTreeMap<String, MockGroup>,
    }

    impl Tg4Querier {
        /// Sets `members` of `group`, visible from `from_height` (a change made at from_height - 1).
        fn set(&mut self, group: &str, from_height: u64, members: &[(&str, u64)]) {
            let members = members.iter().map(|(a, p)| (a.to_string(), *p)).collect();
            self.groups.entry(group.to_string()).or_default().snapshots.push((from_height, members));
        }
    }

    impl Querier for Tg4Querier {
        fn raw_query(&self, request: &[u8]) -> SystemResult<ContractResult<Binary>> {
            let (addr, msg) = match from_json::<QueryRequest>(request) {
                Ok(QueryRequest::Wasm(WasmQuery::Smart { contract_addr, msg })) => (contract_addr, msg),
                _ => return SystemResult::Err(SystemError(json!({"unsupported_request": {"kind": "test"}}))),
            };
            let group = match self.groups.get(&addr) {
                Some(group) => group,
                None => return SystemResult::Err(SystemError(json!({"no_such_contract": {"addr": addr}}))),
            };
            let answer = match from_json::<Tg4QueryMsg>(msg.as_slice()) {
                Ok(Tg4QueryMsg::Member { addr, at_height }) => {
                    to_json_binary(&MemberResponse { points: group.at(at_height).get(&addr).copied(), start_height: None })
                }
                Ok(Tg4QueryMsg::TotalPoints { at_height }) => {
                    to_json_binary(&TotalPointsResponse { points: group.at(at_height).values().sum() })
                }
                _ => return SystemResult::Ok(ContractResult::Err("unknown query".into())),
            };
            SystemResult::Ok(ContractResult::Ok(answer.unwrap()))
        }
    }

    type TestDeps = OwnedDeps<MemoryStorage, MockApi, Tg4Querier>;

    const START: u64 = 1_000_000;

    fn env_at(height: u64, seconds: u64) -> Env {
        let mut env = mock_env();
        env.block.height = height;
        env.block.time = Timestamp::from_seconds(seconds);
        env
    }

    fn rules(early: bool) -> VotingRules {
        VotingRules {
            voting_period: 100,
            quorum: Decimal::parse("0.3").unwrap(),
            threshold: Decimal::parse("0.51").unwrap(),
            allow_end_early: early,
        }
    }

    /// Electorate alice 1, bob 1, carol 1 (total 3) from height 1; admins group: alice.
    fn setup(early: bool, proposers: Proposers) -> TestDeps {
        let mut querier = Tg4Querier::default();
        querier.set("electorate", 1, &[("alice", 1), ("bob", 1), ("carol", 1)]);
        querier.set("admins", 1, &[("alice", 1)]);
        let mut deps = OwnedDeps { storage: MemoryStorage::new(), api: MockApi, querier };
        let msg = InstantiateMsg {
            rules: rules(early),
            electorate: "electorate".into(),
            admins_group: Some("admins".into()),
            proposers,
        };
        instantiate(deps.as_mut(), env_at(5, START), message_info("creator", &[]), msg).unwrap();
        deps
    }

    fn run(deps: &mut TestDeps, sender: &str, height: u64, seconds: u64, msg: ExecuteMsg)
        -> Result<Response, ContractError> {
        execute(deps.as_mut(), env_at(height, seconds), message_info(sender, &[]), msg)
    }

    fn propose_msgs(deps: &mut TestDeps, sender: &str, height: u64, msgs: Vec<CosmosMsg>) -> Result<u64, ContractError> {
        let msg = ExecuteMsg::Propose { title: "title".into(), description: "why".into(), msgs };
        let res = run(deps, sender, height, START, msg)?;
        let id = res.attributes.iter().find(|a| a.key == "proposal_id").unwrap();
        Ok(id.value.parse().unwrap())
    }

    fn vote(deps: &mut TestDeps, sender: &str, id: u64, vote: Vote) -> Result<Response, ContractError> {
        run(deps, sender, 20, START + 10, ExecuteMsg::Vote { proposal_id: id, vote })
    }

    fn q<T: serde::de::DeserializeOwned>(deps: &TestDeps, seconds: u64, msg: QueryMsg) -> T {
        from_json(query(deps.as_ref(), env_at(30, seconds), msg).unwrap()).unwrap()
    }

    fn proposal(deps: &TestDeps, seconds: u64, id: u64) -> Proposal {
        q(deps, seconds, QueryMsg::Proposal { proposal_id: id })
    }

    fn wasm_execute(contract: &str, msg: Value) -> CosmosMsg {
        CosmosMsg::Wasm(WasmMsg::Execute {
            contract_addr: contract.into(),
            msg: Binary(msg.to_string().into_bytes()),
            funds: vec![],
        })
    }

    #[test]
    fn instantiate_validates_rules_and_groups() {
        let mut deps = setup(true, Proposers::Members);
        let base = InstantiateMsg {
            rules: rules(true),
            electorate: "electorate".into(),
            admins_group: None,
            proposers: Proposers::Anyone,
        };
        let cases: [(&str, &str, u64, &str); 6] = [
            ("0", "0.5", 10, "quorum must be greater than 0"),
            ("1.000000001", "0.5", 10, "quorum must be greater than 0"),
            ("0.3", "0.499999999", 10, "threshold must be between 0.5 and 1"),
            ("0.3", "1.000000001", 10, "threshold must be between 0.5 and 1"),
            ("0.3", "0.5", 0, "voting_period"),
            ("0.3", "0.5", MAX_VOTING_PERIOD + 1, "voting_period"),
        ];
        for (quorum, threshold, period, expected) in cases {
            let mut msg = base.clone();
            msg.rules.quorum = Decimal::parse(quorum).unwrap();
            msg.rules.threshold = Decimal::parse(threshold).unwrap();
            msg.rules.voting_period = period;
            let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap_err();
            assert!(err.to_string().contains(expected), "{}", err);
        }
        let mut msg = base.clone();
        msg.rules.quorum = Decimal::ONE;
        msg.rules.threshold = Decimal::parse("0.5").unwrap();
        instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap();

        let mut msg = base.clone();
        msg.electorate = "nowhere".into();
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap_err();
        assert!(err.to_string().contains("electorate nowhere is not a tg4 contract"), "{}", err);
        let mut msg = base;
        msg.admins_group = Some("nowhere".into());
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap_err();
        assert!(err.to_string().contains("admins_group nowhere is not a tg4 contract"), "{}", err);
    }

    #[test]
    fn propose_checks_the_proposer_and_votes_yes_for_it() {
        let mut deps = setup(true, Proposers::Members);
        assert_eq!(propose_msgs(&mut deps, "dave", 10, vec![]).unwrap_err(), ContractError::NotAMember);
        let id = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        assert_eq!(id, 1);
        let p = proposal(&deps, START, 1);
        assert_eq!(p.status, Status::Open);
        assert_eq!(p.total_points, 3);
        assert_eq!(p.votes, Votes { yes: 1, no: 0, abstain: 0, veto: 0 });
        assert_eq!(p.expires_at, START + 100);
        assert_eq!(p.created_height, 10);
        assert_eq!(p.proposer, "alice");
        let ballot: VoteResponse = q(&deps, START, QueryMsg::Vote { proposal_id: 1, voter: "alice".into() });
        assert_eq!(ballot.vote, Some(VoteInfo { proposal_id: 1, voter: "alice".into(), vote: Vote::Yes, points: 1 }));
        assert_eq!(vote(&mut deps, "alice", 1, Vote::No).unwrap_err(), ContractError::AlreadyVoted { proposal_id: 1 });

        // Bad titles, descriptions, message counts.
        let mut long = |title: String, description: String, n: usize| {
            let msgs = vec![CosmosMsg::Custom(json!({"x": {}})); n];
            run(&mut deps, "alice", 10, START, ExecuteMsg::Propose { title, description, msgs }).unwrap_err()
        };
        assert_eq!(long(" ".into(), String::new(), 0), ContractError::EmptyTitle);
        assert_eq!(long("t".repeat(257), String::new(), 0), ContractError::TooLong { field: "title", max: 256 });
        assert_eq!(long("t".into(), "d".repeat(16_385), 0), ContractError::TooLong { field: "description", max: 16_384 });
        assert_eq!(long("t".into(), String::new(), 33), ContractError::TooLong { field: "msgs", max: 32 });
    }

    #[test]
    fn anyone_mode_opens_proposals_without_a_yes_vote() {
        let mut deps = setup(true, Proposers::Anyone);
        let id = propose_msgs(&mut deps, "dave", 10, vec![]).unwrap();
        let p = proposal(&deps, START, id);
        assert_eq!(p.votes, Votes::default());
        assert_eq!(vote(&mut deps, "dave", id, Vote::Yes).unwrap_err(), ContractError::NoVotingPoints { proposal_id: id });
    }

    #[test]
    fn votes_weigh_points_at_the_creation_height() {
        let mut deps = setup(false, Proposers::Members);
        // dave joins with 5 points in block 9 (visible from height 10); erin in block 10.
        deps.querier.set("electorate", 10, &[("alice", 1), ("bob", 1), ("carol", 1), ("dave", 5)]);
        deps.querier.set("electorate", 11, &[("alice", 1), ("bob", 1), ("carol", 1), ("dave", 5), ("erin", 9)]);
        let id = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        assert_eq!(proposal(&deps, START, id).total_points, 8);
        vote(&mut deps, "dave", id, Vote::No).unwrap();
        assert_eq!(vote(&mut deps, "erin", id, Vote::Yes).unwrap_err(), ContractError::NoVotingPoints { proposal_id: id });
        vote(&mut deps, "bob", id, Vote::Abstain).unwrap();
        vote(&mut deps, "carol", id, Vote::Veto).unwrap();
        let tally: TallyResponse = q(&deps, START, QueryMsg::Tally { proposal_id: id });
        assert_eq!(
            tally,
            TallyResponse { yes: 1, no: 5, abstain: 1, veto: 1, total: 8, quorum_reached: true, status: Status::Open }
        );
        let votes: VoteListResponse =
            q(&deps, START, QueryMsg::ListVotes { proposal_id: id, start_after: Some("bob".into()), limit: Some(2) });
        let voters: Vec<(String, Vote, u64)> = votes.votes.into_iter().map(|v| (v.voter, v.vote, v.points)).collect();
        assert_eq!(voters, vec![("carol".into(), Vote::Veto, 1), ("dave".into(), Vote::No, 5)]);
        assert_eq!(proposal(&deps, START + 100, id).status, Status::Rejected);
        let voter: VoterResponse = q(&deps, START, QueryMsg::Voter { address: "erin".into() });
        assert_eq!(voter.points, Some(9));
    }

    #[test]
    fn vote_only_while_open_and_before_expiry() {
        let mut deps = setup(true, Proposers::Members);
        let id = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        let late = run(&mut deps, "bob", 30, START + 100, ExecuteMsg::Vote { proposal_id: id, vote: Vote::Yes });
        assert_eq!(late.unwrap_err(), ContractError::VotingClosed { proposal_id: id });
        vote(&mut deps, "bob", id, Vote::Yes).unwrap();
        assert_eq!(proposal(&deps, START + 10, id).status, Status::Passed);
        assert_eq!(
            vote(&mut deps, "carol", id, Vote::No).unwrap_err(),
            ContractError::NotOpen { proposal_id: id, status: Status::Passed }
        );
        assert_eq!(vote(&mut deps, "bob", 99, Vote::No).unwrap_err(), ContractError::ProposalNotFound(99));
    }

    #[test]
    fn execute_dispatches_once() {
        let mut deps = setup(true, Proposers::Members);
        let msg = wasm_execute("target", json!({"do": {}}));
        let id = propose_msgs(&mut deps, "alice", 10, vec![msg.clone()]).unwrap();
        let err = run(&mut deps, "anyone", 20, START + 5, ExecuteMsg::Execute { proposal_id: id }).unwrap_err();
        assert_eq!(err, ContractError::NotPassed { proposal_id: id, status: Status::Open });
        vote(&mut deps, "carol", id, Vote::Yes).unwrap();
        let res = run(&mut deps, "anyone", 20, START + 5, ExecuteMsg::Execute { proposal_id: id }).unwrap();
        assert_eq!(res.messages.len(), 1);
        assert_eq!(res.messages[0].msg, msg);
        assert_eq!(res.messages[0].reply_on, ReplyOn::Never);
        assert_eq!(proposal(&deps, START + 5, id).status, Status::Executed);
        let err = run(&mut deps, "anyone", 20, START + 5, ExecuteMsg::Execute { proposal_id: id }).unwrap_err();
        assert_eq!(err, ContractError::NotPassed { proposal_id: id, status: Status::Executed });
        let err = run(&mut deps, "anyone", 20, START + 500, ExecuteMsg::Close { proposal_id: id }).unwrap_err();
        assert_eq!(err, ContractError::CannotClose { proposal_id: id, status: Status::Executed });
    }

    #[test]
    fn passed_at_expiry_without_early_end_is_executable_later() {
        let mut deps = setup(false, Proposers::Members);
        let id = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        vote(&mut deps, "bob", id, Vote::Yes).unwrap();
        vote(&mut deps, "carol", id, Vote::Yes).unwrap();
        assert_eq!(proposal(&deps, START + 99, id).status, Status::Open);
        assert_eq!(proposal(&deps, START + 100, id).status, Status::Passed);
        let err = run(&mut deps, "x", 20, START + 99, ExecuteMsg::Execute { proposal_id: id }).unwrap_err();
        assert_eq!(err, ContractError::NotPassed { proposal_id: id, status: Status::Open });
        run(&mut deps, "x", 20, START + 10_000, ExecuteMsg::Execute { proposal_id: id }).unwrap();
    }

    #[test]
    fn close_rejected_or_expired_once() {
        let mut deps = setup(true, Proposers::Members);
        let rejected = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        let expired = propose_msgs(&mut deps, "bob", 10, vec![]).unwrap();
        let close = |deps: &mut TestDeps, id: u64, seconds: u64| {
            run(deps, "anyone", 40, seconds, ExecuteMsg::Close { proposal_id: id })
        };
        assert_eq!(close(&mut deps, expired, START + 99).unwrap_err(), ContractError::CannotClose {
            proposal_id: expired,
            status: Status::Open
        });
        vote(&mut deps, "bob", rejected, Vote::No).unwrap();
        vote(&mut deps, "carol", rejected, Vote::Veto).unwrap();
        assert_eq!(proposal(&deps, START + 10, rejected).status, Status::Rejected);
        close(&mut deps, rejected, START + 10).unwrap();
        assert_eq!(close(&mut deps, rejected, START + 10).unwrap_err(), ContractError::AlreadyClosed {
            proposal_id: rejected
        });
        // bob's own yes (1 of 3) reaches quorum ceil(0.9) = 1; with alice's no the threshold
        // (ceil(0.51 * 2) = 2 yes) is missed at expiry.
        run(&mut deps, "alice", 20, START + 10, ExecuteMsg::Vote { proposal_id: expired, vote: Vote::No }).unwrap();
        assert_eq!(proposal(&deps, START + 99, expired).status, Status::Open);
        assert_eq!(proposal(&deps, START + 100, expired).status, Status::Rejected);
        close(&mut deps, expired, START + 100).unwrap();
        let quiet = {
            let msg = ExecuteMsg::Propose { title: "t".into(), description: String::new(), msgs: vec![] };
            let mut deps2 = setup(true, Proposers::Anyone);
            let res = run(&mut deps2, "dave", 10, START, msg).unwrap();
            assert_eq!(res.attributes.iter().find(|a| a.key == "status").unwrap().value, "open");
            let res = close(&mut deps2, 1, START + 100).unwrap();
            assert_eq!(res.attributes.iter().find(|a| a.key == "status").unwrap().value, "expired");
            proposal(&deps2, START + 100, 1).status
        };
        assert_eq!(quiet, Status::Expired);
    }

    #[test]
    fn code_proposals_only_from_admins() {
        let mut deps = setup(true, Proposers::Members);
        let store = CosmosMsg::Custom(json!({"store_code": {"checksum": "00"}}));
        let pin = CosmosMsg::Custom(json!({"pin_code": {"checksum": "00"}}));
        let migrate = CosmosMsg::Custom(json!({"migrate_contract": {"contract": "c", "checksum": "00", "msg": "e30="}}));
        for msg in [store.clone(), pin, migrate] {
            let err = propose_msgs(&mut deps, "bob", 10, vec![wasm_execute("x", json!({})), msg]).unwrap_err();
            assert_eq!(err, ContractError::NotAnAdmin);
        }
        // Other custom messages are ordinary proposals.
        propose_msgs(&mut deps, "bob", 10, vec![CosmosMsg::Custom(json!({"update_params": {}}))]).unwrap();
        propose_msgs(&mut deps, "alice", 10, vec![store.clone()]).unwrap();

        // No admins group: code proposals are refused.
        let mut deps = setup(true, Proposers::Members);
        let mut config = state::load_config(&deps.storage).unwrap();
        config.admins_group = None;
        state::save_config(&mut deps.storage, &config).unwrap();
        assert_eq!(propose_msgs(&mut deps, "alice", 10, vec![store]).unwrap_err(), ContractError::NoAdminsGroup);
    }

    #[test]
    fn sudo_proposes_on_behalf() {
        let mut deps = setup(true, Proposers::Members);
        let store = CosmosMsg::Custom(json!({"store_code": {"checksum": "00"}}));
        let on_behalf = |proposer: &str| SudoMsg::ProposeOnBehalf {
            proposer: proposer.into(),
            title: "code".into(),
            description: String::new(),
            msgs: vec![store.clone()],
        };
        let err = sudo(deps.as_mut(), env_at(10, START), on_behalf("bob")).unwrap_err();
        assert_eq!(err, ContractError::NotAnAdmin);
        let err = sudo(deps.as_mut(), env_at(10, START), on_behalf("Bad")).unwrap_err();
        assert!(err.to_string().contains("Invalid address"), "{}", err);
        sudo(deps.as_mut(), env_at(10, START), on_behalf("alice")).unwrap();
        let p = proposal(&deps, START, 1);
        assert_eq!(p.proposer, "alice");
        assert_eq!(p.votes.yes, 1);
        assert_eq!(p.msgs, vec![store]);
        let res = sudo(deps.as_mut(), env_at(10, START), SudoMsg::PrivilegeChange(PrivilegeChange::Promoted {})).unwrap();
        assert!(res.messages.is_empty());
    }

    #[test]
    fn update_rules_only_from_the_contract_itself() {
        let mut deps = setup(true, Proposers::Members);
        let msg = ExecuteMsg::UpdateRules {
            voting_period: Some(500),
            quorum: None,
            threshold: Some(Decimal::parse("0.66").unwrap()),
            allow_end_early: None,
        };
        assert_eq!(run(&mut deps, "alice", 10, START, msg.clone()).unwrap_err(), ContractError::Unauthorized);
        let bad = ExecuteMsg::UpdateRules {
            voting_period: None,
            quorum: None,
            threshold: Some(Decimal::parse("0.4").unwrap()),
            allow_end_early: None,
        };
        let err = run(&mut deps, "contract", 10, START, bad).unwrap_err();
        assert_eq!(err, ContractError::InvalidRules("threshold must be between 0.5 and 1"));
        let old = propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        run(&mut deps, "contract", 10, START, msg).unwrap();
        let now: VotingRules = q(&deps, START, QueryMsg::Rules {});
        assert_eq!(now.voting_period, 500);
        assert_eq!(now.threshold.to_string(), "0.66");
        assert_eq!(now.quorum.to_string(), "0.3");
        assert!(now.allow_end_early);
        // Open proposals keep the rules they were created with.
        assert_eq!(proposal(&deps, START, old).rules, rules(true));
    }

    #[test]
    fn proposals_page_both_ways() {
        let mut deps = setup(false, Proposers::Members);
        for _ in 0..35 {
            propose_msgs(&mut deps, "alice", 10, vec![]).unwrap();
        }
        let ids = |page: ProposalListResponse| page.proposals.into_iter().map(|p| p.id).collect::<Vec<_>>();
        let page: ProposalListResponse = q(&deps, START, QueryMsg::ListProposals { start_after: None, limit: None });
        assert_eq!(ids(page), (1..=10).collect::<Vec<_>>());
        let page: ProposalListResponse =
            q(&deps, START, QueryMsg::ListProposals { start_after: Some(20), limit: Some(100) });
        assert_eq!(ids(page), (21..=35).collect::<Vec<_>>());
        let page: ProposalListResponse =
            q(&deps, START, QueryMsg::ListProposals { start_after: Some(u64::MAX), limit: None });
        assert!(page.proposals.is_empty());
        let page: ProposalListResponse = q(&deps, START, QueryMsg::ReverseProposals { start_before: None, limit: Some(3) });
        assert_eq!(ids(page), vec![35, 34, 33]);
        let page: ProposalListResponse =
            q(&deps, START, QueryMsg::ReverseProposals { start_before: Some(3), limit: Some(100) });
        assert_eq!(ids(page), vec![2, 1]);
        let page: ProposalListResponse =
            q(&deps, START, QueryMsg::ReverseProposals { start_before: Some(1000), limit: Some(100) });
        assert_eq!(page.proposals.len(), 30);
        // Listed statuses are the current ones: alice's yes (1 of 1 opinion, quorum 1 of 3)
        // passes at expiry.
        let page: ProposalListResponse = q(&deps, START + 100, QueryMsg::ListProposals { start_after: None, limit: Some(1) });
        assert_eq!(page.proposals[0].status, Status::Passed);
    }

    #[test]
    fn config_and_migrate() {
        let mut deps = setup(true, Proposers::Anyone);
        let config: ConfigResponse = q(&deps, START, QueryMsg::Config {});
        assert_eq!(
            config,
            ConfigResponse { electorate: "electorate".into(), admins_group: Some("admins".into()), proposers: Proposers::Anyone }
        );
        migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
        let version: ContractVersion = state::may_load(&deps.storage, state::CONTRACT_INFO).unwrap().unwrap();
        assert_eq!(version, ContractVersion { contract: "voting".into(), version: CONTRACT_VERSION.into() });
    }
}
