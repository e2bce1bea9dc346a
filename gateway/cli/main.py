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
    "gateway.cli.esia",
    "gateway.cli.portal",
    "gateway.cli.feed",
    "gateway.cli.keys",
)

#: Which module registers each command: a run imports only its own command's module (the
#: others pull in aiohttp, Jinja, Alembic, the ESIA adapter...: a second and ~100 MB that
#: ``feed export`` and its worker processes would pay for nothing). Help and unknown
#: commands load them all, so ``ediary --help`` still lists everything.
COMMAND_OF = {
    "serve": "gateway.cli.serve",
    "demo": "gateway.cli.serve",
    "db": "gateway.cli.db",
    "roster": "gateway.cli.imports",
    "marks": "gateway.cli.imports",
    "users": "gateway.cli.users",
    "demo-data": "gateway.cli.demo_data",
    "esia-emulator": "gateway.cli.esia_emulator",
    "esia": "gateway.cli.esia",
    "portal": "gateway.cli.portal",
    "feed": "gateway.cli.feed",
    "keys": "gateway.cli.keys",
}


def _command_name(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (after the global ``--config FILE``), if any."""
    args = list(argv)
    while args:
        word = args.pop(0)
        if word == "--config":
            if args:
                args.pop(0)
        elif not word.startswith("--config="):
            return None if word.startswith("-") else word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, with only the module of the command it names."""
    parser = argparse.ArgumentParser(
        prog="ediary",
        description="Электронный дневник школы: шлюз Госуслуг, консоль и дневник.",
    )
    parser.add_argument(
        "--config", help="файл настроек TOML (по умолчанию $EDIARY_CONFIG или встроенные значения)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = COMMAND_OF.get(_command_name(argv) or "") if argv is not None else None
    for name in (chosen,) if chosen else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"ediary: ошибка в настройках: {exc}", file=sys.stderr)
        return 2
    except DiaryError as exc:
        print(f"ediary: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
