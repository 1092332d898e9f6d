//! Conclave's own sudo vocabulary that any contract may receive (DESIGN.md, "Chain <-> contract
//! messages"). Standard CosmWasm contracts never see these; privileged genesis contracts do.

use serde::{Deserialize, Serialize};

/// `{"promoted":{}}` / `{"demoted":{}}`: the chain tells a contract that governance granted or
/// revoked one of its privileges. Contracts that need no set-up accept it and do nothing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PrivilegeChange {
    Promoted {},
    Demoted {},
}
