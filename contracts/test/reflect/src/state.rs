//! Storage layout. `write`/`remove` use caller-chosen raw keys; the contract's own
//! bookkeeping uses these keys (visible to `scan`, so tests should choose other keys):
//!
//! | key            | value                                              |
//! |----------------|----------------------------------------------------|
//! | `reply_config` | `{"reply_data": b64|null, "fail_reply": bool}`, set by dispatch |
//! | `reply:<id>`   | the Reply JSON exactly as received                 |
//! | `reply_order`  | JSON array of reply ids in arrival order           |

use conclave_sdk::Binary;
use serde::{Deserialize, Serialize};

pub const REPLY_CONFIG: &[u8] = b"reply_config";
pub const REPLY_ORDER: &[u8] = b"reply_order";

pub fn reply_key(id: u64) -> Vec<u8> {
    format!("reply:{}", id).into_bytes()
}

/// How the next replies should behave; written by every dispatch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ReplyConfig {
    pub reply_data: Option<Binary>,
    pub fail_reply: bool,
}
