//! Native test doubles: an in-memory Storage, a simple Api and a Querier that answers
//! every request "unsupported", so contract logic can be unit-tested without a VM.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::json;

use crate::binary::Binary;
use crate::deps::{Api, Order, OwnedDeps, Querier, Record, Storage};
use crate::errors::{StdError, StdResult, VerificationError};
use crate::query::{SystemError, SystemResult};
use crate::results::ContractResult;
use crate::types::{Addr, BlockInfo, Coin, ContractInfo, Env, MessageInfo, Timestamp, TransactionInfo};

/// A BTreeMap with the Storage semantics of the host (end exclusive).
#[derive(Default, Debug, Clone)]
pub struct MemoryStorage {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        MemoryStorage::default()
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.data.get(key).cloned()
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.data.insert(key.to_vec(), value.to_vec());
    }

    fn remove(&mut self, key: &[u8]) {
        self.data.remove(key);
    }

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                return Box::new(std::iter::empty());
            }
        }
        let lower = start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec()));
        let upper = end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec()));
        let iter = self.data.range((lower, upper)).map(|(k, v)| (k.clone(), v.clone()));
        match order {
            Order::Ascending => Box::new(iter),
            Order::Descending => Box::new(iter.rev()),
        }
    }
}

/// Addresses are any non-empty lowercase strings; canonical form is the UTF-8 bytes.
/// Signature checks are not available natively and return an error.
#[derive(Default, Debug, Clone, Copy)]
pub struct MockApi;

impl Api for MockApi {
    fn addr_validate(&self, human: &str) -> StdResult<Addr> {
        if human.is_empty() || human.to_lowercase() != human {
            return Err(StdError::generic_err(format!("Invalid address: '{}'", human)));
        }
        Ok(Addr::unchecked(human))
    }

    fn addr_canonicalize(&self, human: &str) -> StdResult<Binary> {
        self.addr_validate(human).map(|a| Binary(a.into_string().into_bytes()))
    }

    fn addr_humanize(&self, canonical: &[u8]) -> StdResult<Addr> {
        Ok(Addr::unchecked(String::from_utf8(canonical.to_vec())?))
    }

    fn secp256k1_verify(&self, _: &[u8], _: &[u8], _: &[u8]) -> Result<bool, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn secp256k1_recover_pubkey(&self, _: &[u8], _: &[u8], _: u8) -> Result<Vec<u8>, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn secp256r1_verify(&self, _: &[u8], _: &[u8], _: &[u8]) -> Result<bool, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn secp256r1_recover_pubkey(&self, _: &[u8], _: &[u8], _: u8) -> Result<Vec<u8>, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn ed25519_verify(&self, _: &[u8], _: &[u8], _: &[u8]) -> Result<bool, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn ed25519_batch_verify(&self, _: &[&[u8]], _: &[&[u8]], _: &[&[u8]]) -> Result<bool, VerificationError> {
        Err(VerificationError::GenericErr)
    }

    fn debug(&self, message: &str) {
        eprintln!("{}", message);
    }
}

/// Answers every query with `{"unsupported_request":{"kind":"mock"}}`.
#[derive(Default, Debug, Clone, Copy)]
pub struct MockQuerier;

impl Querier for MockQuerier {
    fn raw_query(&self, _request: &[u8]) -> SystemResult<ContractResult<Binary>> {
        SystemResult::Err(SystemError(json!({"unsupported_request": {"kind": "mock"}})))
    }
}

pub fn mock_dependencies() -> OwnedDeps<MemoryStorage, MockApi, MockQuerier> {
    OwnedDeps { storage: MemoryStorage::new(), api: MockApi, querier: MockQuerier }
}

/// Height 12345, time 1571797419.879305533 s, chain "conclave-test", contract "contract".
pub fn mock_env() -> Env {
    Env {
        block: BlockInfo {
            height: 12_345,
            time: Timestamp::from_nanos(1_571_797_419_879_305_533),
            chain_id: "conclave-test".to_string(),
        },
        transaction: Some(TransactionInfo { index: 3 }),
        contract: ContractInfo { address: Addr::unchecked("contract") },
    }
}

pub fn message_info(sender: &str, funds: &[Coin]) -> MessageInfo {
    MessageInfo { sender: Addr::unchecked(sender), funds: funds.to_vec() }
}
