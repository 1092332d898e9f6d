//! The hand-written `execute` export and one function per misbehaviour (wasm32 only).

use core::ptr::{read_volatile, write_volatile};

use conclave_sdk::exports::{install_panic_handler, release_result};
use conclave_sdk::memory::{build_region, consume_region, region_ptr, release_buffer, Region};
use conclave_sdk::{from_json, ContractResult, DepsMut, Env, MessageInfo, Order, Response, StdError, StdResult};

use crate::msg::{ExecuteMsg, InstantiateMsg};

/// Read in the endless loop so the optimiser must keep it.
static SPIN: u8 = 0;

/// Size of the 100 MiB lie told by `region_100mb`.
const HUNDRED_MIB: u32 = 100 * 1024 * 1024;
/// Key length used by `db_read_huge_key` (above the host's 64 KiB limit).
const HUGE_KEY_LEN: usize = 100 * 1024;

pub fn instantiate(_deps: DepsMut, _env: Env, _info: MessageInfo, _msg: InstantiateMsg)
    -> StdResult<Response> {
    Ok(Response::new().add_attribute("action", "instantiate"))
}

/// The execute export. Messages that must produce a broken result region return it
/// directly; the others produce a normal JSON ContractResult.
#[no_mangle]
pub extern "C" fn execute(env_ptr: u32, info_ptr: u32, msg_ptr: u32) -> u32 {
    install_panic_handler();
    let (_env, _info, msg) = unsafe {
        (
            consume_region(env_ptr as *mut Region),
            consume_region(info_ptr as *mut Region),
            consume_region(msg_ptr as *mut Region),
        )
    };
    let msg: ExecuteMsg = match from_json(&msg) {
        Ok(msg) => msg,
        Err(err) => return release_result::<Response>(&ContractResult::Err(err.to_string())),
    };
    match msg {
        ExecuteMsg::InvalidJson {} => release_buffer(b"not json{".to_vec()) as u32,
        ExecuteMsg::BadRegion {} => 0xFFFF_FFF0,
        ExecuteMsg::Region100Mb {} => region_100mb(),
        other => release_result(&ContractResult::from(misbehave(other))),
    }
}

fn misbehave(msg: ExecuteMsg) -> StdResult<Response> {
    match msg {
        ExecuteMsg::Loop {} => spin_forever(),
        ExecuteMsg::GrowMemory { pages } => {
            let previous = core::arch::wasm32::memory_grow(0, pages as usize);
            Ok(Response::new().add_attribute("grow_result", (previous as isize).to_string()))
        }
        ExecuteMsg::AllocateBytes { bytes } => allocate_bytes(bytes),
        ExecuteMsg::Recurse { depth } => {
            let total = recurse(depth);
            Ok(Response::new().add_attribute("recurse_result", total.to_string()))
        }
        ExecuteMsg::HugeResponse { bytes } => {
            let len = to_usize(bytes)?;
            Ok(Response::new().add_attribute("huge", "x".repeat(len)))
        }
        ExecuteMsg::Abort { msg } => {
            conclave_sdk::imports::abort_with(&msg);
            Ok(Response::new().add_attribute("abort", "returned"))
        }
        ExecuteMsg::Panic {} => panic!("hostile panic"),
        ExecuteMsg::Unreachable {} => core::arch::wasm32::unreachable(),
        ExecuteMsg::Nan { a } => nan(&a),
        ExecuteMsg::DbReadHugeKey {} => {
            let key = vec![b'k'; HUGE_KEY_LEN];
            let region = build_region(&key);
            let result = unsafe { conclave_sdk::imports::db_read(region_ptr(&region)) };
            Ok(Response::new().add_attribute("db_read_result", result.to_string()))
        }
        ExecuteMsg::ScanLeak { count } => {
            let mut last = 0;
            for _ in 0..count {
                last = conclave_sdk::imports::scan(None, None, Order::Ascending);
            }
            Ok(Response::new()
                .add_attribute("opened", count.to_string())
                .add_attribute("last_iterator_id", last.to_string()))
        }
        ExecuteMsg::InvalidJson {} | ExecuteMsg::BadRegion {} | ExecuteMsg::Region100Mb {} => {
            Err(StdError::generic_err("handled by the export"))
        }
    }
}

fn spin_forever() -> ! {
    loop {
        unsafe { read_volatile(&SPIN) };
    }
}

fn to_usize(bytes: u64) -> StdResult<usize> {
    usize::try_from(bytes).map_err(|_| StdError::generic_err("size does not fit in usize"))
}

/// Allocates and writes one byte per page so the memory is really committed.
fn allocate_bytes(bytes: u64) -> StdResult<Response> {
    let len = to_usize(bytes)?;
    let mut buffer: Vec<u8> = Vec::with_capacity(len);
    let base = buffer.as_mut_ptr();
    let mut offset = 0;
    while offset < len {
        unsafe { write_volatile(base.add(offset), 1) };
        offset += 4096;
    }
    unsafe { buffer.set_len(0) };
    Ok(Response::new().add_attribute("allocated", len.to_string()))
}

/// Non-tail recursion with a volatile stack buffer per frame, so it cannot be turned
/// into a loop.
#[inline(never)]
fn recurse(depth: u32) -> u64 {
    if depth == 0 {
        return 0;
    }
    let mut frame = [0u8; 256];
    unsafe { write_volatile(&mut frame[(depth % 256) as usize], depth as u8) };
    let below = recurse(depth - 1);
    let seen = unsafe { read_volatile(&frame[(depth % 256) as usize]) };
    below.wrapping_add(seen as u64).wrapping_add(1)
}

/// A region at a real allocation that claims 100 MiB (far past the end of memory).
fn region_100mb() -> u32 {
    let anchor = std::mem::ManuallyDrop::new(vec![0u8; 16]);
    let region = Box::new(Region {
        offset: anchor.as_ptr() as u32,
        capacity: HUNDRED_MIB,
        length: HUNDRED_MIB,
    });
    Box::into_raw(region) as u32
}

/// NaNs computed at runtime from `a`: 0/0 in f32 and f64, and a negated NaN fed through
/// one more arithmetic operation. With NaN canonicalization every result is the
/// canonical NaN (7fc00000 / 7ff8000000000000).
fn nan(a: &str) -> StdResult<Response> {
    let x: f32 = a.parse().map_err(|_| StdError::generic_err(format!("not a float: '{}'", a)))?;
    let zero32 = x - x;
    let nan32 = zero32 / zero32;
    let neg32 = -nan32 + x;
    let y = x as f64;
    let zero64 = y - y;
    let nan64 = zero64 / zero64;
    let neg64 = -nan64 + y;
    Ok(Response::new()
        .add_attribute("bits", format!("{:08x}", nan32.to_bits()))
        .add_attribute("bits64", format!("{:016x}", nan64.to_bits()))
        .add_attribute("neg_bits", format!("{:08x}", neg32.to_bits()))
        .add_attribute("neg_bits64", format!("{:016x}", neg64.to_bits())))
}
