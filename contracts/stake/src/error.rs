//! The stake contract's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// The sender is not the admin (or not a slasher, for `slash`).
    Unauthorized,
    /// Funds were sent to a message that takes none.
    FundsNotAccepted,
    /// `bond` without funds.
    NoFunds,
    /// `bond` with more than one coin.
    MultipleDenoms,
    /// `bond` with a coin that is not the stake denom.
    WrongDenom { expected: String, got: String },
    /// `bond` with a zero amount.
    ZeroBond,
    /// `unbond` of zero tokens.
    ZeroUnbond,
    /// `unbond` of more than is bonded.
    InsufficientBond { bonded: u128, requested: u128 },
    /// `claim` when no claim has matured.
    NothingToClaim,
    /// More pending claims for one address than [`crate::msg::MAX_CLAIMS`].
    TooManyClaims,
    /// A slash portion that is not a decimal in (0, 1] with at most 9 decimal places.
    InvalidPortion(String),
    /// An invalid instantiate parameter.
    InvalidConfig(&'static str),
    /// An address longer than [`crate::msg::MAX_ADDR_LEN`] bytes.
    AddressTooLong,
    /// A list longer than its documented limit.
    TooMany { what: &'static str, max: usize },
    HookAlreadyRegistered(String),
    HookNotRegistered(String),
    SlasherAlreadyRegistered(String),
    SlasherNotRegistered(String),
    /// tokens / tokens_per_point above u64::MAX.
    PointsOverflow,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::FundsNotAccepted => f.write_str("This message does not accept funds"),
            ContractError::NoFunds => f.write_str("No funds sent: bond requires funds in the stake denom"),
            ContractError::MultipleDenoms => f.write_str("Bond accepts exactly one coin: the stake denom"),
            ContractError::WrongDenom { expected, got } => {
                write!(f, "Wrong denom: expected {}, got {}", expected, got)
            }
            ContractError::ZeroBond => f.write_str("Cannot bond zero tokens"),
            ContractError::ZeroUnbond => f.write_str("Cannot unbond zero tokens"),
            ContractError::InsufficientBond { bonded, requested } => {
                write!(f, "Cannot unbond {} tokens: only {} bonded", requested, bonded)
            }
            ContractError::NothingToClaim => f.write_str("Nothing to claim: no claim has matured"),
            ContractError::TooManyClaims => {
                write!(f, "Too many pending claims: at most {} per address", crate::msg::MAX_CLAIMS)
            }
            ContractError::InvalidPortion(portion) => {
                write!(f, "Invalid portion '{}': must be a decimal in (0, 1] with at most 9 decimal places", portion)
            }
            ContractError::InvalidConfig(reason) => write!(f, "Invalid config: {}", reason),
            ContractError::AddressTooLong => write!(f, "Address too long: at most {} bytes", crate::msg::MAX_ADDR_LEN),
            ContractError::TooMany { what, max } => write!(f, "Too many {}: at most {}", what, max),
            ContractError::HookAlreadyRegistered(addr) => write!(f, "Hook already registered: {}", addr),
            ContractError::HookNotRegistered(addr) => write!(f, "Hook not registered: {}", addr),
            ContractError::SlasherAlreadyRegistered(addr) => write!(f, "Slasher already registered: {}", addr),
            ContractError::SlasherNotRegistered(addr) => write!(f, "Slasher not registered: {}", addr),
            ContractError::PointsOverflow => f.write_str("Points overflow: tokens / tokens_per_point exceeds u64"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
