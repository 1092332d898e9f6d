//! Entry points of the mixer, one small function per message.

use conclave_sdk::{to_json_binary, Addr, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult, SubMsg, Uint64, WasmMsg};
use tg4::store;
use tg4::{MemberDiff, MemberListResponse, MemberResponse, Tg4QueryMsg};

use crate::error::ContractError;
use crate::functions::{parse_decimal_wad, PoeFunction, WAD};
use crate::msg::{
    ExecuteMsg, FunctionResponse, GroupsResponse, InstantiateMsg, MigrateMsg, MixerFunction, MixerFunctionResponse,
    QueryMsg, SlashersResponse, StakeExecuteMsg, MAX_HOOKS, MAX_LIMIT, MAX_PORTION_LEN, MAX_SLASHERS,
};
use crate::state::{self, Config, ContractVersion, MEMBERS};

pub const CONTRACT_NAME: &str = env!("CARGO_PKG_NAME");
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Checks the function's parameters and turns them into integers.
pub fn parse_function(function: &MixerFunction) -> Result<PoeFunction, ContractError> {
    match function {
        MixerFunction::GeometricMean {} => Ok(PoeFunction::GeometricMean),
        MixerFunction::Sigmoid { max_points, p, s } => {
            let p_wad = parse_decimal_wad("p", p)?;
            let s_wad = parse_decimal_wad("s", s)?;
            if max_points.u64() == 0 {
                return Err(ContractError::InvalidFunction("max_points must be > 0"));
            }
            if p_wad == 0 || p_wad > WAD {
                return Err(ContractError::InvalidFunction("p must be in (0, 1]"));
            }
            if s_wad == 0 {
                return Err(ContractError::InvalidFunction("s must be > 0"));
            }
            Ok(PoeFunction::Sigmoid { max_points: max_points.u64(), p_wad, s_wad })
        }
    }
}

pub fn instantiate(deps: DepsMut, env: Env, _info: MessageInfo, msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    let left = deps.api.addr_validate(&msg.left_group)?;
    let right = deps.api.addr_validate(&msg.right_group)?;
    let admin = msg.admin.as_deref().map(|a| deps.api.addr_validate(a)).transpose()?;
    let function = parse_function(&msg.function)?;
    state::save(deps.storage, state::CONFIG, &Config { left: left.clone(), right: right.clone(), function: msg.function })?;
    state::save(deps.storage, state::ADMIN, &admin)?;
    state::save(deps.storage, state::HOOKS, &Vec::<Addr>::new())?;
    state::save(deps.storage, state::SLASHERS, &Vec::<Addr>::new())?;
    record_version(deps.storage)?;

    // Every address of the left group that is also in the right one.
    let height = env.block.height;
    let mut total: u128 = 0;
    let mut members = 0u64;
    let mut start_after: Option<String> = None;
    loop {
        let page: MemberListResponse = deps.querier.query_wasm_smart(
            left.as_str(),
            &Tg4QueryMsg::ListMembers { start_after: start_after.take(), limit: Some(MAX_LIMIT) },
        )?;
        let full = page.members.len() as u32 >= MAX_LIMIT;
        for member in &page.members {
            let stake = group_points(deps.as_ref(), &right, &member.addr)?;
            if let Some(points) = mixed(function, stake, Some(member.points)) {
                MEMBERS.save_member(deps.storage, &member.addr, Some(points), height)?;
                total += points as u128;
                members += 1;
            }
        }
        match page.members.last() {
            Some(last) if full => start_after = Some(last.addr.clone()),
            _ => break,
        }
    }
    MEMBERS.save_total(deps.storage, total, height)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("members", members.to_string())
        .add_attribute("total_points", total.to_string()))
}

/// The mixed points, or None when the address is not in both groups or mixes to 0.
fn mixed(function: PoeFunction, stake: Option<u64>, engagement: Option<u64>) -> Option<u64> {
    match (stake, engagement) {
        (Some(stake), Some(engagement)) => Some(function.points(stake, engagement)).filter(|p| *p > 0),
        _ => None,
    }
}

/// An address's current points in a tg4 group.
fn group_points(deps: Deps, group: &Addr, addr: &str) -> StdResult<Option<u64>> {
    let answer: MemberResponse =
        deps.querier.query_wasm_smart(group.as_str(), &Tg4QueryMsg::Member { addr: addr.to_string(), at_height: None })?;
    Ok(answer.points)
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::MemberChangedHook { diffs } => member_changed(deps, env, info, diffs),
        ExecuteMsg::AddHook { addr } => add_to_list(deps, info, addr, ListKind::Hooks),
        ExecuteMsg::RemoveHook { addr } => remove_from_list(deps, info, addr, ListKind::Hooks),
        ExecuteMsg::AddSlasher { addr } => add_to_list(deps, info, addr, ListKind::Slashers),
        ExecuteMsg::RemoveSlasher { addr } => remove_from_list(deps, info, addr, ListKind::Slashers),
        ExecuteMsg::UpdateAdmin { admin } => update_admin(deps, info, admin),
        ExecuteMsg::Slash { addr, portion } => slash(deps, info, addr, portion),
    }
}

fn ensure_admin(deps: Deps, sender: &Addr) -> Result<(), ContractError> {
    match state::load_admin(deps.storage)? {
        Some(admin) if &admin == sender => Ok(()),
        _ => Err(ContractError::Unauthorized),
    }
}

/// Recomputes every address in `diffs` (sent by one of the two groups), then tells our own
/// hooks about the addresses whose mixed points changed.
fn member_changed(deps: DepsMut, env: Env, info: MessageInfo, diffs: Vec<MemberDiff>)
    -> Result<Response, ContractError> {
    let config: Config = state::load(deps.storage, state::CONFIG)?;
    let from_left = info.sender == config.left;
    let from_right = info.sender == config.right;
    if !from_left && !from_right {
        return Err(ContractError::Unauthorized);
    }
    let function = parse_function(&config.function)?;
    let height = env.block.height;
    let mut total = MEMBERS.total(deps.storage)?;
    let mut changes = Vec::new();
    for diff in diffs {
        let (stake, engagement) = if from_left && from_right {
            (diff.new, diff.new)
        } else if from_left {
            (group_points(deps.as_ref(), &config.right, &diff.key)?, diff.new)
        } else {
            (diff.new, group_points(deps.as_ref(), &config.left, &diff.key)?)
        };
        let new = mixed(function, stake, engagement);
        let old = MEMBERS.member(deps.storage, &diff.key)?;
        if old != new {
            total = total - old.unwrap_or(0) as u128 + new.unwrap_or(0) as u128;
            MEMBERS.save_member(deps.storage, &diff.key, new, height)?;
            changes.push(MemberDiff::new(diff.key, old, new));
        }
    }
    let response = Response::new()
        .add_attribute("action", "member_changed_hook")
        .add_attribute("changed", changes.len().to_string());
    if changes.is_empty() {
        return Ok(response);
    }
    MEMBERS.save_total(deps.storage, total, height)?;
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    let response = store::with_hook_msgs(deps.storage, response, changes)?;
    Ok(response.add_attribute("total_points", total.to_string()))
}

#[derive(Clone, Copy)]
enum ListKind {
    Hooks,
    Slashers,
}

impl ListKind {
    fn key(self) -> &'static [u8] {
        match self {
            ListKind::Hooks => state::HOOKS,
            ListKind::Slashers => state::SLASHERS,
        }
    }
}

fn add_to_list(deps: DepsMut, info: MessageInfo, addr: String, kind: ListKind) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let addr = deps.api.addr_validate(&addr)?;
    let mut list = state::load_list(deps.storage, kind.key())?;
    if list.contains(&addr) {
        return Err(match kind {
            ListKind::Hooks => ContractError::HookAlreadyRegistered(addr.into_string()),
            ListKind::Slashers => ContractError::SlasherAlreadyRegistered(addr.into_string()),
        });
    }
    let (what, max) = match kind {
        ListKind::Hooks => ("hooks", MAX_HOOKS),
        ListKind::Slashers => ("slashers", MAX_SLASHERS),
    };
    if list.len() >= max {
        return Err(ContractError::TooMany(what, max));
    }
    list.push(addr.clone());
    state::save(deps.storage, kind.key(), &list)?;
    let action = match kind {
        ListKind::Hooks => "add_hook",
        ListKind::Slashers => "add_slasher",
    };
    Ok(Response::new().add_attribute("action", action).add_attribute("addr", addr.into_string()))
}

fn remove_from_list(deps: DepsMut, info: MessageInfo, addr: String, kind: ListKind) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let addr = deps.api.addr_validate(&addr)?;
    let mut list = state::load_list(deps.storage, kind.key())?;
    let before = list.len();
    list.retain(|a| a != &addr);
    if list.len() == before {
        return Err(match kind {
            ListKind::Hooks => ContractError::HookNotRegistered(addr.into_string()),
            ListKind::Slashers => ContractError::SlasherNotRegistered(addr.into_string()),
        });
    }
    state::save(deps.storage, kind.key(), &list)?;
    let action = match kind {
        ListKind::Hooks => "remove_hook",
        ListKind::Slashers => "remove_slasher",
    };
    Ok(Response::new().add_attribute("action", action).add_attribute("addr", addr.into_string()))
}

fn update_admin(deps: DepsMut, info: MessageInfo, admin: Option<String>) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let admin = admin.as_deref().map(|a| deps.api.addr_validate(a)).transpose()?;
    state::save(deps.storage, state::ADMIN, &admin)?;
    Ok(Response::new()
        .add_attribute("action", "update_admin")
        .add_attribute("admin", admin.map_or_else(|| "none".to_string(), Addr::into_string)))
}

/// "0.5" -> 500_000_000 billionths; must be in (0, 1] with at most 9 places.
pub fn parse_portion(text: &str) -> Result<u64, ContractError> {
    let bad = || ContractError::InvalidPortion(text.chars().take(MAX_PORTION_LEN).collect());
    if text.len() > MAX_PORTION_LEN {
        return Err(bad());
    }
    let wad = parse_decimal_wad("portion", text).map_err(|_| bad())?;
    if wad == 0 || wad > WAD || wad % 1_000_000_000 != 0 {
        return Err(bad());
    }
    Ok((wad / 1_000_000_000) as u64)
}

/// Admin or slasher: forwards the slash to the stake group (reply never: if the stake
/// group refuses, this call fails too).
fn slash(deps: DepsMut, info: MessageInfo, addr: String, portion: String) -> Result<Response, ContractError> {
    let is_admin = state::load_admin(deps.storage)?.map_or(false, |a| a == info.sender);
    if !is_admin && !state::load_list(deps.storage, state::SLASHERS)?.contains(&info.sender) {
        return Err(ContractError::Unauthorized);
    }
    let addr = deps.api.addr_validate(&addr)?;
    parse_portion(&portion)?;
    let config: Config = state::load(deps.storage, state::CONFIG)?;
    let forward = WasmMsg::Execute {
        contract_addr: config.right.into_string(),
        msg: to_json_binary(&StakeExecuteMsg::Slash { addr: addr.to_string(), portion: portion.clone() })?,
        funds: vec![],
    };
    Ok(Response::new()
        .add_submessage(SubMsg::new(forward))
        .add_attribute("action", "slash")
        .add_attribute("addr", addr.into_string())
        .add_attribute("portion", portion))
}

pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let msg = match msg.into_tg4() {
        Ok(tg4_query) => return Ok(MEMBERS.query(deps.storage, tg4_query)?),
        Err(own) => own,
    };
    let answer = match msg {
        QueryMsg::MixerFunction { stake, engagement } => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            let points = parse_function(&config.function)?.points(stake.u64(), engagement.u64());
            to_json_binary(&MixerFunctionResponse { points: Uint64::new(points) })?
        }
        QueryMsg::Groups {} => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            to_json_binary(&GroupsResponse { left: config.left.into_string(), right: config.right.into_string() })?
        }
        QueryMsg::Function {} => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            to_json_binary(&FunctionResponse { function: config.function })?
        }
        QueryMsg::ListSlashers {} => to_json_binary(&SlashersResponse {
            slashers: state::load_list(deps.storage, state::SLASHERS)?.into_iter().map(Addr::into_string).collect(),
        })?,
        _ => unreachable!("tg4 queries are answered above"),
    };
    Ok(answer)
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
    use super::*;
    use conclave_sdk::testing::{message_info, mock_dependencies, mock_env};
    use conclave_sdk::{from_json, CosmosMsg};
    use tg4::Member;

    fn setup() -> conclave_sdk::OwnedDeps<conclave_sdk::testing::MemoryStorage, conclave_sdk::testing::MockApi, conclave_sdk::testing::MockQuerier> {
        let mut deps = mock_dependencies();
        // No members to read: store the config directly, as instantiate would.
        let config = Config {
            left: Addr::unchecked("left"),
            right: Addr::unchecked("right"),
            function: MixerFunction::GeometricMean {},
        };
        state::save(&mut deps.storage, state::CONFIG, &config).unwrap();
        state::save(&mut deps.storage, state::ADMIN, &Some(Addr::unchecked("admin"))).unwrap();
        deps
    }

    #[test]
    fn function_parameters_are_checked() {
        let sig = |m: u64, p: &str, s: &str| MixerFunction::Sigmoid { max_points: Uint64::new(m), p: p.into(), s: s.into() };
        assert!(parse_function(&sig(1_000_000, "0.62", "0.00001")).is_ok());
        assert!(parse_function(&sig(0, "0.62", "0.00001")).is_err());
        assert!(parse_function(&sig(1, "0", "0.00001")).is_err());
        assert!(parse_function(&sig(1, "1.000000000000000001", "0.00001")).is_err());
        assert!(parse_function(&sig(1, "1", "0")).is_err());
        assert!(parse_function(&sig(1, "x", "1")).is_err());
    }

    #[test]
    fn portions() {
        assert_eq!(parse_portion("0.5").unwrap(), 500_000_000);
        assert_eq!(parse_portion("1").unwrap(), 1_000_000_000);
        for bad in ["0", "1.1", "0.0000000001", "", "-0.5", "abc"] {
            assert!(parse_portion(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn hook_only_from_groups_and_slash_forwarding() {
        let mut deps = setup();
        let hook = ExecuteMsg::MemberChangedHook { diffs: vec![] };
        let err = execute(deps.as_mut(), mock_env(), message_info("other", &[]), hook.clone()).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
        execute(deps.as_mut(), mock_env(), message_info("left", &[]), hook).unwrap();

        let slash = ExecuteMsg::Slash { addr: "val".into(), portion: "0.5".into() };
        let err = execute(deps.as_mut(), mock_env(), message_info("val", &[]), slash.clone()).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
        execute(deps.as_mut(), mock_env(), message_info("admin", &[]), ExecuteMsg::AddSlasher { addr: "valset".into() })
            .unwrap();
        let res = execute(deps.as_mut(), mock_env(), message_info("valset", &[]), slash).unwrap();
        match &res.messages[0].msg {
            CosmosMsg::Wasm(WasmMsg::Execute { contract_addr, msg, .. }) => {
                assert_eq!(contract_addr, "right");
                assert_eq!(msg.as_slice(), br#"{"slash":{"addr":"val","portion":"0.5"}}"#);
            }
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn members_index_and_snapshots() {
        let mut deps = setup();
        state::save_member(&mut deps.storage, "a", Some(5), 10).unwrap();
        state::save_member(&mut deps.storage, "b", Some(9), 10).unwrap();
        state::save_member(&mut deps.storage, "c", Some(5), 10).unwrap();
        state::save_member(&mut deps.storage, "a", Some(7), 12).unwrap();
        let q = |deps: &conclave_sdk::OwnedDeps<_, _, _>, msg| -> MemberListResponse {
            from_json(query(deps.as_ref(), mock_env(), msg).unwrap()).unwrap()
        };
        let page = q(&deps, QueryMsg::ListMembersByPoints { start_after: None, limit: None });
        let order: Vec<(String, u64)> = page.members.into_iter().map(|m| (m.addr, m.points)).collect();
        assert_eq!(order, vec![("b".into(), 9), ("a".into(), 7), ("c".into(), 5)]);
        let page = q(&deps, QueryMsg::ListMembersByPoints { start_after: Some(Member::new("a", 7)), limit: Some(1) });
        assert_eq!(page.members, vec![Member::new("c", 5)]);
        assert_eq!(state::member_at(&deps.storage, "a", 10).unwrap(), None);
        assert_eq!(state::member_at(&deps.storage, "a", 11).unwrap(), Some(5));
        assert_eq!(state::member_at(&deps.storage, "a", 12).unwrap(), Some(5));
        assert_eq!(state::member_at(&deps.storage, "a", 13).unwrap(), Some(7));
    }
}
