//! The exports every contract has (`interface_version_8`, `allocate`, `deallocate`,
//! `requires_iterator`) and the glue behind [`entry_points!`]: read the argument regions,
//! parse the JSON, call the contract's function, and hand back a region with the JSON
//! ContractResult.

#[cfg(target_arch = "wasm32")]
pub use self::wasm::*;

/// Generates the extern "C" entry points from the contract's functions:
///
/// ```ignore
/// conclave_sdk::entry_points! {
///     instantiate => contract::instantiate,   // fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>
///     execute => contract::execute,           // fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>
///     query => contract::query,               // fn(Deps, Env, M) -> Result<impl Into<Binary>, E>
///     migrate => contract::migrate,           // fn(DepsMut, Env, M) -> Result<Response, E>
///     sudo => contract::sudo,                 // fn(DepsMut, Env, M) -> Result<Response, E>
///     reply => contract::reply,               // fn(DepsMut, Env, Reply) -> Result<Response, E>
/// }
/// ```
///
/// `M` is any `DeserializeOwned` message type and `E` any `Display` error; the error's
/// text becomes `{"error": "..."}`. List only the entry points the contract has. The
/// exports exist only on wasm32, so the crate still compiles natively for tests.
#[macro_export]
macro_rules! entry_points {
    ($($kind:ident => $func:path),+ $(,)?) => {
        $( $crate::__entry_point!($kind, $func); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __entry_point {
    (instantiate, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "instantiate"]
        pub extern "C" fn __conclave_export_instantiate(env: u32, info: u32, msg: u32) -> u32 {
            $crate::exports::do_instantiate(&$func, env, info, msg)
        }
    };
    (execute, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "execute"]
        pub extern "C" fn __conclave_export_execute(env: u32, info: u32, msg: u32) -> u32 {
            $crate::exports::do_execute(&$func, env, info, msg)
        }
    };
    (query, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "query"]
        pub extern "C" fn __conclave_export_query(env: u32, msg: u32) -> u32 {
            $crate::exports::do_query(&$func, env, msg)
        }
    };
    (migrate, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "migrate"]
        pub extern "C" fn __conclave_export_migrate(env: u32, msg: u32) -> u32 {
            $crate::exports::do_migrate(&$func, env, msg)
        }
    };
    (sudo, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "sudo"]
        pub extern "C" fn __conclave_export_sudo(env: u32, msg: u32) -> u32 {
            $crate::exports::do_sudo(&$func, env, msg)
        }
    };
    (reply, $func:path) => {
        #[cfg(target_arch = "wasm32")]
        #[export_name = "reply"]
        pub extern "C" fn __conclave_export_reply(env: u32, msg: u32) -> u32 {
            $crate::exports::do_reply(&$func, env, msg)
        }
    };
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::fmt::Display;

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use crate::binary::Binary;
    use crate::deps::{Deps, DepsMut, OwnedDeps};
    use crate::imports::{abort_with, ExternalApi, ExternalQuerier, ExternalStorage};
    use crate::memory::{alloc_region, consume_region, release_buffer, Region};
    use crate::results::{ContractResult, Response};
    use crate::types::{Env, MessageInfo};

    /// Marks the contract as speaking CosmWasm interface version 8 (CosmWasm 1.x/2.x).
    #[no_mangle]
    pub extern "C" fn interface_version_8() {}

    /// The contract uses db_scan/db_next (the "iterator" capability).
    #[no_mangle]
    pub extern "C" fn requires_iterator() {}

    /// Called by the host to get a region of `size` bytes to write into.
    #[no_mangle]
    pub extern "C" fn allocate(size: usize) -> u32 {
        alloc_region(size) as u32
    }

    /// Called by the host to free a region the contract returned.
    #[no_mangle]
    pub extern "C" fn deallocate(pointer: u32) {
        let _ = unsafe { consume_region(pointer as *mut Region) };
    }

    /// Makes a panic end the call through the `abort` import, carrying the panic message
    /// ("panicked at '...', file:line:col"), as cosmwasm-std does.
    pub fn install_panic_handler() {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string();
            abort_with(&message);
        }));
    }

    /// The deps every entry point runs with.
    pub fn external_dependencies() -> OwnedDeps<ExternalStorage, ExternalApi, ExternalQuerier> {
        OwnedDeps { storage: ExternalStorage, api: ExternalApi, querier: ExternalQuerier }
    }

    /// Reads and frees an argument region.
    fn take_argument(ptr: u32) -> Vec<u8> {
        unsafe { consume_region(ptr as *mut Region) }
    }

    fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
        crate::serde_json_helpers::from_json(bytes).map_err(|e| e.to_string())
    }

    /// Serialises a ContractResult into a region for the host.
    pub fn release_result<T: Serialize>(result: &ContractResult<T>) -> u32 {
        let bytes = serde_json::to_vec(result).unwrap_or_else(|e| {
            let err: ContractResult<()> =
                ContractResult::Err(format!("Error serializing the result: {}", e));
            serde_json::to_vec(&err).unwrap_or_default()
        });
        release_buffer(bytes) as u32
    }

    pub fn do_instantiate<M, E, F>(func: &F, env_ptr: u32, info_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>,
    {
        install_panic_handler();
        let (env, info, msg) = (take_argument(env_ptr), take_argument(info_ptr), take_argument(msg_ptr));
        release_result(&call_with_info(func, &env, &info, &msg))
    }

    pub fn do_execute<M, E, F>(func: &F, env_ptr: u32, info_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>,
    {
        do_instantiate(func, env_ptr, info_ptr, msg_ptr)
    }

    fn call_with_info<M, E, F>(func: &F, env: &[u8], info: &[u8], msg: &[u8]) -> ContractResult<Response>
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>,
    {
        let parsed = parse::<Env>(env)
            .and_then(|env| parse::<MessageInfo>(info).map(|info| (env, info)))
            .and_then(|(env, info)| parse::<M>(msg).map(|msg| (env, info, msg)));
        match parsed {
            Err(err) => ContractResult::Err(err),
            Ok((env, info, msg)) => {
                let mut deps = external_dependencies();
                func(deps.as_mut(), env, info, msg).into()
            }
        }
    }

    fn call_without_info<M, E, F>(func: &F, env: &[u8], msg: &[u8]) -> ContractResult<Response>
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, M) -> Result<Response, E>,
    {
        let parsed = parse::<Env>(env).and_then(|env| parse::<M>(msg).map(|msg| (env, msg)));
        match parsed {
            Err(err) => ContractResult::Err(err),
            Ok((env, msg)) => {
                let mut deps = external_dependencies();
                func(deps.as_mut(), env, msg).into()
            }
        }
    }

    pub fn do_migrate<M, E, F>(func: &F, env_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, M) -> Result<Response, E>,
    {
        install_panic_handler();
        let (env, msg) = (take_argument(env_ptr), take_argument(msg_ptr));
        release_result(&call_without_info(func, &env, &msg))
    }

    pub fn do_sudo<M, E, F>(func: &F, env_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, M) -> Result<Response, E>,
    {
        do_migrate(func, env_ptr, msg_ptr)
    }

    /// `M` is normally [`crate::Reply`]; a contract may take raw JSON instead.
    pub fn do_reply<M, E, F>(func: &F, env_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        F: Fn(DepsMut, Env, M) -> Result<Response, E>,
    {
        do_migrate(func, env_ptr, msg_ptr)
    }

    pub fn do_query<M, E, R, F>(func: &F, env_ptr: u32, msg_ptr: u32) -> u32
    where
        M: DeserializeOwned,
        E: Display,
        R: Into<Binary>,
        F: Fn(Deps, Env, M) -> Result<R, E>,
    {
        install_panic_handler();
        let (env, msg) = (take_argument(env_ptr), take_argument(msg_ptr));
        let parsed = parse::<Env>(&env).and_then(|env| parse::<M>(&msg).map(|msg| (env, msg)));
        let result: ContractResult<Binary> = match parsed {
            Err(err) => ContractResult::Err(err),
            Ok((env, msg)) => {
                let deps = external_dependencies();
                match func(deps.as_ref(), env, msg) {
                    Ok(answer) => ContractResult::Ok(answer.into()),
                    Err(err) => ContractResult::Err(err.to_string()),
                }
            }
        };
        release_result(&result)
    }
}
