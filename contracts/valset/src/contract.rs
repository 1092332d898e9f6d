//! Entry points of the valset, one small function per message.

use std::collections::{BTreeMap, BTreeSet};

use conclave_sdk::{
    to_json_binary, to_json_vec, Addr, Binary, Deps, DepsMut, Env, MessageInfo, Reply, Response, StdResult, SubMsg,
    SubMsgResult, WasmMsg,
};
use tg4::{Member, MemberListResponse, MemberResponse, Tg4QueryMsg};

use crate::ed25519::check_public_key;
use crate::error::ContractError;
use crate::msg::{
    ActiveValidator, ConfigResponse, EpochResponse, Evidence, ExecuteMsg, InstantiateMsg, JailedUntil, JailedValidator,
    ListActiveValidatorsResponse, ListJailedResponse, ListValidatorsResponse, MembershipExecuteMsg, MigrateMsg, Pubkey,
    QueryMsg, SudoMsg, ValidatorDiff, ValidatorInfo, ValidatorMetadata, ValidatorResponse, ValidatorUpdateData,
    DEFAULT_LIMIT, DEFAULT_SLASH_RATIO, MAX_DECIMAL_LEN, MAX_DETAILS_LEN, MAX_IDENTITY_LEN, MAX_INITIAL_KEYS, MAX_LIMIT,
    MAX_MONIKER_LEN, MAX_URL_LEN, MAX_VALIDATORS_CAP, MEMBERSHIP_PAGE,
};
use crate::state::{self, Config, ContractVersion, EpochInfo, OperatorInfo};

pub const CONTRACT_NAME: &str = env!("CARGO_PKG_NAME");
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Reply id of the slash sent on double-sign evidence (reply on error only).
pub const REPLY_SLASH: u64 = 1;

pub fn instantiate(deps: DepsMut, _env: Env, _info: MessageInfo, msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    let ratio = msg.double_sign_slash_ratio.unwrap_or_else(|| DEFAULT_SLASH_RATIO.to_string());
    let config = Config {
        membership: deps.api.addr_validate(&msg.membership)?,
        min_points: msg.min_points,
        max_validators: msg.max_validators,
        epoch_length: msg.epoch_length,
        scaling: msg.scaling.unwrap_or(1),
        double_sign_slash_ratio: ratio,
    };
    validate_config(&config)?;
    let admin = msg.admin.as_deref().map(|a| deps.api.addr_validate(a)).transpose()?;
    state::save(deps.storage, state::CONFIG, &config)?;
    state::save(deps.storage, state::ADMIN, &admin)?;
    record_version(deps.storage)?;
    if msg.initial_keys.len() > MAX_INITIAL_KEYS {
        return Err(ContractError::InvalidConfig("too many initial_keys (at most 1000)"));
    }
    for key in &msg.initial_keys {
        let operator = deps.api.addr_validate(&key.operator)?;
        if let Some(metadata) = &key.metadata {
            validate_metadata(metadata)?;
        }
        register_key(deps.storage, &operator, &key.validator_pubkey, key.metadata.clone())?;
    }
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("initial_keys", msg.initial_keys.len().to_string()))
}

fn validate_config(config: &Config) -> Result<(), ContractError> {
    if config.epoch_length == 0 {
        return Err(ContractError::InvalidConfig("epoch_length must be > 0"));
    }
    if config.max_validators == 0 || config.max_validators > MAX_VALIDATORS_CAP {
        return Err(ContractError::InvalidConfig("max_validators must be in 1..=1000"));
    }
    if config.scaling == 0 {
        return Err(ContractError::InvalidConfig("scaling must be > 0"));
    }
    parse_ratio(&config.double_sign_slash_ratio)?;
    Ok(())
}

/// "0.5" -> 500_000_000 billionths; a decimal in [0, 1] with at most 9 places.
pub fn parse_ratio(text: &str) -> Result<u64, ContractError> {
    let bad = || ContractError::InvalidRatio(text.chars().take(MAX_DECIMAL_LEN).collect());
    if text.is_empty() || text.len() > MAX_DECIMAL_LEN {
        return Err(bad());
    }
    let (whole, frac) = match text.find('.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 9 || (text.contains('.') && frac.is_empty()) || !digits(whole) || !digits(frac)
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let mut billionths: u64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
    for _ in frac.len()..9 {
        billionths *= 10;
    }
    let value = whole.checked_mul(1_000_000_000).and_then(|w| w.checked_add(billionths)).ok_or_else(bad)?;
    if value > 1_000_000_000 {
        return Err(bad());
    }
    Ok(value)
}

fn validate_metadata(metadata: &ValidatorMetadata) -> Result<(), ContractError> {
    if metadata.moniker.trim().is_empty() || metadata.moniker.len() > MAX_MONIKER_LEN {
        return Err(ContractError::InvalidMetadata("moniker must have 1 to 70 bytes".to_string()));
    }
    let fields = [
        ("identity", &metadata.identity, MAX_IDENTITY_LEN),
        ("website", &metadata.website, MAX_URL_LEN),
        ("security_contact", &metadata.security_contact, MAX_URL_LEN),
        ("details", &metadata.details, MAX_DETAILS_LEN),
    ];
    for (name, value, max) in fields {
        if value.as_ref().map_or(false, |v| v.len() > max) {
            return Err(ContractError::InvalidMetadata(format!("{} longer than {} bytes", name, max)));
        }
    }
    Ok(())
}

/// Stores a new operator's key after checking the key and that neither is taken.
fn register_key(storage: &mut dyn conclave_sdk::Storage, operator: &Addr, pubkey: &Pubkey,
                metadata: Option<ValidatorMetadata>) -> Result<(), ContractError> {
    check_public_key(pubkey.bytes()).map_err(ContractError::InvalidPubkey)?;
    if state::load_operator(storage, operator.as_str())?.is_some() {
        return Err(ContractError::OperatorAlreadyRegistered(operator.to_string()));
    }
    if state::operator_of_pubkey(storage, pubkey.bytes())?.is_some() {
        return Err(ContractError::PubkeyInUse);
    }
    let info = OperatorInfo { pubkey: Binary(pubkey.bytes().to_vec()), metadata };
    state::save_operator(storage, operator.as_str(), &info)?;
    state::save_pubkey(storage, pubkey.bytes(), operator.as_str())?;
    Ok(())
}

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::RegisterValidatorKey { pubkey, metadata } => register_validator_key(deps, info, pubkey, metadata),
        ExecuteMsg::UpdateMetadata(metadata) => update_metadata(deps, info, metadata),
        ExecuteMsg::Jail { operator, duration } => jail(deps, env, info, operator, duration),
        ExecuteMsg::Unjail { operator } => unjail(deps, info, operator),
        ExecuteMsg::UpdateConfig { min_points, max_validators, scaling, epoch_length, double_sign_slash_ratio } => {
            let changes = ConfigChanges { min_points, max_validators, scaling, epoch_length, double_sign_slash_ratio };
            update_config(deps, info, changes)
        }
        ExecuteMsg::UpdateAdmin { admin } => update_admin(deps, info, admin),
    }
}

fn ensure_admin(deps: Deps, sender: &Addr) -> Result<(), ContractError> {
    match state::load_admin(deps.storage)? {
        Some(admin) if &admin == sender => Ok(()),
        _ => Err(ContractError::Unauthorized),
    }
}

fn register_validator_key(deps: DepsMut, info: MessageInfo, pubkey: Pubkey, metadata: ValidatorMetadata)
    -> Result<Response, ContractError> {
    validate_metadata(&metadata)?;
    check_public_key(pubkey.bytes()).map_err(ContractError::InvalidPubkey)?;
    let config: Config = state::load(deps.storage, state::CONFIG)?;
    let member: MemberResponse = deps.querier.query_wasm_smart(
        config.membership.as_str(),
        &Tg4QueryMsg::Member { addr: info.sender.to_string(), at_height: None },
    )?;
    if member.points.unwrap_or(0) == 0 {
        return Err(ContractError::NotAMember(info.sender.into_string()));
    }
    register_key(deps.storage, &info.sender, &pubkey, Some(metadata))?;
    Ok(Response::new()
        .add_attribute("action", "register_validator_key")
        .add_attribute("operator", info.sender.into_string()))
}

fn update_metadata(deps: DepsMut, info: MessageInfo, metadata: ValidatorMetadata) -> Result<Response, ContractError> {
    validate_metadata(&metadata)?;
    let mut operator = state::load_operator(deps.storage, info.sender.as_str())?
        .ok_or_else(|| ContractError::UnknownOperator(info.sender.to_string()))?;
    operator.metadata = Some(metadata);
    state::save_operator(deps.storage, info.sender.as_str(), &operator)?;
    Ok(Response::new().add_attribute("action", "update_metadata").add_attribute("operator", info.sender.into_string()))
}

fn jail(deps: DepsMut, env: Env, info: MessageInfo, operator: String, duration: Option<u64>)
    -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let operator = deps.api.addr_validate(&operator)?;
    if state::load_operator(deps.storage, operator.as_str())?.is_none() {
        return Err(ContractError::UnknownOperator(operator.into_string()));
    }
    let until = match duration {
        Some(seconds) => JailedUntil::Until(env.block.time.seconds().saturating_add(seconds)),
        None => JailedUntil::Forever {},
    };
    state::save_jail(deps.storage, operator.as_str(), Some(until))?;
    let until_text = match until {
        JailedUntil::Forever {} => "forever".to_string(),
        JailedUntil::Until(time) => time.to_string(),
    };
    Ok(Response::new()
        .add_attribute("action", "jail")
        .add_attribute("operator", operator.into_string())
        .add_attribute("until", until_text))
}

fn unjail(deps: DepsMut, info: MessageInfo, operator: String) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let operator = deps.api.addr_validate(&operator)?;
    if state::load_jail(deps.storage, operator.as_str())?.is_none() {
        return Err(ContractError::NotJailed(operator.into_string()));
    }
    state::save_jail(deps.storage, operator.as_str(), None)?;
    Ok(Response::new().add_attribute("action", "unjail").add_attribute("operator", operator.into_string()))
}

struct ConfigChanges {
    min_points: Option<u64>,
    max_validators: Option<u32>,
    scaling: Option<u32>,
    epoch_length: Option<u64>,
    double_sign_slash_ratio: Option<String>,
}

fn update_config(deps: DepsMut, info: MessageInfo, changes: ConfigChanges) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let mut config: Config = state::load(deps.storage, state::CONFIG)?;
    if let Some(v) = changes.min_points {
        config.min_points = v;
    }
    if let Some(v) = changes.max_validators {
        config.max_validators = v;
    }
    if let Some(v) = changes.scaling {
        config.scaling = v;
    }
    if let Some(v) = changes.epoch_length {
        config.epoch_length = v;
    }
    if let Some(v) = changes.double_sign_slash_ratio {
        config.double_sign_slash_ratio = v;
    }
    validate_config(&config)?;
    state::save(deps.storage, state::CONFIG, &config)?;
    if changes.epoch_length.is_some() {
        // the next update comes at the first boundary of the new length after the last update
        if let Some(mut epoch) = state::may_load::<EpochInfo>(deps.storage, state::EPOCH)? {
            epoch.next_update_time = next_boundary(epoch.last_update_time, config.epoch_length);
            state::save(deps.storage, state::EPOCH, &epoch)?;
        }
    }
    Ok(Response::new().add_attribute("action", "update_config"))
}

fn update_admin(deps: DepsMut, info: MessageInfo, admin: Option<String>) -> Result<Response, ContractError> {
    ensure_admin(deps.as_ref(), &info.sender)?;
    let admin = admin.as_deref().map(|a| deps.api.addr_validate(a)).transpose()?;
    state::save(deps.storage, state::ADMIN, &admin)?;
    Ok(Response::new()
        .add_attribute("action", "update_admin")
        .add_attribute("admin", admin.map_or_else(|| "none".to_string(), Addr::into_string)))
}

/// The start of the epoch after the one containing `time`.
fn next_boundary(time: u64, epoch_length: u64) -> u64 {
    (time / epoch_length).saturating_add(1).saturating_mul(epoch_length)
}

pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::EndWithValidatorUpdate {} => end_with_validator_update(deps, env),
        SudoMsg::BeginBlock { evidence } => begin_block(deps, env, evidence),
        SudoMsg::PrivilegeChange(_) => Ok(Response::new().add_attribute("action", "privilege_change")),
    }
}

/// Once per epoch (and on the first call): choose the active set, store it and answer the
/// diff against the previous one as data. Other calls change nothing and answer no data.
fn end_with_validator_update(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let config: Config = state::load(deps.storage, state::CONFIG)?;
    let now = env.block.time.seconds();
    let previous = state::may_load::<EpochInfo>(deps.storage, state::EPOCH)?;
    if let Some(epoch) = previous {
        if now < epoch.next_update_time {
            return Ok(Response::new());
        }
    }
    let active = choose_active(deps.as_ref(), &config, now)?;
    let diffs = diff_sets(&state::load_active(deps.storage)?, &active);
    state::save_active(deps.storage, &active)?;
    let epoch = EpochInfo {
        current_epoch: now / config.epoch_length,
        last_update_time: now,
        last_update_height: env.block.height,
        next_update_time: next_boundary(now, config.epoch_length),
    };
    state::save(deps.storage, state::EPOCH, &epoch)?;
    let data = to_json_vec(&ValidatorUpdateData { diffs })?;
    Ok(Response::new()
        .add_attribute("action", "validator_update")
        .add_attribute("epoch", epoch.current_epoch.to_string())
        .add_attribute("active", active.len().to_string())
        .set_data(data))
}

/// The members by points (paged 30 at a time) with points >= max(min_points, 1) that have a
/// key and are not jailed, the first max_validators of them; power = points * scaling
/// (saturating at u64::MAX).
pub fn choose_active(deps: Deps, config: &Config, now: u64) -> StdResult<Vec<ActiveValidator>> {
    let min_points = config.min_points.max(1);
    let max = config.max_validators as usize;
    let mut active = Vec::new();
    let mut start_after: Option<Member> = None;
    loop {
        let page: MemberListResponse = deps.querier.query_wasm_smart(
            config.membership.as_str(),
            &Tg4QueryMsg::ListMembersByPoints { start_after: start_after.take(), limit: Some(MEMBERSHIP_PAGE) },
        )?;
        for member in &page.members {
            if member.points < min_points {
                return Ok(active);
            }
            if let Some(operator) = state::load_operator(deps.storage, &member.addr)? {
                let jailed = state::load_jail(deps.storage, &member.addr)?.map_or(false, |j| j.is_jailed(now));
                if !jailed {
                    active.push(ActiveValidator {
                        operator: member.addr.clone(),
                        validator_pubkey: Pubkey::Ed25519(operator.pubkey),
                        power: member.points.saturating_mul(config.scaling as u64),
                    });
                    if active.len() >= max {
                        return Ok(active);
                    }
                }
            }
        }
        match page.members.last() {
            Some(last) => start_after = Some(last.clone()),
            None => return Ok(active),
        }
    }
}

/// The changes from `old` to `new`: additions and power changes (sorted by pubkey bytes),
/// then removals with power 0 (sorted by pubkey bytes).
pub fn diff_sets(old: &[ActiveValidator], new: &[ActiveValidator]) -> Vec<ValidatorDiff> {
    let old: BTreeMap<&[u8], u64> = old.iter().map(|v| (v.validator_pubkey.bytes(), v.power)).collect();
    let new: BTreeMap<&[u8], u64> = new.iter().map(|v| (v.validator_pubkey.bytes(), v.power)).collect();
    let changed = new
        .iter()
        .filter(|(key, power)| old.get(*key) != Some(*power))
        .map(|(key, power)| ValidatorDiff { pubkey: Pubkey::Ed25519(Binary(key.to_vec())), power: *power });
    let removed = old
        .keys()
        .filter(|key| !new.contains_key(*key))
        .map(|key| ValidatorDiff { pubkey: Pubkey::Ed25519(Binary(key.to_vec())), power: 0 });
    changed.chain(removed).collect()
}

/// Jails the operator of every misbehaving key forever and slashes it through the
/// membership. The slash goes out with reply on error: if it fails, the failure is recorded
/// (reply) and the jail stands. An operator already jailed forever is not slashed again.
fn begin_block(deps: DepsMut, _env: Env, evidence: Vec<Evidence>) -> Result<Response, ContractError> {
    let config: Config = state::load(deps.storage, state::CONFIG)?;
    let ratio = parse_ratio(&config.double_sign_slash_ratio)?;
    let mut response = Response::new().add_attribute("action", "begin_block");
    let mut punished = BTreeSet::new();
    for item in evidence {
        if item.kind != "duplicate_vote" && item.kind != "light_client_attack" {
            continue;
        }
        let operator = match state::operator_of_pubkey(deps.storage, item.validator.bytes())? {
            Some(operator) => operator,
            None => continue,
        };
        if state::load_jail(deps.storage, &operator)? == Some(JailedUntil::Forever {}) || !punished.insert(operator.clone()) {
            continue;
        }
        state::save_jail(deps.storage, &operator, Some(JailedUntil::Forever {}))?;
        response = response.add_attribute("jailed", operator.clone());
        if ratio > 0 {
            let slash = WasmMsg::Execute {
                contract_addr: config.membership.to_string(),
                msg: to_json_binary(&MembershipExecuteMsg::Slash {
                    addr: operator.clone(),
                    portion: config.double_sign_slash_ratio.clone(),
                })?,
                funds: vec![],
            };
            response = response.add_submessage(SubMsg::reply_on_error(slash, REPLY_SLASH).with_payload(operator.into_bytes()));
        }
    }
    Ok(response)
}

/// A failed slash: recorded as attributes, the jail stays.
pub fn reply(_deps: DepsMut, _env: Env, reply: Reply) -> Result<Response, ContractError> {
    let operator = String::from_utf8_lossy(reply.payload.as_slice()).into_owned();
    let error = match reply.result {
        SubMsgResult::Err(error) => error,
        SubMsgResult::Ok(_) => String::new(),
    };
    Ok(Response::new()
        .add_attribute("action", "slash_failed")
        .add_attribute("operator", operator)
        .add_attribute("error", error))
}

pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let now = env.block.time.seconds();
    let answer = match msg {
        QueryMsg::Config {} => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            to_json_binary(&ConfigResponse {
                membership: config.membership.into_string(),
                min_points: config.min_points,
                max_validators: config.max_validators,
                epoch_length: config.epoch_length,
                scaling: config.scaling,
                double_sign_slash_ratio: config.double_sign_slash_ratio,
                admin: state::load_admin(deps.storage)?.map(Addr::into_string),
            })?
        }
        QueryMsg::Epoch {} => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            let epoch = state::may_load::<EpochInfo>(deps.storage, state::EPOCH)?;
            to_json_binary(&match epoch {
                Some(e) => EpochResponse {
                    epoch_length: config.epoch_length,
                    current_epoch: e.current_epoch,
                    last_update_time: e.last_update_time,
                    last_update_height: e.last_update_height,
                    next_update_time: e.next_update_time,
                },
                None => EpochResponse {
                    epoch_length: config.epoch_length,
                    current_epoch: 0,
                    last_update_time: 0,
                    last_update_height: 0,
                    next_update_time: now,
                },
            })?
        }
        QueryMsg::Validator { operator } => {
            let active = active_operators(deps)?;
            let info = state::load_operator(deps.storage, &operator)?;
            let validator = match info {
                Some(info) => Some(validator_info(deps, operator, info, &active)?),
                None => None,
            };
            to_json_binary(&ValidatorResponse { validator })?
        }
        QueryMsg::ListValidators { start_after, limit } => {
            let active = active_operators(deps)?;
            let page: Vec<(String, OperatorInfo)> =
                state::page(deps.storage, state::OPERATOR_PREFIX, start_after.as_deref(), page_size(limit))?;
            let validators = page
                .into_iter()
                .map(|(operator, info)| validator_info(deps, operator, info, &active))
                .collect::<StdResult<Vec<_>>>()?;
            to_json_binary(&ListValidatorsResponse { validators })?
        }
        QueryMsg::ListActiveValidators {} => {
            to_json_binary(&ListActiveValidatorsResponse { validators: state::load_active(deps.storage)? })?
        }
        QueryMsg::SimulateActiveValidators {} => {
            let config: Config = state::load(deps.storage, state::CONFIG)?;
            to_json_binary(&ListActiveValidatorsResponse { validators: choose_active(deps, &config, now)? })?
        }
        QueryMsg::ListJailed { start_after, limit } => {
            let page: Vec<(String, JailedUntil)> =
                state::page(deps.storage, state::JAILED_PREFIX, start_after.as_deref(), page_size(limit))?;
            let validators = page
                .into_iter()
                .filter(|(_, until)| until.is_jailed(now))
                .map(|(operator, jailed_until)| JailedValidator { operator, jailed_until })
                .collect();
            to_json_binary(&ListJailedResponse { validators })?
        }
    };
    Ok(answer)
}

fn page_size(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

fn active_operators(deps: Deps) -> StdResult<BTreeSet<String>> {
    Ok(state::load_active(deps.storage)?.into_iter().map(|v| v.operator).collect())
}

fn validator_info(deps: Deps, operator: String, info: OperatorInfo, active: &BTreeSet<String>) -> StdResult<ValidatorInfo> {
    Ok(ValidatorInfo {
        jailed_until: state::load_jail(deps.storage, &operator)?,
        active_validator: active.contains(&operator),
        operator,
        validator_pubkey: Pubkey::Ed25519(info.pubkey),
        metadata: info.metadata,
    })
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

    fn v(key: u8, power: u64) -> ActiveValidator {
        ActiveValidator {
            operator: format!("op{}", key),
            validator_pubkey: Pubkey::Ed25519(Binary(vec![key; 32])),
            power,
        }
    }

    fn d(key: u8, power: u64) -> ValidatorDiff {
        ValidatorDiff { pubkey: Pubkey::Ed25519(Binary(vec![key; 32])), power }
    }

    #[test]
    fn diff_first_set_is_all_additions_sorted() {
        assert_eq!(diff_sets(&[], &[v(3, 30), v(1, 10), v(2, 20)]), vec![d(1, 10), d(2, 20), d(3, 30)]);
        assert_eq!(diff_sets(&[], &[]), vec![]);
    }

    #[test]
    fn diff_updates_and_additions_then_removals() {
        let old = [v(5, 50), v(1, 10), v(9, 90), v(4, 40)];
        let new = [v(7, 70), v(1, 11), v(5, 50), v(2, 20)];
        // 1 changed, 2 and 7 added, 5 unchanged; 4 and 9 removed
        assert_eq!(diff_sets(&old, &new), vec![d(1, 11), d(2, 20), d(7, 70), d(4, 0), d(9, 0)]);
        assert_eq!(diff_sets(&new, &new), vec![]);
        assert_eq!(diff_sets(&new, &[]), vec![d(1, 0), d(2, 0), d(5, 0), d(7, 0)]);
    }

    #[test]
    fn diff_json_shape() {
        let data = ValidatorUpdateData { diffs: diff_sets(&[v(1, 10)], &[]) };
        let json = String::from_utf8(to_json_vec(&data).unwrap()).unwrap();
        assert_eq!(json, r#"{"diffs":[{"pubkey":{"ed25519":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="},"power":0}]}"#);
    }

    #[test]
    fn ratios() {
        assert_eq!(parse_ratio("0.5").unwrap(), 500_000_000);
        assert_eq!(parse_ratio("0").unwrap(), 0);
        assert_eq!(parse_ratio("1").unwrap(), 1_000_000_000);
        assert_eq!(parse_ratio("0.000000001").unwrap(), 1);
        for bad in ["", "1.1", "0.0000000001", "-1", ".5", "5.", "x", "2"] {
            assert!(parse_ratio(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn jail_expiry() {
        assert!(JailedUntil::Forever {}.is_jailed(u64::MAX));
        assert!(JailedUntil::Until(10).is_jailed(9));
        assert!(!JailedUntil::Until(10).is_jailed(10));
    }
}
