"""Real CosmWasm contracts, built by third parties with the real ``cosmwasm-std`` crate.

Nothing here is committed to the repository: the contracts are fetched at test time from the
npm registry with the ordinary client, exactly like any other dependency, and cached under
``~/.cache/conclave/real-contracts`` (override with ``CONCLAVE_REAL_CONTRACTS_CACHE``).

Source package
--------------
``@oraichain/common-contracts-build@1.0.35`` (npm, MIT; tarball integrity pinned in
``PACKAGE_INTEGRITY``). It ships optimized contract binaries in ``data/*.wasm`` (files dated
2024-01-25). Strings embedded in the binaries show how they were built:

* ``cosmwasm-std 1.2.1`` and ``cw-storage-plus 1.0.1`` (crates.io sources, i.e. the real,
  unmodified crates);
* the cw-plus contracts are version ``1.0.1`` (cw2 contract name ``crates.io:<name>``,
  version ``1.0.1``), cw721-base is ``0.18.0``.

Every binary below is plain WebAssembly MVP: no float, sign-extension or bulk-memory
instructions, one exported ``memory`` (17 pages initial), plus exported globals
``__data_end`` and ``__heap_base``. Every one exports ``interface_version_8``, ``allocate``
and ``deallocate``, and imports exactly these 15 functions from module ``env`` (the
CosmWasm 1.x import set; no ``bls12_381_*``/``secp256r1_*`` 2.x imports)::

    db_read db_write db_remove db_scan db_next
    addr_validate addr_canonicalize addr_humanize
    secp256k1_verify secp256k1_recover_pubkey ed25519_verify ed25519_batch_verify
    debug query_chain abort

Contract names accepted by :func:`fetch_real_contract` (``_`` and ``-`` are interchangeable),
their entry points and capability markers (``requires_*`` exports):

=================== ======================================================== ==========================
name                entry points (besides allocate/deallocate)               requires_*
=================== ======================================================== ==========================
cw20-base           instantiate execute query migrate                        staking stargate iterator
cw4-group           instantiate execute query migrate                        iterator
cw4-stake           instantiate execute query                                iterator
cw3-flex-multisig   instantiate execute query migrate                        staking stargate iterator
cw3-fixed-multisig  instantiate execute query                                staking stargate iterator
cw1-whitelist       instantiate execute query                                staking stargate iterator
cw1-subkeys         instantiate execute query migrate                        staking iterator
cw721-base          instantiate execute query migrate                        staking stargate iterator
cw20-ics20          instantiate execute query migrate reply ibc_channel_open stargate iterator
                    ibc_channel_connect ibc_channel_close ibc_packet_receive
                    ibc_packet_ack ibc_packet_timeout
cw-ics20-latest     same exports as cw20-ics20 (Oraichain's ics20 variant)   stargate iterator
cw-ics721-bridge    same exports as cw20-ics20                               stargate iterator
multicall           instantiate execute query migrate (Oraichain contract)   iterator
=================== ======================================================== ==========================

Provenance caveats (from comparing strings in the binaries with the cw-plus sources):
cw20-base, cw4-stake, cw3-fixed-multisig and cw1-* match upstream cw-plus v1.0.1.
cw4-group and cw3-flex-multisig come from Oraichain's cw-plus fork as of 2023-03: cw4-group
adds a no-op ``migrate`` (``MigrateMsg {}``); cw3-flex-multisig adds ``migrate`` (moves old
proposals/ballots), stores proposals under ``proposals_v2``/ballots under ``votes_v2``, and
looks a voter's weight up with a raw ``WasmQuery::Raw`` on the group's ``members`` map, first
keyed by the voter's *canonical* address, then by the human address. Their message formats
are otherwise those of cw-plus v1.0.1.

Message formats (JSON; checked by running the binaries against a mock 1.x host; ``A``,
``B`` are addresses, amounts are decimal strings)::

    cw20-base   instantiate {"name": "Conclave Token", "symbol": "CNCL", "decimals": 6,
                             "initial_balances": [{"address": A, "amount": "1000"}],
                             "mint": {"minter": A, "cap": "100000"} | null, "marketing": null}
                execute {"transfer": {"recipient": B, "amount": "1"}}  {"burn": {"amount": "1"}}
                        {"mint": {"recipient": B, "amount": "1"}}  (minter only)
                        {"send": {"contract": B, "amount": "1", "msg": "<base64>"}}
                        {"increase_allowance": {"spender": B, "amount": "1", "expires": null}}
                        {"transfer_from": {"owner": A, "recipient": B, "amount": "1"}}
                query   {"balance": {"address": A}} -> {"balance": "1"}
                        {"token_info": {}} -> {"name", "symbol", "decimals", "total_supply"}
                        {"minter": {}}  {"allowance": {"owner": A, "spender": B}}  {"all_accounts": {}}
                migrate {}
    cw4-group   instantiate {"admin": A | null, "members": [{"addr": A, "weight": 1}]}
                execute {"update_members": {"remove": [A], "add": [{"addr": B, "weight": 2}]}} (admin)
                        {"update_admin": {"admin": B | null}}  {"add_hook": {"addr": C}}
                        {"remove_hook": {"addr": C}}
                query   {"member": {"addr": A, "at_height": null}} -> {"weight": 1 | null}
                        {"total_weight": {}} -> {"weight": 3}  {"list_members": {}}  {"admin": {}}
                        {"hooks": {}}
                migrate {}
    cw3-flex    instantiate {"group_addr": G, "threshold": {"absolute_count": {"weight": 3}},
                             "max_voting_period": {"height": 100}, "executor": null,
                             "proposal_deposit": null}
                execute {"propose": {"title": "t", "description": "d", "msgs": [<CosmosMsg>],
                                     "latest": null}}  (group members only)
                        {"vote": {"proposal_id": 1, "vote": "yes"|"no"|"abstain"|"veto"}}
                        {"execute": {"proposal_id": 1}}  {"close": {"proposal_id": 1}}
                        {"member_changed_hook": {"diffs": [{"key": A, "old": 3, "new": null}]}}
                query   {"proposal": {"proposal_id": 1}}  {"list_proposals": {}}  {"threshold": {}}
                        {"vote": {"proposal_id": 1, "voter": A}}  {"list_votes": {"proposal_id": 1}}
                        {"voter": {"address": A}}  {"list_voters": {}}  {"config": {}}
                needs   WasmQuery::Raw and ::Smart on the group contract (from instantiate,
                        propose, vote, voter/list_voters queries)
    cw3-fixed   instantiate {"voters": [{"addr": A, "weight": 1}],
                             "threshold": {"absolute_percentage": {"percentage": "0.5"}},
                             "max_voting_period": {"time": 3600}}; execute/query as cw3-flex
                             minus member_changed_hook/config/migrate

Threshold is one of ``{"absolute_count": {"weight": N}}``,
``{"absolute_percentage": {"percentage": "0.5"}}`` or
``{"threshold_quorum": {"threshold": "0.5", "quorum": "0.3"}}``; Duration is ``{"height": N}``
or ``{"time": seconds}``; Expiration is ``{"at_height": N}``, ``{"at_time": "<nanos>"}`` or
``{"never": {}}``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

__all__ = ["PACKAGE", "PACKAGE_VERSION", "CONTRACTS", "fetch_real_contract", "cache_dir"]

PACKAGE = "@oraichain/common-contracts-build"
PACKAGE_VERSION = "1.0.35"
# npm's own dist.integrity for the tarball (npm checks it on download; we check it again).
PACKAGE_INTEGRITY = (
    "sha512-Alx1pZbUeaLCCz5WsNgk6XepQLBeKCWxJkbucPBF9ptszL0ad26L9mTrttbXcmA/V5pYyrnnw3R5/HRyPmNkPQ=="
)

# name -> (member path inside the npm tarball, sha256 of the .wasm, size in bytes)
CONTRACTS: dict[str, tuple[str, str, int]] = {
    "cw20-base": ("package/data/cw20-base.wasm",
                  "764205286e29d5b6aa8745316a7c1f03df637c2af16db481e1e41c4576296619", 303641),
    "cw4-group": ("package/data/cw4-group.wasm",
                  "e19367046816ff2f057c3cee7f556134a09970a08b8fd5a2aec8f1267ae5b53a", 203924),
    "cw4-stake": ("package/data/cw4-stake.wasm",
                  "68b33026c027c6af2341b02b0725f74d23a3b2ea9bc09bde262344aa7c303ff7", 244260),
    "cw3-flex-multisig": ("package/data/cw3-flex-multisig.wasm",
                          "b9754a82dc4e2026040310fd53894bb2ad417766976a2e0f4e1211a8ff0b99a0", 395887),
    "cw3-fixed-multisig": ("package/data/cw3-fixed-multisig.wasm",
                           "5800508d3bad88343a686393cb37495ce4983b94a51a3eea4660a08c617b45ee", 307075),
    "cw1-whitelist": ("package/data/cw1-whitelist.wasm",
                      "cba92b8d3ff4e43468d889b8647869852b5faf171c535b1c84130303a01425e8", 202337),
    "cw1-subkeys": ("package/data/cw1-subkeys.wasm",
                    "f95853260860b2dcc1b003564f33fc9e80b8ce0987f2241f9373052fa8a89e4b", 272653),
    "cw721-base": ("package/data/cw721-base.wasm",
                   "3270785e78f674472b358960149544fd12c557ee71a47102c3c8585471da33ea", 293704),
    "cw20-ics20": ("package/data/cw20-ics20.wasm",
                   "397b51a4aaec82cc72c84f7cf3049df2d0677a4bb5aa591ee4d65f7227d11d96", 326635),
    "cw-ics20-latest": ("package/data/cw-ics20-latest.wasm",
                        "83990d5c27699fead3483c47a0af982cd49a4e2ee9ee7e62fa68fa291fd60972", 505819),
    "cw-ics721-bridge": ("package/data/cw-ics721-bridge.wasm",
                         "1aeaa48d1c928b774ec70f7fca8cea922a9bd0b01913518ff391c2ad25c584c6", 407632),
    "multicall": ("package/data/multicall.wasm",
                  "5bf59cd5aba8ca49b841dda2180df808c72a1fd47e59a17721a38d082ca59410", 165500),
}

_NPM_TIMEOUT_S = 300


def cache_dir() -> Path:
    override = os.environ.get("CONCLAVE_REAL_CONTRACTS_CACHE")
    base = Path(override) if override else Path.home() / ".cache" / "conclave" / "real-contracts"
    return base / f"{PACKAGE.replace('/', '+')}@{PACKAGE_VERSION}"


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key.endswith(".wasm"):
        key = key[: -len(".wasm")]
    if key not in CONTRACTS:
        raise KeyError(f"unknown real contract {name!r}; known: {', '.join(sorted(CONTRACTS))}")
    return key


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_integrity(tarball: Path) -> None:
    import base64

    algo, _, expected = PACKAGE_INTEGRITY.partition("-")
    digest = hashlib.new(algo, tarball.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise RuntimeError(f"{PACKAGE}@{PACKAGE_VERSION}: tarball integrity mismatch ({tarball})")


def _npm_pack(dest: Path) -> Path:
    """Download the pinned package tarball into ``dest`` with ``npm pack``; return its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not installed, so the real CosmWasm contracts cannot be fetched "
            f"(they come from the npm package {PACKAGE}@{PACKAGE_VERSION}); "
            "install it with `apt-get install -y npm`")
    spec = f"{PACKAGE}@{PACKAGE_VERSION}"
    cmd = [npm, "pack", spec, "--pack-destination", str(dest), "--json",
           "--ignore-scripts", "--fetch-retries=2", "--fetch-timeout=60000", "--loglevel=error"]
    try:
        proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True,
                              timeout=_NPM_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"`npm pack {spec}` timed out after {_NPM_TIMEOUT_S}s: is the npm registry reachable?"
        ) from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(
            f"`npm pack {spec}` failed (exit {proc.returncode}); the npm registry may be "
            f"unreachable:\n{tail}")
    tarballs = sorted(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {spec}` produced {len(tarballs)} tarballs in {dest}")
    return tarballs[0]


def _populate_cache(cache: Path) -> None:
    """Fetch the package once and extract every pinned contract, verified, into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="npm-pack-", dir=cache) as tmp:
        tarball = _npm_pack(Path(tmp))
        _check_integrity(tarball)
        with tarfile.open(tarball, "r:gz") as tar:
            for key, (member, sha, size) in CONTRACTS.items():
                info = tar.getmember(member)
                if not info.isfile() or info.size != size:
                    raise RuntimeError(f"{PACKAGE}@{PACKAGE_VERSION}: {member} is not the pinned file")
                fh = tar.extractfile(info)
                assert fh is not None
                data = fh.read()
                if _sha256(data) != sha:
                    raise RuntimeError(
                        f"{PACKAGE}@{PACKAGE_VERSION}: sha256 of {member} is {_sha256(data)}, "
                        f"expected {sha}")
                _atomic_write(cache / f"{key}.wasm", data)


def fetch_real_contract(name: str) -> bytes:
    """The named contract's wasm bytes (e.g. ``"cw20-base"``, ``"cw4_group"``).

    Served from the cache when present and intact; otherwise the pinned npm package is
    downloaded with ``npm pack`` and all pinned contracts are extracted and verified.
    Raises ``KeyError`` for an unknown name and ``RuntimeError`` when npm or the registry is
    unavailable or a checksum does not match.
    """
    key = _canonical(name)
    _member, sha, _size = CONTRACTS[key]
    cache = cache_dir()
    path = cache / f"{key}.wasm"
    if path.is_file():
        data = path.read_bytes()
        if _sha256(data) == sha:
            return data
        path.unlink(missing_ok=True)  # corrupt or stale: fetch again
    _populate_cache(cache)
    data = path.read_bytes()
    if _sha256(data) != sha:  # pragma: no cover - _populate_cache already checked
        raise RuntimeError(f"cached {path} does not match the pinned sha256 {sha}")
    return data
