"""``ediary``: one entry point; each command lives in its own module with a ``register``."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

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
    "gateway.cli.keygen",
    "gateway.cli.personal_data",
    "gateway.cli.mail",
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
    "keys": "gateway.cli.keygen",
    "personal-data": "gateway.cli.personal_data",
    "mail": "gateway.cli.mail",
}


class RussianHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout with its one heading in Russian (``использование:``)."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "использование: " if prefix is None else prefix)


def _type_name(name: str) -> str:
    return {"int": "целое число", "float": "число"}.get(name, name)


#: argparse's own error messages (Python 3.11 and later) and their Russian wording.
_ERRORS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"argument (\S+?): (.*)", re.S), lambda m: f"{m[1]}: {russian_error(m[2])}"),
    (
        re.compile(r"invalid choice: (.*) \(choose from (.*)\)", re.S),
        lambda m: f"недопустимое значение {m[1]} (возможные: {m[2]})",
    ),
    (
        re.compile(r"invalid (\w+) value: (.*)", re.S),
        lambda m: f"неверное значение {m[2]} (ожидается {_type_name(m[1])})",
    ),
    (re.compile(r"expected one argument"), lambda m: "нужно указать значение"),
    (
        re.compile(r"expected at most one argument"),
        lambda m: "допускается не больше одного значения",
    ),
    (re.compile(r"expected at least one argument"), lambda m: "нужно хотя бы одно значение"),
    (re.compile(r"ignored explicit argument (.*)"), lambda m: f"лишнее значение {m[1]}"),
    (
        re.compile(r"the following arguments are required: (.*)", re.S),
        lambda m: f"не указаны обязательные аргументы: {m[1]}",
    ),
    (re.compile(r"unrecognized arguments: (.*)", re.S), lambda m: f"неизвестные аргументы: {m[1]}"),
    (
        re.compile(r"ambiguous option: (\S+) could match (.*)", re.S),
        lambda m: f"неоднозначный параметр {m[1]}: подходят {m[2]}",
    ),
    (re.compile(r"not allowed with argument (.*)"), lambda m: f"нельзя вместе с {m[1]}"),
    (
        re.compile(r"one of the arguments (.*) is required", re.S),
        lambda m: f"нужен один из аргументов: {m[1]}",
    ),
)


def russian_error(message: str) -> str:
    """An argparse error message in Russian (one it does not know is left as it is)."""
    for pattern, wording in _ERRORS:
        match = pattern.fullmatch(message)
        if match:
            return str(wording(match))
    return message


class RussianArgumentParser(argparse.ArgumentParser):
    """``ediary``'s parser: argparse with its headings, ``-h`` and errors in Russian.

    Subcommands inherit it (argparse makes them with the parent's class), so every
    ``ediary COMMAND --help`` reads the same."""

    def __init__(self, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", RussianHelpFormatter)
        super().__init__(add_help=False, **kwargs)
        self._positionals.title = "аргументы"
        self._optionals.title = "параметры"
        if add_help:
            self.add_argument(
                "-h",
                "--help",
                action="help",
                default=argparse.SUPPRESS,
                help="показать эту справку",
            )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: ошибка: {russian_error(message)}\n")


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
    parser = RussianArgumentParser(
        prog="ediary",
        description="Электронный дневник школы: шлюз Госуслуг, консоль и дневник.",
    )
    parser.add_argument(
        "--config", help="файл настроек TOML (по умолчанию $EDIARY_CONFIG или встроенные значения)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="команды")
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
