//! The trusted circle's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// The sender may not do this (admin-only message, or no admin at all).
    Unauthorized,
    /// Bad input: the text says what was wrong.
    Invalid(String),
    /// The address is on the deny list and may not join.
    Denied(String),
    /// The address is not in the circle.
    NotMember(String),
    /// The address is already in the circle with this status.
    AlreadyMember { addr: String, status: &'static str },
    /// The sender's status does not allow this message.
    WrongStatus { action: &'static str, status: &'static str },
    /// Funds sent with a message that takes none, or the wrong funds.
    Funds(String),
    /// The escrow of a leaving member is still frozen.
    EscrowFrozen { claim_at: u64 },
}

impl ContractError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        ContractError::Invalid(msg.into())
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::Invalid(msg) => f.write_str(msg),
            ContractError::Denied(addr) => write!(f, "{} is on the deny list and may not join", addr),
            ContractError::NotMember(addr) => write!(f, "{} is not a member of the trusted circle", addr),
            ContractError::AlreadyMember { addr, status } => {
                write!(f, "{} is already in the trusted circle (status {})", addr, status)
            }
            ContractError::WrongStatus { action, status } => {
                write!(f, "cannot {} with member status {}", action, status)
            }
            ContractError::Funds(msg) => f.write_str(msg),
            ContractError::EscrowFrozen { claim_at } => {
                write!(f, "escrow is frozen until {} (seconds since epoch)", claim_at)
            }
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
