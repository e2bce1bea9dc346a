"""``ediary esia check``: names the GOST backend and proves the configured key signs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.main import main
from gosuslugi_adapter.devkeys import generate_gost_credentials, generate_rsa_credentials
from gosuslugi_adapter.gost import GostBackend

pytestmark = pytest.mark.usefixtures("gost_backend")


def _configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, protocol: str, bits: int) -> None:
    key, cert = generate_gost_credentials("check", bits=bits).write(tmp_path, "client")
    _esia_key, esia_cert = generate_rsa_credentials("ESIA").write(tmp_path, "esia")
    for name, value in {
        "CLIENT_ID": "SCHOOL-DIARY",
        "SIGNER": "gost",
        "PROTOCOL": protocol,
        "KEY_FILE": str(key),
        "CERT_FILE": str(cert),
        "CERTIFICATES": f'["{esia_cert}"]',
    }.items():
        monkeypatch.setenv(f"EDIARY_ESIA_{name}", value)


def test_without_esia_it_still_names_the_backend(
    gost_backend: GostBackend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDIARY_ESIA_CLIENT_ID", raising=False)
    assert main(["esia", "check"]) == 0
    out = capsys.readouterr().out
    assert gost_backend.description in out
    assert "не настроен" in out


@pytest.mark.parametrize(("protocol", "bits"), [("v2", 256), ("v1", 256), ("v2", 512)])
def test_a_configured_gost_key_signs_and_verifies(
    protocol: str,
    bits: int,
    gost_backend: GostBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _configure(monkeypatch, tmp_path, protocol, bits)
    assert main(["esia", "check"]) == 0
    out = capsys.readouterr().out
    assert gost_backend.description in out
    assert f"протокол {protocol}" in out
    assert "пробная подпись проверена" in out
    assert out.rstrip().endswith("ЕСИА: готово")


def test_a_key_of_another_certificate_is_named_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(monkeypatch, tmp_path, "v2", 256)
    other_key, _ = generate_gost_credentials("other").write(tmp_path, "other")
    monkeypatch.setenv("EDIARY_ESIA_KEY_FILE", str(other_key))
    assert main(["esia", "check"]) == 1
    assert "does not belong to the certificate" in capsys.readouterr().err
