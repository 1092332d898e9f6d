//! The engagement contract's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// The sender is not the admin (or there is no admin).
    Unauthorized,
    /// Funds were sent to a message that takes none.
    FundsNotAccepted,
    /// An address longer than [`crate::msg::MAX_ADDR_LEN`] bytes.
    AddressTooLong,
    /// A list longer than its documented limit.
    TooMany { what: &'static str, max: usize },
    /// The same address twice in one message.
    DuplicateAddress(String),
    /// `add_hook` for an address already registered.
    HookAlreadyRegistered(String),
    /// `remove_hook` for an address not registered.
    HookNotRegistered(String),
    /// A halflife of zero seconds.
    InvalidHalflife,
    /// Points (of a member or the total) above u64::MAX.
    PointsOverflow,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::FundsNotAccepted => f.write_str("This message does not accept funds"),
            ContractError::AddressTooLong => write!(f, "Address too long: at most {} bytes", crate::msg::MAX_ADDR_LEN),
            ContractError::TooMany { what, max } => write!(f, "Too many {}: at most {}", what, max),
            ContractError::DuplicateAddress(addr) => write!(f, "Address listed more than once: {}", addr),
            ContractError::HookAlreadyRegistered(addr) => write!(f, "Hook already registered: {}", addr),
            ContractError::HookNotRegistered(addr) => write!(f, "Hook not registered: {}", addr),
            ContractError::InvalidHalflife => f.write_str("Invalid halflife: must be at least 1 second (or null for no decay)"),
            ContractError::PointsOverflow => f.write_str("Points overflow: the result exceeds 18446744073709551615"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
