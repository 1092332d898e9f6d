//! The voting contract's errors; their Display text is what the chain reports.

use std::fmt;

use conclave_sdk::StdError;

use crate::state::Status;

#[derive(Debug, PartialEq)]
pub enum ContractError {
    Std(StdError),
    /// update_rules from anyone but the contract itself.
    Unauthorized,
    /// The proposer has no points in the electorate (proposers = members).
    NotAMember,
    /// A code proposal from someone outside the admins group.
    NotAnAdmin,
    /// A code proposal while no admins group is configured.
    NoAdminsGroup,
    /// The voter had no points in the electorate at the proposal's creation height.
    NoVotingPoints { proposal_id: u64 },
    ProposalNotFound(u64),
    AlreadyVoted { proposal_id: u64 },
    /// A vote at or after the proposal's expiry.
    VotingClosed { proposal_id: u64 },
    /// A vote on a proposal that is no longer open.
    NotOpen { proposal_id: u64, status: Status },
    /// execute of a proposal that has not passed (or was executed already).
    NotPassed { proposal_id: u64, status: Status },
    /// close of a proposal that is neither rejected nor expired.
    CannotClose { proposal_id: u64, status: Status },
    /// close of a proposal that was closed before.
    AlreadyClosed { proposal_id: u64 },
    InvalidRules(&'static str),
    /// A string or list longer than its limit.
    TooLong { field: &'static str, max: usize },
    EmptyTitle,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ContractError::Std(err) => err.fmt(f),
            ContractError::Unauthorized => f.write_str("Unauthorized"),
            ContractError::NotAMember => {
                f.write_str("Unauthorized: only members of the electorate with points may propose")
            }
            ContractError::NotAnAdmin => f.write_str(
                "Unauthorized: proposals with store_code, migrate_contract or pin_code only from members of the admins group",
            ),
            ContractError::NoAdminsGroup => {
                f.write_str("Code proposals are disabled: the contract has no admins group")
            }
            ContractError::NoVotingPoints { proposal_id } => write!(
                f,
                "Unauthorized: no points in the electorate at the creation of proposal {}",
                proposal_id
            ),
            ContractError::ProposalNotFound(id) => write!(f, "Proposal {} not found", id),
            ContractError::AlreadyVoted { proposal_id } => {
                write!(f, "Already voted on proposal {}", proposal_id)
            }
            ContractError::VotingClosed { proposal_id } => {
                write!(f, "Voting on proposal {} is over: its voting period expired", proposal_id)
            }
            ContractError::NotOpen { proposal_id, status } => write!(
                f,
                "Proposal {} is not open for voting: it is {}",
                proposal_id,
                status.as_str()
            ),
            ContractError::NotPassed { proposal_id, status } => write!(
                f,
                "Proposal {} cannot be executed: it is {}, only passed proposals can",
                proposal_id,
                status.as_str()
            ),
            ContractError::CannotClose { proposal_id, status } => write!(
                f,
                "Proposal {} cannot be closed: it is {}, only rejected or expired proposals can",
                proposal_id,
                status.as_str()
            ),
            ContractError::AlreadyClosed { proposal_id } => write!(f, "Proposal {} is already closed", proposal_id),
            ContractError::InvalidRules(why) => write!(f, "Invalid voting rules: {}", why),
            ContractError::TooLong { field, max } => write!(f, "{} too long: at most {}", field, max),
            ContractError::EmptyTitle => f.write_str("Proposal title must not be empty"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(err: StdError) -> Self {
        ContractError::Std(err)
    }
}
