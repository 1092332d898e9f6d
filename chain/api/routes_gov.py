"""Governance routes, read from the genesis contracts: proposals, the circle, admins, PoE points, validators.

    GET /gov/proposals                  proposals, newest first; filters status, proposer; order asc|desc
    GET /gov/proposals/{id}             a proposal with its tally
    GET /gov/proposals/{id}/votes       its votes, by voter
    GET /circle/members                 the trusted circle: members with status and escrow
    GET /circle/members/{address}       one member's status and escrow
    GET /circle/admins                  the admins group (who may propose code)
    GET /poe/points                     PoE points (the mixer), engagement points, stake points: lists
    GET /poe/engagement, /poe/stake
    GET /poe/points/{address}           one address's PoE, engagement and stake points and bonded tokens
    GET /validators                     the consensus set in effect, the valset's active set, the jailed,
                                        and the set the next epoch would choose now
    GET /validators/jailed              the jailed validators, paged

Each answer is the contracts' own JSON (contracts/INTERFACES.md) wrapped in a page. Contract
lists hold at most CONTRACT_MAX_LIMIT per query; ``next`` is the last item's cursor whenever
a page is full, so a list may end with an empty page.
"""
from __future__ import annotations

from typing import Any, Callable

from aiohttp import web

from ..codec import b64encode
from .context import genesis_contract, node_of, smart_query
from .errors import ApiError
from .inputs import MAX_U64, address, integer, limit as parse_limit, params, path_address
from .openapi import (ADDRESS, ANY_OBJECT, BASE64, BOOLEAN, INTEGER, STRING, array, limit_param, nullable, obj,
                      operation, page, path_param, query_param, start_after_param)

TAG = "governance"
CONTRACT_MAX_LIMIT = 30          # the genesis contracts' MAX_LIMIT
DEFAULT_LIMIT = 30
SCAN_PAGES = 10                  # a filtered proposal list reads at most this many contract pages per request
PROPOSAL_STATUSES = ("open", "passed", "rejected", "executed", "expired")


def _query(request: web.Request, contract: str, msg: dict[str, Any]) -> Any:
    return smart_query(node_of(request), genesis_contract(request, contract), msg)


def _proposal_id(request: web.Request) -> int:
    return integer(request.match_info["proposal_id"], "proposal_id", 1, MAX_U64)


def _proposal(request: web.Request, proposal_id: int) -> dict[str, Any]:
    try:
        return _query(request, "voting", {"proposal": {"proposal_id": proposal_id}})
    except ApiError as exc:
        if exc.code == "query_failed" and "not found" in str(exc).lower():
            raise ApiError(404, "not_found", f"no proposal {proposal_id}: GET /gov/proposals lists them") from None
        raise


async def list_proposals(request: web.Request) -> web.Response:
    query = params(request, "status", "proposer", "order", "limit", "start_after")
    limit = parse_limit(query, CONTRACT_MAX_LIMIT, DEFAULT_LIMIT)
    status = query.get("status")
    if status is not None and status not in PROPOSAL_STATUSES:
        raise ApiError(400, "invalid_param", f"status must be one of {', '.join(PROPOSAL_STATUSES)}")
    proposer = address(request, query["proposer"], "proposer") if "proposer" in query else None
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "invalid_param", "order must be asc (oldest first) or desc (newest first)")
    cursor = integer(query["start_after"], "start_after", 0, MAX_U64) if "start_after" in query else None
    found: list[dict[str, Any]] = []
    exhausted = False
    for _ in range(SCAN_PAGES):
        if order == "asc":
            msg = {"list_proposals": {"start_after": cursor, "limit": CONTRACT_MAX_LIMIT}}
        else:
            msg = {"reverse_proposals": {"start_before": cursor, "limit": CONTRACT_MAX_LIMIT}}
        batch = _query(request, "voting", msg)["proposals"]
        for proposal in batch:
            cursor = proposal["id"]
            if (status is None or proposal["status"] == status) and (proposer is None or proposal["proposer"] == proposer):
                found.append(proposal)
                if len(found) == limit:
                    break
        if len(found) == limit:
            break
        if len(batch) < CONTRACT_MAX_LIMIT:
            exhausted = True
            break
    return web.json_response({"proposals": found, "next": None if exhausted else cursor})


async def get_proposal(request: web.Request) -> web.Response:
    params(request)
    proposal_id = _proposal_id(request)
    proposal = _proposal(request, proposal_id)
    tally = _query(request, "voting", {"tally": {"proposal_id": proposal_id}})
    return web.json_response({"proposal": proposal, "tally": tally})


async def proposal_votes(request: web.Request) -> web.Response:
    query = params(request, "limit", "start_after")
    limit = parse_limit(query, CONTRACT_MAX_LIMIT, DEFAULT_LIMIT)
    proposal_id = _proposal_id(request)
    _proposal(request, proposal_id)
    after = address(request, query["start_after"], "start_after") if "start_after" in query else None
    votes = _query(request, "voting", {"list_votes": {"proposal_id": proposal_id, "start_after": after,
                                                      "limit": limit}})["votes"]
    return web.json_response({"proposal_id": proposal_id, "votes": votes,
                              "next": votes[-1]["voter"] if len(votes) == limit else None})


def _member_page(contract: str, query_name: str, item_key: str) -> Callable:
    """A handler listing a tg4-style contract's members by address: {item_key: [...], "next"}."""
    async def handler(request: web.Request) -> web.Response:
        query = params(request, "limit", "start_after")
        limit = parse_limit(query, CONTRACT_MAX_LIMIT, DEFAULT_LIMIT)
        after = address(request, query["start_after"], "start_after") if "start_after" in query else None
        members = _query(request, contract, {query_name: {"start_after": after, "limit": limit}})["members"]
        return web.json_response({item_key: members, "next": members[-1]["addr"] if len(members) == limit else None})
    handler.__name__ = f"list_{contract}_{item_key}"
    return handler


async def circle_member(request: web.Request) -> web.Response:
    params(request)
    addr = path_address(request)
    status = _query(request, "membership", {"member_status": {"addr": addr}})
    escrow = _query(request, "membership", {"escrow": {"addr": addr}})
    return web.json_response({"address": addr, "status": status.get("status"), "claim_at": status.get("claim_at"),
                              "escrow": escrow.get("amount")})


async def poe_points(request: web.Request) -> web.Response:
    params(request)
    addr = path_address(request)

    def points(contract: str) -> int | None:
        return _query(request, contract, {"member": {"addr": addr, "at_height": None}}).get("points")

    return web.json_response({"address": addr, "poe": points("mixer"), "engagement": points("engagement"),
                              "stake": points("stake"),
                              "staked": _query(request, "stake", {"staked": {"address": addr}}).get("stake")})


async def validators(request: web.Request) -> web.Response:
    params(request)
    node = node_of(request)
    jailed = _query(request, "valset", {"list_jailed": {"start_after": None, "limit": CONTRACT_MAX_LIMIT}})["validators"]
    return web.json_response({
        "consensus": [{"pubkey": b64encode(v.pubkey), "power": v.power} for v in node.chain_state.validators],
        "active": _query(request, "valset", {"list_active_validators": {}})["validators"],
        "jailed": jailed,
        "jailed_next": jailed[-1]["operator"] if len(jailed) == CONTRACT_MAX_LIMIT else None,
        "simulated_next": _query(request, "valset", {"simulate_active_validators": {}})["validators"],
        "epoch": _query(request, "valset", {"epoch": {}}),
    })


async def jailed_validators(request: web.Request) -> web.Response:
    query = params(request, "limit", "start_after")
    limit = parse_limit(query, CONTRACT_MAX_LIMIT, DEFAULT_LIMIT)
    after = address(request, query["start_after"], "start_after") if "start_after" in query else None
    jailed = _query(request, "valset", {"list_jailed": {"start_after": after, "limit": limit}})["validators"]
    return web.json_response({"jailed": jailed, "next": jailed[-1]["operator"] if len(jailed) == limit else None})


def register(app: web.Application) -> None:
    app.router.add_get("/gov/proposals", list_proposals)
    app.router.add_get("/gov/proposals/{proposal_id}", get_proposal)
    app.router.add_get("/gov/proposals/{proposal_id}/votes", proposal_votes)
    app.router.add_get("/circle/members", _member_page("membership", "list_members_with_status", "members"))
    app.router.add_get("/circle/members/{address}", circle_member)
    app.router.add_get("/circle/admins", _member_page("group", "list_members", "admins"))
    app.router.add_get("/poe/points", _member_page("mixer", "list_members", "members"))
    app.router.add_get("/poe/engagement", _member_page("engagement", "list_members", "members"))
    app.router.add_get("/poe/stake", _member_page("stake", "list_members", "members"))
    app.router.add_get("/poe/points/{address}", poe_points)
    app.router.add_get("/validators", validators)
    app.router.add_get("/validators/jailed", jailed_validators)


# --- documentation ---------------------------------------------------------------------------------
VOTES = obj({"yes": INTEGER, "no": INTEGER, "abstain": INTEGER, "veto": INTEGER})
PROPOSAL = obj({"id": INTEGER, "title": STRING, "description": STRING, "msgs": array(ANY_OBJECT),
                "status": {"enum": list(PROPOSAL_STATUSES)}, "proposer": ADDRESS, "created_height": INTEGER,
                "expires_at": INTEGER, "rules": ANY_OBJECT, "total_points": INTEGER, "votes": VOTES})
TALLY = obj({"yes": INTEGER, "no": INTEGER, "abstain": INTEGER, "veto": INTEGER, "total": INTEGER,
             "quorum_reached": BOOLEAN, "status": STRING})
VOTE = obj({"proposal_id": INTEGER, "voter": ADDRESS, "vote": {"enum": ["yes", "no", "abstain", "veto"]},
            "points": INTEGER})
TG4_MEMBER = obj({"addr": ADDRESS, "points": INTEGER}, required=["addr", "points"])
CIRCLE_MEMBER = obj({"addr": ADDRESS, "status": {}, "claim_at": nullable(INTEGER), "escrow": STRING},
                    required=["addr", "status", "escrow"])
VALSET_VALIDATOR = obj({"operator": ADDRESS, "validator_pubkey": obj({"ed25519": BASE64}), "power": INTEGER})
JAILED = obj({"operator": ADDRESS, "jailed_until": {}})
PROPOSAL_ID = path_param("proposal_id", {"type": "integer", "minimum": 1}, "a proposal id")
PAGE = limit_param(CONTRACT_MAX_LIMIT, DEFAULT_LIMIT)
ADDRESS_AFTER = start_after_param(ADDRESS, "an address")


def _members_doc(summary: str, item_key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"get": operation(summary, page(item_key, item, ADDRESS), tag=TAG, parameters=[PAGE, ADDRESS_AFTER],
                             errors=(400, 404))}


OPENAPI_PATHS = {
    "/gov/proposals": {"get": operation(
        "Governance proposals, newest first (order=asc for oldest first), optionally filtered",
        page("proposals", PROPOSAL, INTEGER), tag=TAG, errors=(400, 404),
        parameters=[query_param("status", {"enum": list(PROPOSAL_STATUSES)}, "only proposals with this status"),
                    query_param("proposer", ADDRESS, "only proposals by this address"),
                    query_param("order", {"enum": ["asc", "desc"], "default": "desc"}, "by id"),
                    PAGE, start_after_param({"type": "integer", "minimum": 0},
                                            "a proposal id (in desc order: the ids below it)")],
        description=f"With filters, one request reads at most {SCAN_PAGES * CONTRACT_MAX_LIMIT} proposals; "
                    "`next` then continues the scan even if the page has fewer than `limit` items.")},
    "/gov/proposals/{proposal_id}": {"get": operation(
        "A proposal with its current tally (quorum, status)", obj({"proposal": PROPOSAL, "tally": TALLY}),
        tag=TAG, parameters=[PROPOSAL_ID], errors=(400, 404))},
    "/gov/proposals/{proposal_id}/votes": {"get": operation(
        "A proposal's votes, by voter address",
        obj({"proposal_id": INTEGER, "votes": array(VOTE), "next": nullable(ADDRESS)}), tag=TAG,
        parameters=[PROPOSAL_ID, PAGE, start_after_param(ADDRESS, "a voter address")], errors=(400, 404))},
    "/circle/members": _members_doc("The trusted circle: every member with status (non_voting, pending, "
                                    "pending_paid, voting, leaving) and escrow", "members", CIRCLE_MEMBER),
    "/circle/members/{address}": {"get": operation(
        "One address's circle status and escrow (status null: not a member)",
        obj({"address": ADDRESS, "status": {}, "claim_at": nullable(INTEGER), "escrow": nullable(STRING)}),
        tag=TAG, parameters=[path_param("address", ADDRESS, "the member")], errors=(400, 404))},
    "/circle/admins": _members_doc("The admins group: who may propose code", "admins", TG4_MEMBER),
    "/poe/points": _members_doc("Proof-of-engagement points (the mixer of stake and engagement), by address",
                                "members", TG4_MEMBER),
    "/poe/engagement": _members_doc("Engagement points, by address", "members", TG4_MEMBER),
    "/poe/stake": _members_doc("Stake points (bonded tokens / tokens_per_point), by address", "members", TG4_MEMBER),
    "/poe/points/{address}": {"get": operation(
        "One address's PoE, engagement and stake points (null: not a member) and bonded tokens",
        obj({"address": ADDRESS, "poe": nullable(INTEGER), "engagement": nullable(INTEGER),
             "stake": nullable(INTEGER), "staked": ANY_OBJECT}),
        tag=TAG, parameters=[path_param("address", ADDRESS, "the address")], errors=(400, 404))},
    "/validators": {"get": operation(
        "Validators: the consensus set in effect, the valset's active set, the jailed, the next epoch's simulation",
        obj({"consensus": array(obj({"pubkey": BASE64, "power": INTEGER})), "active": array(VALSET_VALIDATOR),
             "jailed": array(JAILED), "jailed_next": nullable(ADDRESS), "simulated_next": array(VALSET_VALIDATOR),
             "epoch": ANY_OBJECT}),
        tag=TAG, errors=(400, 404),
        description="`consensus` is what signs blocks now; `active` is the valset's last choice (in force two "
                    "blocks after its epoch); `simulated_next` is what it would choose if the epoch ended now.")},
    "/validators/jailed": _members_doc("Jailed validators, by operator address", "jailed", JAILED),
}
