//! Queries a contract sends to the chain (QueryRequest) and what comes back
//! (SystemResult<ContractResult<Binary>>), plus the typed answers of bank and wasm queries.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::binary::Binary;
use crate::types::Coin;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum QueryRequest {
    Bank(BankQuery),
    /// Chain-specific queries (Conclave's `params`, `privileged`, ...).
    Custom(Value),
    Staking(Value),
    Distribution(Value),
    Stargate(Value),
    Grpc(Value),
    Ibc(Value),
    Wasm(WasmQuery),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BankQuery {
    Supply { denom: String },
    Balance { address: String, denom: String },
    AllBalances { address: String },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WasmQuery {
    /// `msg` is the JSON query for the other contract.
    Smart { contract_addr: String, msg: Binary },
    /// One raw storage entry of another contract; empty answer = missing.
    Raw { contract_addr: String, key: Binary },
    ContractInfo { contract_addr: String },
    CodeInfo { code_id: u64 },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BalanceResponse {
    pub amount: Coin,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AllBalanceResponse {
    pub amount: Vec<Coin>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SupplyResponse {
    pub amount: Coin,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractInfoResponse {
    pub code_id: u64,
    pub creator: String,
    pub admin: Option<String>,
    pub pinned: bool,
    pub ibc_port: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CodeInfoResponse {
    pub code_id: u64,
    pub creator: String,
    /// Hex-encoded sha256 of the wasm code.
    pub checksum: String,
}

/// `{"ok": T}` or `{"error": SystemError}`: whether the chain could run the query at all.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SystemResult<T> {
    Ok(T),
    #[serde(rename = "error")]
    Err(SystemError),
}

impl<T> SystemResult<T> {
    pub fn into_result(self) -> Result<T, SystemError> {
        match self {
            SystemResult::Ok(value) => Ok(value),
            SystemResult::Err(err) => Err(err),
        }
    }
}

/// A failure of the chain to answer, kept as the host's JSON (e.g.
/// `{"no_such_contract":{"addr":"..."}}`, `{"unsupported_request":{"kind":"..."}}`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(transparent)]
pub struct SystemError(pub Value);

impl SystemError {
    /// The variant name, e.g. "no_such_contract".
    pub fn kind(&self) -> Option<&str> {
        match &self.0 {
            Value::Object(map) => map.keys().next().map(|k| k.as_str()),
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl fmt::Display for SystemError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
