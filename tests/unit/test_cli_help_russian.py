"""``ediary --help`` and ``ediary COMMAND [ACTION] --help`` read in Russian: besides the
command and option names, metavariables and technical identifiers (file formats, file and
variable names, configuration keys, protocol fields), no English word is left — argparse's
own headings included."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from gateway.cli.main import build_parser, main, russian_error

#: Names of things, not English prose: formats, products, standards and ESIA protocol fields.
TECHNICAL = {"SQLite", "Windows", "Excel", "DSig", "nonce", "true"}
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_IDENTIFIER = re.compile(
    r"\S*[./$]\S*"  # paths, file names, configuration keys, $VARIABLES
    r"|\b[A-Z][A-Z0-9_]*\b"  # acronyms, metavariables, environment variables
    r"|\b\w+_\w+\b"  # snake_case identifiers
)
_LATIN = re.compile(r"[A-Za-z]+")


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _names(parser: argparse.ArgumentParser) -> set[str]:
    """Command names, metavariables, destinations and choices of this parser."""
    names = {"ediary"}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names.update(action.choices)
        if isinstance(action.metavar, str):
            names.add(action.metavar)
        names.add(action.dest)
        if action.choices and not isinstance(action, argparse._SubParsersAction):
            names.update(str(c) for c in action.choices)
    return names


COMMANDS = list(_commands(build_parser()))


def english_words(path: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    text = parser.format_help()
    for name in sorted(_names(parser) | set(path), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", text)
    text = _IDENTIFIER.sub(" ", _OPTION.sub(" ", text))
    return [w for w in _LATIN.findall(text) if w not in TECHNICAL]


def test_every_command_is_walked() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"", "serve", "demo", "users create-admin", "esia-emulator", "marks import"} <= paths
    assert len(COMMANDS) > 15


@pytest.mark.parametrize(
    ("path", "parser"), COMMANDS, ids=[" ".join(p) or "ediary" for p, _ in COMMANDS]
)
def test_help_has_no_english_words(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    assert text.startswith("использование: ")
    assert "показать эту справку" in text and "параметры:" in text
    assert english_words(path, parser) == []


def test_the_check_catches_english() -> None:
    """The filter above leaves real English prose in place (so the test can fail)."""
    parser = argparse.ArgumentParser(prog="ediary")
    parser.add_argument("--port", type=int, help="port to listen on")
    assert {"usage", "options", "show", "message", "listen"} <= set(english_words((), parser))


def test_help_through_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["esia-emulator", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("использование: ediary esia-emulator")
    assert "порт, на котором слушать" in out


def test_argparse_errors_in_russian(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["serve", "--port", "x"])
    assert done.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("использование: ediary serve")
    assert err[-1] == "ediary serve: ошибка: --port: неверное значение 'x' (ожидается целое число)"
    with pytest.raises(SystemExit):
        main(["users", "create-admin", "--school", "Ш"])
    assert capsys.readouterr().err.splitlines()[-1] == (
        "ediary users create-admin: ошибка: не указаны обязательные аргументы: "
        "--last-name, --first-name"
    )
    assert russian_error("unrecognized arguments: --x") == "неизвестные аргументы: --x"
    assert russian_error("something new") == "something new"
