//! The trusted circle's entry points, one small function per message.
//!
//! Every execute and every `end_block` first promotes the batches that are due (all members
//! paid, or the grace period over: then the paid ones only). Any change of the voting set is
//! reported to the hooks as one `member_changed_hook` with the merged diffs of the call.

use conclave_sdk::serde_json::Value;
use conclave_sdk::{
    coin, to_json_binary, Addr, Api, BankMsg, Binary, Deps, DepsMut, Env, MessageInfo, Order, Response,
    StdResult, Storage, SubMsg, Uint128, WasmMsg,
};

use crate::error::ContractError;
use crate::msg::{
    AdminResponse, BatchResponse, DenyListResponse, Distribution, EscrowResponse, ExecuteMsg,
    HooksResponse, InstantiateMsg, IsDeniedResponse, Member, MemberChangedExecuteMsg, MemberChangedHookMsg, MemberDiff, MemberListResponse,
    MemberResponse, MemberStatusResponse, MemberWithStatus, MembersWithStatusResponse, MigrateMsg,
    PendingBatchesResponse, Punishment, QueryMsg, SudoMsg, TotalPointsResponse,
};
use crate::state::{self, Batch, ContractVersion, MemberRecord, Rules, Status};

/// Addresses per list in one message (batch, non-voting add/remove, deny list, punishments,
/// send_to recipients, initial members).
pub const MAX_LIST: usize = 100;
pub const MAX_HOOKS: usize = 20;
pub const MAX_DENOM_LEN: usize = 128;
/// Ten years, so that now + 2 * voting_period never overflows a realistic clock.
pub const MAX_VOTING_PERIOD: u64 = 315_360_000;
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 30;
/// Matured escrows returned per end_block; the rest follow in later blocks.
pub const MAX_RELEASES_PER_BLOCK: usize = 50;
/// Ratios are integers of billionths.
pub const RATIO_ONE: u128 = 1_000_000_000;

type ExecuteResult = Result<Response, ContractError>;

// ------------------------------------------------------------------------------------------
// instantiate, migrate
// ------------------------------------------------------------------------------------------

pub fn instantiate(deps: DepsMut, env: Env, info: MessageInfo, msg: Value) -> ExecuteResult {
    let msg = InstantiateMsg::parse(msg)?;
    validate_denom(&msg.denom)?;
    validate_escrow_amount(msg.escrow_amount)?;
    validate_voting_period(msg.voting_period)?;
    let admin = match msg.admin {
        Some(a) => Some(deps.api.addr_validate(&a)?),
        None => None,
    };
    let members = validate_addrs(deps.api, &msg.initial_members, "initial_members")?;
    let denied = validate_addrs(deps.api, &msg.deny_list, "deny_list")?;
    if let Some(addr) = members.iter().find(|m| denied.contains(m)) {
        return Err(ContractError::Denied(addr.to_string()));
    }

    // Initial members pay their escrow with the instantiate funds: exactly escrow_amount each.
    let required = msg.escrow_amount.checked_mul(Uint128::new(members.len() as u128))?;
    if members.is_empty() {
        if !info.funds.is_empty() {
            return Err(ContractError::Funds("instantiate without initial members takes no funds".into()));
        }
    } else if info.funds.len() != 1 || info.funds[0].denom != msg.denom || info.funds[0].amount != required {
        return Err(ContractError::Funds(format!(
            "instantiate must send exactly {}{} (escrow_amount for each of the {} initial members)",
            required,
            msg.denom,
            members.len()
        )));
    }

    let storage = deps.storage;
    let rules = Rules { denom: msg.denom, escrow_amount: msg.escrow_amount, voting_period: msg.voting_period };
    state::save(storage, state::RULES, &rules)?;
    state::save(storage, state::ADMIN, &admin)?;
    state::save(storage, state::HOOKS, &Vec::<Addr>::new())?;
    state::save(storage, state::TOTAL, &0u64)?;
    save_version(storage)?;
    let height = env.block.height;
    for addr in &members {
        let record = MemberRecord { status: Status::Voting, escrow: rules.escrow_amount, batch: None, claim_at: None };
        state::save_member(storage, addr, &record)?;
        state::set_points(storage, height, addr.as_str(), Some(1))?;
    }
    for addr in &denied {
        storage.set(&state::deny_key(addr.as_str()), b"");
    }
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("initial_members", members.len().to_string()))
}

pub fn migrate(deps: DepsMut, _env: Env, msg: Value) -> ExecuteResult {
    MigrateMsg::parse(msg)?;
    save_version(deps.storage)?;
    Ok(Response::new().add_attribute("action", "migrate").add_attribute("version", state::CONTRACT_VERSION))
}

fn save_version(storage: &mut dyn Storage) -> StdResult<()> {
    let version = ContractVersion {
        contract: state::CONTRACT_NAME.to_string(),
        version: state::CONTRACT_VERSION.to_string(),
    };
    state::save(storage, state::CONTRACT_INFO, &version)
}

// ------------------------------------------------------------------------------------------
// execute
// ------------------------------------------------------------------------------------------

pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: Value) -> ExecuteResult {
    let msg = ExecuteMsg::parse(msg)?;
    let mut diffs = Vec::new();
    promote_due_batches(deps.storage, &env, &mut diffs)?;
    if !matches!(msg, ExecuteMsg::DepositEscrow {}) && !info.funds.is_empty() {
        return Err(ContractError::Funds("this message takes no funds".into()));
    }
    let api = deps.api;
    let storage = deps.storage;
    let sender = &info.sender;
    let response = match msg {
        ExecuteMsg::AddVotingMembers { addrs } => add_voting_members(storage, api, &env, sender, addrs)?,
        ExecuteMsg::AddRemoveNonVotingMembers { add, remove } => {
            add_remove_non_voting_members(storage, api, sender, add, remove)?
        }
        ExecuteMsg::PunishMembers { punishments } => {
            punish_members(storage, api, &env, sender, punishments, &mut diffs)?
        }
        ExecuteMsg::UpdateDenyList { add, remove } => update_deny_list(storage, api, sender, add, remove)?,
        ExecuteMsg::EditRules { escrow_amount, voting_period } => {
            edit_rules(storage, sender, escrow_amount, voting_period)?
        }
        ExecuteMsg::UpdateAdmin { admin } => update_admin(storage, api, sender, admin)?,
        ExecuteMsg::AddHook { addr } => add_hook(storage, api, sender, addr)?,
        ExecuteMsg::RemoveHook { addr } => remove_hook(storage, api, sender, addr)?,
        ExecuteMsg::DepositEscrow {} => deposit_escrow(storage, &info)?,
        ExecuteMsg::ReturnEscrow { amount } => return_escrow(storage, sender, amount)?,
        ExecuteMsg::Leave {} => leave(storage, &env, sender, &mut diffs)?,
        ExecuteMsg::ClaimEscrow {} => claim_escrow(storage, &env, sender)?,
        ExecuteMsg::CheckPending {} => Response::new().add_attribute("action", "check_pending"),
    };
    Ok(with_hooks(storage, response, diffs)?)
}

fn ensure_admin(storage: &dyn Storage, sender: &Addr) -> Result<(), ContractError> {
    match state::load_admin(storage)? {
        Some(admin) if &admin == sender => Ok(()),
        _ => Err(ContractError::Unauthorized),
    }
}

/// One batch: every address becomes pending, with one voting period to pay its escrow.
fn add_voting_members(storage: &mut dyn Storage, api: &dyn Api, env: &Env, sender: &Addr, addrs: Vec<String>)
    -> ExecuteResult {
    ensure_admin(storage, sender)?;
    if addrs.is_empty() {
        return Err(ContractError::invalid("addrs is empty: a batch needs at least one address"));
    }
    let addrs = validate_addrs(api, &addrs, "addrs")?;
    for addr in &addrs {
        ensure_may_join(storage, addr, true)?;
    }
    let rules = state::load_rules(storage)?;
    let id = state::next_batch_id(storage)?;
    let grace_ends_at = env.block.time.seconds().saturating_add(rules.voting_period);
    for addr in &addrs {
        let record = MemberRecord { status: Status::Pending, escrow: Uint128::zero(), batch: Some(id), claim_at: None };
        state::save_member(storage, addr, &record)?;
    }
    let count = addrs.len();
    state::save_batch(storage, id, &Batch { grace_ends_at, members: addrs })?;
    Ok(Response::new()
        .add_attribute("action", "add_voting_members")
        .add_attribute("batch_id", id.to_string())
        .add_attribute("grace_ends_at", grace_ends_at.to_string())
        .add_attribute("added", count.to_string()))
}

/// Refuses denied addresses and addresses already in the circle (a non-voting member may
/// become a voting candidate when `from_non_voting`).
fn ensure_may_join(storage: &dyn Storage, addr: &Addr, from_non_voting: bool) -> Result<(), ContractError> {
    if state::is_denied(storage, addr.as_str()) {
        return Err(ContractError::Denied(addr.to_string()));
    }
    match state::may_load_member(storage, addr)? {
        None => Ok(()),
        Some(record) if from_non_voting && record.status == Status::NonVoting => Ok(()),
        Some(record) => Err(ContractError::AlreadyMember { addr: addr.to_string(), status: status_name(record.status) }),
    }
}

fn add_remove_non_voting_members(storage: &mut dyn Storage, api: &dyn Api, sender: &Addr, add: Vec<String>,
    remove: Vec<String>) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    if add.is_empty() && remove.is_empty() {
        return Err(ContractError::invalid("add and remove are both empty"));
    }
    let add = validate_addrs(api, &add, "add")?;
    let remove = validate_addrs(api, &remove, "remove")?;
    if let Some(addr) = add.iter().find(|a| remove.contains(a)) {
        return Err(ContractError::invalid(format!("{} is in both add and remove", addr)));
    }
    for addr in &remove {
        match state::may_load_member(storage, addr)? {
            Some(record) if record.status == Status::NonVoting => state::remove_member(storage, addr),
            Some(record) => {
                return Err(ContractError::invalid(format!(
                    "{} is not a non-voting member (status {})",
                    addr,
                    status_name(record.status)
                )))
            }
            None => return Err(ContractError::NotMember(addr.to_string())),
        }
    }
    for addr in &add {
        ensure_may_join(storage, addr, false)?;
        let record = MemberRecord { status: Status::NonVoting, escrow: Uint128::zero(), batch: None, claim_at: None };
        state::save_member(storage, addr, &record)?;
    }
    Ok(Response::new()
        .add_attribute("action", "add_remove_non_voting_members")
        .add_attribute("added", add.len().to_string())
        .add_attribute("removed", remove.len().to_string()))
}

/// Slashes a share of each member's escrow (burnt or split among recipients) and optionally
/// kicks the member out (non-voting: removed; others: leaving, escrow frozen).
fn punish_members(storage: &mut dyn Storage, api: &dyn Api, env: &Env, sender: &Addr,
    punishments: Vec<Punishment>, diffs: &mut Vec<MemberDiff>) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    if punishments.is_empty() {
        return Err(ContractError::invalid("punishments is empty"));
    }
    if punishments.len() > MAX_LIST {
        return Err(ContractError::invalid(format!("at most {} punishments per message", MAX_LIST)));
    }
    let rules = state::load_rules(storage)?;
    let mut response = Response::new().add_attribute("action", "punish_members");
    let mut slashed_total = Uint128::zero();
    for punishment in punishments {
        let addr = api.addr_validate(&punishment.member)?;
        let mut record = state::may_load_member(storage, &addr)?
            .ok_or_else(|| ContractError::NotMember(addr.to_string()))?;
        let ratio = parse_ratio(&punishment.slash_ratio)?;
        if ratio == 0 && !punishment.kick_out {
            return Err(ContractError::invalid(format!("punishment of {} neither slashes nor kicks out", addr)));
        }
        let recipients = match &punishment.distribution {
            Distribution::Burn {} => None,
            Distribution::SendTo(list) => {
                if list.is_empty() {
                    return Err(ContractError::invalid("send_to is empty: name at least one recipient"));
                }
                Some(validate_addrs(api, list, "send_to")?)
            }
        };

        let slash = apply_ratio(record.escrow, ratio);
        if !slash.is_zero() {
            record.escrow -= slash;
            slashed_total += slash;
            response = match recipients {
                None => response.add_message(BankMsg::Burn { amount: vec![coin(slash.u128(), rules.denom.clone())] }),
                Some(list) => response.add_messages(split_among(slash, &list, &rules.denom)),
            };
        }
        if record.status == Status::PendingPaid && record.escrow < rules.escrow_amount {
            record.status = Status::Pending;
        }
        if punishment.kick_out {
            match record.status {
                Status::NonVoting => {
                    state::remove_member(storage, &addr);
                    continue;
                }
                Status::Pending | Status::PendingPaid | Status::Voting => {
                    start_leaving(storage, env, &rules, &addr, &mut record, diffs)?
                }
                Status::Leaving => {}
            }
        }
        state::save_member(storage, &addr, &record)?;
    }
    Ok(response.add_attribute("slashed", slashed_total.to_string()))
}

/// Equal shares; the first `slash mod n` recipients get one token more, so all is paid out.
fn split_among(slash: Uint128, recipients: &[Addr], denom: &str) -> Vec<BankMsg> {
    let n = recipients.len() as u128;
    let share = slash.u128() / n;
    let remainder = slash.u128() % n;
    recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r, share + if (i as u128) < remainder { 1 } else { 0 }))
        .filter(|(_, amount)| *amount > 0)
        .map(|(r, amount)| BankMsg::Send { to_address: r.to_string(), amount: vec![coin(amount, denom)] })
        .collect()
}

fn update_deny_list(storage: &mut dyn Storage, api: &dyn Api, sender: &Addr, add: Vec<String>,
    remove: Vec<String>) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    if add.is_empty() && remove.is_empty() {
        return Err(ContractError::invalid("add and remove are both empty"));
    }
    let add = validate_addrs(api, &add, "add")?;
    let remove = validate_addrs(api, &remove, "remove")?;
    if let Some(addr) = add.iter().find(|a| remove.contains(a)) {
        return Err(ContractError::invalid(format!("{} is in both add and remove", addr)));
    }
    for addr in &remove {
        storage.remove(&state::deny_key(addr.as_str()));
    }
    for addr in &add {
        storage.set(&state::deny_key(addr.as_str()), b"");
    }
    Ok(Response::new()
        .add_attribute("action", "update_deny_list")
        .add_attribute("added", add.len().to_string())
        .add_attribute("removed", remove.len().to_string()))
}

/// New rules apply from now on: open batch deadlines and claim_at already set stay; pending
/// members are re-sorted into pending / pending_paid against the new escrow_amount.
fn edit_rules(storage: &mut dyn Storage, sender: &Addr, escrow_amount: Option<Uint128>, voting_period: Option<u64>)
    -> ExecuteResult {
    ensure_admin(storage, sender)?;
    if escrow_amount.is_none() && voting_period.is_none() {
        return Err(ContractError::invalid("nothing to edit: give escrow_amount and/or voting_period"));
    }
    let mut rules = state::load_rules(storage)?;
    if let Some(amount) = escrow_amount {
        validate_escrow_amount(amount)?;
        rules.escrow_amount = amount;
    }
    if let Some(period) = voting_period {
        validate_voting_period(period)?;
        rules.voting_period = period;
    }
    state::save(storage, state::RULES, &rules)?;
    if escrow_amount.is_some() {
        for (_, batch) in state::open_batches(storage)? {
            for addr in &batch.members {
                if let Some(mut record) = state::may_load_member(storage, addr)? {
                    let paid = record.escrow >= rules.escrow_amount;
                    let status = if paid { Status::PendingPaid } else { Status::Pending };
                    if record.status != status {
                        record.status = status;
                        state::save_member(storage, addr, &record)?;
                    }
                }
            }
        }
    }
    Ok(Response::new()
        .add_attribute("action", "edit_rules")
        .add_attribute("escrow_amount", rules.escrow_amount.to_string())
        .add_attribute("voting_period", rules.voting_period.to_string()))
}

fn update_admin(storage: &mut dyn Storage, api: &dyn Api, sender: &Addr, admin: Option<String>) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    let admin = match admin {
        Some(a) => Some(api.addr_validate(&a)?),
        None => None,
    };
    state::save(storage, state::ADMIN, &admin)?;
    let shown = admin.map(|a| a.into_string()).unwrap_or_else(|| "none".to_string());
    Ok(Response::new().add_attribute("action", "update_admin").add_attribute("admin", shown))
}

fn add_hook(storage: &mut dyn Storage, api: &dyn Api, sender: &Addr, addr: String) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    let addr = api.addr_validate(&addr)?;
    let mut hooks = state::load_hooks(storage)?;
    if hooks.contains(&addr) {
        return Err(ContractError::invalid(format!("{} is already a hook", addr)));
    }
    if hooks.len() >= MAX_HOOKS {
        return Err(ContractError::invalid(format!("at most {} hooks", MAX_HOOKS)));
    }
    hooks.push(addr.clone());
    state::save(storage, state::HOOKS, &hooks)?;
    Ok(Response::new().add_attribute("action", "add_hook").add_attribute("hook", addr.into_string()))
}

fn remove_hook(storage: &mut dyn Storage, api: &dyn Api, sender: &Addr, addr: String) -> ExecuteResult {
    ensure_admin(storage, sender)?;
    let addr = api.addr_validate(&addr)?;
    let mut hooks = state::load_hooks(storage)?;
    let before = hooks.len();
    hooks.retain(|h| h != &addr);
    if hooks.len() == before {
        return Err(ContractError::invalid(format!("{} is not a hook", addr)));
    }
    state::save(storage, state::HOOKS, &hooks)?;
    Ok(Response::new().add_attribute("action", "remove_hook").add_attribute("hook", addr.into_string()))
}

/// Pending, pending_paid and voting members add escrow; pending ones that reach
/// escrow_amount become pending_paid (promoted with their batch).
fn deposit_escrow(storage: &mut dyn Storage, info: &MessageInfo) -> ExecuteResult {
    let rules = state::load_rules(storage)?;
    let amount = escrow_funds(info, &rules.denom)?;
    let sender = &info.sender;
    let mut record = state::may_load_member(storage, sender)?
        .ok_or_else(|| ContractError::NotMember(sender.to_string()))?;
    match record.status {
        Status::Pending | Status::PendingPaid | Status::Voting => {}
        status => return Err(ContractError::WrongStatus { action: "deposit escrow", status: status_name(status) }),
    }
    record.escrow = record.escrow.checked_add(amount)?;
    if record.status == Status::Pending && record.escrow >= rules.escrow_amount {
        record.status = Status::PendingPaid;
    }
    state::save_member(storage, sender, &record)?;
    Ok(Response::new()
        .add_attribute("action", "deposit_escrow")
        .add_attribute("amount", amount.to_string())
        .add_attribute("escrow", record.escrow.to_string())
        .add_attribute("status", status_name(record.status)))
}

/// The exact coin of the escrow denom sent with deposit_escrow.
fn escrow_funds(info: &MessageInfo, denom: &str) -> Result<Uint128, ContractError> {
    match info.funds.as_slice() {
        [] => Err(ContractError::Funds(format!("no funds sent: deposit_escrow takes {}", denom))),
        [only] if only.denom == denom && !only.amount.is_zero() => Ok(only.amount),
        [only] if only.denom == denom => Err(ContractError::Funds("cannot deposit zero escrow".into())),
        _ => Err(ContractError::Funds(format!("escrow is paid in {} only (exactly one coin)", denom))),
    }
}

fn return_escrow(storage: &mut dyn Storage, sender: &Addr, amount: Option<Uint128>) -> ExecuteResult {
    let rules = state::load_rules(storage)?;
    let mut record = state::may_load_member(storage, sender)?
        .ok_or_else(|| ContractError::NotMember(sender.to_string()))?;
    match record.status {
        Status::Pending | Status::PendingPaid | Status::Voting => {}
        status => return Err(ContractError::WrongStatus { action: "return escrow", status: status_name(status) }),
    }
    let excess = record.escrow.saturating_sub(rules.escrow_amount);
    let amount = amount.unwrap_or(excess);
    if amount.is_zero() {
        return Err(ContractError::invalid(format!(
            "nothing to return: only escrow above the required {} can be returned (held {})",
            rules.escrow_amount, record.escrow
        )));
    }
    if amount > excess {
        return Err(ContractError::invalid(format!(
            "can return at most {}: escrow {} minus the required {}",
            excess, record.escrow, rules.escrow_amount
        )));
    }
    record.escrow -= amount;
    state::save_member(storage, sender, &record)?;
    Ok(Response::new()
        .add_attribute("action", "return_escrow")
        .add_attribute("amount", amount.to_string())
        .add_message(BankMsg::Send { to_address: sender.to_string(), amount: vec![coin(amount.u128(), rules.denom)] }))
}

/// Voting members start leaving (escrow frozen for two voting periods); non-voting and
/// pending members, who never voted, leave at once with their escrow.
fn leave(storage: &mut dyn Storage, env: &Env, sender: &Addr, diffs: &mut Vec<MemberDiff>) -> ExecuteResult {
    let rules = state::load_rules(storage)?;
    let mut record = state::may_load_member(storage, sender)?
        .ok_or_else(|| ContractError::NotMember(sender.to_string()))?;
    let response = Response::new().add_attribute("action", "leave");
    match record.status {
        Status::NonVoting => {
            state::remove_member(storage, sender);
            Ok(response.add_attribute("status", "removed"))
        }
        Status::Pending | Status::PendingPaid => {
            if let Some(id) = record.batch {
                state::remove_from_batch(storage, id, sender)?;
            }
            state::remove_member(storage, sender);
            let response = response.add_attribute("status", "removed");
            Ok(pay_out(response, sender, record.escrow, &rules.denom))
        }
        Status::Voting => {
            start_leaving(storage, env, &rules, sender, &mut record, diffs)?;
            state::save_member(storage, sender, &record)?;
            let claim_at = record.claim_at.unwrap_or_default();
            Ok(response.add_attribute("status", "leaving").add_attribute("claim_at", claim_at.to_string()))
        }
        Status::Leaving => Err(ContractError::WrongStatus { action: "leave", status: "leaving" }),
    }
}

/// Makes a member leaving with claim_at = now + 2 * voting_period (the caller saves it).
fn start_leaving(storage: &mut dyn Storage, env: &Env, rules: &Rules, addr: &Addr, record: &mut MemberRecord,
    diffs: &mut Vec<MemberDiff>) -> Result<(), ContractError> {
    if let Some(id) = record.batch.take() {
        state::remove_from_batch(storage, id, addr)?;
    }
    if record.status == Status::Voting {
        set_voting(storage, env, addr, false, diffs)?;
    }
    let claim_at = env.block.time.seconds().saturating_add(rules.voting_period.saturating_mul(2));
    record.status = Status::Leaving;
    record.claim_at = Some(claim_at);
    storage.set(&state::leaving_key(claim_at, addr), b"");
    Ok(())
}

fn claim_escrow(storage: &mut dyn Storage, env: &Env, sender: &Addr) -> ExecuteResult {
    let record = state::may_load_member(storage, sender)?
        .ok_or_else(|| ContractError::NotMember(sender.to_string()))?;
    if record.status != Status::Leaving {
        return Err(ContractError::WrongStatus { action: "claim escrow", status: status_name(record.status) });
    }
    let claim_at = record.claim_at.unwrap_or_default();
    if env.block.time.seconds() < claim_at {
        return Err(ContractError::EscrowFrozen { claim_at });
    }
    let response = Response::new().add_attribute("action", "claim_escrow");
    release(storage, response, sender, &record)
}

/// Removes a leaving member for good and pays out what is left of the escrow.
fn release(storage: &mut dyn Storage, response: Response, addr: &Addr, record: &MemberRecord) -> ExecuteResult {
    let rules = state::load_rules(storage)?;
    storage.remove(&state::leaving_key(record.claim_at.unwrap_or_default(), addr));
    state::remove_member(storage, addr);
    Ok(pay_out(response, addr, record.escrow, &rules.denom))
}

fn pay_out(response: Response, to: &Addr, amount: Uint128, denom: &str) -> Response {
    if amount.is_zero() {
        return response;
    }
    response
        .add_attribute("returned", amount.to_string())
        .add_message(BankMsg::Send { to_address: to.to_string(), amount: vec![coin(amount.u128(), denom)] })
}

// ------------------------------------------------------------------------------------------
// sudo
// ------------------------------------------------------------------------------------------

pub fn sudo(deps: DepsMut, env: Env, msg: Value) -> ExecuteResult {
    match SudoMsg::parse(msg)? {
        SudoMsg::EndBlock {} => end_block(deps.storage, &env),
        SudoMsg::PrivilegeChange => Ok(Response::new().add_attribute("action", "privilege_change")),
    }
}

/// Promotes due batches and returns the matured escrows of leaving members.
fn end_block(storage: &mut dyn Storage, env: &Env) -> ExecuteResult {
    let mut diffs = Vec::new();
    promote_due_batches(storage, env, &mut diffs)?;
    let mut response = Response::new().add_attribute("action", "end_block");
    let matured = state::matured_leaving(storage, env.block.time.seconds(), MAX_RELEASES_PER_BLOCK);
    for (index_key, addr) in &matured {
        match state::may_load_member(storage, addr)? {
            Some(record) if record.status == Status::Leaving => {
                response = release(storage, response, addr, &record)?
            }
            _ => storage.remove(index_key),
        }
    }
    Ok(with_hooks(storage, response, diffs)?)
}

// ------------------------------------------------------------------------------------------
// batches, points, hooks
// ------------------------------------------------------------------------------------------

/// A batch is due when all its members paid, or when its grace period is over (then only
/// the paid ones are promoted; the others stay pending in the batch and are promoted by the
/// first check after they pay).
fn promote_due_batches(storage: &mut dyn Storage, env: &Env, diffs: &mut Vec<MemberDiff>) -> Result<(), ContractError> {
    let now = env.block.time.seconds();
    for (id, mut batch) in state::open_batches(storage)? {
        let mut records = Vec::with_capacity(batch.members.len());
        for addr in &batch.members {
            records.push(state::may_load_member(storage, addr)?);
        }
        let all_paid = records.iter().all(|r| matches!(r, Some(r) if r.status == Status::PendingPaid));
        if !all_paid && now < batch.grace_ends_at {
            continue;
        }
        let mut remaining = Vec::new();
        for (addr, record) in batch.members.iter().zip(records) {
            match record {
                Some(mut record) if record.status == Status::PendingPaid => {
                    record.status = Status::Voting;
                    record.batch = None;
                    state::save_member(storage, addr, &record)?;
                    set_voting(storage, env, addr, true, diffs)?;
                }
                Some(_) => remaining.push(addr.clone()),
                None => {}
            }
        }
        batch.members = remaining;
        state::save_batch(storage, id, &batch)?;
    }
    Ok(())
}

/// Gives or takes the single tg4 point of a voting member and records the diff.
fn set_voting(storage: &mut dyn Storage, env: &Env, addr: &Addr, voting: bool, diffs: &mut Vec<MemberDiff>)
    -> StdResult<()> {
    let new = if voting { Some(1) } else { None };
    let old = state::set_points(storage, env.block.height, addr.as_str(), new)?;
    // kept sorted by key, as the hook message wants them
    match diffs.binary_search_by(|d| d.key.as_str().cmp(addr.as_str())) {
        Ok(at) => diffs[at].new = new,
        Err(at) => diffs.insert(at, MemberDiff { key: addr.to_string(), old, new }),
    }
    Ok(())
}

/// Adds one `member_changed_hook` per registered hook when the voting set changed.
fn with_hooks(storage: &dyn Storage, response: Response, mut diffs: Vec<MemberDiff>) -> StdResult<Response> {
    diffs.retain(|d| d.old != d.new);
    if diffs.is_empty() {
        return Ok(response);
    }
    let msg = to_json_binary(&MemberChangedExecuteMsg::MemberChangedHook(MemberChangedHookMsg { diffs }))?;
    let hooks = state::load_hooks(storage)?;
    Ok(response.add_submessages(hooks.into_iter().map(|hook| {
        SubMsg::new(WasmMsg::Execute { contract_addr: hook.into_string(), msg: msg.clone(), funds: vec![] })
    })))
}

// ------------------------------------------------------------------------------------------
// validation and math
// ------------------------------------------------------------------------------------------

fn validate_denom(denom: &str) -> Result<(), ContractError> {
    let bytes = denom.as_bytes();
    let valid = bytes.len() >= 3
        && bytes.len() <= MAX_DENOM_LEN
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"/:._-".contains(b));
    if valid {
        Ok(())
    } else {
        Err(ContractError::invalid(
            "invalid denom: 3 to 128 characters, a letter first, then letters, digits or / : . _ -",
        ))
    }
}

fn validate_escrow_amount(amount: Uint128) -> Result<(), ContractError> {
    if amount.is_zero() {
        return Err(ContractError::invalid("escrow_amount must be greater than zero"));
    }
    Ok(())
}

fn validate_voting_period(period: u64) -> Result<(), ContractError> {
    if period == 0 || period > MAX_VOTING_PERIOD {
        return Err(ContractError::invalid("voting_period must be between 1 and 315360000 seconds (10 years)"));
    }
    Ok(())
}

/// Validated addresses, at most MAX_LIST, no duplicates; sorted.
fn validate_addrs(api: &dyn Api, list: &[String], field: &str) -> Result<Vec<Addr>, ContractError> {
    if list.len() > MAX_LIST {
        return Err(ContractError::invalid(format!("{}: at most {} addresses", field, MAX_LIST)));
    }
    let mut addrs: Vec<Addr> = Vec::with_capacity(list.len());
    for a in list {
        let addr = api.addr_validate(a)?;
        match addrs.binary_search(&addr) {
            Ok(_) => return Err(ContractError::invalid(format!("{}: duplicate address {}", field, addr))),
            Err(at) => addrs.insert(at, addr),
        }
    }
    Ok(addrs)
}

/// "0" ..= "1" with at most 9 decimal places, as billionths.
pub fn parse_ratio(text: &str) -> Result<u128, ContractError> {
    let bad = || ContractError::invalid("invalid slash_ratio: a decimal from 0 to 1 with at most 9 decimal places");
    let (whole, fraction) = match text.find('.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 2 || !digits(whole) || fraction.len() > 9 || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let mut frac: u128 = 0;
    for i in 0..9 {
        frac = frac * 10 + fraction.as_bytes().get(i).map(|b| (b - b'0') as u128).unwrap_or(0);
    }
    let value = whole * RATIO_ONE + frac;
    if value > RATIO_ONE {
        return Err(bad());
    }
    Ok(value)
}

/// floor(amount * ratio / 1e9), exact for every Uint128.
pub fn apply_ratio(amount: Uint128, ratio: u128) -> Uint128 {
    let a = amount.u128();
    Uint128::new((a / RATIO_ONE) * ratio + (a % RATIO_ONE) * ratio / RATIO_ONE)
}

fn status_name(status: Status) -> &'static str {
    status.name()
}

// ------------------------------------------------------------------------------------------
// query
// ------------------------------------------------------------------------------------------

pub fn query(deps: Deps, _env: Env, msg: Value) -> Result<Binary, ContractError> {
    let msg = QueryMsg::parse(msg)?;
    let storage = deps.storage;
    let api = deps.api;
    let answer = match msg {
        QueryMsg::Admin {} => to_json_binary(&AdminResponse {
            admin: state::load_admin(storage)?.map(|a| a.into_string()),
        })?,
        QueryMsg::TotalPoints { at_height } => {
            to_json_binary(&TotalPointsResponse { points: state::total_at(storage, at_height)? })?
        }
        QueryMsg::Member { addr, at_height } => {
            let addr = api.addr_validate(&addr)?;
            to_json_binary(&MemberResponse {
                points: state::points_at(storage, addr.as_str(), at_height)?,
                start_height: None,
            })?
        }
        QueryMsg::ListMembers { start_after, limit } => {
            to_json_binary(&list_voting(storage, start_after.as_deref(), limit))?
        }
        QueryMsg::ListMembersByPoints { start_after, limit } => {
            // Every member has 1 point: descending points is address order.
            let answer = match start_after {
                None => list_voting(storage, None, limit),
                Some(m) if m.points > 1 => list_voting(storage, None, limit),
                Some(m) if m.points == 1 => list_voting(storage, Some(&m.addr), limit),
                Some(_) => MemberListResponse { members: vec![] },
            };
            to_json_binary(&answer)?
        }
        QueryMsg::Hooks {} => to_json_binary(&HooksResponse {
            hooks: state::load_hooks(storage)?.into_iter().map(|h| h.into_string()).collect(),
        })?,
        QueryMsg::MemberStatus { addr } => {
            let record = state::may_load_member(storage, &api.addr_validate(&addr)?)?;
            to_json_binary(&MemberStatusResponse {
                status: record.as_ref().map(|r| r.status),
                claim_at: record.and_then(|r| r.claim_at),
            })?
        }
        QueryMsg::Escrow { addr } => {
            let record = state::may_load_member(storage, &api.addr_validate(&addr)?)?;
            to_json_binary(&EscrowResponse {
                amount: record.as_ref().map(|r| r.escrow).unwrap_or_default(),
                status: record.map(|r| r.status),
            })?
        }
        QueryMsg::ListMembersWithStatus { start_after, limit } => {
            let prefix = state::MEMBER_PREFIX;
            let start = state::page_start(prefix, start_after.as_deref().map(str::as_bytes));
            let members = storage
                .range(Some(&start), Some(&state::prefix_end(prefix)), Order::Ascending)
                .take(page_limit(limit))
                .map(|(k, v)| {
                    let record = MemberRecord::from_value(conclave_sdk::from_json(&v)?)?;
                    Ok(MemberWithStatus {
                        addr: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                        status: record.status,
                        claim_at: record.claim_at,
                        escrow: record.escrow,
                    })
                })
                .collect::<Result<Vec<_>, ContractError>>()?;
            to_json_binary(&MembersWithStatusResponse { members })?
        }
        QueryMsg::Rules {} => to_json_binary(&state::load_rules(storage)?)?,
        QueryMsg::DenyList { start_after, limit } => {
            let prefix = state::DENY_PREFIX;
            let start = state::page_start(prefix, start_after.as_deref().map(str::as_bytes));
            let deny_list = storage
                .range_keys(Some(&start), Some(&state::prefix_end(prefix)), Order::Ascending)
                .take(page_limit(limit))
                .map(|k| String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
                .collect();
            to_json_binary(&DenyListResponse { deny_list })?
        }
        QueryMsg::IsDenied { addr } => {
            let addr = api.addr_validate(&addr)?;
            to_json_binary(&IsDeniedResponse { denied: state::is_denied(storage, addr.as_str()) })?
        }
        QueryMsg::PendingBatches { start_after, limit } => {
            let start = match start_after {
                Some(id) => state::batch_key(id.saturating_add(1)),
                None => state::BATCH_PREFIX.to_vec(),
            };
            let end = state::prefix_end(state::BATCH_PREFIX);
            let batches = storage
                .range(Some(&start), Some(&end), Order::Ascending)
                .take(page_limit(limit))
                .map(|(k, v)| {
                    let batch = Batch::from_value(conclave_sdk::from_json(&v)?)?;
                    Ok(BatchResponse {
                        id: state::batch_id_of(&k),
                        grace_ends_at: batch.grace_ends_at,
                        members: batch.members.into_iter().map(|m| m.into_string()).collect(),
                    })
                })
                .collect::<Result<Vec<_>, ContractError>>()?;
            to_json_binary(&PendingBatchesResponse { batches })?
        }
    };
    Ok(answer)
}

fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

/// Voting members (1 point each) in address order, after `start_after`.
fn list_voting(storage: &dyn Storage, start_after: Option<&str>, limit: Option<u32>) -> MemberListResponse {
    let prefix = state::POINTS_PREFIX;
    let start = state::page_start(prefix, start_after.map(str::as_bytes));
    let members = storage
        .range_keys(Some(&start), Some(&state::prefix_end(prefix)), Order::Ascending)
        .take(page_limit(limit))
        .map(|k| Member { addr: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), points: 1, start_height: None })
        .collect();
    MemberListResponse { members }
}

#[cfg(test)]
mod tests;
