//! test-counter-core: the counter used by the VM and dispatch tests. The contracts
//! test-counter (version 1, step 1) and test-counter-v2 (version 2, step 2) are thin
//! crates that export these functions with their own [`contract::Flavor`], so a
//! migration between two codes can be tested.

pub mod contract;
pub mod error;
pub mod msg;
pub mod state;

pub use crate::contract::Flavor;
pub use crate::error::ContractError;

/// Defines the six entry points of a counter contract for `$flavor` (a `Flavor` const).
#[macro_export]
macro_rules! counter_contract {
    ($flavor:expr) => {
        use $crate::contract as logic;
        use $crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, SudoMsg};
        use $crate::ContractError;
        use conclave_sdk::{Binary, Deps, DepsMut, Env, MessageInfo, Response};

        pub fn instantiate(deps: DepsMut, env: Env, info: MessageInfo, msg: InstantiateMsg)
            -> Result<Response, ContractError> {
            logic::instantiate(&$flavor, deps, env, info, msg)
        }

        pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg)
            -> Result<Response, ContractError> {
            logic::execute(&$flavor, deps, env, info, msg)
        }

        pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
            logic::query(&$flavor, deps, env, msg)
        }

        pub fn migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> Result<Response, ContractError> {
            logic::migrate(&$flavor, deps, env, msg)
        }

        pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
            logic::sudo(&$flavor, deps, env, msg)
        }

        conclave_sdk::entry_points! {
            instantiate => instantiate,
            execute => execute,
            query => query,
            migrate => migrate,
            sudo => sudo,
        }
    };
}
