//! Binary: bytes that travel through JSON as a standard (padded) base64 string.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::errors::{StdError, StdResult};

/// Arbitrary bytes, serialised as base64 (like cosmwasm-std's `Binary`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Binary(pub Vec<u8>);

impl Binary {
    pub fn new(data: Vec<u8>) -> Self {
        Binary(data)
    }

    /// Decodes standard base64 (the JSON representation).
    pub fn from_base64(encoded: &str) -> StdResult<Self> {
        base64::decode_config(encoded, base64::STANDARD)
            .map(Binary)
            .map_err(|e| StdError::invalid_base64(e.to_string()))
    }

    pub fn to_base64(&self) -> String {
        base64::encode_config(&self.0, base64::STANDARD)
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.0.clone()
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Binary(")?;
        for byte in &self.0 {
            write!(f, "{:02x}", byte)?;
        }
        write!(f, ")")
    }
}

impl Deref for Binary {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Binary {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Binary {
    fn from(data: Vec<u8>) -> Self {
        Binary(data)
    }
}

impl From<&[u8]> for Binary {
    fn from(data: &[u8]) -> Self {
        Binary(data.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Binary {
    fn from(data: [u8; N]) -> Self {
        Binary(data.to_vec())
    }
}

impl From<Binary> for Vec<u8> {
    fn from(data: Binary) -> Vec<u8> {
        data.0
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Base64Visitor)
    }
}

struct Base64Visitor;

impl<'de> Visitor<'de> for Base64Visitor {
    type Value = Binary;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a base64 encoded string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Binary::from_base64(v).map_err(|e| E::custom(e.to_string()))
    }
}
