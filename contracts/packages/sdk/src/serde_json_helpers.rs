//! JSON helpers with errors that name the type involved.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::binary::Binary;
use crate::errors::{StdError, StdResult};

/// Parses JSON bytes into `T`.
pub fn from_json<T: DeserializeOwned>(data: impl AsRef<[u8]>) -> StdResult<T> {
    serde_json::from_slice(data.as_ref())
        .map_err(|e| StdError::parse_err(std::any::type_name::<T>(), e))
}

/// Serialises `data` to compact JSON bytes.
pub fn to_json_vec<T: Serialize + ?Sized>(data: &T) -> StdResult<Vec<u8>> {
    serde_json::to_vec(data).map_err(|e| StdError::serialize_err(std::any::type_name::<T>(), e))
}

/// Serialises `data` to a compact JSON string.
pub fn to_json_string<T: Serialize + ?Sized>(data: &T) -> StdResult<String> {
    serde_json::to_string(data)
        .map_err(|e| StdError::serialize_err(std::any::type_name::<T>(), e))
}

/// Serialises `data` to JSON wrapped in a [`Binary`]: what a query returns.
pub fn to_json_binary<T: Serialize + ?Sized>(data: &T) -> StdResult<Binary> {
    to_json_vec(data).map(Binary)
}
