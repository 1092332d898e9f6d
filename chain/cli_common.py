"""What the `conclave` subcommand modules share: one-line user errors, the keyring of --home, coin arguments.

Every expected failure of a command is one line on stderr and exit status 1 (``guarded``)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import genesis_builder
from .api.client import ApiClientError
from .app.coins import parse_coins
from .app.errors import AppError
from .app.tx import TxError
from .crypto.keys import Keyring, KeyringError
from .node import NodeError


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def home_of(args: argparse.Namespace) -> Path:
    return Path(args.home).expanduser()


def keyring_of(args: argparse.Namespace) -> Keyring:
    """The keyring in HOME/keys, with the command's address prefix."""
    return Keyring(home_of(args) / "keys", args.prefix)


def passphrase_of(args: argparse.Namespace) -> str | None:
    """The passphrase named by --passphrase-env (never typed on the command line, where ps would show it)."""
    var = getattr(args, "passphrase_env", None)
    if var is None:
        return None
    if var not in os.environ:
        raise CliError(f"--passphrase-env {var}: the environment variable {var} is not set")
    return os.environ[var]


def coins_arg(text: str, what: str) -> tuple[tuple[str, int], ...]:
    """Coins written as 100ucnv or 5ucnv,7ustake."""
    try:
        return tuple(parse_coins(genesis_builder.parse_coins_text(text)))
    except (genesis_builder.GenesisBuildError, AppError) as exc:
        raise CliError(f"{what}: {exc} (write coins as 100ucnv or 5ucnv,7ustake)") from None


def guarded(func):
    """Every expected failure as one line on stderr and exit status 1."""
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ApiClientError as exc:
            print(f"error: {exc.code}: {exc}", file=sys.stderr)
        except (CliError, KeyringError, NodeError, TxError, genesis_builder.GenesisBuildError, ValueError,
                OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    return run
