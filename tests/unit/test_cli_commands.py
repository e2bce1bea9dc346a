"""The ``ediary`` entry point loads only the module of the command it runs."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from gateway.cli.main import COMMAND_MODULES, COMMAND_OF, _command_name, build_parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    assert _commands(build_parser()) == set(COMMAND_OF)
    for command, module in COMMAND_OF.items():
        assert module in COMMAND_MODULES
        assert command in _commands(build_parser([command]))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["feed", "export"], "feed"),
        (["--config", "x.toml", "db", "upgrade"], "db"),
        (["--config=x.toml", "demo"], "demo"),
        (["--help"], None),
        ([], None),
        (["--config"], None),
    ],
)
def test_command_word(argv: list[str], expected: str | None) -> None:
    assert _command_name(argv) == expected


def test_help_and_unknown_commands_list_everything() -> None:
    assert _commands(build_parser(["--help"])) == set(COMMAND_OF)
    assert _commands(build_parser(["no-such-command"])) == set(COMMAND_OF)


def test_a_command_does_not_import_the_web_stack() -> None:
    code = (
        "import sys; from gateway.cli.main import build_parser; build_parser(['feed', 'export']);"
        "print(sorted(m for m in ('aiohttp', 'aiohttp_jinja2', 'jinja2', "
        "'gosuslugi_adapter.client', 'gosuslugi_adapter.emulator') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
