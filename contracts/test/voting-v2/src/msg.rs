//! v2's additions to the voting contract's messages; everything else is `voting::msg`.

use serde::{Deserialize, Serialize};

/// Queries only v2 answers. v1 refuses `{"version":{}}` as an unknown variant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum V2QueryMsg {
    /// -> `voting::state::ContractVersion`, e.g. `{"contract":"voting","version":"2.0.0"}`.
    Version {},
}

/// The only migrate message: `{}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}
