//! The group's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// Only the admin may change members, hooks or the admin (and a group without an admin
    /// is frozen).
    Unauthorized,
    /// The address appears twice among the members given.
    DuplicateMember(String),
    /// The address is both in `add` and in `remove` of one update.
    AddAndRemove(String),
    /// add_hook of an address that already is a hook.
    HookAlreadyRegistered(String),
    /// remove_hook of an address that is not a hook.
    HookNotRegistered(String),
    /// The total of all points would not fit in a u64.
    TotalPointsOverflow,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::DuplicateMember(addr) => write!(f, "Duplicate member: {}", addr),
            ContractError::AddAndRemove(addr) => {
                write!(f, "Member {} is both added and removed: list it in one of add/remove", addr)
            }
            ContractError::HookAlreadyRegistered(addr) => write!(f, "Hook already registered: {}", addr),
            ContractError::HookNotRegistered(addr) => write!(f, "Hook not registered: {}", addr),
            ContractError::TotalPointsOverflow => f.write_str("Total points overflow u64"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
