"""docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine.

`docker-compose config` (Debian's docker-compose 1.x, installed by `make test-deps`) validates
the file against the Compose schema and resolves it, with no daemon; the Python checks then tie
what it describes to what `conclave testnet-files --validators 4 --output testnet` writes:
service names and hostnames, mounted homes, API and p2p ports, the image's home and entrypoint.
YAML is read with Debian's python3-yaml (a dependency of that docker-compose), so the project
needs no YAML library of its own.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chain import testnet_files
from support import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SYSTEM_PYTHON = "/usr/bin/python3"          # Debian's, where docker-compose's python3-yaml lives
NODES = [f"node{i}" for i in range(4)]
HOME_IN_IMAGE = "/home/conclave"
YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"
# Failures that say nothing about the file (`config` needs no daemon today; if that changes, the
# schema check below still validates the file).
ENVIRONMENTAL = ("Couldn't connect to Docker daemon", "Permission denied", "No module named")
# The Compose JSON schema docker-compose itself validates with, applied directly.
SCHEMA_CHECK = """
import json, sys
from pathlib import Path
import compose.config, jsonschema, yaml
schema = json.loads((Path(compose.config.__file__).parent / "compose_spec.json").read_text())
jsonschema.validate(yaml.safe_load(open(sys.argv[1])), schema)
print("valid")
"""


def docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed: `make test-deps` installs Debian's")
    return exe


def load_yaml(text: str):
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", YAML_TO_JSON], input=text, capture_output=True, text=True,
                              timeout=60)
    except FileNotFoundError:
        pytest.skip(f"{SYSTEM_PYTHON} is missing: `make test-deps` installs docker-compose and python3-yaml")
    if done.returncode != 0:
        if "No module named 'yaml'" in done.stderr:
            pytest.skip("Debian's python3-yaml is missing: `make test-deps` installs it with docker-compose")
        raise AssertionError(f"YAML did not parse: {done.stderr}")
    return json.loads(done.stdout)


def compose_config(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([docker_compose(), "--project-directory", str(directory), "-f",
                           str(directory / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, timeout=120, cwd=directory)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE.read_text())


@pytest.fixture(scope="module")
def testnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the documented first step writes: `conclave testnet-files --validators 4 --output testnet`."""
    out = tmp_path_factory.mktemp("repo") / "testnet"
    testnet_files.create(out, 4)
    return out


# --- docker-compose's own validation ---------------------------------------------------------

def schema_check(path: Path) -> subprocess.CompletedProcess:
    docker_compose()
    return subprocess.run([SYSTEM_PYTHON, "-c", SCHEMA_CHECK, str(path)], capture_output=True, text=True, timeout=60)


def test_docker_compose_config_accepts_the_file() -> None:
    done = compose_config(ROOT)
    if done.returncode != 0 and any(marker in done.stderr for marker in ENVIRONMENTAL):
        checked = schema_check(COMPOSE)                  # the fallback: the same schema, without the tool
        assert checked.returncode == 0, checked.stderr
        pytest.skip(f"docker-compose could not run here ({done.stderr.strip()[:200]}); the schema check passed")
    assert done.returncode == 0, done.stderr
    resolved = load_yaml(done.stdout)
    assert sorted(resolved["services"]) == NODES
    for i, name in enumerate(NODES):
        service = resolved["services"][name]
        assert service["volumes"] == [f"{ROOT}/testnet/{name}:{HOME_IN_IMAGE}:rw"]
        assert service["ports"] == [f"127.0.0.1:{1317 + i}:1317/tcp"]
        assert service["build"]["context"] == str(ROOT) and service["build"]["dockerfile"] == "Dockerfile"


def test_docker_compose_config_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above has teeth: the same file with one unknown option is refused."""
    broken = COMPOSE.read_text().replace("    hostname: node2\n", "    hostname: node2\n    hostnmae: typo\n")
    assert broken != COMPOSE.read_text()
    (tmp_path / "docker-compose.yml").write_text(broken)
    done = compose_config(tmp_path)
    assert done.returncode != 0 and "hostnmae" in done.stderr


def test_compose_schema_accepts_the_file_and_rejects_a_broken_one(tmp_path: Path) -> None:
    """The fallback validation, exercised on its own: the Compose schema shipped with docker-compose."""
    done = schema_check(COMPOSE)
    assert done.returncode == 0 and done.stdout.strip() == "valid", done.stderr
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace('"127.0.0.1:1318:1317"', "{published: [1318]}"))
    done = schema_check(broken)
    assert done.returncode != 0 and "ValidationError" in done.stderr


# --- the file against what testnet-files writes ----------------------------------------------

def test_four_services_on_one_network_with_loopback_apis(compose: dict) -> None:
    services = compose["services"]
    assert sorted(services) == NODES
    assert list(compose["networks"]) == ["conclave"]
    images = set()
    for i, name in enumerate(NODES):
        service = services[name]
        assert service["hostname"] == name
        assert service["build"]["context"] == "." and service["build"]["dockerfile"] == "Dockerfile"
        assert service["restart"] == "unless-stopped"
        assert service["networks"] == ["conclave"]
        assert service["volumes"] == [f"./testnet/{name}:{HOME_IN_IMAGE}"]
        assert service["ports"] == [f"127.0.0.1:{1317 + i}:1317"]           # never on all interfaces
        images.add(service["image"])
    assert len(images) == 1                                                  # one image for every node


def test_services_match_the_homes_testnet_files_writes(compose: dict, testnet: Path) -> None:
    hostnames = {service["hostname"] for service in compose["services"].values()}
    for name, service in compose["services"].items():
        source, target = service["volumes"][0].split(":")
        home = testnet.parent / source                                       # ./testnet/nodeI beside the file
        assert Path(source).parts[-2:] == ("testnet", name) and (home / "config" / "genesis.json").exists()
        assert target == HOME_IN_IMAGE
        node = json.loads((home / "config" / "node.json").read_text())
        assert node["moniker"] == name
        api_host, api_port = node["api"].rsplit(":", 1)
        assert api_host == "0.0.0.0"                                         # reachable through the published port
        assert service["ports"][0].rsplit(":", 1)[1] == api_port
        assert node["p2p"] == f"0.0.0.0:{testnet_files.DEFAULT_P2P_PORT}"
        peer_hosts = {peer.split("@", 1)[1].rsplit(":", 1)[0] for peer in node["peers"]}
        assert peer_hosts == hostnames - {name}                              # every other service, by hostname
        assert {peer.rsplit(":", 1)[1] for peer in node["peers"]} == {str(testnet_files.DEFAULT_P2P_PORT)}


def test_the_file_documents_the_first_step() -> None:
    text = COMPOSE.read_text()
    assert "conclave testnet-files --validators 4 --output testnet" in text


# --- Dockerfile and .dockerignore ------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_sanity() -> None:
    steps = dockerfile_instructions()
    by_name: dict[str, list[str]] = {}
    for word, rest in steps:
        by_name.setdefault(word, []).append(rest)
    assert by_name["FROM"] == ["python:3.11-slim-bookworm"]
    assert json.loads(by_name["ENTRYPOINT"][-1]) == ["conclave"]
    assert json.loads(by_name["CMD"][-1]) == ["start", "--home", HOME_IN_IMAGE]
    assert by_name["EXPOSE"] == ["1317 26656"]
    user = by_name["USER"][-1]
    assert user not in ("root", "0") and [w for w, _ in steps].index("USER") > [w for w, _ in steps].index("RUN")
    assert any("pip install ." in run for run in by_name["RUN"])
    (health,) = by_name["HEALTHCHECK"]
    assert "/status" in health and '"python"' in health
    assert not re.search(r"\b(cargo|rustc|rustup)\b", "\n".join(by_name["RUN"]))   # no Rust in the image
    assert "testnet" not in "\n".join(by_name.get("COPY", []))


def test_dockerignore_keeps_keys_and_local_state_out_of_the_image() -> None:
    lines = [l.strip() for l in DOCKERIGNORE.read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines[0] == "*"                                                   # an allowlist
    allowed = {l[1:].rstrip("/") for l in lines if l.startswith("!")}
    assert {"pyproject.toml", "README.md", "chain", "contracts/artifacts"} <= allowed
    for secret in ("testnet", ".devnet", "keys", ".venv", ".git", "contracts/target"):
        assert not any(secret == a or a.startswith(secret + "/") for a in allowed)
