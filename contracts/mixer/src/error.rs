//! The mixer's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// Not the admin (hooks, slashers, admin), not one of the two groups (member_changed_hook),
    /// or neither admin nor slasher (slash).
    Unauthorized,
    /// A decimal parameter that is not a plain non-negative decimal with <= 18 places.
    InvalidDecimal { field: String, value: String },
    /// A sigmoid parameter out of range.
    InvalidFunction(&'static str),
    /// The slash portion is not a decimal in (0, 1] with at most 9 places.
    InvalidPortion(String),
    HookAlreadyRegistered(String),
    HookNotRegistered(String),
    SlasherAlreadyRegistered(String),
    SlasherNotRegistered(String),
    /// More than the allowed hooks or slashers.
    TooMany(&'static str, usize),
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::InvalidDecimal { field, value } => write!(
                f,
                "Invalid decimal for {}: '{}' (expected digits with an optional '.' and at most 18 decimal places)",
                field, value
            ),
            ContractError::InvalidFunction(why) => write!(f, "Invalid mixer function: {}", why),
            ContractError::InvalidPortion(value) => {
                write!(f, "Invalid slash portion '{}': expected a decimal in (0, 1] with at most 9 decimal places", value)
            }
            ContractError::HookAlreadyRegistered(addr) => write!(f, "Hook already registered: {}", addr),
            ContractError::HookNotRegistered(addr) => write!(f, "Hook not registered: {}", addr),
            ContractError::SlasherAlreadyRegistered(addr) => write!(f, "Slasher already registered: {}", addr),
            ContractError::SlasherNotRegistered(addr) => write!(f, "Slasher not registered: {}", addr),
            ContractError::TooMany(what, max) => write!(f, "Too many {}: at most {}", what, max),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
