//! test-reflect's entry points: one small function per message.

use conclave_sdk::serde_json::{json, Value};
use conclave_sdk::{
    from_json, to_json_binary, to_json_vec, Binary, Deps, DepsMut, Env, MessageInfo, Order, Reply,
    Response, StdError, StdResult,
};

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, QueryMsg, ScanOrder, ScanRange};
use crate::state::{reply_key, ReplyConfig, REPLY_CONFIG, REPLY_ORDER};

pub fn instantiate(_deps: DepsMut, _env: Env, _info: MessageInfo, _msg: InstantiateMsg)
    -> Result<Response, ContractError> {
    Ok(Response::new().add_attribute("action", "instantiate"))
}

pub fn execute(deps: DepsMut, _env: Env, _info: MessageInfo, msg: ExecuteMsg)
    -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Dispatch { msgs, data, reply_data, fail_reply } => {
            let config = ReplyConfig { reply_data, fail_reply };
            deps.storage.set(REPLY_CONFIG, &to_json_vec(&config)?);
            let mut response = Response::new().add_submessages(msgs);
            response.data = data;
            Ok(response)
        }
        ExecuteMsg::Emit { attributes, events, data } => {
            let mut response = Response::new().add_attributes(attributes).add_events(events);
            response.data = data;
            Ok(response)
        }
        ExecuteMsg::Write { key, value } => {
            deps.storage.set(key.as_bytes(), value.as_bytes());
            Ok(Response::new())
        }
        ExecuteMsg::Remove { key } => {
            deps.storage.remove(key.as_bytes());
            Ok(Response::new())
        }
        ExecuteMsg::Fail { msg } => Err(ContractError::Requested(msg)),
        ExecuteMsg::WriteThenFail { key, value, msg } => {
            deps.storage.set(key.as_bytes(), value.as_bytes());
            Err(ContractError::Requested(msg))
        }
    }
}

/// Records the reply exactly as received (after checking it parses as a Reply), then
/// fails or answers as the last dispatch asked.
pub fn reply(deps: DepsMut, _env: Env, raw: Value) -> Result<Response, ContractError> {
    let reply: Reply = conclave_sdk::serde_json::from_value(raw.clone())
        .map_err(|e| StdError::parse_err("Reply", e))?;
    deps.storage.set(&reply_key(reply.id), &to_json_vec(&raw)?);
    let mut order: Vec<u64> = match deps.storage.get(REPLY_ORDER) {
        Some(bytes) => from_json(&bytes)?,
        None => vec![],
    };
    order.push(reply.id);
    deps.storage.set(REPLY_ORDER, &to_json_vec(&order)?);

    let config: ReplyConfig = match deps.storage.get(REPLY_CONFIG) {
        Some(bytes) => from_json(&bytes)?,
        None => ReplyConfig::default(),
    };
    if config.fail_reply {
        return Err(ContractError::Requested("reply failed".to_string()));
    }
    let mut response = Response::new().add_attribute("reply_id", reply.id.to_string());
    response.data = config.reply_data;
    Ok(response)
}

pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let api = deps.api;
    let answer = match msg {
        QueryMsg::Reply { id } => match deps.storage.get(&reply_key(id)) {
            Some(bytes) => Binary(bytes),
            None => to_json_binary(&Value::Null)?,
        },
        QueryMsg::ReplyOrder {} => {
            let ids: Vec<u64> = match deps.storage.get(REPLY_ORDER) {
                Some(bytes) => from_json(&bytes)?,
                None => vec![],
            };
            to_json_binary(&json!({ "ids": ids }))?
        }
        QueryMsg::Read { key } => {
            let value = deps.storage.get(key.as_bytes()).map(|v| lossy(&v));
            to_json_binary(&json!({ "value": value }))?
        }
        QueryMsg::Scan(range) => {
            let (start, end, order) = bounds(&range);
            let pairs: Vec<(String, String)> = deps
                .storage
                .range(start, end, order)
                .map(|(k, v)| (lossy(&k), lossy(&v)))
                .collect();
            to_json_binary(&json!({ "pairs": pairs }))?
        }
        QueryMsg::ScanKeys(range) => {
            let (start, end, order) = bounds(&range);
            let keys: Vec<String> = deps.storage.range_keys(start, end, order).map(|k| lossy(&k)).collect();
            to_json_binary(&json!({ "keys": keys }))?
        }
        QueryMsg::ScanValues(range) => {
            let (start, end, order) = bounds(&range);
            let values: Vec<String> =
                deps.storage.range_values(start, end, order).map(|v| lossy(&v)).collect();
            to_json_binary(&json!({ "values": values }))?
        }
        QueryMsg::Chain { request } => {
            let raw = host::query_chain_raw(&to_json_vec(&request)?)?;
            let result: Value = from_json(&raw)?;
            to_json_binary(&json!({ "result": result }))?
        }
        QueryMsg::Smart { contract, msg } => {
            let answer: Value = deps.querier.query_wasm_smart(contract, &msg)?;
            to_json_binary(&answer)?
        }
        QueryMsg::Balance { address, denom } => {
            let coin = deps.querier.query_balance(address, denom)?;
            to_json_binary(&json!({ "amount": coin.amount }))?
        }
        QueryMsg::AddrValidate { addr } => to_json_binary(&match api.addr_validate(&addr) {
            Ok(_) => json!({ "ok": true }),
            Err(e) => json!({ "error": e.to_string() }),
        })?,
        QueryMsg::AddrCanonicalize { addr } => to_json_binary(&match api.addr_canonicalize(&addr) {
            Ok(canonical) => json!({ "canonical": to_hex(&canonical) }),
            Err(e) => json!({ "error": e.to_string() }),
        })?,
        QueryMsg::AddrHumanize { canonical } => {
            let bytes = from_hex(&canonical)?;
            to_json_binary(&match api.addr_humanize(&bytes) {
                Ok(human) => json!({ "human": human }),
                Err(e) => json!({ "error": e.to_string() }),
            })?
        }
        QueryMsg::Ed25519Verify { msg, sig, pubkey } => {
            verdict(api.ed25519_verify(&msg, &sig, &pubkey))?
        }
        QueryMsg::Ed25519BatchVerify { msgs, sigs, pubkeys } => {
            let msgs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
            let sigs: Vec<&[u8]> = sigs.iter().map(|s| s.as_slice()).collect();
            let pubkeys: Vec<&[u8]> = pubkeys.iter().map(|p| p.as_slice()).collect();
            verdict(api.ed25519_batch_verify(&msgs, &sigs, &pubkeys))?
        }
        QueryMsg::Secp256k1Verify { hash, sig, pubkey } => {
            verdict(api.secp256k1_verify(&hash, &sig, &pubkey))?
        }
        QueryMsg::Secp256k1RecoverPubkey { hash, sig, recovery_param } => {
            recovered(api.secp256k1_recover_pubkey(&hash, &sig, recovery_param))?
        }
        QueryMsg::Secp256r1Verify { hash, sig, pubkey } => {
            verdict(api.secp256r1_verify(&hash, &sig, &pubkey))?
        }
        QueryMsg::Secp256r1RecoverPubkey { hash, sig, recovery_param } => {
            recovered(api.secp256r1_recover_pubkey(&hash, &sig, recovery_param))?
        }
        QueryMsg::Debug { msg } => {
            api.debug(&msg);
            to_json_binary(&json!({}))?
        }
        QueryMsg::TryWrite {} => {
            host::write_from_query(b"try_write", b"from a query")?;
            to_json_binary(&json!({}))?
        }
    };
    Ok(answer)
}

fn bounds(range: &ScanRange) -> (Option<&[u8]>, Option<&[u8]>, Order) {
    let order = match range.order {
        ScanOrder::Ascending => Order::Ascending,
        ScanOrder::Descending => Order::Descending,
    };
    (range.start.as_ref().map(|s| s.as_bytes()), range.end.as_ref().map(|e| e.as_bytes()), order)
}

fn verdict<E: ToString>(result: Result<bool, E>) -> StdResult<Binary> {
    to_json_binary(&match result {
        Ok(valid) => json!({ "valid": valid }),
        Err(e) => json!({ "error": e.to_string() }),
    })
}

fn recovered<E: ToString>(result: Result<Vec<u8>, E>) -> StdResult<Binary> {
    to_json_binary(&match result {
        Ok(pubkey) => json!({ "pubkey": Binary(pubkey) }),
        Err(e) => json!({ "error": e.to_string() }),
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

fn from_hex(text: &str) -> StdResult<Vec<u8>> {
    let invalid = || StdError::generic_err(format!("invalid hex: '{}'", text));
    if text.len() % 2 != 0 {
        return Err(invalid());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()).ok_or_else(invalid))
        .collect()
}

/// Direct import calls that bypass the SDK's typed wrappers.
#[cfg(target_arch = "wasm32")]
mod host {
    use conclave_sdk::memory::{build_region, region_ptr};
    use conclave_sdk::StdResult;

    pub fn query_chain_raw(request: &[u8]) -> StdResult<Vec<u8>> {
        Ok(conclave_sdk::imports::query_chain_bytes(request))
    }

    pub fn write_from_query(key: &[u8], value: &[u8]) -> StdResult<()> {
        let (key, value) = (build_region(key), build_region(value));
        unsafe { conclave_sdk::imports::db_write(region_ptr(&key), region_ptr(&value)) };
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use conclave_sdk::{StdError, StdResult};

    pub fn query_chain_raw(_request: &[u8]) -> StdResult<Vec<u8>> {
        Err(StdError::generic_err("query_chain is only available inside the VM"))
    }

    pub fn write_from_query(_key: &[u8], _value: &[u8]) -> StdResult<()> {
        Err(StdError::generic_err("db_write is only available inside the VM"))
    }
}
