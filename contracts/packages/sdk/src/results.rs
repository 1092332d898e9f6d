//! What a contract answers: ContractResult, Response with its submessages, events and
//! attributes, the messages it may dispatch (CosmosMsg) and the Reply it gets back.
//! Field order and optional fields follow cosmwasm-std 2.x exactly (e.g. `data` is
//! `null` when unset, `gas_limit` is `null` for unlimited).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::binary::Binary;
use crate::types::Coin;

/// The JSON envelope of every entry point's answer: `{"ok": T}` or `{"error": "..."}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ContractResult<T> {
    Ok(T),
    #[serde(rename = "error")]
    Err(String),
}

impl<T> ContractResult<T> {
    pub fn into_result(self) -> Result<T, String> {
        match self {
            ContractResult::Ok(value) => Ok(value),
            ContractResult::Err(err) => Err(err),
        }
    }
}

impl<T, E: ToString> From<Result<T, E>> for ContractResult<T> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => ContractResult::Ok(value),
            Err(err) => ContractResult::Err(err.to_string()),
        }
    }
}

/// A key/value pair of an event. Keys starting with "_" are reserved by the chain.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

impl Attribute {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute { key: key.into(), value: value.into() }
    }
}

/// A custom event; the chain prefixes its type with "wasm-".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    #[serde(rename = "type")]
    pub ty: String,
    pub attributes: Vec<Attribute>,
}

impl Event {
    pub fn new(ty: impl Into<String>) -> Self {
        Event { ty: ty.into(), attributes: vec![] }
    }

    pub fn add_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute::new(key, value));
        self
    }

    pub fn add_attributes<A: Into<Attribute>>(mut self, attrs: impl IntoIterator<Item = A>) -> Self {
        self.attributes.extend(attrs.into_iter().map(Into::into));
        self
    }
}

impl<K: Into<String>, V: Into<String>> From<(K, V)> for Attribute {
    fn from((key, value): (K, V)) -> Self {
        Attribute::new(key, value)
    }
}

/// The answer of instantiate, execute, migrate, sudo and reply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Response {
    /// Dispatched in order after this call succeeds; each may reply.
    pub messages: Vec<SubMsg>,
    /// Go into the "wasm" event, after "_contract_address".
    pub attributes: Vec<Attribute>,
    pub events: Vec<Event>,
    pub data: Option<Binary>,
}

impl Response {
    pub fn new() -> Self {
        Response::default()
    }

    pub fn add_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute::new(key, value));
        self
    }

    pub fn add_attributes<A: Into<Attribute>>(mut self, attrs: impl IntoIterator<Item = A>) -> Self {
        self.attributes.extend(attrs.into_iter().map(Into::into));
        self
    }

    /// A message whose failure fails this call, with no reply.
    pub fn add_message(mut self, msg: impl Into<CosmosMsg>) -> Self {
        self.messages.push(SubMsg::new(msg));
        self
    }

    pub fn add_messages<M: Into<CosmosMsg>>(mut self, msgs: impl IntoIterator<Item = M>) -> Self {
        self.messages.extend(msgs.into_iter().map(SubMsg::new));
        self
    }

    pub fn add_submessage(mut self, msg: SubMsg) -> Self {
        self.messages.push(msg);
        self
    }

    pub fn add_submessages(mut self, msgs: impl IntoIterator<Item = SubMsg>) -> Self {
        self.messages.extend(msgs);
        self
    }

    pub fn add_event(mut self, event: Event) -> Self {
        self.events.push(event);
        self
    }

    pub fn add_events(mut self, events: impl IntoIterator<Item = Event>) -> Self {
        self.events.extend(events);
        self
    }

    pub fn set_data(mut self, data: impl Into<Binary>) -> Self {
        self.data = Some(data.into());
        self
    }
}

/// When the contract wants a `reply` call for a submessage.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOn {
    Always,
    Error,
    Success,
    Never,
}

/// A message dispatched after the call, run in its own cache branch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubMsg {
    pub id: u64,
    /// Handed back untouched in the Reply.
    #[serde(default)]
    pub payload: Binary,
    pub msg: CosmosMsg,
    /// Cosmos SDK gas; None means unlimited (up to what the caller has left).
    pub gas_limit: Option<u64>,
    pub reply_on: ReplyOn,
}

impl SubMsg {
    /// Fire and forget: id 0, no reply, failure fails the caller.
    pub fn new(msg: impl Into<CosmosMsg>) -> Self {
        SubMsg::reply_with(msg.into(), 0, ReplyOn::Never)
    }

    pub fn reply_on_success(msg: impl Into<CosmosMsg>, id: u64) -> Self {
        SubMsg::reply_with(msg.into(), id, ReplyOn::Success)
    }

    pub fn reply_on_error(msg: impl Into<CosmosMsg>, id: u64) -> Self {
        SubMsg::reply_with(msg.into(), id, ReplyOn::Error)
    }

    pub fn reply_always(msg: impl Into<CosmosMsg>, id: u64) -> Self {
        SubMsg::reply_with(msg.into(), id, ReplyOn::Always)
    }

    pub fn with_gas_limit(mut self, limit: u64) -> Self {
        self.gas_limit = Some(limit);
        self
    }

    pub fn with_payload(mut self, payload: impl Into<Binary>) -> Self {
        self.payload = payload.into();
        self
    }

    fn reply_with(msg: CosmosMsg, id: u64, reply_on: ReplyOn) -> Self {
        SubMsg { id, payload: Binary::default(), msg, gas_limit: None, reply_on }
    }
}

/// What the `reply` entry point receives after a submessage ran.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub id: u64,
    #[serde(default)]
    pub payload: Binary,
    pub gas_used: u64,
    pub result: SubMsgResult,
}

/// `{"ok": SubMsgResponse}` or `{"error": "..."}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubMsgResult {
    Ok(SubMsgResponse),
    #[serde(rename = "error")]
    Err(String),
}

impl SubMsgResult {
    pub fn into_result(self) -> Result<SubMsgResponse, String> {
        match self {
            SubMsgResult::Ok(response) => Ok(response),
            SubMsgResult::Err(err) => Err(err),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, SubMsgResult::Ok(_))
    }

    pub fn is_err(&self) -> bool {
        matches!(self, SubMsgResult::Err(_))
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubMsgResponse {
    pub events: Vec<Event>,
    pub data: Option<Binary>,
    #[serde(default)]
    pub msg_responses: Vec<MsgResponse>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MsgResponse {
    pub type_url: String,
    pub value: Binary,
}

/// A message a contract may dispatch. bank, wasm and custom are typed; the others are
/// carried as raw JSON so they pass through unchanged (Conclave answers them "unsupported").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CosmosMsg {
    Bank(BankMsg),
    /// Chain-specific messages (Conclave's privileged vocabulary).
    Custom(Value),
    Staking(Value),
    Distribution(Value),
    Stargate(Value),
    Any(Value),
    Ibc(Value),
    Wasm(WasmMsg),
    Gov(Value),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BankMsg {
    /// Sends tokens from the contract to `to_address`.
    Send { to_address: String, amount: Vec<Coin> },
    /// Destroys tokens held by the contract.
    Burn { amount: Vec<Coin> },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WasmMsg {
    Execute { contract_addr: String, msg: Binary, funds: Vec<Coin> },
    Instantiate { admin: Option<String>, code_id: u64, msg: Binary, funds: Vec<Coin>, label: String },
    Instantiate2 {
        admin: Option<String>,
        code_id: u64,
        label: String,
        msg: Binary,
        funds: Vec<Coin>,
        salt: Binary,
    },
    Migrate { contract_addr: String, new_code_id: u64, msg: Binary },
    UpdateAdmin { contract_addr: String, admin: String },
    ClearAdmin { contract_addr: String },
}

impl From<BankMsg> for CosmosMsg {
    fn from(msg: BankMsg) -> Self {
        CosmosMsg::Bank(msg)
    }
}

impl From<WasmMsg> for CosmosMsg {
    fn from(msg: WasmMsg) -> Self {
        CosmosMsg::Wasm(msg)
    }
}
