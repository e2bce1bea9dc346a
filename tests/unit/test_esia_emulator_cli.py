"""``ediary esia-emulator --echo-nonce``: production ESIA's behaviour (no nonce) by default,
the nonce echoed on request, a wrong one for tests of the relying party's refusal."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from aiohttp import web

from gateway.cli.main import build_parser, main
from gosuslugi_adapter.emulator import EMULATOR, Emulator


def _started(monkeypatch: pytest.MonkeyPatch, *flags: str) -> Emulator:
    """Run the command up to the point where it would serve; return the emulator it built."""
    served: list[web.Application] = []

    def run_app(app: web.Application, **_: Any) -> None:
        served.append(app)

    monkeypatch.setattr(web, "run_app", run_app)
    assert main(["esia-emulator", "--port", "0", *flags]) == 0
    (app,) = served
    return app[EMULATOR]


@pytest.mark.parametrize(
    ("flags", "echo", "wrong"),
    [
        ((), False, False),
        (("--echo-nonce",), True, False),
        (("--echo-nonce=yes",), True, False),
        (("--echo-nonce=wrong",), False, True),
    ],
)
def test_echo_nonce_flag_sets_the_emulator_up(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    echo: bool,
    wrong: bool,
) -> None:
    emulator = _started(monkeypatch, *flags)
    assert (emulator.echo_nonce, emulator.switches.wrong_nonce) == (echo, wrong)
    banner = capsys.readouterr().out
    expected = "a wrong one" if wrong else "echoed" if echo else "none, like production ESIA"
    assert f"nonce in id_tokens: {expected}" in banner


def test_a_bad_echo_nonce_value_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["esia-emulator", "--echo-nonce=sometimes"])
    assert exit_.value.code == 2
    assert "--echo-nonce" in capsys.readouterr().err


def test_help_describes_echo_nonce() -> None:
    parser = build_parser(["esia-emulator"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["esia-emulator"].format_help()
    assert "--echo-nonce" in text and "ноября 2022" in text and "wrong" in text
