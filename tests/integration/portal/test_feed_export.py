"""``ediary feed export``: every pupil of the school gets a separately signed document that
the independent verifiers accept; ``portal add-client`` and ``keys generate`` work."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.models import Mark, Pupil
from gateway.cli import feed, keygen, portal
from gateway.portal.xml import NS, SAFE_PARSER, schema
from gateway.storage import PortalClient
from tests.integration.portal.conftest import Marks, public_pem, xmlsec_verify
from tests.support.world import World


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ediary")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (feed, portal, keygen):
        module.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, db_url: str, engine: AsyncEngine, feed_keys: tuple[Path, Path]
) -> None:
    monkeypatch.setenv("EDIARY_DATABASE_URL", db_url)
    monkeypatch.setenv("EDIARY_FEED_KEY_FILE", str(feed_keys[0]))
    monkeypatch.setenv("EDIARY_FEED_CERT_FILE", str(feed_keys[1]))


async def school_a_pupils(world: World) -> int:
    return int(
        await world.session.scalar(
            select(func.count()).select_from(Pupil).where(Pupil.school_id == world.a.id)
        )
        or 0
    )


async def test_xml_export_holds_one_verifiable_document_per_pupil(
    env: None, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "school-a.xml"
    code = await asyncio.to_thread(
        run_cli,"feed", "export", "--school", "Школа А", "--format", "xml", "--out", str(out),
                   "--from", "2025-09-01", "--to", "2025-10-15", "--workers", "2")  # fmt: skip
    assert code == 0
    root = etree.parse(str(out), SAFE_PARSER).getroot()
    assert schema().validate(root), schema().error_log
    documents = root.findall(f"{{{NS}}}Progress")
    assert len(documents) == await school_a_pupils(world)
    for doc in documents:
        result = xmlsec_verify(etree.tostring(doc), feed_keys[1], tmp_path)
        assert result.returncode == 0, result.stderr
    exported = sum(len(d.findall(f".//{{{NS}}}Mark")) for d in documents)
    assert exported == await world.session.scalar(
        select(func.count()).select_from(Mark).where(Mark.school_id == world.a.id)
    )


async def test_jose_export_holds_one_verifiable_jws_per_line(
    env: None, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "school-a.jws"
    code = await asyncio.to_thread(
        run_cli,"feed", "export", "--school", "Школа А", "--format", "jose", "--out", str(out),
                   "--workers", "1")  # fmt: skip
    assert code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == await school_a_pupils(world)
    public = x509.load_pem_x509_certificate(feed_keys[1].read_bytes()).public_key()
    for line in lines:
        assert jwt.api_jws.decode(line, public, algorithms=["RS256"])  # type: ignore[arg-type]
    forged = lines[0][:-4] + ("AAAA" if not lines[0].endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode(forged, public, algorithms=["RS256"])  # type: ignore[arg-type]


async def test_add_client_registers_a_pem_key_for_named_schools(
    env: None, world: World, tmp_path: Path, client_key: object, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "portal.pem"
    key_file.write_bytes(public_pem(client_key))  # type: ignore[arg-type]
    code = await asyncio.to_thread(
        run_cli,"portal", "add-client", "--name", "Госуслуги", "--public-key", str(key_file),
                   "--scopes", "progress.read", "--school", "Школа Б")  # fmt: skip
    assert code == 0
    client_id = capsys.readouterr().out.strip()
    world.session.expire_all()
    row = await world.session.scalar(
        select(PortalClient).where(PortalClient.client_id == client_id)
    )
    assert row is not None
    assert row.scopes == "progress.read" and row.school_ids == [world.b.id]
    assert row.jwks["keys"][0]["kty"] == "RSA"


def test_add_client_refuses_a_private_key(tmp_path: Path, feed_keys: tuple[Path, Path]) -> None:
    from diary_core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="закрытый"):
        run_cli("portal", "add-client", "--name", "X", "--public-key", str(feed_keys[0]))


def test_keys_generate_writes_a_key_and_matching_certificate(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    assert run_cli("keys", "generate", "--out-dir", str(out)) == 0
    from gateway.portal.signing import DocumentSignatures

    signer = DocumentSignatures.from_files(str(out / "feed.key"), str(out / "feed.crt"))
    assert signer.jwks()["keys"][0]["kid"] == signer.key_id
    assert (out / "feed.key").stat().st_mode & 0o077 == 0
