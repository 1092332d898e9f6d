# The README's commands. Everything a fresh Debian machine lacks is installed here.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv devnet test contracts contracts-check contracts-unit bench clean test-deps

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## devnet: a local 4-validator network with demo members, admins and keys on loopback.
devnet: venv
	$(VENV)/bin/conclave devnet

## contracts: build every contract into contracts/artifacts and rewrite checksums.txt.
contracts:
	bash contracts/build.sh

## contracts-check: rebuild and fail if any artifact differs from the committed checksum.
contracts-check:
	bash contracts/build.sh --check

## contracts-unit: the contracts' own Rust unit tests, natively with Debian's cargo (offline).
contracts-unit: contracts-check
	cd contracts && RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR=target/native \
		/usr/bin/cargo test --offline --locked --workspace --quiet

## test-deps: npm fetches the real cosmwasm-std contracts (cw20-base, cw4, cw3) the tests run.
test-deps:
	@# npm: the real cosmwasm-std contracts; Debian's docker-compose (1.x): validates docker-compose.yml in the tests
	@# (no Docker engine needed, and without the recommended docker.io).
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	@command -v docker-compose >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends docker-compose; }

## test: install what is missing, rebuild and check the contracts, run the test suite.
test: venv test-deps contracts-check contracts-unit
	@# loadfile: a file's tests share one worker, so a module's node starts once and its story tests run in order
	$(VPY) -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

## bench: run every benchmark; each prints one JSON object.
bench: venv
	@for b in bench/*.py; do $(VPY) $$b || exit 1; done

clean:
	rm -rf $(VENV) contracts/target
