"""Shared fixtures: the built test contracts, a fresh TestApp, and the real cosmwasm-std contracts."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/support.py, tests/real_contracts.py

from chain.testing import TestApp  # noqa: E402
from support import ARTIFACTS, ROOT, artifact  # noqa: E402,F401


@pytest.fixture(scope="session")
def module_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compile cache for the session: each test's fresh TestApp loads modules in ~1 ms."""
    return tmp_path_factory.mktemp("module-cache")


@pytest.fixture
def app(module_cache_dir: Path) -> TestApp:
    return TestApp(cache_dir=module_cache_dir)


@pytest.fixture
def alice(app: TestApp) -> str:
    return app.create_account("alice", {"ucnv": 1_000_000, "uatom": 500})


@pytest.fixture
def bob(app: TestApp) -> str:
    return app.create_account("bob", {"ucnv": 1_000})


@pytest.fixture
def counter(app: TestApp, alice: str) -> str:
    code_id = app.store_code(artifact("test_counter"))
    return app.instantiate(code_id, {"count": 5}, sender=alice, label="counter", admin=alice)


@pytest.fixture
def reflect(app: TestApp, alice: str) -> str:
    code_id = app.store_code(artifact("test_reflect"))
    return app.instantiate(code_id, {}, sender=alice, label="reflect", admin=alice)


@pytest.fixture
def hostile(app: TestApp, alice: str) -> str:
    code_id = app.store_code(artifact("test_hostile"))
    return app.instantiate(code_id, {}, sender=alice, label="hostile")
