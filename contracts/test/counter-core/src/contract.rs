//! Entry points of the counter, one small function per message.

use conclave_sdk::{to_json_binary, to_json_vec, Binary, Deps, DepsMut, Env, MessageInfo, Response};

use crate::error::ContractError;
use crate::msg::{
    CountResponse, ExecuteMsg, InstantiateMsg, MigrateMsg, MigratedFromResponse, OwnerResponse,
    QueryMsg, SudoMsg, VersionResponse,
};
use crate::state::{self, CONTRACT_VERSION, COUNT, MIGRATED_FROM_VERSION, OWNER};

/// What distinguishes the two builds of the counter.
pub struct Flavor {
    /// Answered by `{"version":{}}` and stored as `contract_version`.
    pub version: u64,
    /// Added by `{"increment":{}}`.
    pub step: u64,
}

pub fn instantiate(
    flavor: &Flavor,
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    state::save(deps.storage, COUNT, &msg.count.unwrap_or(0))?;
    state::save(deps.storage, OWNER, &info.sender)?;
    state::save(deps.storage, CONTRACT_VERSION, &flavor.version)?;
    Ok(Response::new().add_attribute("action", "instantiate"))
}

pub fn execute(
    flavor: &Flavor,
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Increment {} => increment(flavor, deps),
        ExecuteMsg::Reset { count } => reset(deps, info, count),
        ExecuteMsg::Fail { msg } => Err(ContractError::Requested(msg)),
        ExecuteMsg::Deposit {} => deposit(info),
    }
}

/// Adds the step with a single storage write; data is `{"count":n}`.
fn increment(flavor: &Flavor, deps: DepsMut) -> Result<Response, ContractError> {
    let count: u64 = state::load(deps.storage, COUNT)?;
    let count = count + flavor.step;
    state::save(deps.storage, COUNT, &count)?;
    Ok(Response::new()
        .add_attribute("action", "increment")
        .add_attribute("count", count.to_string())
        .set_data(to_json_vec(&CountResponse { count })?))
}

fn reset(deps: DepsMut, info: MessageInfo, count: u64) -> Result<Response, ContractError> {
    if info.sender != state::load_owner(deps.storage)? {
        return Err(ContractError::Unauthorized);
    }
    state::save(deps.storage, COUNT, &count)?;
    Ok(Response::new().add_attribute("action", "reset").add_attribute("count", count.to_string()))
}

/// Lists the funds received as "100ucnv,5uatom".
fn deposit(info: MessageInfo) -> Result<Response, ContractError> {
    let funds: Vec<String> = info.funds.iter().map(|c| c.to_string()).collect();
    Ok(Response::new().add_attribute("action", "deposit").add_attribute("funds", funds.join(",")))
}

pub fn query(flavor: &Flavor, deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let answer = match msg {
        QueryMsg::Count {} => to_json_binary(&CountResponse { count: state::load(deps.storage, COUNT)? })?,
        QueryMsg::Owner {} => {
            to_json_binary(&OwnerResponse { owner: state::load_owner(deps.storage)?.into_string() })?
        }
        QueryMsg::Version {} => to_json_binary(&VersionResponse { version: flavor.version })?,
        QueryMsg::MigratedFrom {} => to_json_binary(&MigratedFromResponse {
            version: state::may_load(deps.storage, MIGRATED_FROM_VERSION)?,
        })?,
    };
    Ok(answer)
}

/// Records the version migrated from, sets `count` if given, stamps this code's version.
pub fn migrate(flavor: &Flavor, deps: DepsMut, _env: Env, msg: MigrateMsg) -> Result<Response, ContractError> {
    let previous: u64 = state::may_load(deps.storage, CONTRACT_VERSION)?.unwrap_or(0);
    state::save(deps.storage, MIGRATED_FROM_VERSION, &previous)?;
    state::save(deps.storage, CONTRACT_VERSION, &flavor.version)?;
    if let Some(count) = msg.count {
        state::save(deps.storage, COUNT, &count)?;
    }
    Ok(Response::new().add_attribute("action", "migrate"))
}

pub fn sudo(_flavor: &Flavor, deps: DepsMut, _env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::SetCount { count } => {
            state::save(deps.storage, COUNT, &count)?;
            Ok(Response::new().add_attribute("action", "set_count").add_attribute("count", count.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_sdk::testing::{message_info, mock_dependencies, mock_env};
    use conclave_sdk::{coin, from_json};

    const V1: Flavor = Flavor { version: 1, step: 1 };
    const V2: Flavor = Flavor { version: 2, step: 2 };

    #[test]
    fn increments_resets_and_migrates() {
        let mut deps = mock_dependencies();
        instantiate(&V1, deps.as_mut(), mock_env(), message_info("owner", &[]), InstantiateMsg { count: Some(5) })
            .unwrap();
        let res = execute(&V1, deps.as_mut(), mock_env(), message_info("x", &[]), ExecuteMsg::Increment {}).unwrap();
        assert_eq!(res.data.unwrap().as_slice(), br#"{"count":6}"#);
        let err = execute(&V1, deps.as_mut(), mock_env(), message_info("x", &[]), ExecuteMsg::Reset { count: 7 })
            .unwrap_err();
        assert_eq!(err.to_string(), "Unauthorized");
        let res = execute(
            &V1,
            deps.as_mut(),
            mock_env(),
            message_info("x", &[coin(100, "ucnv"), coin(5, "uatom")]),
            ExecuteMsg::Deposit {},
        )
        .unwrap();
        assert_eq!(res.attributes[1].value, "100ucnv,5uatom");
        migrate(&V2, deps.as_mut(), mock_env(), MigrateMsg { count: None }).unwrap();
        execute(&V2, deps.as_mut(), mock_env(), message_info("x", &[]), ExecuteMsg::Increment {}).unwrap();
        let count: CountResponse =
            from_json(query(&V2, deps.as_ref(), mock_env(), QueryMsg::Count {}).unwrap()).unwrap();
        assert_eq!(count.count, 8);
        let from: MigratedFromResponse =
            from_json(query(&V2, deps.as_ref(), mock_env(), QueryMsg::MigratedFrom {}).unwrap()).unwrap();
        assert_eq!(from.version, Some(1));
    }
}
