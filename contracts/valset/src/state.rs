//! Storage layout. Values are JSON.
//!
//! | key                  | value                                                         |
//! |----------------------|---------------------------------------------------------------|
//! | `config`             | Config                                                        |
//! | `admin`              | address or null                                               |
//! | `epoch`              | EpochInfo (absent before the first update)                    |
//! | `active_pages`       | how many pages the active set of the last update fills (u32)  |
//! | `active:<u32 be>`    | one page: up to ACTIVE_PAGE_SIZE `{"operator","validator_pubkey","power"}` |
//! | `operator:<addr>`    | `{"pubkey":b64,"metadata":{..}|null}`                         |
//! | `pubkey:<32 bytes>`  | the operator address using that key                           |
//! | `jailed:<addr>`      | `{"forever":{}}` or `{"until":s}`                             |
//! | `contract_info`      | `{"contract":"valset","version":"0.1.0"}`                     |

use conclave_sdk::{from_json, to_json_vec, Addr, Binary, Order, StdError, StdResult, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::msg::{ActiveValidator, JailedUntil, ValidatorMetadata};

pub const CONFIG: &[u8] = b"config";
pub const ADMIN: &[u8] = b"admin";
pub const EPOCH: &[u8] = b"epoch";
/// The active set is stored in pages so that no single value nears the host's 128 KiB value
/// limit: 100 validators (~15 KB) a page; max_validators (<= 1,000) fills at most 10.
const ACTIVE_PAGES: &[u8] = b"active_pages";
const ACTIVE_PAGE_PREFIX: &[u8] = b"active:";
pub const ACTIVE_PAGE_SIZE: usize = 100;
pub const CONTRACT_INFO: &[u8] = b"contract_info";
pub const OPERATOR_PREFIX: &[u8] = b"operator:";
const PUBKEY_PREFIX: &[u8] = b"pubkey:";
pub const JAILED_PREFIX: &[u8] = b"jailed:";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub membership: Addr,
    pub min_points: u64,
    pub max_validators: u32,
    pub epoch_length: u64,
    pub scaling: u32,
    /// As given (validated), e.g. "0.5".
    pub double_sign_slash_ratio: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochInfo {
    pub current_epoch: u64,
    pub last_update_time: u64,
    pub last_update_height: u64,
    pub next_update_time: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OperatorInfo {
    pub pubkey: Binary,
    pub metadata: Option<ValidatorMetadata>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub contract: String,
    pub version: String,
}

pub fn may_load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<Option<T>> {
    match storage.get(key) {
        Some(bytes) => from_json(&bytes).map(Some),
        None => Ok(None),
    }
}

pub fn load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> StdResult<T> {
    may_load(storage, key)?.ok_or_else(|| StdError::not_found(String::from_utf8_lossy(key).into_owned()))
}

pub fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> StdResult<()> {
    storage.set(key, &to_json_vec(value)?);
    Ok(())
}

pub fn load_admin(storage: &dyn Storage) -> StdResult<Option<Addr>> {
    Ok(may_load::<Option<Addr>>(storage, ADMIN)?.flatten())
}

fn active_page_key(page: u32) -> Vec<u8> {
    key(ACTIVE_PAGE_PREFIX, &page.to_be_bytes())
}

pub fn load_active(storage: &dyn Storage) -> StdResult<Vec<ActiveValidator>> {
    let pages: u32 = may_load(storage, ACTIVE_PAGES)?.unwrap_or(0);
    let mut active = Vec::new();
    for page in 0..pages {
        let mut part: Vec<ActiveValidator> = load(storage, &active_page_key(page))?;
        active.append(&mut part);
    }
    Ok(active)
}

pub fn save_active(storage: &mut dyn Storage, active: &[ActiveValidator]) -> StdResult<()> {
    let old_pages: u32 = may_load(storage, ACTIVE_PAGES)?.unwrap_or(0);
    let mut pages = 0u32;
    for chunk in active.chunks(ACTIVE_PAGE_SIZE) {
        save(storage, &active_page_key(pages), &chunk.to_vec())?;
        pages += 1;
    }
    for stale in pages..old_pages {
        storage.remove(&active_page_key(stale));
    }
    save(storage, ACTIVE_PAGES, &pages)
}

fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    [prefix, rest].concat()
}

pub fn load_operator(storage: &dyn Storage, operator: &str) -> StdResult<Option<OperatorInfo>> {
    may_load(storage, &key(OPERATOR_PREFIX, operator.as_bytes()))
}

pub fn save_operator(storage: &mut dyn Storage, operator: &str, info: &OperatorInfo) -> StdResult<()> {
    save(storage, &key(OPERATOR_PREFIX, operator.as_bytes()), info)
}

pub fn operator_of_pubkey(storage: &dyn Storage, pubkey: &[u8]) -> StdResult<Option<String>> {
    may_load(storage, &key(PUBKEY_PREFIX, pubkey))
}

pub fn save_pubkey(storage: &mut dyn Storage, pubkey: &[u8], operator: &str) -> StdResult<()> {
    save(storage, &key(PUBKEY_PREFIX, pubkey), &operator)
}

pub fn load_jail(storage: &dyn Storage, operator: &str) -> StdResult<Option<JailedUntil>> {
    may_load(storage, &key(JAILED_PREFIX, operator.as_bytes()))
}

pub fn save_jail(storage: &mut dyn Storage, operator: &str, jail: Option<JailedUntil>) -> StdResult<()> {
    let k = key(JAILED_PREFIX, operator.as_bytes());
    match jail {
        Some(jail) => save(storage, &k, &jail),
        None => {
            storage.remove(&k);
            Ok(())
        }
    }
}

/// Up to `limit` entries under `prefix` after `start_after` (an address), address order.
pub fn page<T: DeserializeOwned>(storage: &dyn Storage, prefix: &[u8], start_after: Option<&str>, limit: usize)
    -> StdResult<Vec<(String, T)>> {
    let start = match start_after {
        Some(addr) => {
            let mut k = key(prefix, addr.as_bytes());
            k.push(0);
            k
        }
        None => prefix.to_vec(),
    };
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    storage
        .range(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|(k, v)| Ok((String::from_utf8(k[prefix.len()..].to_vec())?, from_json(&v)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Pubkey;
    use conclave_sdk::testing::MemoryStorage;

    const HOST_VALUE_LIMIT: usize = 128 * 1024;

    fn validators(n: usize) -> Vec<ActiveValidator> {
        (0..n)
            .map(|i| ActiveValidator {
                operator: format!("conclave1{:0>58}", i),
                validator_pubkey: Pubkey::Ed25519(Binary::from(vec![(i % 251) as u8; 32])),
                power: 1_000_000 + i as u64,
            })
            .collect()
    }

    #[test]
    fn the_largest_active_set_round_trips_in_pages_under_the_value_limit() {
        let mut storage = MemoryStorage::new();
        let big = validators(1000);
        save_active(&mut storage, &big).unwrap();
        assert_eq!(load_active(&storage).unwrap(), big);
        for page in 0..10u32 {
            let value = storage.get(&active_page_key(page)).unwrap();
            assert!(value.len() < HOST_VALUE_LIMIT, "page {} is {} bytes", page, value.len());
        }
        // shrinking drops the stale pages
        let small = validators(150);
        save_active(&mut storage, &small).unwrap();
        assert_eq!(load_active(&storage).unwrap(), small);
        assert!(storage.get(&active_page_key(2)).is_none());
        save_active(&mut storage, &[]).unwrap();
        assert!(load_active(&storage).unwrap().is_empty());
        assert!(storage.get(&active_page_key(0)).is_none());
    }
}
