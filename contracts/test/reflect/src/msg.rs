//! test-reflect's messages (JSON examples in the README).

use conclave_sdk::serde_json::Value;
use conclave_sdk::{Attribute, Binary, Event, SubMsg};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InstantiateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Returns these submessages; the reply handler will use reply_data / fail_reply.
    Dispatch {
        msgs: Vec<SubMsg>,
        #[serde(default)]
        data: Option<Binary>,
        #[serde(default)]
        reply_data: Option<Binary>,
        #[serde(default)]
        fail_reply: bool,
    },
    /// Returns exactly these attributes, events and data.
    Emit {
        #[serde(default)]
        attributes: Vec<Attribute>,
        #[serde(default)]
        events: Vec<Event>,
        #[serde(default)]
        data: Option<Binary>,
    },
    /// Writes raw storage: key bytes = key, value bytes = value.
    Write { key: String, value: String },
    Remove { key: String },
    Fail { msg: String },
    WriteThenFail { key: String, value: String, msg: String },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScanOrder {
    Ascending,
    Descending,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScanRange {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default = "ascending")]
    pub order: ScanOrder,
}

fn ascending() -> ScanOrder {
    ScanOrder::Ascending
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// The stored Reply JSON for this id, or null.
    Reply { id: u64 },
    /// `{"ids":[...]}` in the order replies arrived.
    ReplyOrder {},
    Read { key: String },
    /// db_scan + db_next.
    Scan(ScanRange),
    /// db_scan + db_next_key.
    ScanKeys(ScanRange),
    /// db_scan + db_next_value.
    ScanValues(ScanRange),
    /// Sends `request` through query_chain untouched; answers the raw SystemResult.
    Chain { request: Value },
    /// Another contract's answer, as JSON.
    Smart { contract: String, msg: Value },
    Balance { address: String, denom: String },
    AddrValidate { addr: String },
    AddrCanonicalize { addr: String },
    AddrHumanize { canonical: String },
    Ed25519Verify { msg: Binary, sig: Binary, pubkey: Binary },
    Ed25519BatchVerify { msgs: Vec<Binary>, sigs: Vec<Binary>, pubkeys: Vec<Binary> },
    Secp256k1Verify { hash: Binary, sig: Binary, pubkey: Binary },
    Secp256k1RecoverPubkey { hash: Binary, sig: Binary, recovery_param: u8 },
    Secp256r1Verify { hash: Binary, sig: Binary, pubkey: Binary },
    Secp256r1RecoverPubkey { hash: Binary, sig: Binary, recovery_param: u8 },
    Debug { msg: String },
    /// Calls db_write from a query; the host must refuse.
    TryWrite {},
}
