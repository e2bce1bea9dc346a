"""Interoperability with an independent implementation: OpenSSL and its GOST engine.

These tests need Debian's ``libengine-gost-openssl``; without it they fail (CI installs it).
Every test runs twice: with the engine in-process as our GOST backend, and with gostcrypto.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gosuslugi_adapter.devkeys import generate_gost_credentials
from gosuslugi_adapter.gost import streebog256
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import (
    CommandSigner,
    GostSigner,
    KeySigner,
    SignatureForm,
    Signer,
)

from .conftest import MakeClient, SignIn, openssl

pytestmark = pytest.mark.usefixtures("gost_backend")

TEXT = b"GOST-CLIENTopenid fullname2026.01.15 10:00:00 +0300state-1http://127.0.0.1/cb"


def test_gost_engine_is_available() -> None:
    assert b"available" in openssl("engine", "gost", "-t")


def _public_key_pem(cert: Path, out: Path) -> Path:
    out.write_bytes(openssl("x509", "-engine", "gost", "-in", str(cert), "-pubkey", "-noout"))
    return out


def test_raw_gost_signature_verifies_with_openssl_dgst(gost_signer: Signer, tmp_path: Path) -> None:
    assert isinstance(gost_signer, GostSigner)
    cert = tmp_path / "cert.pem"
    cert.write_bytes(gost_signer.certificate.pem())
    (tmp_path / "text").write_bytes(TEXT)
    (tmp_path / "sig").write_bytes(gost_signer.sign_now(TEXT, SignatureForm.RAW))
    out = openssl(
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-verify",
        str(_public_key_pem(cert, tmp_path / "pub.pem")),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "text"),
    )
    assert b"Verified OK" in out


def test_tampered_raw_signature_fails_openssl_dgst(gost_signer: Signer, tmp_path: Path) -> None:
    assert isinstance(gost_signer, GostSigner)
    cert = tmp_path / "cert.pem"
    cert.write_bytes(gost_signer.certificate.pem())
    (tmp_path / "text").write_bytes(TEXT + b"x")
    (tmp_path / "sig").write_bytes(gost_signer.sign_now(TEXT, SignatureForm.RAW))
    with pytest.raises(AssertionError):
        openssl(
            "dgst",
            "-engine",
            "gost",
            "-md_gost12_256",
            "-verify",
            str(_public_key_pem(cert, tmp_path / "pub.pem")),
            "-signature",
            str(tmp_path / "sig"),
            str(tmp_path / "text"),
        )


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_cms_verifies_with_openssl_smime(
    kind: str, rsa_signer: Signer, gost_signer: Signer, tmp_path: Path
) -> None:
    signer = rsa_signer if kind == "rsa" else gost_signer
    assert isinstance(signer, KeySigner)
    (tmp_path / "text").write_bytes(TEXT)
    (tmp_path / "sig.der").write_bytes(signer.sign_now(TEXT, SignatureForm.CMS))
    openssl(
        "smime",
        "-verify",
        "-engine",
        "gost",
        "-inform",
        "DER",
        "-binary",
        "-noverify",
        "-in",
        str(tmp_path / "sig.der"),
        "-content",
        str(tmp_path / "text"),
        "-out",
        str(tmp_path / "out"),
    )
    assert (tmp_path / "out").read_bytes() == TEXT


def test_openssl_gost_key_and_certificate_load_and_sign(
    openssl_gost_files: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = openssl_gost_files
    signer = GostSigner(load_private_key(key), load_certificate(cert))
    (tmp_path / "text").write_bytes(TEXT)
    (tmp_path / "sig").write_bytes(signer.sign_now(TEXT, SignatureForm.RAW))
    out = openssl(
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-verify",
        str(_public_key_pem(cert, tmp_path / "pub.pem")),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "text"),
    )
    assert b"Verified OK" in out


def test_openssl_raw_signature_verifies_in_python_s_then_r_layout(
    openssl_gost_files: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = openssl_gost_files
    (tmp_path / "text").write_bytes(TEXT)
    signature = openssl(
        "dgst", "-engine", "gost", "-md_gost12_256", "-sign", str(key), str(tmp_path / "text")
    )
    public = load_certificate(cert).public_key
    assert len(signature) == 64
    assert public.verify(TEXT, signature)
    assert not public.verify(TEXT, signature[32:] + signature[:32])  # r||s is not the layout


def test_certificate_hash_equals_openssl_streebog_of_der(
    openssl_gost_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _key, cert = openssl_gost_files
    der = openssl("x509", "-engine", "gost", "-in", str(cert), "-outform", "DER")
    out = openssl("dgst", "-engine", "gost", "-md_gost12_256", "-r", stdin=der)
    assert load_certificate(cert).streebog_hex == out.split()[0].decode()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 127, 128, 1000])
def test_streebog_agrees_with_openssl(size: int) -> None:
    data = bytes(range(256)) * 4
    out = openssl("dgst", "-engine", "gost", "-md_gost12_256", "-r", stdin=data[:size])
    assert streebog256(data[:size]).hex() == out.split()[0].decode()


def test_python_made_gost_certificate_is_accepted_by_openssl(tmp_path: Path) -> None:
    creds = generate_gost_credentials("interop")
    key_path, cert_path = creds.write(tmp_path, "py")
    out = openssl("verify", "-engine", "gost", "-CAfile", str(cert_path), str(cert_path))
    assert b"OK" in out
    (tmp_path / "text").write_bytes(TEXT)
    sig = openssl(
        "dgst", "-engine", "gost", "-md_gost12_256", "-sign", str(key_path), str(tmp_path / "text")
    )
    assert load_certificate(cert_path).public_key.verify(TEXT, sig)


def _openssl_command(*args: str) -> list[str]:
    return ["openssl", *args]


@pytest.mark.parametrize(
    ("protocol", "client_id", "argv"),
    [
        ("v1", "OPENSSL-RSA", ("smime", "-sign", "-binary", "-noattr", "-outform", "DER")),
        ("v1", "OPENSSL-RSA", ("smime", "-sign", "-binary", "-outform", "DER")),
        (
            "v1",
            "OPENSSL-GOST",
            ("smime", "-sign", "-engine", "gost", "-binary", "-noattr", "-outform", "DER"),
        ),
        ("v1", "OPENSSL-GOST", ("smime", "-sign", "-engine", "gost", "-binary", "-outform", "DER")),
        ("v2", "OPENSSL-GOST", ("dgst", "-engine", "gost", "-md_gost12_256")),
    ],
)
async def test_emulator_accepts_client_secrets_made_by_openssl(
    protocol: str,
    client_id: str,
    argv: tuple[str, ...],
    make_client: MakeClient,
    sign_in: SignIn,
    openssl_gost_files: tuple[Path, Path],
    openssl_rsa_files: tuple[Path, Path],
) -> None:
    key, cert = openssl_gost_files if client_id == "OPENSSL-GOST" else openssl_rsa_files
    if argv[0] == "smime":
        command = _openssl_command(*argv, "-signer", str(cert), "-inkey", str(key))
    else:
        command = _openssl_command(*argv, "-sign", str(key))
    signer = CommandSigner(command, load_certificate(cert))
    client = make_client(signer, protocol, client_id=client_id)
    request = await client.authorization_request()
    code = client.parse_callback(await sign_in(request.url, "1000300002"), request.state)
    identity = await client.identity(await client.exchange_code(code))
    assert identity.last_name == "Петров" and len(identity.children) == 1
