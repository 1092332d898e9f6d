//! StdError: the errors the SDK itself produces, with readable messages.

use std::fmt;

/// An error raised by the SDK (parsing, serialising, querying, host crypto, overflow).
/// Contracts usually wrap it in their own error enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StdError {
    /// Anything without a more specific kind; the message says what went wrong.
    GenericErr { msg: String },
    /// JSON that could not be parsed into the named type.
    ParseErr { target_type: String, msg: String },
    /// A value that could not be serialised to JSON.
    SerializeErr { source_type: String, msg: String },
    /// A base64 string that does not decode.
    InvalidBase64 { msg: String },
    /// Data that should be UTF-8 but is not.
    InvalidUtf8 { msg: String },
    /// A storage entry that was expected but is missing.
    NotFound { kind: String },
    /// Arithmetic overflow or underflow.
    Overflow { operation: String },
    /// A host crypto call refused its input.
    Verification(VerificationError),
}

pub type StdResult<T> = Result<T, StdError>;

impl StdError {
    pub fn generic_err(msg: impl Into<String>) -> Self {
        StdError::GenericErr { msg: msg.into() }
    }

    pub fn parse_err(target_type: impl Into<String>, msg: impl ToString) -> Self {
        StdError::ParseErr { target_type: target_type.into(), msg: msg.to_string() }
    }

    pub fn serialize_err(source_type: impl Into<String>, msg: impl ToString) -> Self {
        StdError::SerializeErr { source_type: source_type.into(), msg: msg.to_string() }
    }

    pub fn invalid_base64(msg: impl Into<String>) -> Self {
        StdError::InvalidBase64 { msg: msg.into() }
    }

    pub fn invalid_utf8(msg: impl ToString) -> Self {
        StdError::InvalidUtf8 { msg: msg.to_string() }
    }

    pub fn not_found(kind: impl Into<String>) -> Self {
        StdError::NotFound { kind: kind.into() }
    }

    pub fn overflow(operation: impl Into<String>) -> Self {
        StdError::Overflow { operation: operation.into() }
    }
}

impl fmt::Display for StdError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            StdError::GenericErr { msg } => write!(f, "Generic error: {}", msg),
            StdError::ParseErr { target_type, msg } => {
                write!(f, "Error parsing into type {}: {}", target_type, msg)
            }
            StdError::SerializeErr { source_type, msg } => {
                write!(f, "Error serializing type {}: {}", source_type, msg)
            }
            StdError::InvalidBase64 { msg } => write!(f, "Invalid Base64 string: {}", msg),
            StdError::InvalidUtf8 { msg } => write!(f, "Cannot decode UTF8 bytes into string: {}", msg),
            StdError::NotFound { kind } => write!(f, "{} not found", kind),
            StdError::Overflow { operation } => write!(f, "Overflow: {}", operation),
            StdError::Verification(e) => write!(f, "Verification error: {}", e),
        }
    }
}

impl std::error::Error for StdError {}

impl From<VerificationError> for StdError {
    fn from(e: VerificationError) -> Self {
        StdError::Verification(e)
    }
}

impl From<std::str::Utf8Error> for StdError {
    fn from(e: std::str::Utf8Error) -> Self {
        StdError::invalid_utf8(e)
    }
}

impl From<std::string::FromUtf8Error> for StdError {
    fn from(e: std::string::FromUtf8Error) -> Self {
        StdError::invalid_utf8(e)
    }
}

/// Why a host signature check or public-key recovery refused its input. The codes are
/// the ones cosmwasm-vm returns from the crypto imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationError {
    /// Code 2: the message exceeds the host's limit.
    MessageTooLong,
    /// Code 3.
    InvalidHashFormat,
    /// Code 4.
    InvalidSignatureFormat,
    /// Code 5.
    InvalidPubkeyFormat,
    /// Code 6.
    InvalidRecoveryParam,
    /// Code 7: batch lists of mismatching lengths.
    BatchErr,
    /// Code 10.
    GenericErr,
    /// Any other code.
    UnknownErr { error_code: u32 },
}

impl VerificationError {
    pub fn from_code(code: u32) -> Self {
        match code {
            2 => VerificationError::MessageTooLong,
            3 => VerificationError::InvalidHashFormat,
            4 => VerificationError::InvalidSignatureFormat,
            5 => VerificationError::InvalidPubkeyFormat,
            6 => VerificationError::InvalidRecoveryParam,
            7 => VerificationError::BatchErr,
            10 => VerificationError::GenericErr,
            other => VerificationError::UnknownErr { error_code: other },
        }
    }
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            VerificationError::MessageTooLong => f.write_str("Message too long"),
            VerificationError::InvalidHashFormat => f.write_str("Invalid hash format"),
            VerificationError::InvalidSignatureFormat => f.write_str("Invalid signature format"),
            VerificationError::InvalidPubkeyFormat => f.write_str("Invalid public key format"),
            VerificationError::InvalidRecoveryParam => {
                f.write_str("Invalid recovery parameter (supported: 0 and 1)")
            }
            VerificationError::BatchErr => f.write_str("Batch error: list lengths do not match"),
            VerificationError::GenericErr => f.write_str("Generic verification error"),
            VerificationError::UnknownErr { error_code } => {
                write!(f, "Unknown error code {}", error_code)
            }
        }
    }
}

impl std::error::Error for VerificationError {}
