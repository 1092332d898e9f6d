"""Genesis-contract benchmark: prints one JSON object.

- valset end_with_validator_update with 100, 1,000 and 10,000 mixer members (all with keys):
  gas and wall time, for the default max_validators (100) and for the largest set valset
  accepts (max_validators = min(members, 1,000)); growth ratio 10k/1k.
- the size of every genesis artifact (target: each under 400 KB).

The mixer runs over two tg4 group contracts (as engagement and stake would feed it) so the
population can be built quickly; valset sees exactly what it would see over the real groups.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nacl.signing import SigningKey  # noqa: E402

from chain.testing import TestApp  # noqa: E402

ARTIFACTS = ROOT / "contracts" / "artifacts"
GENESIS = ("group", "membership", "voting", "engagement", "stake", "mixer", "valset")
BATCH = 100
BLOCK_GAS_LIMIT = 100_000_000   # SDK gas; the end-block cap for valset's sudo
MAX_VALIDATORS_CAP = 1_000      # valset refuses a larger max_validators


def wasm(name: str) -> bytes:
    return (ARTIFACTS / f"{name}.wasm").read_bytes()


def population(n: int, max_validators: int) -> tuple[TestApp, str]:
    import base64

    app = TestApp(gas_limit=10**9)
    deployer = app.create_account("deployer")
    group_code, mixer_code, valset_code = (app.store_code(wasm(n)) for n in ("group", "mixer", "valset"))
    left = app.instantiate(group_code, {"admin": deployer, "members": []}, sender=deployer, label="left")
    right = app.instantiate(group_code, {"admin": deployer, "members": []}, sender=deployer, label="right")
    mixer = app.instantiate(mixer_code, {"left_group": left, "right_group": right,
                                         "function": {"geometric_mean": {}}, "admin": deployer},
                            sender=deployer, label="mixer")
    for group in (left, right):
        app.execute(group, {"add_hook": {"addr": mixer}}, sender=deployer)
    members = [app.create_account(f"member-{i}") for i in range(n)]
    for start in range(0, n, BATCH):
        batch = members[start:start + BATCH]
        for group in (left, right):
            add = [{"addr": m, "points": 100 + (start + i) % 997} for i, m in enumerate(batch)]
            app.execute(group, {"update_members": {"add": add, "remove": []}}, sender=deployer)
    valset = app.instantiate(valset_code, {
        "membership": mixer, "min_points": 1, "max_validators": max_validators, "epoch_length": 60,
        "scaling": None, "admin": deployer, "initial_keys": []}, sender=deployer, label="valset")
    for i, member in enumerate(members):
        key = bytes(SigningKey(i.to_bytes(4, "big") * 8).verify_key)
        app.execute(valset, {"register_validator_key": {
            "pubkey": {"ed25519": base64.b64encode(key).decode()}, "metadata": {"moniker": f"v{i}", "details": None}}},
            sender=member)
    app.next_block(seconds=60)
    return app, valset


def measure(n: int, max_validators: int) -> dict[str, float]:
    app, valset = population(n, max_validators)
    start = time.perf_counter()
    result = app.sudo(valset, {"end_with_validator_update": {}}, gas_limit=BLOCK_GAS_LIMIT)
    ms = (time.perf_counter() - start) * 1e3
    diffs = len(json.loads(result.data)["diffs"])
    return {"ms": round(ms, 1), "gas": result.gas_used, "diffs": diffs}


def main() -> None:
    sizes = {name: (ARTIFACTS / f"{name}.wasm").stat().st_size for name in GENESIS}
    out: dict[str, object] = {"bench": "contracts", "block_gas_limit": BLOCK_GAS_LIMIT, "artifact_bytes": sizes,
                              "largest_artifact_bytes": max(sizes.values())}
    for label, cap in (("top100", lambda n: 100), ("max1000", lambda n: min(n, MAX_VALIDATORS_CAP))):
        runs = {n: measure(n, cap(n)) for n in (100, 1_000, 10_000)}
        out[f"valset_{label}"] = {str(n): r for n, r in runs.items()}
        out[f"valset_{label}_10k_ms"] = runs[10_000]["ms"]
        out[f"valset_{label}_growth_10k_over_1k"] = round(runs[10_000]["ms"] / runs[1_000]["ms"], 2)
        out[f"valset_{label}_10k_under_block_gas_limit"] = runs[10_000]["gas"] <= BLOCK_GAS_LIMIT
    out["valset_10k_ms"] = out["valset_top100_10k_ms"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
