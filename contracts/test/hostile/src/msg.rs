//! test-hostile's messages (JSON examples in the README).

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InstantiateMsg {}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Never returns (only fuel/gas stops it).
    Loop {},
    /// memory.grow by `pages` once; attribute grow_result = previous size in pages, or -1.
    GrowMemory { pages: u32 },
    /// Allocates and touches `bytes` bytes; traps when the allocator cannot grow memory.
    AllocateBytes { bytes: u64 },
    /// Non-tail recursion `depth` deep; overflows the stack for large depths.
    Recurse { depth: u32 },
    /// Ok with one attribute whose value is `bytes` bytes long.
    HugeResponse { bytes: u64 },
    /// Calls the abort import with `msg`.
    Abort { msg: String },
    /// panic!("hostile panic") (reaches the host through the panic hook and abort).
    Panic {},
    /// Executes the `unreachable` instruction.
    Unreachable {},
    /// Returns a region whose content is `not json{`.
    InvalidJson {},
    /// Returns the region pointer 0xFFFFFFF0 (beyond memory).
    BadRegion {},
    /// Returns a region at a valid offset claiming length and capacity of 100 MiB.
    #[serde(rename = "region_100mb")]
    Region100Mb {},
    /// Computes NaNs at runtime from `a` (e.g. "0") and reports their bits.
    Nan { a: String },
    /// db_read with a 100 KiB key (the limit is 64 KiB).
    DbReadHugeKey {},
    /// Opens `count` iterators with db_scan and never finishes them.
    ScanLeak { count: u32 },
}
