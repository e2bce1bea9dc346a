"""``ediary feed export --format smev3`` and ``ediary feed verify``: every pupil's document in
the SMEV 3 profile, signed with the configured GOST key or a certified provider's command,
each verified by the same code a consumer runs, and the verdicts of ``feed verify``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.portal import smev
from gateway.portal.signing import DocumentSignatures
from gateway.portal.verify import verify_document
from gateway.portal.xml import NS, SAFE_PARSER, progress_xml
from gosuslugi_adapter.devkeys import generate_gost_credentials
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner
from tests.integration.portal.conftest import Marks
from tests.integration.portal.test_feed_export import run_cli, school_a_pupils
from tests.support.world import World
from tests.unit.test_portal_xml_documents import progress

SIGNED_DOCUMENT = f"{{{smev.NS}}}SignedDocument"


@pytest.fixture
def gost_files(tmp_path: Path) -> tuple[Path, Path]:
    return generate_gost_credentials("ediary smev export", bits=256).write(tmp_path, "gost")


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    engine: AsyncEngine,
    feed_keys: tuple[Path, Path],
    gost_files: tuple[Path, Path],
) -> None:
    monkeypatch.setenv("EDIARY_DATABASE_URL", db_url)
    monkeypatch.setenv("EDIARY_FEED_KEY_FILE", str(feed_keys[0]))
    monkeypatch.setenv("EDIARY_FEED_CERT_FILE", str(feed_keys[1]))
    monkeypatch.setenv("EDIARY_FEED_SMEV3_KEY_FILE", str(gost_files[0]))
    monkeypatch.setenv("EDIARY_FEED_SMEV3_CERT_FILE", str(gost_files[1]))


async def _export(out: Path) -> int:
    return await asyncio.to_thread(
        run_cli,
        "feed",
        "export",
        "--school",
        "Школа А",
        "--format",
        "smev3",
        "--out",
        str(out),
        "--from",
        "2025-09-01",
        "--to",
        "2025-10-15",
        "--workers",
        "2",
    )


async def test_smev_export_holds_one_verifiable_document_per_pupil(
    env: None, world: World, marks: Marks, gost_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "school-a.xml"
    assert await _export(out) == 0
    root = etree.parse(str(out), SAFE_PARSER).getroot()
    documents = root.findall(SIGNED_DOCUMENT)
    assert len(documents) == await school_a_pupils(world)
    pinned = [load_certificate(gost_files[1]).der]
    for doc in documents:
        verified = verify_document(etree.tostring(doc), trusted=pinned)
        assert verified.element.tag == f"{{{NS}}}Progress"


async def test_a_certified_providers_command_signs_the_export(
    env: None,
    world: World,
    marks: Marks,
    gost_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stand-in for cryptcp/csptest that answers in CryptoAPI's byte order (reversed): the
    signer checks it against the certificate and turns it around."""
    reverse = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    script = tmp_path / "provider.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"openssl dgst -engine gost -md_gost12_256 -sign {gost_files[0]} 2>/dev/null"
        f' | python3 -c "{reverse}"\n'
    )
    script.chmod(0o755)
    monkeypatch.delenv("EDIARY_FEED_SMEV3_KEY_FILE")
    monkeypatch.setenv("EDIARY_FEED_SMEV3_SIGN_COMMAND", str(script))
    out = tmp_path / "school-a.xml"
    assert await _export(out) == 0
    documents = etree.parse(str(out), SAFE_PARSER).getroot().findall(SIGNED_DOCUMENT)
    assert documents
    for doc in documents:
        assert verify_document(etree.tostring(doc)).profile == "smev3"


def _verify_cli(path: Path, *cert: Path) -> int:
    argv = ["feed", "verify", str(path)]
    for c in cert:
        argv += ["--cert", str(c)]
    return run_cli(*argv)


def test_feed_verify_reports_what_was_signed_and_refuses_tampering(
    gost_files: tuple[Path, Path],
    feed_keys: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signer = GostSigner(load_private_key(gost_files[0]), load_certificate(gost_files[1]))
    signed = smev.sign_smev(progress_xml(progress("Смирнов")), signer)
    good = tmp_path / "good.xml"
    good.write_bytes(signed)
    assert _verify_cli(good, gost_files[1]) == 0
    out = capsys.readouterr().out
    assert "профиль smev3" in out and "Progress, Id=SIGNED_BY_EDIARY" in out
    assert "ediary smev export" in out
    bad = tmp_path / "bad.xml"
    bad.write_bytes(signed.replace("Смирнов".encode(), "Петрова".encode()))
    assert _verify_cli(bad) == 1
    assert "(digest)" in capsys.readouterr().err
    assert _verify_cli(good, feed_keys[1]) == 1  # pinned to another certificate
    assert "(certificate)" in capsys.readouterr().err
    rsa = tmp_path / "rsa.xml"
    rsa.write_bytes(DocumentSignatures.ephemeral("x").sign_xml(progress_xml(progress("А"))))
    assert _verify_cli(rsa) == 0
    assert "профиль xmldsig" in capsys.readouterr().out
