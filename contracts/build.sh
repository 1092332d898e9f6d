#!/usr/bin/env bash
# Builds every contract of this workspace reproducibly with Debian's Rust toolchain and
# publishes them as artifacts/NAME.wasm plus artifacts/checksums.txt (sha256sum format).
#
#   bash contracts/build.sh           build, copy the artifacts, rewrite checksums.txt
#   bash contracts/build.sh --check   build into target/ only and compare with the
#                                     committed artifacts; exit 1 on any difference
#
# Reproducible means: same source, same Debian packages => same bytes, whatever the
# checkout path, user or machine. Paths are remapped, the binary is stripped, the build is
# --locked --offline against the Debian directory registry (see .cargo/config.toml).
set -euo pipefail

CONTRACTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARTIFACTS_DIR="$CONTRACTS_DIR/artifacts"
CHECKSUMS="$ARTIFACTS_DIR/checksums.txt"
TARGET=wasm32-unknown-unknown
DEBIAN_REGISTRY=/usr/share/cargo/registry
# Debian packages the build needs; apt pulls in their dependencies.
REQUIRED_PACKAGES=(rustc cargo libstd-rust-dev-wasm32 librust-serde-dev librust-serde-derive-dev
                   librust-serde-json-dev librust-base64-dev python3 binaryen lld-14)
# lld-14 provides rust-lld, the wasm32 linker (only a Recommends of libstd-rust-dev-wasm32).

usage() {
    echo "usage: $0 [--check]" >&2
}

MODE=build
case "${1:-}" in
    "") ;;
    --check) MODE=check ;;
    -h|--help) usage; exit 0 ;;
    *) usage; exit 2 ;;
esac

log() {
    echo "[contracts] $*"
}

# Installs the Debian packages that are missing (apt-get update only when needed).
ensure_packages() {
    local missing=() pkg
    for pkg in "${REQUIRED_PACKAGES[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        log "toolchain present: $(/usr/bin/rustc --version), $(/usr/bin/cargo --version)"
    fi
}

# Prints "crate-name artifact_name" for every workspace member that is a cdylib; with
# "isolated", only those that link another contract crate (e.g. test-voting-v2 links voting
# with its `library` feature). Those are built on their own: in one workspace build cargo
# would unify the features and strip the linked contract's own entry points.
list_contracts() {
    /usr/bin/cargo metadata --format-version 1 --no-deps --offline --locked \
        --manifest-path "$CONTRACTS_DIR/Cargo.toml" |
    python3 -c '
import json, sys
only_isolated = sys.argv[1:] == ["isolated"]
meta = json.load(sys.stdin)
contracts = {p["name"] for p in meta["packages"]
             if any("cdylib" in t["crate_types"] for t in p["targets"])}
for pkg in sorted(meta["packages"], key=lambda p: p["name"]):
    if pkg["name"] not in contracts:
        continue
    links_contract = any(d["name"] in contracts and d.get("kind") is None for d in pkg["dependencies"])
    if links_contract or not only_isolated:
        print(pkg["name"], pkg["name"].replace("-", "_"))
' "$@"
}

# Builds all contracts into $CARGO_TARGET_DIR with fixed flags.
build_contracts() {
    local home="${HOME:-/root}"
    local cargo_home="${CARGO_HOME:-$home/.cargo}"
    export RUSTC=/usr/bin/rustc
    export CARGO_TARGET_DIR="$CONTRACTS_DIR/target"
    export CARGO_INCREMENTAL=0
    export SOURCE_DATE_EPOCH=0
    export RUSTFLAGS="--remap-path-prefix=$CONTRACTS_DIR=/conclave/contracts \
--remap-path-prefix=$cargo_home/registry=/cargo/registry \
--remap-path-prefix=$home/.cargo/registry=/cargo/registry \
--remap-path-prefix=$DEBIAN_REGISTRY=/cargo/debian-registry \
-C link-arg=-s"
    unset RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER CARGO_ENCODED_RUSTFLAGS RUSTDOCFLAGS \
        CARGO_BUILD_RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS || true
    local entry excludes=()
    for entry in "${ISOLATED[@]}"; do
        excludes+=(--exclude "${entry%% *}")
    done
    log "building for $TARGET (release, --locked --offline)"
    (cd "$CONTRACTS_DIR" && /usr/bin/cargo build --release --locked --offline --quiet \
        --target "$TARGET" --workspace --lib "${excludes[@]}")
    for entry in "${ISOLATED[@]}"; do
        log "building ${entry%% *} on its own (it links another contract)"
        (cd "$CONTRACTS_DIR" && CARGO_TARGET_DIR="$(target_dir_of "${entry#* }")" /usr/bin/cargo build \
            --release --locked --offline --quiet --target "$TARGET" --package "${entry%% *}" --lib)
    done
}

# The cargo target directory an artifact is built in.
target_dir_of() {
    local entry
    for entry in "${ISOLATED[@]}"; do
        if [[ "${entry#* }" == "$1" ]]; then
            echo "$CONTRACTS_DIR/target/isolated/$1"
            return
        fi
    done
    echo "$CONTRACTS_DIR/target"
}

linked_path() {
    echo "$(target_dir_of "$1")/$TARGET/release/$1.wasm"
}

# The artifact: the linked module shrunk by binaryen's wasm-opt (deterministic for one
# version; Debian pins it). -Oz takes ~20% off serde-heavy contracts, keeps the MVP feature set.
built_path() {
    echo "$(target_dir_of "$1")/$TARGET/release/$1.opt.wasm"
}

optimize_contracts() {
    local entry name
    log "shrinking with $(wasm-opt --version)"
    for entry in "${CONTRACTS[@]}"; do
        name="${entry#* }"
        wasm-opt -Oz --strip-debug --strip-producers "$(linked_path "$name")" -o "$(built_path "$name")"
    done
}

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

ensure_packages
mapfile -t CONTRACTS < <(list_contracts)
mapfile -t ISOLATED < <(list_contracts isolated)
if ((${#CONTRACTS[@]} == 0)); then
    echo "[contracts] no contract crates found in $CONTRACTS_DIR/Cargo.toml" >&2
    exit 1
fi
build_contracts
optimize_contracts

built_files=()
for entry in "${CONTRACTS[@]}"; do
    built_files+=("$(built_path "${entry#* }")")
done
log "checking wasm features, limits and exports"
if ! report="$(python3 "$CONTRACTS_DIR/tools/check_wasm.py" "${built_files[@]}")"; then
    echo "$report" | sed 's/^/[contracts]   /' >&2
    echo "[contracts] a built contract uses features or sizes the chain refuses (see above)" >&2
    exit 1
fi
echo "$report" | sed 's/^/[contracts]   /; s/, exports \[.*\]//'

if [[ "$MODE" == build ]]; then
    mkdir -p "$ARTIFACTS_DIR"
    for entry in "${CONTRACTS[@]}"; do
        name="${entry#* }"
        install -m 0644 "$(built_path "$name")" "$ARTIFACTS_DIR/$name.wasm"
        log "  $name.wasm $(stat -c %s "$ARTIFACTS_DIR/$name.wasm") bytes"
    done
    (cd "$ARTIFACTS_DIR" && for entry in "${CONTRACTS[@]}"; do
        sha256sum "${entry#* }.wasm"
    done | LC_ALL=C sort -k2) > "$CHECKSUMS.tmp"
    mv "$CHECKSUMS.tmp" "$CHECKSUMS"
    log "wrote ${CHECKSUMS#"$CONTRACTS_DIR"/} (${#CONTRACTS[@]} contracts)"
    exit 0
fi

# --check: compare the fresh build with the committed checksums and artifacts.
if [[ ! -f "$CHECKSUMS" ]]; then
    echo "[contracts] MISMATCH: ${CHECKSUMS#"$CONTRACTS_DIR"/} is missing; run contracts/build.sh" >&2
    exit 1
fi
failures=0
declare -A built_names=()
for entry in "${CONTRACTS[@]}"; do
    name="${entry#* }"
    built_names["$name.wasm"]=1
    built="$(sha256_of "$(built_path "$name")")"
    listed="$(awk -v f="$name.wasm" '$2 == f { print $1 }' "$CHECKSUMS")"
    if [[ -z "$listed" ]]; then
        echo "[contracts] MISMATCH $name.wasm: not listed in checksums.txt (built $built)" >&2
        failures=$((failures + 1))
    elif [[ "$listed" != "$built" ]]; then
        echo "[contracts] MISMATCH $name.wasm: built $built, checksums.txt has $listed" >&2
        failures=$((failures + 1))
    elif [[ ! -f "$ARTIFACTS_DIR/$name.wasm" ]]; then
        echo "[contracts] MISMATCH $name.wasm: artifact file is missing" >&2
        failures=$((failures + 1))
    elif [[ "$(sha256_of "$ARTIFACTS_DIR/$name.wasm")" != "$built" ]]; then
        echo "[contracts] MISMATCH $name.wasm: committed artifact differs from the build" >&2
        failures=$((failures + 1))
    else
        log "  ok $name.wasm $built"
    fi
done
while read -r _ listed_name; do
    if [[ -n "$listed_name" && -z "${built_names[$listed_name]:-}" ]]; then
        echo "[contracts] MISMATCH $listed_name: listed in checksums.txt but no crate builds it" >&2
        failures=$((failures + 1))
    fi
done < "$CHECKSUMS"
if ((failures)); then
    echo "[contracts] check failed: $failures artifact(s) differ; run contracts/build.sh and commit" >&2
    exit 1
fi
log "check passed: ${#CONTRACTS[@]} artifacts match checksums.txt"
