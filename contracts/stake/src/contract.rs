//! Entry points of the stake contract, one small function per message.

use std::collections::BTreeMap;

use conclave_sdk::{
    coin, to_json_binary, BankMsg, Binary, Coin, Deps, DepsMut, Env, MessageInfo, Response, Storage, Uint128,
};

use crate::error::ContractError;
use tg4::store::{self, HookError};

use crate::msg::{
    Claim, ClaimsResponse, ConfigResponse, ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, SlashersResponse,
    StakedResponse, SudoMsg, MAX_ADDR_LEN, MAX_CLAIMS, MAX_DENOM_LEN, MAX_HOOKS, MAX_PORTION_LEN,
    MAX_RELEASES_PER_BLOCK, MAX_SLASHERS, MAX_UNBONDING_PERIOD,
};
use crate::state::{self, Changes, Config, ContractVersion, ADMIN, CONFIG, CONTRACT_INFO, HOOKS, MEMBERS, PREAUTHS, SLASHERS};

const CONTRACT_NAME: &str = "stake";
const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Portions are integers of billionths: "0.5" = 500_000_000.
const PORTION_ONE: u128 = 1_000_000_000;

pub fn instantiate(deps: DepsMut, _env: Env, info: MessageInfo, msg: InstantiateMsg) -> Result<Response, ContractError> {
    no_funds(&info)?;
    check_denom(&msg.denom)?;
    if msg.tokens_per_point.is_zero() {
        return Err(ContractError::InvalidConfig("tokens_per_point must be at least 1"));
    }
    if msg.min_bond.is_zero() {
        return Err(ContractError::InvalidConfig("min_bond must be at least 1"));
    }
    if msg.unbonding_period > MAX_UNBONDING_PERIOD {
        return Err(ContractError::InvalidConfig("unbonding_period must be at most 315360000 seconds (10 years)"));
    }
    let admin = match msg.admin {
        Some(admin) => Some(validate_addr(&deps, &admin)?),
        None => None,
    };
    let config = Config {
        denom: msg.denom,
        tokens_per_point: msg.tokens_per_point,
        min_bond: msg.min_bond,
        unbonding_period: msg.unbonding_period,
    };
    state::save(deps.storage, CONFIG, &config)?;
    state::save(deps.storage, ADMIN, &admin)?;
    state::save(deps.storage, HOOKS, &Vec::<String>::new())?;
    state::save(deps.storage, SLASHERS, &Vec::<String>::new())?;
    state::save(deps.storage, PREAUTHS, &msg.preauths_slashing)?;
    set_version(deps.storage)?;
    Ok(Response::new().add_attribute("action", "instantiate"))
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    if let ExecuteMsg::Bond {} = msg {
        return bond(deps, env, info);
    }
    no_funds(&info)?;
    match msg {
        ExecuteMsg::Bond {} => unreachable!("handled above"),
        ExecuteMsg::Unbond { tokens } => unbond(deps, env, info, tokens),
        ExecuteMsg::Claim {} => claim(deps, env, info),
        ExecuteMsg::AddSlasher { addr } => add_slasher(deps, info, addr),
        ExecuteMsg::RemoveSlasher { addr } => {
            only_admin(&deps, &info)?;
            remove_slasher(deps, addr)
        }
        ExecuteMsg::Slash { addr, portion } => slash(deps, env, info, addr, portion),
        ExecuteMsg::AddHook { addr } => {
            only_admin(&deps, &info)?;
            add_hook(deps, addr)
        }
        ExecuteMsg::RemoveHook { addr } => {
            only_admin(&deps, &info)?;
            remove_hook(deps, addr)
        }
        ExecuteMsg::UpdateAdmin { admin } => {
            only_admin(&deps, &info)?;
            update_admin(deps, admin)
        }
    }
}

/// Adds the funds (exactly one coin of the stake denom, non-zero) to the sender's bond.
fn bond(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    let config: Config = state::load(deps.storage, CONFIG)?;
    let amount = match info.funds.as_slice() {
        [] => return Err(ContractError::NoFunds),
        [coin] if coin.denom != config.denom => {
            return Err(ContractError::WrongDenom { expected: config.denom, got: coin.denom.clone() })
        }
        [coin] => coin.amount,
        _ => return Err(ContractError::MultipleDenoms),
    };
    if amount.is_zero() {
        return Err(ContractError::ZeroBond);
    }
    let addr = info.sender.into_string();
    let tokens = state::bonded(deps.storage, &addr)?.checked_add(amount)?;
    state::set_bonded(deps.storage, &addr, tokens)?;
    let mut changes = Changes::new();
    update_points(deps.storage, &env, &config, &addr, tokens, &mut changes)?;
    Ok(with_hooks(deps.storage, changes)?
        .add_attribute("action", "bond")
        .add_attribute("addr", addr)
        .add_attribute("amount", amount.to_string())
        .add_attribute("bonded", tokens.to_string()))
}

/// Moves `tokens` from the sender's bond into a claim released after the unbonding period.
fn unbond(deps: DepsMut, env: Env, info: MessageInfo, tokens: Uint128) -> Result<Response, ContractError> {
    if tokens.is_zero() {
        return Err(ContractError::ZeroUnbond);
    }
    let config: Config = state::load(deps.storage, CONFIG)?;
    let addr = info.sender.into_string();
    let bonded = state::bonded(deps.storage, &addr)?;
    if tokens > bonded {
        return Err(ContractError::InsufficientBond { bonded: bonded.0, requested: tokens.0 });
    }
    let remaining = bonded - tokens;
    state::set_bonded(deps.storage, &addr, remaining)?;

    let release_at = env.block.time.seconds() + config.unbonding_period;
    let old = state::claims(deps.storage, &addr)?;
    let mut new = old.clone();
    match new.iter_mut().find(|c| c.release_at == release_at) {
        Some(claim) => claim.amount = claim.amount.checked_add(tokens)?,
        None => new.push(Claim { amount: tokens, release_at }),
    }
    if new.len() > MAX_CLAIMS {
        return Err(ContractError::TooManyClaims);
    }
    new.sort_by_key(|c| c.release_at);
    state::set_claims(deps.storage, &addr, &old, &new)?;

    let mut changes = Changes::new();
    update_points(deps.storage, &env, &config, &addr, remaining, &mut changes)?;
    Ok(with_hooks(deps.storage, changes)?
        .add_attribute("action", "unbond")
        .add_attribute("addr", addr)
        .add_attribute("amount", tokens.to_string())
        .add_attribute("release_at", release_at.to_string()))
}

/// Pays the sender's matured claims; an error when none has matured.
fn claim(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    let config: Config = state::load(deps.storage, CONFIG)?;
    let addr = info.sender.into_string();
    let paid = release_matured(deps.storage, &addr, env.block.time.seconds())?;
    if paid.is_zero() {
        return Err(ContractError::NothingToClaim);
    }
    Ok(Response::new()
        .add_message(BankMsg::Send { to_address: addr.clone(), amount: vec![coin(paid.0, config.denom)] })
        .add_attribute("action", "claim")
        .add_attribute("addr", addr)
        .add_attribute("amount", paid.to_string()))
}

/// Removes the claims of `addr` released at or before `now`; returns their sum.
fn release_matured(storage: &mut dyn Storage, addr: &str, now: u64) -> Result<Uint128, ContractError> {
    let old = state::claims(storage, addr)?;
    let (matured, pending): (Vec<Claim>, Vec<Claim>) = old.iter().cloned().partition(|c| c.release_at <= now);
    let mut paid = Uint128::zero();
    for claim in &matured {
        paid = paid.checked_add(claim.amount)?;
    }
    if !matured.is_empty() {
        state::set_claims(storage, addr, &old, &pending)?;
    }
    Ok(paid)
}

/// The admin, or anyone while preauthorisations remain (each use spends one).
fn add_slasher(deps: DepsMut, info: MessageInfo, addr: String) -> Result<Response, ContractError> {
    if only_admin(&deps, &info).is_err() {
        let preauths: u64 = state::load(deps.storage, PREAUTHS)?;
        if preauths == 0 {
            return Err(ContractError::Unauthorized);
        }
        state::save(deps.storage, PREAUTHS, &(preauths - 1))?;
    }
    let addr = validate_addr(&deps, &addr)?;
    let mut slashers: Vec<String> = state::load(deps.storage, SLASHERS)?;
    if slashers.contains(&addr) {
        return Err(ContractError::SlasherAlreadyRegistered(addr));
    }
    check_len("slashers", slashers.len() + 1, MAX_SLASHERS)?;
    slashers.push(addr.clone());
    state::save(deps.storage, SLASHERS, &slashers)?;
    Ok(Response::new().add_attribute("action", "add_slasher").add_attribute("slasher", addr))
}

fn remove_slasher(deps: DepsMut, addr: String) -> Result<Response, ContractError> {
    let mut slashers: Vec<String> = state::load(deps.storage, SLASHERS)?;
    let position =
        slashers.iter().position(|s| *s == addr).ok_or_else(|| ContractError::SlasherNotRegistered(addr.clone()))?;
    slashers.remove(position);
    state::save(deps.storage, SLASHERS, &slashers)?;
    Ok(Response::new().add_attribute("action", "remove_slasher").add_attribute("slasher", addr))
}

/// Burns floor(amount * portion) of `addr`'s bond and of each of its pending claims.
fn slash(deps: DepsMut, env: Env, info: MessageInfo, addr: String, portion: String) -> Result<Response, ContractError> {
    let slashers: Vec<String> = state::load(deps.storage, SLASHERS)?;
    if !slashers.iter().any(|s| s == info.sender.as_str()) {
        return Err(ContractError::Unauthorized);
    }
    let portion = parse_portion(&portion)?;
    let addr = validate_addr(&deps, &addr)?;
    let config: Config = state::load(deps.storage, CONFIG)?;

    let bonded = state::bonded(deps.storage, &addr)?;
    let mut burned = share(bonded.0, portion);
    let remaining = Uint128(bonded.0 - burned);
    state::set_bonded(deps.storage, &addr, remaining)?;

    let old = state::claims(deps.storage, &addr)?;
    let mut new = Vec::with_capacity(old.len());
    for claim in &old {
        let cut = share(claim.amount.0, portion);
        burned += cut;
        if claim.amount.0 > cut {
            new.push(Claim { amount: Uint128(claim.amount.0 - cut), release_at: claim.release_at });
        }
    }
    state::set_claims(deps.storage, &addr, &old, &new)?;

    let mut changes = Changes::new();
    update_points(deps.storage, &env, &config, &addr, remaining, &mut changes)?;
    let mut response = with_hooks(deps.storage, changes)?;
    if burned > 0 {
        response = response.add_message(BankMsg::Burn { amount: vec![coin(burned, config.denom)] });
    }
    Ok(response
        .add_attribute("action", "slash")
        .add_attribute("addr", addr)
        .add_attribute("burned", burned.to_string()))
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

/// Pays every matured claim (at most MAX_RELEASES_PER_BLOCK, earliest first), one bank
/// send per owner.
fn end_block(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let now = env.block.time.seconds();
    let owners = state::matured_claim_owners(deps.storage, now, MAX_RELEASES_PER_BLOCK)?;
    if owners.is_empty() {
        return Ok(Response::new());
    }
    let config: Config = state::load(deps.storage, CONFIG)?;
    let mut payments: BTreeMap<String, u128> = BTreeMap::new();
    for owner in owners {
        if payments.contains_key(&owner) {
            continue;
        }
        let paid = release_matured(deps.storage, &owner, now)?;
        payments.insert(owner, paid.0);
    }
    let mut response = Response::new().add_attribute("action", "release_claims");
    for (owner, amount) in payments {
        if amount > 0 {
            response = response.add_message(BankMsg::Send { to_address: owner, amount: vec![coin(amount, &config.denom)] });
        }
    }
    Ok(response)
}

pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let storage = deps.storage;
    let answer = match msg {
        QueryMsg::Admin {}
        | QueryMsg::TotalPoints { .. }
        | QueryMsg::Member { .. }
        | QueryMsg::ListMembers { .. }
        | QueryMsg::ListMembersByPoints { .. }
        | QueryMsg::Hooks {} => {
            let tg4_query = msg.into_tg4().unwrap_or_else(|_| unreachable!("a tg4 query"));
            if let Some(addr) = tg4_query.addr() {
                check_addr_len(addr)?;
            }
            MEMBERS.query(storage, tg4_query)?
        }
        QueryMsg::Staked { address } => {
            check_addr_len(&address)?;
            let config: Config = state::load(storage, CONFIG)?;
            let amount = state::bonded(storage, &address)?;
            to_json_binary(&StakedResponse { stake: Coin { denom: config.denom, amount } })?
        }
        QueryMsg::Claims { address } => {
            check_addr_len(&address)?;
            to_json_binary(&ClaimsResponse { claims: state::claims(storage, &address)? })?
        }
        QueryMsg::Config {} => {
            let config: Config = state::load(storage, CONFIG)?;
            to_json_binary(&ConfigResponse {
                denom: config.denom,
                tokens_per_point: config.tokens_per_point,
                min_bond: config.min_bond,
                unbonding_period: config.unbonding_period,
                preauths_slashing: state::load(storage, PREAUTHS)?,
            })?
        }
        QueryMsg::ListSlashers {} => to_json_binary(&SlashersResponse { slashers: state::load(storage, SLASHERS)? })?,
    };
    Ok(answer)
}

/// Records the contract name and version of this code.
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    set_version(deps.storage)?;
    Ok(Response::new().add_attribute("action", "migrate").add_attribute("version", CONTRACT_VERSION))
}

fn set_version(storage: &mut dyn Storage) -> Result<(), ContractError> {
    let version = ContractVersion { contract: CONTRACT_NAME.to_string(), version: CONTRACT_VERSION.to_string() };
    Ok(state::save(storage, CONTRACT_INFO, &version)?)
}

/// points = floor(tokens / tokens_per_point) from min_bond tokens up; below: not a member.
pub fn points_for(config: &Config, tokens: Uint128) -> Result<Option<u64>, ContractError> {
    if tokens.is_zero() || tokens < config.min_bond {
        return Ok(None);
    }
    let points = tokens.0 / config.tokens_per_point.0;
    if points > u64::MAX as u128 {
        return Err(ContractError::PointsOverflow);
    }
    Ok(Some(points as u64))
}

fn update_points(
    storage: &mut dyn Storage,
    env: &Env,
    config: &Config,
    addr: &str,
    tokens: Uint128,
    changes: &mut Changes,
) -> Result<(), ContractError> {
    let points = points_for(config, tokens)?;
    MEMBERS.set_points(storage, env.block.height, addr, points, changes)?;
    Ok(())
}

/// floor(amount * portion / 1e9) without overflowing u128.
fn share(amount: u128, portion: u128) -> u128 {
    (amount / PORTION_ONE) * portion + (amount % PORTION_ONE) * portion / PORTION_ONE
}

/// "0.5" -> 500_000_000 billionths; must be in (0, 1] with at most 9 decimal places.
pub fn parse_portion(text: &str) -> Result<u128, ContractError> {
    let invalid = || ContractError::InvalidPortion(text.chars().take(MAX_PORTION_LEN).collect());
    if text.len() > MAX_PORTION_LEN {
        return Err(invalid());
    }
    let (whole, fraction) = match text.find('.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > 9 {
        return Err(invalid());
    }
    let whole: u128 = whole.parse().map_err(|_| invalid())?;
    let mut billionths: u128 = 0;
    for (i, b) in fraction.bytes().enumerate() {
        billionths += u128::from(b - b'0') * 10u128.pow(8 - i as u32);
    }
    let value = whole.checked_mul(PORTION_ONE).and_then(|w| w.checked_add(billionths)).ok_or_else(invalid)?;
    if value == 0 || value > PORTION_ONE {
        return Err(invalid());
    }
    Ok(value)
}

/// A response carrying `member_changed_hook` to every hook when something changed.
fn with_hooks(storage: &dyn Storage, changes: Changes) -> Result<Response, ContractError> {
    let diffs = store::diffs(changes);
    if diffs.is_empty() {
        return Ok(Response::new());
    }
    Ok(store::with_hook_msgs(storage, Response::new(), diffs)?)
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

/// A bank denom: 3-128 characters, a letter first, then letters, digits and /:._-
fn check_denom(denom: &str) -> Result<(), ContractError> {
    let bytes = denom.as_bytes();
    let valid = (3..=MAX_DENOM_LEN).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"/:._-".contains(b));
    if !valid {
        return Err(ContractError::InvalidConfig("denom must be 3-128 characters: a letter, then letters, digits or /:._-"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::testing::{message_info, mock_dependencies, mock_env, MemoryStorage, MockApi, MockQuerier};
    use conclave_sdk::{from_json, CosmosMsg, OwnedDeps, Timestamp};
    use crate::msg::MemberResponse;

    type TestDeps = OwnedDeps<MemoryStorage, MockApi, MockQuerier>;

    fn env_at(height: u64, seconds: u64) -> Env {
        let mut env = mock_env();
        env.block.height = height;
        env.block.time = Timestamp::from_seconds(seconds);
        env
    }

    fn setup() -> TestDeps {
        let mut deps = mock_dependencies();
        let msg = InstantiateMsg {
            denom: "ustake".into(),
            tokens_per_point: Uint128(1000),
            min_bond: Uint128(500),
            unbonding_period: 100,
            admin: Some("admin".into()),
            preauths_slashing: 1,
        };
        instantiate(deps.as_mut(), env_at(1, 1000), message_info("creator", &[]), msg).unwrap();
        deps
    }

    fn points(deps: &TestDeps, addr: &str, at_height: Option<u64>) -> Option<u64> {
        let q = QueryMsg::Member { addr: addr.into(), at_height };
        from_json::<MemberResponse>(query(deps.as_ref(), mock_env(), q).unwrap()).unwrap().points
    }

    fn bond_as(deps: &mut TestDeps, who: &str, amount: u128, height: u64) -> Result<Response, ContractError> {
        execute(deps.as_mut(), env_at(height, 1000 + height), message_info(who, &[coin(amount, "ustake")]), ExecuteMsg::Bond {})
    }

    #[test]
    fn portion_parsing() {
        assert_eq!(parse_portion("0.5").unwrap(), 500_000_000);
        assert_eq!(parse_portion("1").unwrap(), PORTION_ONE);
        assert_eq!(parse_portion("1.000000000").unwrap(), PORTION_ONE);
        assert_eq!(parse_portion("0.000000001").unwrap(), 1);
        for bad in ["0", "0.0", "1.000000001", "2", "", ".5", "5.", "0.5x", "-0.5", "0.1234567891", "1e-3"] {
            assert!(parse_portion(bad).is_err(), "{}", bad);
        }
        assert_eq!(share(u128::MAX, PORTION_ONE), u128::MAX);
        assert_eq!(share(999, 500_000_000), 499);
    }

    #[test]
    fn bond_points_and_min_bond() {
        let mut deps = setup();
        bond_as(&mut deps, "alice", 400, 2).unwrap();
        assert_eq!(points(&deps, "alice", None), None);
        bond_as(&mut deps, "alice", 2_100, 3).unwrap();
        assert_eq!(points(&deps, "alice", None), Some(2));
        assert_eq!(points(&deps, "alice", Some(3)), None);
        assert_eq!(points(&deps, "alice", Some(4)), Some(2));
        let err = execute(deps.as_mut(), mock_env(), message_info("a", &[coin(5, "other")]), ExecuteMsg::Bond {}).unwrap_err();
        assert_eq!(err.to_string(), "Wrong denom: expected ustake, got other");
        let err = execute(deps.as_mut(), mock_env(), message_info("a", &[]), ExecuteMsg::Bond {}).unwrap_err();
        assert_eq!(err, ContractError::NoFunds);
        let two = [coin(5, "ustake"), coin(5, "other")];
        let err = execute(deps.as_mut(), mock_env(), message_info("a", &two), ExecuteMsg::Bond {}).unwrap_err();
        assert_eq!(err, ContractError::MultipleDenoms);
        let err = execute(deps.as_mut(), mock_env(), message_info("a", &[coin(0, "ustake")]), ExecuteMsg::Bond {}).unwrap_err();
        assert_eq!(err, ContractError::ZeroBond);
    }

    #[test]
    fn unbond_claims_and_end_block() {
        let mut deps = setup();
        bond_as(&mut deps, "alice", 3_000, 2).unwrap();
        let unbond = |tokens: u128| ExecuteMsg::Unbond { tokens: Uint128(tokens) };
        let err = execute(deps.as_mut(), env_at(3, 1010), message_info("alice", &[]), unbond(3_001)).unwrap_err();
        assert_eq!(err.to_string(), "Cannot unbond 3001 tokens: only 3000 bonded");
        execute(deps.as_mut(), env_at(3, 1010), message_info("alice", &[]), unbond(1_000)).unwrap();
        execute(deps.as_mut(), env_at(3, 1010), message_info("alice", &[]), unbond(500)).unwrap();
        execute(deps.as_mut(), env_at(4, 1020), message_info("alice", &[]), unbond(1_100)).unwrap();
        assert_eq!(points(&deps, "alice", None), None);
        let claims: ClaimsResponse =
            from_json(query(deps.as_ref(), mock_env(), QueryMsg::Claims { address: "alice".into() }).unwrap()).unwrap();
        assert_eq!(
            claims.claims,
            vec![Claim { amount: Uint128(1_500), release_at: 1110 }, Claim { amount: Uint128(1_100), release_at: 1120 }]
        );
        let err = execute(deps.as_mut(), env_at(5, 1109), message_info("alice", &[]), ExecuteMsg::Claim {}).unwrap_err();
        assert_eq!(err, ContractError::NothingToClaim);
        let res = execute(deps.as_mut(), env_at(6, 1110), message_info("alice", &[]), ExecuteMsg::Claim {}).unwrap();
        assert_eq!(
            res.messages[0].msg,
            CosmosMsg::Bank(BankMsg::Send { to_address: "alice".into(), amount: vec![coin(1_500, "ustake")] })
        );
        let res = sudo(deps.as_mut(), env_at(7, 1119), SudoMsg::EndBlock {}).unwrap();
        assert!(res.messages.is_empty());
        let res = sudo(deps.as_mut(), env_at(8, 1200), SudoMsg::EndBlock {}).unwrap();
        assert_eq!(
            res.messages[0].msg,
            CosmosMsg::Bank(BankMsg::Send { to_address: "alice".into(), amount: vec![coin(1_100, "ustake")] })
        );
        assert!(state::claims(&deps.storage, "alice").unwrap().is_empty());
        assert!(state::matured_claim_owners(&deps.storage, u64::MAX, 10).unwrap().is_empty());
    }

    #[test]
    fn slashing() {
        let mut deps = setup();
        bond_as(&mut deps, "alice", 4_000, 2).unwrap();
        execute(deps.as_mut(), env_at(3, 1003), message_info("alice", &[]), ExecuteMsg::Unbond { tokens: Uint128(1_001) })
            .unwrap();
        let slash = |portion: &str| ExecuteMsg::Slash { addr: "alice".into(), portion: portion.into() };
        let err = execute(deps.as_mut(), mock_env(), message_info("valset", &[]), slash("0.5")).unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
        // the single preauthorisation lets anyone register one slasher
        execute(deps.as_mut(), mock_env(), message_info("valset", &[]), ExecuteMsg::AddSlasher { addr: "valset".into() })
            .unwrap();
        let err = execute(deps.as_mut(), mock_env(), message_info("eve", &[]), ExecuteMsg::AddSlasher { addr: "eve".into() })
            .unwrap_err();
        assert_eq!(err, ContractError::Unauthorized);
        assert!(execute(deps.as_mut(), mock_env(), message_info("valset", &[]), slash("1.5")).is_err());
        let res = execute(deps.as_mut(), env_at(4, 1004), message_info("valset", &[]), slash("0.5")).unwrap();
        assert_eq!(res.messages[0].msg, CosmosMsg::Bank(BankMsg::Burn { amount: vec![coin(1_499 + 500, "ustake")] }));
        assert_eq!(state::bonded(&deps.storage, "alice").unwrap(), Uint128(1_500));
        assert_eq!(state::claims(&deps.storage, "alice").unwrap()[0].amount, Uint128(501));
        assert_eq!(points(&deps, "alice", None), Some(1));
    }
}
