//! The valset's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

use crate::ed25519::KeyProblem;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// Not the admin (jail, unjail, update_config, update_admin).
    Unauthorized,
    /// register_validator_key by an address without points in the membership.
    NotAMember(String),
    /// The operator already has a key (keys cannot be changed).
    OperatorAlreadyRegistered(String),
    /// Another operator uses this key.
    PubkeyInUse,
    InvalidPubkey(KeyProblem),
    /// update_metadata, jail, unjail of an address without a key.
    UnknownOperator(String),
    NotJailed(String),
    InvalidMetadata(String),
    InvalidConfig(&'static str),
    InvalidRatio(String),
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::NotAMember(addr) => {
                write!(f, "{} has no points in the membership: only members may register a validator key", addr)
            }
            ContractError::OperatorAlreadyRegistered(addr) => {
                write!(f, "Operator {} already registered a validator key", addr)
            }
            ContractError::PubkeyInUse => f.write_str("Validator pubkey already registered by another operator"),
            ContractError::InvalidPubkey(problem) => match problem {
                KeyProblem::WrongLength(n) => write!(f, "Invalid ed25519 pubkey: {} bytes, expected 32", n),
                KeyProblem::NotCanonical => f.write_str("Invalid ed25519 pubkey: non-canonical encoding"),
                KeyProblem::NotOnCurve => f.write_str("Invalid ed25519 pubkey: not a point on the curve"),
                KeyProblem::SmallOrder => f.write_str("Invalid ed25519 pubkey: a small-order point"),
            },
            ContractError::UnknownOperator(addr) => write!(f, "No validator key registered by {}", addr),
            ContractError::NotJailed(addr) => write!(f, "Operator {} is not jailed", addr),
            ContractError::InvalidMetadata(why) => write!(f, "Invalid metadata: {}", why),
            ContractError::InvalidConfig(why) => write!(f, "Invalid config: {}", why),
            ContractError::InvalidRatio(value) => write!(
                f,
                "Invalid double_sign_slash_ratio '{}': expected a decimal in [0, 1] with at most 9 decimal places",
                value
            ),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
