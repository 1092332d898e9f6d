//! The SDK's JSON must be byte-for-byte what cosmwasm-std 2.x produces and must accept
//! what a CosmWasm host sends. Literal strings below follow cosmwasm-std's documentation
//! and tests.

use conclave_sdk::serde_json::{self, json, Value};
use conclave_sdk::testing::{mock_dependencies, MemoryStorage};
use conclave_sdk::{
    coin, from_json, to_json_binary, to_json_string, Attribute, BankMsg, BankQuery, Binary,
    ContractResult, CosmosMsg, Env, Event, MessageInfo, Order, Querier, QuerierWrapper,
    QueryRequest, Reply, ReplyOn, Response, Storage, SubMsg, SubMsgResult, SystemError,
    SystemResult, Timestamp, Uint128, WasmMsg, WasmQuery,
};

fn round_trip<T>(literal: &str) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let value: T = from_json(literal.as_bytes()).unwrap();
    assert_eq!(to_json_string(&value).unwrap(), literal);
    value
}

#[test]
fn env_round_trips_and_ignores_unknown_fields() {
    let env: Env = round_trip(
        r#"{"block":{"height":12345,"time":"1571797419879305533","chain_id":"cosmos-testnet-14002"},"transaction":{"index":3},"contract":{"address":"cosmos2contract"}}"#,
    );
    assert_eq!(env.block.time, Timestamp::from_nanos(1_571_797_419_879_305_533));
    assert_eq!(env.block.time.seconds(), 1_571_797_419);
    assert_eq!(env.transaction.unwrap().index, 3);

    let with_extras: Env = from_json(
        br#"{"block":{"height":1,"time":"0","chain_id":"c","extra":true},"transaction":null,"contract":{"address":"a","code_id":5},"new_field":{"x":1}}"#,
    )
    .unwrap();
    assert!(with_extras.transaction.is_none());
    assert_eq!(
        to_json_string(&with_extras).unwrap(),
        r#"{"block":{"height":1,"time":"0","chain_id":"c"},"transaction":null,"contract":{"address":"a"}}"#
    );
}

#[test]
fn message_info_and_coins() {
    let info: MessageInfo =
        round_trip(r#"{"sender":"creator","funds":[{"denom":"earth","amount":"1015"}]}"#);
    assert_eq!(info.funds, vec![coin(1015, "earth")]);
    assert_eq!(info.funds[0].to_string(), "1015earth");
}

#[test]
fn uint128_is_a_decimal_string() {
    let max: Uint128 = round_trip(r#""340282366920938463463374607431768211455""#);
    assert_eq!(max, Uint128::MAX);
    assert!(from_json::<Uint128>(b"123").is_err(), "numbers are not accepted");
    assert!(from_json::<Uint128>(br#""-1""#).is_err());
    assert!(Uint128::MAX.checked_add(Uint128::new(1)).is_err());
}

#[test]
fn binary_is_padded_standard_base64() {
    let data: Binary = round_trip(r#""AQID""#);
    assert_eq!(data.as_slice(), &[1, 2, 3]);
    let text: Binary = round_trip(r#""MTIzCg==""#);
    assert_eq!(text.as_slice(), b"123\n");
    assert_eq!(to_json_string(&Binary::default()).unwrap(), r#""""#);
    assert!(from_json::<Binary>(br#""!!!""#).is_err());
}

#[test]
fn empty_response() {
    let response: Response = round_trip(r#"{"messages":[],"attributes":[],"events":[],"data":null}"#);
    assert_eq!(response, Response::new());
}

#[test]
fn full_response() {
    let response = Response::new()
        .add_submessage(SubMsg::reply_always(
            BankMsg::Send { to_address: "you".into(), amount: vec![coin(1015, "earth")] },
            1234,
        ))
        .add_message(BankMsg::Burn { amount: vec![coin(1, "earth")] })
        .add_attribute("action", "test")
        .add_event(Event::new("hi").add_attribute("foo", "bar"))
        .set_data(b"hello".to_vec());
    let expected = concat!(
        r#"{"messages":["#,
        r#"{"id":1234,"payload":"","msg":{"bank":{"send":{"to_address":"you","amount":[{"denom":"earth","amount":"1015"}]}}},"gas_limit":null,"reply_on":"always"},"#,
        r#"{"id":0,"payload":"","msg":{"bank":{"burn":{"amount":[{"denom":"earth","amount":"1"}]}}},"gas_limit":null,"reply_on":"never"}],"#,
        r#""attributes":[{"key":"action","value":"test"}],"#,
        r#""events":[{"type":"hi","attributes":[{"key":"foo","value":"bar"}]}],"#,
        r#""data":"aGVsbG8="}"#
    );
    assert_eq!(to_json_string(&response).unwrap(), expected);
    let parsed: Response = from_json(expected.as_bytes()).unwrap();
    assert_eq!(parsed, response);
}

#[test]
fn submsg_payload_defaults_to_empty() {
    let sub: SubMsg = from_json(
        br#"{"id":7,"msg":{"wasm":{"clear_admin":{"contract_addr":"c"}}},"gas_limit":5000,"reply_on":"success"}"#,
    )
    .unwrap();
    assert_eq!(sub.payload, Binary::default());
    assert_eq!(sub.gas_limit, Some(5000));
    assert_eq!(sub.reply_on, ReplyOn::Success);
    assert_eq!(
        to_json_string(&sub).unwrap(),
        r#"{"id":7,"payload":"","msg":{"wasm":{"clear_admin":{"contract_addr":"c"}}},"gas_limit":5000,"reply_on":"success"}"#
    );
    for reply_on in ["always", "success", "error", "never"] {
        let literal = format!(r#""{}""#, reply_on);
        let parsed: ReplyOn = from_json(literal.as_bytes()).unwrap();
        assert_eq!(to_json_string(&parsed).unwrap(), literal);
    }
}

#[test]
fn wasm_msgs() {
    round_trip::<CosmosMsg>(
        r#"{"wasm":{"execute":{"contract_addr":"joe","msg":"eyJtaW50Ijp7fX0=","funds":[]}}}"#,
    );
    round_trip::<CosmosMsg>(
        r#"{"wasm":{"instantiate":{"admin":null,"code_id":1,"msg":"e30=","funds":[{"denom":"a","amount":"1"}],"label":"my label"}}}"#,
    );
    round_trip::<CosmosMsg>(
        r#"{"wasm":{"instantiate2":{"admin":"adm","code_id":2,"label":"l","msg":"e30=","funds":[],"salt":"AQID"}}}"#,
    );
    round_trip::<CosmosMsg>(
        r#"{"wasm":{"migrate":{"contract_addr":"c","new_code_id":3,"msg":"e30="}}}"#,
    );
    round_trip::<CosmosMsg>(r#"{"wasm":{"update_admin":{"contract_addr":"c","admin":"new"}}}"#);
    let msg = CosmosMsg::Wasm(WasmMsg::ClearAdmin { contract_addr: "c".into() });
    assert_eq!(to_json_string(&msg).unwrap(), r#"{"wasm":{"clear_admin":{"contract_addr":"c"}}}"#);
}

#[test]
fn custom_and_foreign_msgs_pass_through() {
    let custom: CosmosMsg = round_trip(r#"{"custom":{"mint":{"amount":[],"to":"x"}}}"#);
    assert_eq!(custom, CosmosMsg::Custom(json!({"mint": {"to": "x", "amount": []}})));
    round_trip::<CosmosMsg>(
        r#"{"staking":{"delegate":{"amount":{"amount":"1","denom":"s"},"validator":"v"}}}"#,
    );
    round_trip::<CosmosMsg>(r#"{"any":{"type_url":"/x","value":"AQ=="}}"#);
}

#[test]
fn reply_shapes() {
    let reply: Reply = round_trip(
        r#"{"id":1234,"payload":"AQI=","gas_used":7000,"result":{"ok":{"events":[{"type":"wasm","attributes":[{"key":"fo","value":"ba"}]}],"data":"MTIzCg==","msg_responses":[{"type_url":"URL","value":"MTIzCg=="}]}}}"#,
    );
    assert!(reply.result.is_ok());
    let minimal: Reply = from_json(
        br#"{"id":1,"gas_used":0,"result":{"ok":{"events":[],"data":null}}}"#,
    )
    .unwrap();
    assert_eq!(minimal.payload, Binary::default());
    match minimal.result {
        SubMsgResult::Ok(response) => assert!(response.msg_responses.is_empty()),
        SubMsgResult::Err(_) => panic!("expected ok"),
    }
    let failed: Reply =
        round_trip(r#"{"id":2,"payload":"","gas_used":55,"result":{"error":"codespace: wasm, code: 5"}}"#);
    assert_eq!(failed.result, SubMsgResult::Err("codespace: wasm, code: 5".into()));
}

#[test]
fn contract_result_envelope() {
    let ok: ContractResult<Binary> = ContractResult::Ok(Binary(b"{}".to_vec()));
    assert_eq!(to_json_string(&ok).unwrap(), r#"{"ok":"e30="}"#);
    let err: ContractResult<Response> = ContractResult::Err("Unauthorized".into());
    assert_eq!(to_json_string(&err).unwrap(), r#"{"error":"Unauthorized"}"#);
    let parsed: ContractResult<Response> =
        from_json(br#"{"ok":{"messages":[],"attributes":[],"events":[],"data":null}}"#).unwrap();
    assert_eq!(parsed, ContractResult::Ok(Response::new()));
}

#[test]
fn query_requests() {
    let balance = QueryRequest::Bank(BankQuery::Balance { address: "foo".into(), denom: "bar".into() });
    assert_eq!(
        to_json_string(&balance).unwrap(),
        r#"{"bank":{"balance":{"address":"foo","denom":"bar"}}}"#
    );
    round_trip::<QueryRequest>(r#"{"bank":{"all_balances":{"address":"foo"}}}"#);
    let smart = QueryRequest::Wasm(WasmQuery::Smart {
        contract_addr: "c".into(),
        msg: to_json_binary(&json!({"count": {}})).unwrap(),
    });
    assert_eq!(
        to_json_string(&smart).unwrap(),
        r#"{"wasm":{"smart":{"contract_addr":"c","msg":"eyJjb3VudCI6e319"}}}"#
    );
    round_trip::<QueryRequest>(r#"{"wasm":{"raw":{"contract_addr":"c","key":"AQ=="}}}"#);
    round_trip::<QueryRequest>(r#"{"wasm":{"contract_info":{"contract_addr":"c"}}}"#);
    round_trip::<QueryRequest>(r#"{"wasm":{"code_info":{"code_id":4}}}"#);
    round_trip::<QueryRequest>(r#"{"custom":{"params":{}}}"#);
}

/// A querier that answers every request with a fixed raw JSON reply.
struct CannedQuerier(&'static str);

impl Querier for CannedQuerier {
    fn raw_query(&self, _request: &[u8]) -> SystemResult<ContractResult<Binary>> {
        serde_json::from_str(self.0).unwrap()
    }
}

#[test]
fn system_results_unwrap_into_answers_or_errors() {
    let answer = base64::encode(br#"{"amount":{"denom":"ucnv","amount":"123"}}"#);
    let ok_json: &'static str = Box::leak(format!(r#"{{"ok":{{"ok":"{}"}}}}"#, answer).into_boxed_str());
    let querier = CannedQuerier(ok_json);
    let wrapper = QuerierWrapper::new(&querier);
    assert_eq!(wrapper.query_balance("a", "ucnv").unwrap(), coin(123, "ucnv"));

    let querier = CannedQuerier(r#"{"ok":{"error":"boom"}}"#);
    let err = QuerierWrapper::new(&querier).query_wasm_smart::<Value>("c", &json!({})).unwrap_err();
    assert_eq!(err.to_string(), "Generic error: Querier contract error: boom");

    let querier = CannedQuerier(r#"{"error":{"no_such_contract":{"addr":"x"}}}"#);
    match querier.raw_query(b"{}") {
        SystemResult::Err(e) => assert_eq!(e.kind(), Some("no_such_contract")),
        SystemResult::Ok(_) => panic!("expected a system error"),
    }
    let err = QuerierWrapper::new(&querier).query_all_balances("x").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Generic error: Querier system error: {"no_such_contract":{"addr":"x"}}"#
    );
    let _ = SystemError(Value::Null);
}

#[test]
fn memory_storage_ranges_exclude_end() {
    let mut storage = MemoryStorage::new();
    for key in ["a", "b", "c", "d"] {
        storage.set(key.as_bytes(), key.to_uppercase().as_bytes());
    }
    let keys = |start: Option<&[u8]>, end: Option<&[u8]>, order| -> Vec<String> {
        storage.range_keys(start, end, order).map(|k| String::from_utf8(k).unwrap()).collect()
    };
    assert_eq!(keys(Some(b"b"), Some(b"d"), Order::Ascending), ["b", "c"]);
    assert_eq!(keys(None, Some(b"c"), Order::Descending), ["b", "a"]);
    assert_eq!(keys(Some(b"c"), None, Order::Descending), ["d", "c"]);
    assert!(keys(Some(b"d"), Some(b"a"), Order::Ascending).is_empty());
    let values: Vec<Vec<u8>> = storage.range_values(None, None, Order::Ascending).collect();
    assert_eq!(values, vec![b"A".to_vec(), b"B".to_vec(), b"C".to_vec(), b"D".to_vec()]);
}

#[test]
fn deps_borrow_from_owned_deps() {
    let mut deps = mock_dependencies();
    deps.as_mut().storage.set(b"k", b"v");
    assert_eq!(deps.as_ref().storage.get(b"k"), Some(b"v".to_vec()));
    assert_eq!(deps.as_ref().api.addr_validate("abc").unwrap().as_str(), "abc");
    assert!(deps.as_ref().api.addr_validate("ABC").is_err());
    let attr: Attribute = ("k", "v").into();
    assert_eq!(to_json_string(&attr).unwrap(), r#"{"key":"k","value":"v"}"#);
}
