"""``ediary``: one entry point; each command lives in its own module with a ``register``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from config import ConfigError
from diary_core.errors import DiaryError

COMMAND_MODULES = (
    "gateway.cli.serve",
    "gateway.cli.db",
    "gateway.cli.imports",
    "gateway.cli.users",
    "gateway.cli.demo_data",
    "gateway.cli.esia_emulator",
    "gateway.cli.portal",
    "gateway.cli.feed",
    "gateway.cli.keys",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ediary",
        description="Электронный дневник школы: шлюз Госуслуг, консоль и дневник.",
    )
    parser.add_argument(
        "--config", help="файл настроек TOML (по умолчанию $EDIARY_CONFIG или встроенные значения)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"ediary: configuration error: {exc}", file=sys.stderr)
        return 2
    except DiaryError as exc:
        print(f"ediary: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
