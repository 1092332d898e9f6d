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
        let version: ContractVersion = state::load(deps.storage, state::CONTRACT_INFO)?;
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
