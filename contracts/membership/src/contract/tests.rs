//! Native unit tests of the trusted circle's logic (the Python tests run the wasm on TestApp).

use super::*;
use crate::msg::{Distribution, Punishment};
use conclave_sdk::serde_json::json;
use conclave_sdk::testing::{message_info, mock_dependencies, mock_env, MemoryStorage, MockApi, MockQuerier};
use conclave_sdk::{from_json, Coin, CosmosMsg, OwnedDeps, Timestamp};

const ADMIN: &str = "admin";
const DENOM: &str = "ucnv";
const ESCROW: u128 = 1_000;
const VP: u64 = 3_600;

type TestDeps = OwnedDeps<MemoryStorage, MockApi, MockQuerier>;

fn env_at(height: u64, seconds: u64) -> Env {
    let mut env = mock_env();
    env.block.height = height;
    env.block.time = Timestamp::from_seconds(seconds);
    env
}

fn setup(members: &[&str]) -> TestDeps {
    let mut deps = mock_dependencies();
    let msg = json!({"denom": DENOM, "escrow_amount": ESCROW.to_string(), "voting_period": VP, "admin": ADMIN,
                     "initial_members": members, "deny_list": ["denied"]});
    let funds = if members.is_empty() { vec![] } else { vec![coin(ESCROW * members.len() as u128, DENOM)] };
    instantiate(deps.as_mut(), env_at(1, 1_000), message_info(ADMIN, &funds), msg).unwrap();
    deps
}

fn exec(deps: &mut TestDeps, env: Env, sender: &str, funds: &[Coin], msg: Value) -> ExecuteResult {
    execute(deps.as_mut(), env, message_info(sender, funds), msg)
}

fn status(deps: &TestDeps, addr: &str) -> Option<Status> {
    let answer: MemberStatusResponse = from_json(
        query(deps.as_ref(), mock_env(), json!({"member_status": {"addr": addr}})).unwrap(),
    )
    .unwrap();
    answer.status
}

fn points(deps: &TestDeps, addr: &str, at_height: Option<u64>) -> Option<u64> {
    let answer: MemberResponse =
        from_json(query(deps.as_ref(), mock_env(), json!({"member": {"addr": addr, "at_height": at_height}})).unwrap())
            .unwrap();
    answer.points
}

fn total(deps: &TestDeps, at_height: Option<u64>) -> u64 {
    let answer: TotalPointsResponse =
        from_json(query(deps.as_ref(), mock_env(), json!({"total_points": {"at_height": at_height}})).unwrap()).unwrap();
    answer.points
}

#[test]
fn parses_ratios_as_billionths() {
    assert_eq!(parse_ratio("0").unwrap(), 0);
    assert_eq!(parse_ratio("1").unwrap(), RATIO_ONE);
    assert_eq!(parse_ratio("1.000000000").unwrap(), RATIO_ONE);
    assert_eq!(parse_ratio("0.5").unwrap(), 500_000_000);
    assert_eq!(parse_ratio("0.000000001").unwrap(), 1);
    for bad in ["", ".5", "1.", "1.0000000001", "1.1", "2", "-0.1", "0,5", "0.5x", "01.5", " 0.5"] {
        assert!(parse_ratio(bad).is_err(), "{}", bad);
    }
}

#[test]
fn applies_ratios_exactly_with_floor() {
    assert_eq!(apply_ratio(Uint128::new(1_000), 250_000_000), Uint128::new(250));
    assert_eq!(apply_ratio(Uint128::new(999), 500_000_000), Uint128::new(499));
    assert_eq!(apply_ratio(Uint128::MAX, RATIO_ONE), Uint128::MAX);
    assert_eq!(apply_ratio(Uint128::MAX, 0), Uint128::zero());
}

#[test]
fn splits_slash_equally_with_remainder_to_the_first() {
    let to = vec![Addr::unchecked("a"), Addr::unchecked("b"), Addr::unchecked("c")];
    let msgs = split_among(Uint128::new(5), &to, DENOM);
    let amounts: Vec<u128> = msgs
        .iter()
        .map(|m| match m {
            BankMsg::Send { amount, .. } => amount[0].amount.u128(),
            _ => panic!("not a send"),
        })
        .collect();
    assert_eq!(amounts, vec![2, 2, 1]);
    assert_eq!(split_among(Uint128::new(1), &to, DENOM).len(), 1);
}

#[test]
fn instantiate_requires_exact_escrow_funds() {
    let mut deps = mock_dependencies();
    let msg = json!({"denom": DENOM, "escrow_amount": "1000", "voting_period": VP, "initial_members": ["a", "b"]});
    for funds in [vec![], vec![coin(1_999, DENOM)], vec![coin(2_000, "uatom")]] {
        let err = instantiate(deps.as_mut(), mock_env(), message_info(ADMIN, &funds), msg.clone()).unwrap_err();
        assert!(err.to_string().contains("must send exactly 2000ucnv"), "{}", err);
    }
    instantiate(deps.as_mut(), mock_env(), message_info(ADMIN, &[coin(2_000, DENOM)]), msg).unwrap();
    assert_eq!(total(&deps, None), 2);
}

#[test]
fn batch_promotion_snapshots_and_hook() {
    let mut deps = setup(&["m1"]);
    exec(&mut deps, env_at(2, 1_005), ADMIN, &[], json!({"add_hook": {"addr": "hook"}})).unwrap();
    exec(&mut deps, env_at(2, 1_005), ADMIN, &[], json!({"add_voting_members": {"addrs": ["c2", "c1"]}}))
        .unwrap();
    assert_eq!(status(&deps, "c1"), Some(Status::Pending));
    exec(&mut deps, env_at(3, 1_010), "c1", &[coin(ESCROW, DENOM)], json!({"deposit_escrow": {}})).unwrap();
    exec(&mut deps, env_at(3, 1_010), "c2", &[coin(ESCROW, DENOM)], json!({"deposit_escrow": {}})).unwrap();
    assert_eq!(status(&deps, "c2"), Some(Status::PendingPaid));

    let res = sudo(deps.as_mut(), env_at(4, 1_015), json!({"end_block": {}})).unwrap();
    assert_eq!(status(&deps, "c1"), Some(Status::Voting));
    assert_eq!(res.messages.len(), 1);
    match &res.messages[0].msg {
        CosmosMsg::Wasm(WasmMsg::Execute { contract_addr, msg, funds }) => {
            assert_eq!(contract_addr, "hook");
            assert!(funds.is_empty());
            assert_eq!(
                std::str::from_utf8(msg.as_slice()).unwrap(),
                r#"{"member_changed_hook":{"diffs":[{"key":"c1","old":null,"new":1},{"key":"c2","old":null,"new":1}]}}"#
            );
        }
        other => panic!("unexpected {:?}", other),
    }
    assert_eq!(total(&deps, None), 3);
    assert_eq!(total(&deps, Some(4)), 1);
    assert_eq!(total(&deps, Some(5)), 3);
    assert_eq!(points(&deps, "c1", Some(4)), None);
    assert_eq!(points(&deps, "c1", Some(5)), Some(1));
    assert_eq!(points(&deps, "m1", Some(1)), None);
    assert_eq!(points(&deps, "m1", Some(2)), Some(1));
}

#[test]
fn grace_period_promotes_paid_members_only() {
    let mut deps = setup(&[]);
    exec(&mut deps, env_at(2, 1_000), ADMIN, &[], json!({"add_voting_members": {"addrs": ["a", "b"]}}))
        .unwrap();
    exec(&mut deps, env_at(2, 1_000), "a", &[coin(ESCROW, DENOM)], json!({"deposit_escrow": {}})).unwrap();
    sudo(deps.as_mut(), env_at(3, 1_000 + VP - 1), json!({"end_block": {}})).unwrap();
    assert_eq!(status(&deps, "a"), Some(Status::PendingPaid));
    sudo(deps.as_mut(), env_at(4, 1_000 + VP), json!({"end_block": {}})).unwrap();
    assert_eq!(status(&deps, "a"), Some(Status::Voting));
    assert_eq!(status(&deps, "b"), Some(Status::Pending));
}

#[test]
fn leaving_claims_after_two_voting_periods() {
    let mut deps = setup(&["m1", "m2"]);
    let res = exec(&mut deps, env_at(2, 2_000), "m1", &[], json!({"leave": {}})).unwrap();
    assert!(res.messages.is_empty()); // no hooks registered
    assert_eq!(total(&deps, None), 1);
    let err = exec(&mut deps, env_at(3, 2_000 + 2 * VP - 1), "m1", &[], json!({"claim_escrow": {}})).unwrap_err();
    assert_eq!(err, ContractError::EscrowFrozen { claim_at: 2_000 + 2 * VP });
    let res = sudo(deps.as_mut(), env_at(4, 2_000 + 2 * VP), json!({"end_block": {}})).unwrap();
    assert_eq!(
        res.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send { to_address: "m1".into(), amount: vec![coin(ESCROW, DENOM)] })
    );
    assert_eq!(status(&deps, "m1"), None);
}

#[test]
fn punish_burns_or_distributes_and_kicks() {
    let mut deps = setup(&["m1", "m2"]);
    let punishments = json!([
        {"member": "m1", "slash_ratio": "0.5", "distribution": {"burn": {}}, "kick_out": true},
        {"member": "m2", "slash_ratio": "0.1", "distribution": {"send_to": ["x", "y"]}},
    ]);
    let res =
        exec(&mut deps, env_at(2, 2_000), ADMIN, &[], json!({"punish_members": {"punishments": punishments}})).unwrap();
    assert_eq!(res.messages[0].msg, CosmosMsg::Bank(BankMsg::Burn { amount: vec![coin(500, DENOM)] }));
    assert_eq!(res.messages.len(), 3);
    assert_eq!(status(&deps, "m1"), Some(Status::Leaving));
    assert_eq!(status(&deps, "m2"), Some(Status::Voting));
    assert_eq!(total(&deps, None), 1);
}

#[test]
fn admin_only_and_deny_list() {
    let mut deps = setup(&[]);
    let msg = json!({"add_voting_members": {"addrs": ["a"]}});
    assert_eq!(exec(&mut deps, mock_env(), "a", &[], msg).unwrap_err(), ContractError::Unauthorized);
    let msg = json!({"add_voting_members": {"addrs": ["denied"]}});
    assert_eq!(exec(&mut deps, mock_env(), ADMIN, &[], msg).unwrap_err(), ContractError::Denied("denied".into()));
}

#[test]
fn deposit_needs_exactly_one_coin_of_the_denom() {
    let mut deps = setup(&["m1"]);
    for funds in [vec![], vec![coin(0, DENOM)], vec![coin(5, "uatom")], vec![coin(5, DENOM), coin(5, "uatom")]] {
        let err = exec(&mut deps, mock_env(), "m1", &funds, json!({"deposit_escrow": {}})).unwrap_err();
        assert!(matches!(err, ContractError::Funds(_)), "{:?}", err);
    }
}

#[test]
fn messages_reject_unknown_fields_and_variants() {
    let err = ExecuteMsg::parse(json!({"leave": {"x": 1}})).unwrap_err().to_string();
    assert_eq!(err, "Error parsing into type ExecuteMsg: unknown field `x`, there are no fields");
    let err = ExecuteMsg::parse(json!({"join": {}})).unwrap_err().to_string();
    assert!(err.starts_with("Error parsing into type ExecuteMsg: unknown variant `join`, expected one of"), "{}", err);
    let err = ExecuteMsg::parse(json!({"add_voting_members": {}})).unwrap_err().to_string();
    assert_eq!(err, "Error parsing into type ExecuteMsg: missing field `addrs`");
    let err = ExecuteMsg::parse(json!({"return_escrow": {"amount": 5}})).unwrap_err().to_string();
    assert!(err.contains("invalid type for `amount`"), "{}", err);
    assert!(ExecuteMsg::parse(json!({"leave": {}, "claim_escrow": {}})).is_err());
    assert!(ExecuteMsg::parse(json!("leave")).is_err());
    assert!(Punishment::parse(json!({"member":"a","slash_ratio":"1","distribution":{"burn":{"x":1}}})).is_err());
    assert!(Punishment::parse(json!({"member":"a","slash_ratio":"1","distribution":{"send_to":"b"}})).is_err());
    let p = Punishment::parse(json!({"member":"a","slash_ratio":"1","distribution":{"send_to":["b"]}})).unwrap();
    assert_eq!(p.distribution, Distribution::SendTo(vec!["b".into()]));
    assert!(!p.kick_out);
    assert_eq!(
        ExecuteMsg::parse(json!({"edit_rules": {"escrow_amount": "7", "voting_period": null}})).unwrap(),
        ExecuteMsg::EditRules { escrow_amount: Some(Uint128::new(7)), voting_period: None }
    );
    assert!(QueryMsg::parse(json!({"list_members": {"limit": 4294967296u64}})).is_err());
    assert!(InstantiateMsg::parse(json!({"denom": "ucnv", "escrow_amount": "1"})).is_err());
    assert_eq!(MAX_VOTING_PERIOD, 315_360_000); // quoted in the error text
}
