//! The valset's messages: its public face (JSON examples in the README, schemas in schema/).

use conclave_sdk::{Binary, Uint64};
use serde::{Deserialize, Serialize};

/// Default and largest page of list_validators and list_jailed.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 30;
/// Largest max_validators.
pub const MAX_VALIDATORS_CAP: u32 = 1000;
/// Most initial keys at instantiate.
pub const MAX_INITIAL_KEYS: usize = 1000;
/// Page size used to read the membership (tg4 max).
pub const MEMBERSHIP_PAGE: u32 = 30;
/// Metadata limits (bytes).
pub const MAX_MONIKER_LEN: usize = 70;
pub const MAX_IDENTITY_LEN: usize = 64;
pub const MAX_URL_LEN: usize = 140;
pub const MAX_DETAILS_LEN: usize = 280;
/// Longest decimal string (double_sign_slash_ratio).
pub const MAX_DECIMAL_LEN: usize = 32;
/// The slash ratio when instantiate does not name one.
pub const DEFAULT_SLASH_RATIO: &str = "0.5";

/// A consensus public key: `{"ed25519":"<base64 of 32 bytes>"}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Pubkey {
    Ed25519(Binary),
}

impl Pubkey {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Pubkey::Ed25519(bytes) => bytes.as_slice(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ValidatorMetadata {
    /// 1..=70 bytes.
    pub moniker: String,
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub security_contact: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InitialKey {
    pub operator: String,
    pub validator_pubkey: Pubkey,
    #[serde(default)]
    pub metadata: Option<ValidatorMetadata>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The tg4 contract whose points make validators (the mixer).
    pub membership: String,
    pub min_points: u64,
    pub max_validators: u32,
    /// Seconds; > 0.
    pub epoch_length: u64,
    /// power = points * scaling; default 1.
    #[serde(default)]
    pub scaling: Option<u32>,
    #[serde(default)]
    pub admin: Option<String>,
    #[serde(default)]
    pub initial_keys: Vec<InitialKey>,
    /// Share slashed on double-sign evidence, decimal in [0, 1]; default "0.5".
    #[serde(default)]
    pub double_sign_slash_ratio: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// A member with points > 0 registers its consensus key (once).
    RegisterValidatorKey { pubkey: Pubkey, metadata: ValidatorMetadata },
    /// An operator with a key replaces its metadata.
    UpdateMetadata(ValidatorMetadata),
    /// Admin: jail for `duration` seconds, or forever (null).
    Jail {
        operator: String,
        #[serde(default)]
        duration: Option<u64>,
    },
    /// Admin: lift a jail.
    Unjail { operator: String },
    /// Admin: change the given settings.
    UpdateConfig {
        #[serde(default)]
        min_points: Option<u64>,
        #[serde(default)]
        max_validators: Option<u32>,
        #[serde(default)]
        scaling: Option<u32>,
        #[serde(default)]
        epoch_length: Option<u64>,
        #[serde(default)]
        double_sign_slash_ratio: Option<String>,
    },
    /// Admin: hand over (null: nobody, forever).
    UpdateAdmin {
        #[serde(default)]
        admin: Option<String>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub validator: Pubkey,
    pub height: u64,
    pub time_ns: Uint64,
    /// "duplicate_vote" or "light_client_attack" are acted on; other kinds are ignored.
    pub kind: String,
}

/// The chain's privilege notice (`{"promoted":{}}` / `{"demoted":{}}`): one type, in the SDK.
pub use conclave_sdk::chain::PrivilegeChange;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SudoMsg {
    /// Once per epoch: the new active set, answered as the diff (Response data).
    EndWithValidatorUpdate {},
    /// Double-sign evidence: jail forever and slash.
    BeginBlock {
        #[serde(default)]
        evidence: Vec<Evidence>,
    },
    /// The chain granted or revoked a privilege; nothing to do.
    PrivilegeChange(PrivilegeChange),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// -> ConfigResponse
    Config {},
    /// -> EpochResponse
    Epoch {},
    /// -> ValidatorResponse
    Validator { operator: String },
    /// -> ListValidatorsResponse, operator address order.
    ListValidators {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// -> ListActiveValidatorsResponse: the set of the last update.
    ListActiveValidators {},
    /// -> ListActiveValidatorsResponse: the set an update would choose now.
    SimulateActiveValidators {},
    /// -> ListJailedResponse, operator address order (expired jails omitted).
    ListJailed {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigResponse {
    pub membership: String,
    pub min_points: u64,
    pub max_validators: u32,
    pub epoch_length: u64,
    pub scaling: u32,
    pub double_sign_slash_ratio: String,
    pub admin: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EpochResponse {
    pub epoch_length: u64,
    /// The epoch of the last update (0 before the first).
    pub current_epoch: u64,
    pub last_update_time: u64,
    pub last_update_height: u64,
    /// The first block time at which the next update happens.
    pub next_update_time: u64,
}

/// `{"forever":{}}` or `{"until":<seconds>}`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JailedUntil {
    Forever {},
    Until(u64),
}

impl JailedUntil {
    pub fn is_jailed(&self, now: u64) -> bool {
        match self {
            JailedUntil::Forever {} => true,
            JailedUntil::Until(time) => now < *time,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ValidatorInfo {
    pub operator: String,
    pub validator_pubkey: Pubkey,
    pub metadata: Option<ValidatorMetadata>,
    pub jailed_until: Option<JailedUntil>,
    /// In the active set of the last update.
    pub active_validator: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ValidatorResponse {
    pub validator: Option<ValidatorInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListValidatorsResponse {
    pub validators: Vec<ValidatorInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActiveValidator {
    pub operator: String,
    pub validator_pubkey: Pubkey,
    pub power: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListActiveValidatorsResponse {
    pub validators: Vec<ActiveValidator>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct JailedValidator {
    pub operator: String,
    pub jailed_until: JailedUntil,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListJailedResponse {
    pub validators: Vec<JailedValidator>,
}

/// One change of the validator set; power 0 removes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ValidatorDiff {
    pub pubkey: Pubkey,
    pub power: u64,
}

/// The Response data of an epoch's end_with_validator_update.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdateData {
    pub diffs: Vec<ValidatorDiff>,
}

/// The message sent to the membership (mixer) on double-sign evidence.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MembershipExecuteMsg {
    Slash { addr: String, portion: String },
}
