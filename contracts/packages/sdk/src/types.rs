//! The environment a contract runs in: Env, MessageInfo, addresses, coins and time.
//! Unknown fields are ignored on input, as cosmwasm-std does, so a host may add fields.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::math::{Uint128, Uint64};

/// A human readable address, as validated by the host (bech32 on Conclave).
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(transparent)]
pub struct Addr(String);

impl Addr {
    /// Wraps a string without validation; use `deps.api.addr_validate` for user input.
    pub fn unchecked(input: impl Into<String>) -> Self {
        Addr(input.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Addr({:?})", self.0)
    }
}

impl AsRef<str> for Addr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Addr> for String {
    fn from(addr: Addr) -> String {
        addr.0
    }
}

impl PartialEq<&str> for Addr {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A point in time in nanoseconds since the Unix epoch, serialised as a decimal string.
#[derive(Serialize, Deserialize, Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[serde(transparent)]
pub struct Timestamp(Uint64);

impl Timestamp {
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(Uint64::new(nanos))
    }

    pub const fn from_seconds(seconds: u64) -> Self {
        Timestamp(Uint64::new(seconds * 1_000_000_000))
    }

    pub const fn nanos(&self) -> u64 {
        self.0 .0
    }

    pub const fn seconds(&self) -> u64 {
        self.0 .0 / 1_000_000_000
    }

    pub const fn subsec_nanos(&self) -> u64 {
        self.0 .0 % 1_000_000_000
    }

    /// Panics on overflow.
    pub fn plus_seconds(&self, seconds: u64) -> Timestamp {
        self.plus_nanos(seconds.checked_mul(1_000_000_000).expect("timestamp overflow"))
    }

    /// Panics on overflow.
    pub fn plus_nanos(&self, nanos: u64) -> Timestamp {
        Timestamp::from_nanos(self.nanos().checked_add(nanos).expect("timestamp overflow"))
    }

    /// Saturates at zero.
    pub fn minus_seconds(&self, seconds: u64) -> Timestamp {
        Timestamp::from_nanos(self.nanos().saturating_sub(seconds.saturating_mul(1_000_000_000)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:09}", self.seconds(), self.subsec_nanos())
    }
}

/// What a contract is told about the call: block, transaction and its own address.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub block: BlockInfo,
    /// None when not run inside a transaction (begin/end block, queries).
    pub transaction: Option<TransactionInfo>,
    pub contract: ContractInfo,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    pub time: Timestamp,
    pub chain_id: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TransactionInfo {
    /// Position of the transaction in the block.
    pub index: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractInfo {
    pub address: Addr,
}

/// Who called and what funds they sent along (already moved to the contract).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MessageInfo {
    pub sender: Addr,
    pub funds: Vec<Coin>,
}

/// An amount of one native token.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, Eq, Hash)]
pub struct Coin {
    pub denom: String,
    pub amount: Uint128,
}

impl Coin {
    pub fn new(amount: u128, denom: impl Into<String>) -> Self {
        Coin { denom: denom.into(), amount: Uint128::new(amount) }
    }
}

/// `coin(100, "ucnv")`.
pub fn coin(amount: u128, denom: impl Into<String>) -> Coin {
    Coin::new(amount, denom)
}

/// "100ucnv", as the Cosmos SDK writes coins.
impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

impl fmt::Debug for Coin {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Coin {{ {} \"{}\" }}", self.amount, self.denom)
    }
}
