"""VM benchmark: prints one JSON object with overhead_ratio, cache_speedup and executes_per_s.

- executes_per_s: counter {"increment":{}} executes per second through TestApp on one core
  (cached module, env JSON, regions, one storage read and write, events, a cache branch).
- overhead_ratio: one such TestApp execute divided by a bare wasmtime-py call of the same module
  in the same process (public API: Store, InstancePre.instantiate, allocate x3, writes, execute,
  with no-op host functions): what our host costs on top of wasmtime itself.
- cache_speedup: compiling a ~300 KB contract in a fresh process divided by loading it from the
  disk cache in another fresh process (both timed inside the process, interpreter start excluded).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wasmtime  # noqa: E402

from chain.testing import TestApp  # noqa: E402
from chain.vm.engine import make_engine  # noqa: E402

COUNTER = ROOT / "contracts" / "artifacts" / "test_counter.wasm"
BIG = ROOT / "contracts" / "artifacts" / "test_reflect.wasm"   # ~360 KB: the "300 KB contract"
ROUNDS = 3


def best_rate(fn, n: int) -> float:
    """Seconds per call: the best of ROUNDS runs of n calls (least disturbed by the machine)."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def testapp_execute_seconds(n: int) -> float:
    app = TestApp()
    alice = app.create_account("alice")
    counter = app.instantiate(app.store_code(COUNTER.read_bytes()), {"count": 0}, sender=alice)
    app.execute(counter, {"increment": {}}, sender=alice)
    return best_rate(lambda: app.execute(counter, {"increment": {}}, sender=alice), n)


def bare_wasmtime_seconds(n: int) -> float:
    engine = make_engine()
    module = wasmtime.Module(engine, COUNTER.read_bytes())
    linker = wasmtime.Linker(engine)
    for imp in module.imports:
        ty = imp.type
        results = ty.results

        def noop(*_args, _results=results):
            return 0 if len(_results) == 1 else None

        linker.define_func(imp.module, imp.name, ty, noop)
    pre = linker.instantiate_pre(module)
    env = b'{"block":{"height":1,"time":"1","chain_id":"x"},"transaction":null,"contract":{"address":"c"}}'
    info = b'{"sender":"s","funds":[]}'
    msg = b'{"increment":{}}'

    def call() -> None:
        store = wasmtime.Store(engine)
        store.set_fuel(10**10)
        exports = pre.instantiate(store).exports(store)
        memory, allocate = exports["memory"], exports["allocate"]
        pointers = []
        for data in (env, info, msg):
            region = allocate(store, len(data))
            offset = int.from_bytes(memory.read(store, region, region + 4), "little")
            memory.write(store, data, offset)
            memory.write(store, len(data).to_bytes(4, "little"), region + 8)
            pointers.append(region)
        exports["execute"](store, *pointers)

    call()
    return best_rate(call, n)


_COMPILE = """
import sys, time, wasmtime
sys.path.insert(0, {root!r})
from chain.vm.engine import make_engine
engine = make_engine(); wasm = open({wasm!r}, "rb").read()
t = time.perf_counter(); wasmtime.Module(engine, wasm); print(time.perf_counter() - t)
"""

_LOAD = """
import sys, time, hashlib
sys.path.insert(0, {root!r})
from pathlib import Path
from chain.vm.engine import make_engine
from chain.vm.cache import ModuleCache
engine = make_engine(); wasm = open({wasm!r}, "rb").read(); checksum = hashlib.sha256(wasm).digest()
cache = ModuleCache(engine, Path({cache!r}))
t = time.perf_counter(); cache.get(checksum, lambda: wasm, lambda m: m); dt = time.perf_counter() - t
assert cache.stats.compiles == {compiles}, cache.stats
print(dt)
"""


def run_python(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def cache_speedup() -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as cache:
        compile_s = min(run_python(_COMPILE.format(root=str(ROOT), wasm=str(BIG))) for _ in range(ROUNDS))
        run_python(_LOAD.format(root=str(ROOT), wasm=str(BIG), cache=cache, compiles=1))  # fills the cache
        load_s = min(run_python(_LOAD.format(root=str(ROOT), wasm=str(BIG), cache=cache, compiles=0))
                     for _ in range(ROUNDS))
    return compile_s / load_s, compile_s, load_s


def main() -> None:
    execute_s = testapp_execute_seconds(2000)
    bare_s = bare_wasmtime_seconds(2000)
    speedup, compile_s, load_s = cache_speedup()
    print(json.dumps({
        "bench": "vm",
        "overhead_ratio": round(execute_s / bare_s, 2),
        "cache_speedup": round(speedup, 1),
        "executes_per_s": round(1 / execute_s),
        "testapp_execute_us": round(execute_s * 1e6, 1),
        "bare_wasmtime_call_us": round(bare_s * 1e6, 1),
        "compile_ms": round(compile_s * 1e3, 2),
        "disk_cache_load_ms": round(load_s * 1e3, 3),
        "contract_bytes": BIG.stat().st_size,
    }))


if __name__ == "__main__":
    main()
