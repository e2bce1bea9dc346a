"""docs/portal.md §10's worked example stays true: its document verifies in our code, its files
are what the code makes of it, and ``check.sh`` (openssl and grep only) passes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from lxml import etree

from gateway.portal import smev
from gateway.portal.smev_transform import smev_transform
from gateway.portal.verify import verify_document
from gosuslugi_adapter.key_files import load_certificate

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "smev3"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def test_the_example_document_verifies_with_its_certificate() -> None:
    certificate = load_certificate(EXAMPLE / "certificate.pem")
    verified = verify_document((EXAMPLE / "document.xml").read_bytes(), trusted=[certificate.der])
    assert verified.profile == "smev3"
    assert (EXAMPLE / "payload.smev.xml").read_bytes() == smev.digest_input(verified.signed)


def test_the_bytes_cut_out_of_the_document_are_their_exclusive_c14n() -> None:
    text = (EXAMPLE / "document.xml").read_bytes()
    root = etree.fromstring(text)
    payload, signed_info = root[0], root[1][0].find(f"{DS}SignedInfo")
    for element, start, end in (
        (payload, b"<p:Progress ", b"</p:Progress>"),
        (signed_info, b"<ds:SignedInfo ", b"</ds:SignedInfo>"),
    ):
        cut = text[text.index(start) : text.index(end) + len(end)]
        assert cut == etree.tostring(element, method="c14n", exclusive=True)
    assert (EXAMPLE / "payload.smev.xml").read_bytes() == smev_transform(
        etree.tostring(payload, method="c14n", exclusive=True)
    )


def test_check_sh_verifies_it_with_openssl_alone(tmp_path: Path) -> None:
    copy = tmp_path / "smev3"
    shutil.copytree(EXAMPLE, copy)
    done = subprocess.run(
        ["sh", str(copy / "check.sh")], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["DigestValue: OK", "Verified OK", "KeyInfo certificate: OK"]
    transformed = copy / "payload.smev.xml"
    transformed.write_bytes(transformed.read_bytes().replace("Смирнова".encode(), b"X", 1))
    bad_digest = subprocess.run(["sh", str(copy / "check.sh")], capture_output=True, check=False)
    assert bad_digest.returncode != 0 and b"DigestValue: OK" not in bad_digest.stdout
    shutil.copy(EXAMPLE / "payload.smev.xml", transformed)
    document = copy / "document.xml"
    document.write_bytes(
        document.read_bytes().replace(b"gostr34112012-256", b"gostr34112012-25", 1)
    )
    bad_signed_info = subprocess.run(
        ["sh", str(copy / "check.sh")], capture_output=True, check=False
    )
    assert bad_signed_info.returncode != 0 and b"Verified OK" not in bad_signed_info.stdout
