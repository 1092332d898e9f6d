//! Entry points of the engagement contract, one small function per message.

use std::collections::BTreeSet;

use conclave_sdk::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};

use crate::error::ContractError;
use tg4::store::{self, HookError};

use crate::msg::{
    ExecuteMsg, HalflifeResponse, InstantiateMsg, MemberInit, MigrateMsg, QueryMsg, SudoMsg, MAX_ADDR_LEN,
    MAX_HOOKS, MAX_INITIAL_MEMBERS, MAX_UPDATE_MEMBERS,
};
use crate::state::{self, Changes, ContractVersion, Halflife, ADMIN, CONTRACT_INFO, HALFLIFE, HOOKS, MEMBERS};

const CONTRACT_NAME: &str = "engagement";
const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn instantiate(deps: DepsMut, env: Env, info: MessageInfo, msg: InstantiateMsg) -> Result<Response, ContractError> {
    no_funds(&info)?;
    let admin = match msg.admin {
        Some(admin) => Some(validate_addr(&deps, &admin)?),
        None => None,
    };
    check_halflife(msg.halflife)?;
    check_len("members", msg.members.len(), MAX_INITIAL_MEMBERS)?;
    let mut seen = BTreeSet::new();
    for member in &msg.members {
        let addr = validate_addr(&deps, &member.addr)?;
        if !seen.insert(addr) {
            return Err(ContractError::DuplicateAddress(member.addr.clone()));
        }
    }
    state::save(deps.storage, ADMIN, &admin)?;
    state::save(deps.storage, HOOKS, &Vec::<String>::new())?;
    state::save(deps.storage, HALFLIFE, &Halflife { halflife: msg.halflife, last_halflife: env.block.time.seconds() })?;
    set_version(deps.storage)?;
    let mut changes = Changes::new();
    for member in msg.members {
        MEMBERS.set_points(deps.storage, env.block.height, &member.addr, Some(member.points), &mut changes)?;
    }
    Ok(Response::new().add_attribute("action", "instantiate"))
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    no_funds(&info)?;
    only_admin(&deps, &info)?;
    match msg {
        ExecuteMsg::UpdateMembers { add, remove } => update_members(deps, env, add, remove),
        ExecuteMsg::AddPoints { addr, points } => add_points(deps, env, addr, points),
        ExecuteMsg::UpdateHalflife { halflife } => update_halflife(deps, halflife),
        ExecuteMsg::AddHook { addr } => add_hook(deps, addr),
        ExecuteMsg::RemoveHook { addr } => remove_hook(deps, addr),
        ExecuteMsg::UpdateAdmin { admin } => update_admin(deps, admin),
    }
}

/// Removes `remove`, then sets the points of `add`; an address may appear only once.
fn update_members(deps: DepsMut, env: Env, add: Vec<MemberInit>, remove: Vec<String>) -> Result<Response, ContractError> {
    check_len("members to add", add.len(), MAX_UPDATE_MEMBERS)?;
    check_len("members to remove", remove.len(), MAX_UPDATE_MEMBERS)?;
    let mut seen = BTreeSet::new();
    for addr in remove.iter().chain(add.iter().map(|m| &m.addr)) {
        let valid = validate_addr(&deps, addr)?;
        if !seen.insert(valid) {
            return Err(ContractError::DuplicateAddress(addr.clone()));
        }
    }
    let mut changes = Changes::new();
    for addr in &remove {
        MEMBERS.set_points(deps.storage, env.block.height, addr, None, &mut changes)?;
    }
    for member in &add {
        MEMBERS.set_points(deps.storage, env.block.height, &member.addr, Some(member.points), &mut changes)?;
    }
    Ok(with_hooks(&deps, changes)?.add_attribute("action", "update_members"))
}

fn add_points(deps: DepsMut, env: Env, addr: String, points: u64) -> Result<Response, ContractError> {
    validate_addr(&deps, &addr)?;
    let old = MEMBERS.member(deps.storage, &addr)?.unwrap_or(0);
    let new = old.checked_add(points).ok_or(ContractError::PointsOverflow)?;
    let mut changes = Changes::new();
    MEMBERS.set_points(deps.storage, env.block.height, &addr, Some(new), &mut changes)?;
    Ok(with_hooks(&deps, changes)?
        .add_attribute("action", "add_points")
        .add_attribute("addr", addr)
        .add_attribute("points", new.to_string()))
}

/// Changes the halflife; the time of the last halving is kept.
fn update_halflife(deps: DepsMut, halflife: Option<u64>) -> Result<Response, ContractError> {
    check_halflife(halflife)?;
    let mut config: Halflife = state::load(deps.storage, HALFLIFE)?;
    config.halflife = halflife;
    state::save(deps.storage, HALFLIFE, &config)?;
    Ok(Response::new().add_attribute("action", "update_halflife"))
}

fn add_hook(deps: DepsMut, addr: String) -> Result<Response, ContractError> {
    let addr = validate_addr(&deps, &addr)?;
    store::add_hook(deps.storage, &addr, MAX_HOOKS, |err| match err {
        HookError::TooMany => ContractError::TooMany { what: "hooks", max: MAX_HOOKS },
        _ => ContractError::HookAlreadyRegistered(addr.clone()),
    })?;
    Ok(Response::new().add_attribute("action", "add_hook").add_attribute("hook", addr))
}

fn remove_hook(deps: DepsMut, addr: String) -> Result<Response, ContractError> {
    store::remove_hook(deps.storage, &addr, |_| ContractError::HookNotRegistered(addr.clone()))?;
    Ok(Response::new().add_attribute("action", "remove_hook").add_attribute("hook", addr))
}

fn update_admin(deps: DepsMut, admin: Option<String>) -> Result<Response, ContractError> {
    let admin = match admin {
        Some(admin) => Some(validate_addr(&deps, &admin)?),
        None => None,
    };
    state::save(deps.storage, ADMIN, &admin)?;
    Ok(Response::new().add_attribute("action", "update_admin").add_attribute("admin", admin.unwrap_or_default()))
}

pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::EndBlock {} => end_block(deps, env),
        SudoMsg::PrivilegeChange(_) => Ok(Response::new().add_attribute("action", "privilege_change")),
    }
}

/// Once `last_halflife + halflife <= now`: every member's points become floor(points / 2)
/// (members stay, possibly with 0 points), hooks get the diffs, `last_halflife = now`.
fn end_block(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let mut config: Halflife = state::load(deps.storage, HALFLIFE)?;
    let now = env.block.time.seconds();
    let due = match config.halflife {
        Some(halflife) => config.last_halflife.saturating_add(halflife) <= now,
        None => false,
    };
    if !due {
        return Ok(Response::new());
    }
    let mut changes = Changes::new();
    let mut start_after: Option<String> = None;
    loop {
        let page = MEMBERS.members_by_addr(deps.storage, start_after.as_deref(), 100)?;
        let last = match page.last() {
            Some((addr, _)) => addr.clone(),
            None => break,
        };
        for (addr, points) in page {
            if points > 0 {
                MEMBERS.set_points(deps.storage, env.block.height, &addr, Some(points / 2), &mut changes)?;
            }
        }
        start_after = Some(last);
    }
    config.last_halflife = now;
    state::save(deps.storage, HALFLIFE, &config)?;
    Ok(with_hooks(&deps, changes)?.add_attribute("action", "halflife"))
}

pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    match msg.into_tg4() {
        Ok(tg4_query) => {
            if let Some(addr) = tg4_query.addr() {
                check_addr_len(addr)?;
            }
            Ok(MEMBERS.query(deps.storage, tg4_query)?)
        }
        Err(QueryMsg::Halflife {}) => {
            let config: Halflife = state::load(deps.storage, HALFLIFE)?;
            Ok(to_json_binary(&HalflifeResponse {
                halflife: config.halflife,
                last_halflife: config.last_halflife,
                next_halflife: config.halflife.map(|h| config.last_halflife.saturating_add(h)),
            })?)
        }
        Err(_) => unreachable!("every own query is answered above"),
    }
}

/// Records the contract name and version of this code.
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    set_version(deps.storage)?;
    Ok(Response::new().add_attribute("action", "migrate").add_attribute("version", CONTRACT_VERSION))
}

fn set_version(storage: &mut dyn conclave_sdk::Storage) -> Result<(), ContractError> {
    let version = ContractVersion { contract: CONTRACT_NAME.to_string(), version: CONTRACT_VERSION.to_string() };
    Ok(state::save(storage, CONTRACT_INFO, &version)?)
}

/// A response carrying `member_changed_hook` to every hook when something changed.
fn with_hooks(deps: &DepsMut, changes: Changes) -> Result<Response, ContractError> {
    let diffs = store::diffs(changes);
    if diffs.is_empty() {
        return Ok(Response::new());
    }
    Ok(store::with_hook_msgs(deps.storage, Response::new(), diffs)?)
}

fn no_funds(info: &MessageInfo) -> Result<(), ContractError> {
    if info.funds.is_empty() {
        Ok(())
    } else {
        Err(ContractError::FundsNotAccepted)
    }
}

fn only_admin(deps: &DepsMut, info: &MessageInfo) -> Result<(), ContractError> {
    match state::load_admin(deps.storage)? {
        Some(admin) if admin == info.sender.as_str() => Ok(()),
        _ => Err(ContractError::Unauthorized),
    }
}

fn check_addr_len(addr: &str) -> Result<(), ContractError> {
    if addr.len() > MAX_ADDR_LEN {
        return Err(ContractError::AddressTooLong);
    }
    Ok(())
}

/// A valid address in its normal form (the chain's bech32 check).
fn validate_addr(deps: &DepsMut, addr: &str) -> Result<String, ContractError> {
    check_addr_len(addr)?;
    Ok(deps.api.addr_validate(addr)?.into_string())
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<(), ContractError> {
    if len > max {
        return Err(ContractError::TooMany { what, max });
    }
    Ok(())
}

fn check_halflife(halflife: Option<u64>) -> Result<(), ContractError> {
    if halflife == Some(0) {
        return Err(ContractError::InvalidHalflife);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::testing::{message_info, mock_dependencies, mock_env, MemoryStorage, MockApi, MockQuerier};
    use conclave_sdk::{coin, from_json, CosmosMsg, OwnedDeps, Timestamp, WasmMsg};
    use crate::msg::{MemberListResponse, MemberResponse, TotalPointsResponse};

    type TestDeps = OwnedDeps<MemoryStorage, MockApi, MockQuerier>;

    fn env_at(height: u64, seconds: u64) -> Env {
        let mut env = mock_env();
        env.block.height = height;
        env.block.time = Timestamp::from_seconds(seconds);
        env
    }

    fn setup(halflife: Option<u64>) -> TestDeps {
        let mut deps = mock_dependencies();
        let msg = InstantiateMsg {
            admin: Some("admin".into()),
            members: vec![MemberInit { addr: "bob".into(), points: 7 }, MemberInit { addr: "alice".into(), points: 10 }],
            halflife,
        };
        instantiate(deps.as_mut(), env_at(10, 1000), message_info("creator", &[]), msg).unwrap();
        deps
    }

    fn member(deps: &TestDeps, addr: &str, at_height: Option<u64>) -> Option<u64> {
        let q = QueryMsg::Member { addr: addr.into(), at_height };
        from_json::<MemberResponse>(query(deps.as_ref(), mock_env(), q).unwrap()).unwrap().points
    }

    fn total(deps: &TestDeps, at_height: Option<u64>) -> u64 {
        let q = QueryMsg::TotalPoints { at_height };
        from_json::<TotalPointsResponse>(query(deps.as_ref(), mock_env(), q).unwrap()).unwrap().points
    }

    #[test]
    fn instantiate_validates() {
        let mut deps = mock_dependencies();
        let dup = InstantiateMsg {
            admin: None,
            members: vec![MemberInit { addr: "a".into(), points: 1 }, MemberInit { addr: "a".into(), points: 2 }],
            halflife: None,
        };
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), dup).unwrap_err();
        assert_eq!(err.to_string(), "Address listed more than once: a");
        let zero = InstantiateMsg { admin: None, members: vec![], halflife: Some(0) };
        assert_eq!(
            instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), zero).unwrap_err(),
            ContractError::InvalidHalflife
        );
        let funded = InstantiateMsg { admin: None, members: vec![], halflife: None };
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[coin(1, "u")]), funded).unwrap_err();
        assert_eq!(err, ContractError::FundsNotAccepted);
    }

    #[test]
    fn snapshots_follow_heights() {
        let mut deps = setup(None);
        assert_eq!(member(&deps, "alice", None), Some(10));
        assert_eq!(member(&deps, "alice", Some(10)), None);
        assert_eq!(member(&deps, "alice", Some(11)), Some(10));
        assert_eq!(total(&deps, Some(10)), 0);
        assert_eq!(total(&deps, Some(11)), 17);
        let msg = ExecuteMsg::UpdateMembers {
            add: vec![MemberInit { addr: "carl".into(), points: 5 }, MemberInit { addr: "alice".into(), points: 3 }],
            remove: vec!["bob".into()],
        };
        execute(deps.as_mut(), env_at(20, 2000), message_info("admin", &[]), msg).unwrap();
        // a second change in the same block keeps the value from the block's start
        let msg = ExecuteMsg::AddPoints { addr: "alice".into(), points: 1 };
        execute(deps.as_mut(), env_at(20, 2000), message_info("admin", &[]), msg).unwrap();
        assert_eq!(member(&deps, "alice", Some(20)), Some(10));
        assert_eq!(member(&deps, "alice", Some(21)), Some(4));
        assert_eq!(member(&deps, "alice", Some(15)), Some(10));
        assert_eq!(member(&deps, "bob", Some(20)), Some(7));
        assert_eq!(member(&deps, "bob", None), None);
        assert_eq!(total(&deps, Some(20)), 17);
        assert_eq!(total(&deps, None), 9);
        let q = QueryMsg::ListMembersByPoints { start_after: None, limit: None };
        let list: MemberListResponse = from_json(query(deps.as_ref(), mock_env(), q).unwrap()).unwrap();
        let order: Vec<(String, u64)> = list.members.into_iter().map(|m| (m.addr, m.points)).collect();
        assert_eq!(order, vec![("carl".to_string(), 5), ("alice".to_string(), 4)]);
    }

    #[test]
    fn hooks_get_sorted_diffs() {
        let mut deps = setup(None);
        execute(deps.as_mut(), mock_env(), message_info("admin", &[]), ExecuteMsg::AddHook { addr: "mixer".into() })
            .unwrap();
        let msg = ExecuteMsg::UpdateMembers {
            add: vec![MemberInit { addr: "zed".into(), points: 1 }, MemberInit { addr: "alice".into(), points: 10 }],
            remove: vec!["bob".into()],
        };
        let res = execute(deps.as_mut(), mock_env(), message_info("admin", &[]), msg).unwrap();
        assert_eq!(res.messages.len(), 1);
        match &res.messages[0].msg {
            CosmosMsg::Wasm(WasmMsg::Execute { contract_addr, msg, .. }) => {
                assert_eq!(contract_addr, "mixer");
                assert_eq!(
                    std::str::from_utf8(msg.as_slice()).unwrap(),
                    r#"{"member_changed_hook":{"diffs":[{"key":"bob","old":7,"new":null},{"key":"zed","old":null,"new":1}]}}"#
                );
            }
            other => panic!("unexpected {:?}", other),
        }
        let err = execute(deps.as_mut(), mock_env(), message_info("bob", &[]), ExecuteMsg::AddHook { addr: "x".into() })
            .unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
    }

    #[test]
    fn halflife_halves_once_per_window() {
        let mut deps = setup(Some(100));
        let res = sudo(deps.as_mut(), env_at(11, 1099), SudoMsg::EndBlock {}).unwrap();
        assert!(res.attributes.is_empty());
        assert_eq!(member(&deps, "alice", None), Some(10));
        sudo(deps.as_mut(), env_at(12, 1100), SudoMsg::EndBlock {}).unwrap();
        assert_eq!(member(&deps, "alice", None), Some(5));
        assert_eq!(member(&deps, "bob", None), Some(3));
        assert_eq!(total(&deps, None), 8);
        // 5 windows later: still a single halving
        sudo(deps.as_mut(), env_at(13, 1700), SudoMsg::EndBlock {}).unwrap();
        assert_eq!(member(&deps, "alice", None), Some(2));
        for (i, t) in [1800u64, 1900, 2000].iter().enumerate() {
            sudo(deps.as_mut(), env_at(14 + i as u64, *t), SudoMsg::EndBlock {}).unwrap();
        }
        assert_eq!(member(&deps, "alice", None), Some(0));
        assert_eq!(member(&deps, "bob", None), Some(0));
        let h: HalflifeResponse = from_json(query(deps.as_ref(), mock_env(), QueryMsg::Halflife {}).unwrap()).unwrap();
        assert_eq!(h, HalflifeResponse { halflife: Some(100), last_halflife: 2000, next_halflife: Some(2100) });
    }

    #[test]
    fn add_points_accumulates_and_checks_overflow() {
        let mut deps = setup(None);
        let admin = message_info("admin", &[]);
        execute(deps.as_mut(), mock_env(), admin.clone(), ExecuteMsg::AddPoints { addr: "alice".into(), points: 5 })
            .unwrap();
        execute(deps.as_mut(), mock_env(), admin.clone(), ExecuteMsg::AddPoints { addr: "new".into(), points: 2 })
            .unwrap();
        assert_eq!(member(&deps, "alice", None), Some(15));
        assert_eq!(member(&deps, "new", None), Some(2));
        let err = execute(deps.as_mut(), mock_env(), admin, ExecuteMsg::AddPoints { addr: "alice".into(), points: u64::MAX })
            .unwrap_err();
        assert_eq!(err, ContractError::PointsOverflow);
    }
}
