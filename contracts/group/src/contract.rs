//! Entry points of the group, one small function per message.

use std::collections::BTreeSet;

use conclave_sdk::{Addr, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult};
use tg4::store::{self, HookError};
use tg4::MemberDiff;

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MemberInput, MigrateMsg, QueryMsg};
use crate::state::{self, ContractVersion, MemberInfo, MEMBERS};

pub const CONTRACT_NAME: &str = env!("CARGO_PKG_NAME");
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Page sizes of list_members and list_members_by_points.
pub use tg4::store::{DEFAULT_LIMIT, MAX_LIMIT};

pub fn instantiate(deps: DepsMut, env: Env, _info: MessageInfo, msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    let admin = validate_optional(deps.as_ref(), msg.admin.as_deref())?;
    state::save_admin(deps.storage, &admin.clone().map(Addr::into_string))?;
    state::save_hooks(deps.storage, &[])?;
    record_version(deps.storage)?;
    let height = env.block.height;
    let mut seen = BTreeSet::new();
    let mut total: u64 = 0;
    for member in &msg.members {
        let addr = deps.api.addr_validate(&member.addr)?;
        if !seen.insert(addr.clone()) {
            return Err(ContractError::DuplicateMember(addr.into_string()));
        }
        total = total.checked_add(member.points).ok_or(ContractError::TotalPointsOverflow)?;
        let info = MemberInfo { points: member.points, start_height: Some(height) };
        MEMBERS.save_member(deps.storage, addr.as_str(), Some(info), height)?;
    }
    MEMBERS.save_total(deps.storage, total, height)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", admin.map_or_else(|| "none".to_string(), Addr::into_string))
        .add_attribute("members", msg.members.len().to_string())
        .add_attribute("total_points", total.to_string()))
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg)
    -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::UpdateAdmin { admin } => update_admin(deps, info, admin),
        ExecuteMsg::UpdateMembers { add, remove } => update_members(deps, env, info, add, remove),
        ExecuteMsg::AddHook { addr } => add_hook(deps, info, addr),
        ExecuteMsg::RemoveHook { addr } => remove_hook(deps, info, addr),
    }
}

/// Fails unless `sender` is the current admin.
fn ensure_admin(deps: Deps, sender: &Addr) -> Result<(), ContractError> {
    match state::load_admin(deps.storage)? {
        Some(admin) if admin == sender.as_str() => Ok(()),
        _ => Err(ContractError::Unauthorized),
    }
}

fn validate_optional(deps: Deps, addr: Option<&str>) -> StdResult<Option<Addr>> {
    addr.map(|a| deps.api.addr_validate(a)).transpose()
}

fn update_admin(deps: DepsMut, info: MessageInfo, admin: Option<String>) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let admin = validate_optional(deps.as_ref(), admin.as_deref())?;
    state::save_admin(deps.storage, &admin.clone().map(Addr::into_string))?;
    Ok(Response::new()
        .add_attribute("action", "update_admin")
        .add_attribute("admin", admin.map_or_else(|| "none".to_string(), Addr::into_string)))
}

/// Applies `add` then `remove` at this height and calls every hook with the diffs (adds in
/// the order given, then removals of actual members).
fn update_members(deps: DepsMut, env: Env, info: MessageInfo, add: Vec<MemberInput>, remove: Vec<String>)
    -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let height = env.block.height;
    let mut added = BTreeSet::new();
    let mut adds = Vec::with_capacity(add.len());
    for member in add {
        let addr = deps.api.addr_validate(&member.addr)?;
        if !added.insert(addr.clone()) {
            return Err(ContractError::DuplicateMember(addr.into_string()));
        }
        adds.push((addr, member.points));
    }
    let mut removes = Vec::with_capacity(remove.len());
    let mut removed = BTreeSet::new();
    for addr in remove {
        let addr = deps.api.addr_validate(&addr)?;
        if added.contains(&addr) {
            return Err(ContractError::AddAndRemove(addr.into_string()));
        }
        if removed.insert(addr.clone()) {
            removes.push(addr);
        }
    }

    let mut total = MEMBERS.total(deps.storage)?;
    let mut diffs = Vec::new();
    for (addr, points) in adds {
        let old = MEMBERS.member(deps.storage, addr.as_str())?;
        let old_points = old.map(|m| m.points);
        total = total
            .checked_sub(old_points.unwrap_or(0))
            .and_then(|t| t.checked_add(points))
            .ok_or(ContractError::TotalPointsOverflow)?;
        let start_height = old.and_then(|m| m.start_height).or(Some(height));
        MEMBERS.save_member(deps.storage, addr.as_str(), Some(MemberInfo { points, start_height }), height)?;
        diffs.push(MemberDiff::new(addr.into_string(), old_points, Some(points)));
    }
    for addr in removes {
        if let Some(old) = MEMBERS.member(deps.storage, addr.as_str())? {
            total -= old.points;
            MEMBERS.save_member(deps.storage, addr.as_str(), None, height)?;
            diffs.push(MemberDiff::new(addr.into_string(), Some(old.points), None));
        }
    }
    MEMBERS.save_total(deps.storage, total, height)?;

    let response = Response::new()
        .add_attribute("action", "update_members")
        .add_attribute("changed", diffs.len().to_string())
        .add_attribute("total_points", total.to_string());
    Ok(store::with_hook_msgs(deps.storage, response, diffs)?)
}

fn add_hook(deps: DepsMut, info: MessageInfo, addr: String) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let hook = deps.api.addr_validate(&addr)?.into_string();
    store::add_hook(deps.storage, &hook, usize::MAX, |_| ContractError::HookAlreadyRegistered(hook.clone()))?;
    Ok(Response::new().add_attribute("action", "add_hook").add_attribute("hook", hook))
}

fn remove_hook(deps: DepsMut, info: MessageInfo, addr: String) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let hook = deps.api.addr_validate(&addr)?.into_string();
    store::remove_hook(deps.storage, &hook, |_: HookError| ContractError::HookNotRegistered(hook.clone()))?;
    Ok(Response::new().add_attribute("action", "remove_hook").add_attribute("hook", hook))
}

/// The tg4 queries; the address of `member` and the `start_after` of `list_members` must
/// be valid addresses.
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    if !matches!(msg, QueryMsg::ListMembersByPoints { .. }) {
        if let Some(addr) = msg.addr() {
            deps.api.addr_validate(addr)?;
        }
    }
    Ok(MEMBERS.query(deps.storage, msg)?)
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
    use conclave_sdk::testing::{message_info, mock_dependencies, mock_env, MemoryStorage, MockApi, MockQuerier};
    use conclave_sdk::{from_json, CosmosMsg, OwnedDeps, ReplyOn, Storage, WasmMsg};
    use tg4::{AdminResponse, HooksResponse, Member, MemberListResponse, MemberResponse, TotalPointsResponse};

    type TestDeps = OwnedDeps<MemoryStorage, MockApi, MockQuerier>;

    fn env_at(height: u64) -> Env {
        let mut env = mock_env();
        env.block.height = height;
        env
    }

    fn setup() -> TestDeps {
        let mut deps = mock_dependencies();
        let msg = InstantiateMsg {
            admin: Some("admin".into()),
            members: vec![MemberInput::new("alice", 10), MemberInput::new("bob", 7)],
        };
        instantiate(deps.as_mut(), env_at(100), message_info("creator", &[]), msg).unwrap();
        deps
    }

    fn q<T: serde::de::DeserializeOwned>(deps: &TestDeps, msg: QueryMsg) -> T {
        from_json(query(deps.as_ref(), mock_env(), msg).unwrap()).unwrap()
    }

    fn points(deps: &TestDeps, addr: &str, at_height: Option<u64>) -> Option<u64> {
        q::<MemberResponse>(deps, QueryMsg::Member { addr: addr.into(), at_height }).points
    }

    fn total(deps: &TestDeps, at_height: Option<u64>) -> u64 {
        q::<TotalPointsResponse>(deps, QueryMsg::TotalPoints { at_height }).points
    }

    fn update(deps: &mut TestDeps, sender: &str, height: u64, add: Vec<MemberInput>, remove: Vec<&str>)
        -> Result<Response, ContractError> {
        let msg = ExecuteMsg::UpdateMembers { add, remove: remove.into_iter().map(String::from).collect() };
        execute(deps.as_mut(), env_at(height), message_info(sender, &[]), msg)
    }

    #[test]
    fn instantiate_sets_members_and_total() {
        let deps = setup();
        assert_eq!(points(&deps, "alice", None), Some(10));
        assert_eq!(points(&deps, "carol", None), None);
        assert_eq!(total(&deps, None), 17);
        let admin: AdminResponse = q(&deps, QueryMsg::Admin {});
        assert_eq!(admin.admin.as_deref(), Some("admin"));
        let member: MemberResponse = q(&deps, QueryMsg::Member { addr: "bob".into(), at_height: None });
        assert_eq!(member, MemberResponse { points: Some(7), start_height: Some(100) });
        // Not a member yet at the start of the instantiation block.
        assert_eq!(points(&deps, "alice", Some(100)), None);
        assert_eq!(total(&deps, Some(100)), 0);
        assert_eq!(points(&deps, "alice", Some(101)), Some(10));
    }

    #[test]
    fn instantiate_rejects_duplicates_and_bad_addresses() {
        let mut deps = mock_dependencies();
        let msg = InstantiateMsg { admin: None, members: vec![MemberInput::new("a", 1), MemberInput::new("a", 2)] };
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap_err();
        assert_eq!(err.to_string(), "Duplicate member: a");
        let msg = InstantiateMsg { admin: Some("BAD".into()), members: vec![] };
        let err = instantiate(deps.as_mut(), mock_env(), message_info("c", &[]), msg).unwrap_err();
        assert!(err.to_string().contains("Invalid address"), "{}", err);
    }

    #[test]
    fn update_members_changes_points_and_snapshots() {
        let mut deps = setup();
        let err = update(&mut deps, "alice", 105, vec![MemberInput::new("carol", 1)], vec![]).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);

        let res = update(&mut deps, "admin", 105, vec![MemberInput::new("carol", 5), MemberInput::new("alice", 3)], vec!["bob", "nobody"])
            .unwrap();
        assert!(res.messages.is_empty());
        assert_eq!(points(&deps, "alice", None), Some(3));
        assert_eq!(points(&deps, "bob", None), None);
        assert_eq!(points(&deps, "carol", None), Some(5));
        assert_eq!(total(&deps, None), 8);
        // A second change in the same block keeps the snapshot of the block's start.
        update(&mut deps, "admin", 105, vec![MemberInput::new("alice", 4)], vec![]).unwrap();
        assert_eq!(total(&deps, None), 9);

        for (height, alice, bob, carol, sum) in [
            (101, Some(10), Some(7), None, 17),
            (105, Some(10), Some(7), None, 17),
            (106, Some(4), None, Some(5), 9),
        ] {
            assert_eq!(points(&deps, "alice", Some(height)), alice, "alice at {}", height);
            assert_eq!(points(&deps, "bob", Some(height)), bob, "bob at {}", height);
            assert_eq!(points(&deps, "carol", Some(height)), carol, "carol at {}", height);
            assert_eq!(total(&deps, Some(height)), sum, "total at {}", height);
        }

        update(&mut deps, "admin", 110, vec![MemberInput::new("bob", 2)], vec!["alice"]).unwrap();
        assert_eq!(points(&deps, "alice", Some(108)), Some(4));
        assert_eq!(points(&deps, "alice", Some(111)), None);
        assert_eq!(points(&deps, "bob", Some(108)), None);
        assert_eq!(points(&deps, "bob", Some(111)), Some(2));
        assert_eq!(total(&deps, Some(103)), 17);
        assert_eq!(total(&deps, Some(108)), 9);
        assert_eq!(total(&deps, Some(111)), 7);
        // Bob rejoined at 110.
        let bob: MemberResponse = q(&deps, QueryMsg::Member { addr: "bob".into(), at_height: None });
        assert_eq!(bob.start_height, Some(110));
    }

    #[test]
    fn update_members_rejects_bad_input() {
        let mut deps = setup();
        let err = update(&mut deps, "admin", 101, vec![MemberInput::new("x", 1), MemberInput::new("x", 2)], vec![])
            .unwrap_err();
        assert_eq!(err.to_string(), "Duplicate member: x");
        let err = update(&mut deps, "admin", 101, vec![MemberInput::new("x", 1)], vec!["x"]).unwrap_err();
        assert_eq!(err, ContractError::AddAndRemove("x".into()));
        let err = update(&mut deps, "admin", 101, vec![MemberInput::new("Not-Valid", 1)], vec![]).unwrap_err();
        assert!(err.to_string().contains("Invalid address"), "{}", err);
        let err = update(&mut deps, "admin", 101, vec![MemberInput::new("x", u64::MAX)], vec![]).unwrap_err();
        assert_eq!(err, ContractError::TotalPointsOverflow);
    }

    #[test]
    fn hooks_get_the_diffs() {
        let mut deps = setup();
        let add = |deps: &mut TestDeps, who: &str, addr: &str| {
            execute(deps.as_mut(), mock_env(), message_info(who, &[]), ExecuteMsg::AddHook { addr: addr.into() })
        };
        assert_eq!(add(&mut deps, "alice", "hook1").unwrap_err(), ContractError::Unauthorized);
        add(&mut deps, "admin", "hook1").unwrap();
        add(&mut deps, "admin", "hook2").unwrap();
        assert_eq!(add(&mut deps, "admin", "hook1").unwrap_err().to_string(), "Hook already registered: hook1");
        let hooks: HooksResponse = q(&deps, QueryMsg::Hooks {});
        assert_eq!(hooks.hooks, vec!["hook1", "hook2"]);

        let res = update(&mut deps, "admin", 101, vec![MemberInput::new("carol", 2)], vec!["bob"]).unwrap();
        assert_eq!(res.messages.len(), 2);
        let expected = br#"{"member_changed_hook":{"diffs":[{"key":"carol","old":null,"new":2},{"key":"bob","old":7,"new":null}]}}"#;
        for (sub, hook) in res.messages.iter().zip(["hook1", "hook2"]) {
            assert_eq!(sub.reply_on, ReplyOn::Never);
            match &sub.msg {
                CosmosMsg::Wasm(WasmMsg::Execute { contract_addr, msg, .. }) => {
                    assert_eq!(contract_addr, hook);
                    assert_eq!(msg.as_slice(), &expected[..]);
                }
                other => panic!("unexpected {:?}", other),
            }
        }

        let remove = ExecuteMsg::RemoveHook { addr: "hook1".into() };
        execute(deps.as_mut(), mock_env(), message_info("admin", &[]), remove.clone()).unwrap();
        let err = execute(deps.as_mut(), mock_env(), message_info("admin", &[]), remove).unwrap_err();
        assert_eq!(err.to_string(), "Hook not registered: hook1");
        let hooks: HooksResponse = q(&deps, QueryMsg::Hooks {});
        assert_eq!(hooks.hooks, vec!["hook2"]);
    }

    #[test]
    fn update_admin_hands_over_and_freezes() {
        let mut deps = setup();
        let to = |admin: Option<&str>| ExecuteMsg::UpdateAdmin { admin: admin.map(String::from) };
        let err = execute(deps.as_mut(), mock_env(), message_info("bob", &[]), to(Some("bob"))).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
        execute(deps.as_mut(), mock_env(), message_info("admin", &[]), to(Some("bob"))).unwrap();
        assert_eq!(q::<AdminResponse>(&deps, QueryMsg::Admin {}).admin.as_deref(), Some("bob"));
        execute(deps.as_mut(), mock_env(), message_info("bob", &[]), to(None)).unwrap();
        assert_eq!(q::<AdminResponse>(&deps, QueryMsg::Admin {}).admin, None);
        let err = execute(deps.as_mut(), mock_env(), message_info("bob", &[]), to(Some("bob"))).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
    }

    #[test]
    fn lists_page_in_order() {
        let mut deps = mock_dependencies();
        let members: Vec<MemberInput> =
            (0..35u64).map(|i| MemberInput::new(format!("m{:02}", i), i % 4)).collect();
        instantiate(deps.as_mut(), env_at(1), message_info("c", &[]), InstantiateMsg { admin: None, members })
            .unwrap();

        let page: MemberListResponse = q(&deps, QueryMsg::ListMembers { start_after: None, limit: None });
        assert_eq!(page.members.len(), 10);
        assert_eq!(page.members[0], Member { addr: "m00".into(), points: 0, start_height: Some(1) });
        let page: MemberListResponse =
            q(&deps, QueryMsg::ListMembers { start_after: Some("m09".into()), limit: Some(100) });
        assert_eq!(page.members.len(), 25);
        assert_eq!(page.members[0].addr, "m10");
        assert_eq!(page.members[24].addr, "m34");

        let mut seen = vec![];
        let mut start_after = None;
        loop {
            let page: MemberListResponse =
                q(&deps, QueryMsg::ListMembersByPoints { start_after: start_after.clone(), limit: Some(7) });
            if page.members.is_empty() {
                break;
            }
            start_after = page.members.last().cloned();
            seen.extend(page.members.into_iter().map(|m| (m.points, m.addr)));
        }
        let mut expected: Vec<(u64, String)> = (0..35u64).map(|i| (i % 4, format!("m{:02}", i))).collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(seen, expected);
        assert_eq!(seen[0], (3, "m03".to_string()));
    }

    #[test]
    fn migrate_records_version() {
        let mut deps = setup();
        deps.storage.set(state::CONTRACT_INFO, br#"{"contract":"group","version":"0.0.1"}"#);
        migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
        let version: ContractVersion = state::may_load(&deps.storage, state::CONTRACT_INFO).unwrap().unwrap();
        assert_eq!(version, ContractVersion { contract: "group".into(), version: CONTRACT_VERSION.into() });
        assert_eq!(total(&deps, None), 17);
    }
}
