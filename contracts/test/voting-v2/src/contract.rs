//! v2's entry points that differ from v1: instantiate and migrate stamp version 2.0.0,
//! query answers `{"version":{}}` and hands every other query to v1.

use conclave_sdk::serde_json::{self, Value};
use conclave_sdk::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdError};
use voting::contract as v1;
use voting::msg::{InstantiateMsg, QueryMsg};
use voting::state::{self, ContractVersion};
use voting::ContractError;

use crate::msg::{MigrateMsg, V2QueryMsg};

/// The contract keeps v1's name (cw2 style: one contract, several versions).
pub const CONTRACT_NAME: &str = v1::CONTRACT_NAME;
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The only version this code migrates from (besides itself).
pub const V1_VERSION: &str = v1::CONTRACT_VERSION;

fn record_version(deps: DepsMut) -> Result<(), ContractError> {
    let version = ContractVersion { contract: CONTRACT_NAME.to_string(), version: CONTRACT_VERSION.to_string() };
    Ok(state::save(deps.storage, state::CONTRACT_INFO, &version)?)
}

pub fn instantiate(mut deps: DepsMut, env: Env, info: MessageInfo, msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    let response = v1::instantiate(deps.branch(), env, info, msg)?;
    record_version(deps)?;
    Ok(response)
}

/// `{"version":{}}` is v2's own; anything else is parsed and answered exactly as v1 does.
pub fn query(deps: Deps, env: Env, msg: Value) -> Result<Binary, ContractError> {
    if msg.get("version").is_some() {
        let V2QueryMsg::Version {} = serde_json::from_value(msg)
            .map_err(|e| StdError::parse_err("test_voting_v2::msg::V2QueryMsg", e))?;
        let version: ContractVersion = state::may_load(deps.storage, state::CONTRACT_INFO)?
            .ok_or_else(|| StdError::not_found("voting::state::ContractVersion"))?;
        return Ok(to_json_binary(&version)?);
    }
    let msg: QueryMsg = conclave_sdk::from_json(serde_json::to_vec(&msg).map_err(|e| StdError::serialize_err("Value", e))?)?;
    v1::query(deps, env, msg)
}

/// Accepts `{}` on a voting instance of v1 (or already v2); keeps all state and only
/// rewrites the recorded version. Any other contract or version is refused.
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let from: Option<ContractVersion> = state::may_load(deps.storage, state::CONTRACT_INFO)?;
    let from = match from {
        Some(from) if from.contract == CONTRACT_NAME && (from.version == V1_VERSION || from.version == CONTRACT_VERSION) => from,
        Some(from) => {
            return Err(StdError::generic_err(format!(
                "Cannot migrate {} {} to {} {}: only {} {} can be upgraded to this code",
                from.contract, from.version, CONTRACT_NAME, CONTRACT_VERSION, CONTRACT_NAME, V1_VERSION
            ))
            .into())
        }
        None => {
            return Err(StdError::generic_err(format!(
                "Cannot migrate to {} {}: the contract records no version, so it is not a {} contract",
                CONTRACT_NAME, CONTRACT_VERSION, CONTRACT_NAME
            ))
            .into())
        }
    };
    record_version(deps)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", from.version)
        .add_attribute("version", CONTRACT_VERSION))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::serde_json::json;
    use conclave_sdk::testing::{mock_dependencies, mock_env, MemoryStorage, MockApi, MockQuerier};
    use conclave_sdk::{from_json, Addr, OwnedDeps};
    use voting::msg::{Decimal, Proposers, VotingRules};
    use voting::state::Config;

    type TestDeps = OwnedDeps<MemoryStorage, MockApi, MockQuerier>;

    /// A v1 instance as genesis leaves it: its config and v1's version record.
    fn v1_instance() -> TestDeps {
        let mut deps = mock_dependencies();
        let rules = VotingRules {
            voting_period: 100,
            quorum: Decimal::parse("0.3").unwrap(),
            threshold: Decimal::parse("0.51").unwrap(),
            allow_end_early: true,
        };
        let config =
            Config { rules, electorate: Addr::unchecked("electorate"), admins_group: None, proposers: Proposers::Members };
        state::save_config(&mut deps.storage, &config).unwrap();
        set_version(&mut deps, "voting", V1_VERSION);
        deps
    }

    fn set_version(deps: &mut TestDeps, contract: &str, version: &str) {
        let version = ContractVersion { contract: contract.into(), version: version.into() };
        state::save(&mut deps.storage, state::CONTRACT_INFO, &version).unwrap();
    }

    fn raw_query(deps: &TestDeps, msg: Value) -> Result<Binary, ContractError> {
        query(deps.as_ref(), mock_env(), msg)
    }

    #[test]
    fn migrate_from_v1_records_v2_and_keeps_state() {
        let mut deps = v1_instance();
        let config_before = raw_query(&deps, json!({"config": {}})).unwrap();
        let res = migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
        assert!(res.attributes.iter().any(|a| a.key == "from_version" && a.value == V1_VERSION));
        let version: ContractVersion = from_json(raw_query(&deps, json!({"version": {}})).unwrap()).unwrap();
        assert_eq!(version, ContractVersion { contract: "voting".into(), version: "2.0.0".into() });
        assert_eq!(raw_query(&deps, json!({"config": {}})).unwrap(), config_before);
        // Migrating again onto the same code is harmless.
        migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
    }

    #[test]
    fn migrate_refuses_other_contracts_and_versions() {
        for (contract, version) in [("group", "0.1.0"), ("voting", "0.0.9"), ("voting", "3.0.0")] {
            let mut deps = v1_instance();
            set_version(&mut deps, contract, version);
            let err = migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap_err().to_string();
            assert!(err.contains("only voting 0.1.0 can be upgraded"), "{}", err);
            let kept: Option<ContractVersion> = state::may_load(&deps.storage, state::CONTRACT_INFO).unwrap();
            assert_eq!(kept.unwrap().version, version);
        }
        let mut deps = mock_dependencies();
        let err = migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap_err().to_string();
        assert!(err.contains("records no version"), "{}", err);
        assert!(from_json::<MigrateMsg>(br#"{"count":1}"#).is_err());
    }

    #[test]
    fn queries_v1_messages_and_refuses_bad_ones() {
        let deps = v1_instance();
        let rules: VotingRules = from_json(raw_query(&deps, json!({"rules": {}})).unwrap()).unwrap();
        assert_eq!(rules.voting_period, 100);
        let err = raw_query(&deps, json!({"no_such_query": {}})).unwrap_err().to_string();
        assert!(err.contains("unknown variant"), "{}", err);
        let err = raw_query(&deps, json!({"version": {"extra": 1}})).unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{}", err);
    }
}
