//! Deps: what an entry point may touch. Storage (the contract's own key/value store),
//! Api (address and crypto helpers of the host) and the querier (other contracts, bank,
//! custom chain queries). Queries get the read-only `Deps`; state-changing entry points
//! get `DepsMut`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::binary::Binary;
use crate::errors::{StdError, StdResult, VerificationError};
use crate::query::{
    AllBalanceResponse, BalanceResponse, BankQuery, CodeInfoResponse, ContractInfoResponse,
    QueryRequest, SystemResult, WasmQuery,
};
use crate::results::ContractResult;
use crate::serde_json_helpers::{from_json, to_json_binary, to_json_vec};
use crate::types::{Addr, Coin};

/// A key and its value.
pub type Record = (Vec<u8>, Vec<u8>);

/// Iteration order of a range; the discriminants are the ABI values of `db_scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Ascending = 1,
    Descending = 2,
}

/// The contract's key/value store. Ranges include `start` and exclude `end`.
pub trait Storage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    fn set(&mut self, key: &[u8], value: &[u8]);
    fn remove(&mut self, key: &[u8]);

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a>;

    fn range_keys<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Vec<u8>> + 'a> {
        Box::new(self.range(start, end, order).map(|(key, _)| key))
    }

    fn range_values<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Vec<u8>> + 'a> {
        Box::new(self.range(start, end, order).map(|(_, value)| value))
    }
}

/// Address and crypto services of the host.
pub trait Api {
    fn addr_validate(&self, human: &str) -> StdResult<Addr>;
    fn addr_canonicalize(&self, human: &str) -> StdResult<Binary>;
    fn addr_humanize(&self, canonical: &[u8]) -> StdResult<Addr>;

    fn secp256k1_verify(&self, message_hash: &[u8], signature: &[u8], public_key: &[u8])
        -> Result<bool, VerificationError>;
    fn secp256k1_recover_pubkey(&self, message_hash: &[u8], signature: &[u8], recovery_param: u8)
        -> Result<Vec<u8>, VerificationError>;
    fn secp256r1_verify(&self, message_hash: &[u8], signature: &[u8], public_key: &[u8])
        -> Result<bool, VerificationError>;
    fn secp256r1_recover_pubkey(&self, message_hash: &[u8], signature: &[u8], recovery_param: u8)
        -> Result<Vec<u8>, VerificationError>;
    fn ed25519_verify(&self, message: &[u8], signature: &[u8], public_key: &[u8])
        -> Result<bool, VerificationError>;
    fn ed25519_batch_verify(&self, messages: &[&[u8]], signatures: &[&[u8]], public_keys: &[&[u8]])
        -> Result<bool, VerificationError>;

    /// Prints a message in the host's log; never affects state.
    fn debug(&self, message: &str);
}

/// Sends a JSON QueryRequest to the chain and returns its raw answer.
pub trait Querier {
    fn raw_query(&self, request: &[u8]) -> SystemResult<ContractResult<Binary>>;
}

/// Typed helpers over a [`Querier`].
#[derive(Clone, Copy)]
pub struct QuerierWrapper<'a> {
    querier: &'a dyn Querier,
}

impl<'a> QuerierWrapper<'a> {
    pub fn new(querier: &'a dyn Querier) -> Self {
        QuerierWrapper { querier }
    }

    /// The raw SystemResult<ContractResult<Binary>> for serialised request bytes.
    pub fn raw_query(&self, request: &[u8]) -> SystemResult<ContractResult<Binary>> {
        self.querier.raw_query(request)
    }

    /// Sends `request`, unwraps both result layers and parses the answer as JSON `T`.
    pub fn query<T: DeserializeOwned>(&self, request: &QueryRequest) -> StdResult<T> {
        let bytes = to_json_vec(request)?;
        let answer = self.query_bytes(&bytes)?;
        from_json(answer.as_slice())
    }

    /// Sends serialised request bytes and unwraps both result layers.
    pub fn query_bytes(&self, request: &[u8]) -> StdResult<Binary> {
        match self.querier.raw_query(request) {
            SystemResult::Err(system_err) => {
                Err(StdError::generic_err(format!("Querier system error: {}", system_err)))
            }
            SystemResult::Ok(ContractResult::Err(contract_err)) => {
                Err(StdError::generic_err(format!("Querier contract error: {}", contract_err)))
            }
            SystemResult::Ok(ContractResult::Ok(answer)) => Ok(answer),
        }
    }

    /// Asks another contract's `query` entry point.
    pub fn query_wasm_smart<T: DeserializeOwned>(
        &self,
        contract_addr: impl Into<String>,
        msg: &impl Serialize,
    ) -> StdResult<T> {
        let request = QueryRequest::Wasm(WasmQuery::Smart {
            contract_addr: contract_addr.into(),
            msg: to_json_binary(msg)?,
        });
        self.query(&request)
    }

    /// Reads one raw storage entry of another contract; None when missing.
    pub fn query_wasm_raw(
        &self,
        contract_addr: impl Into<String>,
        key: impl Into<Binary>,
    ) -> StdResult<Option<Vec<u8>>> {
        let request = QueryRequest::Wasm(WasmQuery::Raw {
            contract_addr: contract_addr.into(),
            key: key.into(),
        });
        let answer = self.query_bytes(&to_json_vec(&request)?)?;
        let value: Binary = from_json(answer.as_slice())?;
        if value.is_empty() {
            Ok(None)
        } else {
            Ok(Some(value.into_vec()))
        }
    }

    pub fn query_wasm_contract_info(
        &self,
        contract_addr: impl Into<String>,
    ) -> StdResult<ContractInfoResponse> {
        self.query(&QueryRequest::Wasm(WasmQuery::ContractInfo {
            contract_addr: contract_addr.into(),
        }))
    }

    pub fn query_wasm_code_info(&self, code_id: u64) -> StdResult<CodeInfoResponse> {
        self.query(&QueryRequest::Wasm(WasmQuery::CodeInfo { code_id }))
    }

    pub fn query_balance(&self, address: impl Into<String>, denom: impl Into<String>) -> StdResult<Coin> {
        let response: BalanceResponse = self.query(&QueryRequest::Bank(BankQuery::Balance {
            address: address.into(),
            denom: denom.into(),
        }))?;
        Ok(response.amount)
    }

    pub fn query_all_balances(&self, address: impl Into<String>) -> StdResult<Vec<Coin>> {
        let response: AllBalanceResponse =
            self.query(&QueryRequest::Bank(BankQuery::AllBalances { address: address.into() }))?;
        Ok(response.amount)
    }

    /// A chain-specific query (`{"params":{}}` and the like).
    pub fn query_custom<T: DeserializeOwned>(&self, request: Value) -> StdResult<T> {
        self.query(&QueryRequest::Custom(request))
    }
}

/// Read-only dependencies, given to `query`.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub storage: &'a dyn Storage,
    pub api: &'a dyn Api,
    pub querier: QuerierWrapper<'a>,
}

/// Dependencies of state-changing entry points.
pub struct DepsMut<'a> {
    pub storage: &'a mut dyn Storage,
    pub api: &'a dyn Api,
    pub querier: QuerierWrapper<'a>,
}

impl<'a> DepsMut<'a> {
    pub fn as_ref(&'_ self) -> Deps<'_> {
        Deps { storage: self.storage, api: self.api, querier: self.querier }
    }

    /// A shorter-lived DepsMut, to pass on without giving this one away.
    pub fn branch(&'_ mut self) -> DepsMut<'_> {
        DepsMut { storage: self.storage, api: self.api, querier: self.querier }
    }
}

/// Owns a storage, api and querier; entry points (and tests) borrow Deps from it.
pub struct OwnedDeps<S: Storage, A: Api, Q: Querier> {
    pub storage: S,
    pub api: A,
    pub querier: Q,
}

impl<S: Storage, A: Api, Q: Querier> OwnedDeps<S, A, Q> {
    pub fn as_ref(&'_ self) -> Deps<'_> {
        Deps { storage: &self.storage, api: &self.api, querier: QuerierWrapper::new(&self.querier) }
    }

    pub fn as_mut(&'_ mut self) -> DepsMut<'_> {
        DepsMut {
            storage: &mut self.storage,
            api: &self.api,
            querier: QuerierWrapper::new(&self.querier),
        }
    }
}
