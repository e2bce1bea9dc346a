"""Signers: RSA and GOST, CMS and raw; the command signer; key/certificate checks."""

from __future__ import annotations

import sys

import pytest

from gosuslugi_adapter.cms import CmsError, DetachedCmsTemplate, sign_detached, verify_detached
from gosuslugi_adapter.devkeys import Credentials
from gosuslugi_adapter.encoding import b64url, b64url_decode
from gosuslugi_adapter.errors import SignerError
from gosuslugi_adapter.gost import GostPrivateKey, streebog256
from gosuslugi_adapter.key_files import KeyLoadError, load_certificate, load_private_key
from gosuslugi_adapter.signers import CommandSigner, GostSigner, RsaSigner, SignatureForm

TEXT = b"openid fullname2026.01.15 10:00:00 +0300CLIENTstate"


def test_rsa_cms_is_detached_and_verifies(rsa_signer: RsaSigner) -> None:
    signature = rsa_signer.sign_now(TEXT, SignatureForm.CMS)
    verify_detached(signature, TEXT, rsa_signer.certificate)
    assert TEXT not in signature


def test_gost_cms_verifies(gost_signer: GostSigner) -> None:
    verify_detached(gost_signer.sign_now(TEXT, SignatureForm.CMS), TEXT, gost_signer.certificate)


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_cms_over_other_text_is_refused(
    kind: str, rsa_signer: RsaSigner, gost_signer: GostSigner
) -> None:
    signer = rsa_signer if kind == "rsa" else gost_signer
    with pytest.raises(CmsError):
        verify_detached(signer.sign_now(TEXT, SignatureForm.CMS), TEXT + b"!", signer.certificate)


def test_cms_is_checked_against_the_registered_certificate_only(
    rsa_signer: RsaSigner, gost_signer: GostSigner
) -> None:
    with pytest.raises(CmsError, match="another certificate"):
        verify_detached(rsa_signer.sign_now(TEXT, SignatureForm.CMS), TEXT, gost_signer.certificate)


def test_garbage_cms_is_refused(rsa_signer: RsaSigner) -> None:
    with pytest.raises(CmsError):
        verify_detached(b"\x30\x03\x02\x01\x01", TEXT, rsa_signer.certificate)


def test_gost_raw_is_64_bytes_and_verifies(gost_signer: GostSigner) -> None:
    signature = gost_signer.sign_now(TEXT, SignatureForm.RAW)
    assert len(signature) == 64
    assert gost_signer.certificate.public_key.verify(TEXT, signature)
    assert not gost_signer.certificate.public_key.verify(TEXT + b"!", signature)


def test_gost_signatures_are_randomised(gost_signer: GostSigner) -> None:
    first = gost_signer.sign_now(TEXT, SignatureForm.RAW)
    assert first != gost_signer.sign_now(TEXT, SignatureForm.RAW)


async def test_async_sign_matches_form(gost_signer: GostSigner, rsa_signer: RsaSigner) -> None:
    raw = await gost_signer.sign(TEXT, SignatureForm.RAW)
    assert gost_signer.certificate.public_key.verify(TEXT, raw)
    verify_detached(await rsa_signer.sign(TEXT, SignatureForm.CMS), TEXT, rsa_signer.certificate)


def test_certificate_hash_is_streebog_of_der_in_hex(gost_signer: GostSigner) -> None:
    assert gost_signer.certificate_hash == streebog256(gost_signer.certificate.der).hex()
    assert len(gost_signer.certificate_hash) == 64


def test_key_of_another_certificate_is_refused(
    rsa_credentials: Credentials, gost_credentials: Credentials
) -> None:
    other = GostPrivateKey.generate()
    with pytest.raises(SignerError, match="does not belong"):
        GostSigner(other, load_certificate(gost_credentials.cert_pem))
    with pytest.raises(SignerError):
        RsaSigner(
            load_private_key(gost_credentials.key_pem), load_certificate(rsa_credentials.cert_pem)
        )


def test_gost_key_round_trips_through_pkcs8(gost_credentials: Credentials) -> None:
    key = load_private_key(gost_credentials.key_pem)
    assert isinstance(key, GostPrivateKey)
    assert GostPrivateKey.from_pkcs8_der(key.pkcs8_der()) == key
    assert str(key.secret) not in repr(key)


def test_certificate_file_with_a_key_inside_is_refused(rsa_credentials: Credentials) -> None:
    with pytest.raises(KeyLoadError, match="CERTIFICATE"):
        load_certificate(rsa_credentials.key_pem)


def test_base64url_forms() -> None:
    data = bytes(range(250, 256)) + b"\xfb\xff"
    assert "=" not in b64url(data) and "+" not in b64url(data) and "/" not in b64url(data)
    assert b64url(b"ab", padded=True).endswith("=")
    assert b64url_decode(b64url(data)) == data
    assert b64url_decode("+/8=") == b64url_decode("-_8")
    with pytest.raises(ValueError):
        b64url_decode("ab cd")


def _python_command(code: str) -> list[str]:
    return [sys.executable, "-c", code]


_SIGN_WITH_KEY = """
import os, sys
from gosuslugi_adapter.key_files import load_private_key
key = load_private_key(os.environ['KEY_FILE'])
sig = key.sign(sys.stdin.buffer.read())
sys.stdout.buffer.write(sig[::-1] if os.environ.get('REVERSE') else sig)
"""


async def test_command_signer_returns_the_provider_signature(
    gost_credentials: Credentials, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_path, cert_path = gost_credentials.write(str(tmp_path), "client")
    monkeypatch.setenv("KEY_FILE", str(key_path))
    signer = CommandSigner(_python_command(_SIGN_WITH_KEY), load_certificate(cert_path))
    signature = await signer.sign(TEXT, SignatureForm.RAW)
    assert signer.certificate.public_key.verify(TEXT, signature)


async def test_command_signer_turns_cryptoapi_byte_order_into_openssl_layout(
    gost_credentials: Credentials, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_path, cert_path = gost_credentials.write(str(tmp_path), "client")
    monkeypatch.setenv("KEY_FILE", str(key_path))
    monkeypatch.setenv("REVERSE", "1")
    signer = CommandSigner(_python_command(_SIGN_WITH_KEY), load_certificate(cert_path))
    signature = await signer.sign(TEXT, SignatureForm.RAW)
    assert signer.certificate.public_key.verify(TEXT, signature)


async def test_command_signer_refuses_a_signature_that_does_not_verify(
    gost_signer: GostSigner,
) -> None:
    signer = CommandSigner(
        _python_command("import sys; sys.stdout.write('x' * 64)"), gost_signer.certificate
    )
    with pytest.raises(SignerError, match="does not verify"):
        await signer.sign(TEXT, SignatureForm.RAW)


async def test_command_signer_reports_a_failing_command(gost_signer: GostSigner) -> None:
    signer = CommandSigner(
        _python_command("import sys; sys.exit('token not inserted')"), gost_signer.certificate
    )
    with pytest.raises(SignerError, match="token not inserted"):
        await signer.sign(TEXT, SignatureForm.CMS)


async def test_command_signer_is_told_the_form(gost_signer: GostSigner) -> None:
    code = "import os, sys; sys.exit(os.environ['ESIA_SIGNATURE_FORM'])"
    signer = CommandSigner(_python_command(code), gost_signer.certificate)
    with pytest.raises(SignerError, match="cms"):
        await signer.sign(TEXT, SignatureForm.CMS)


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_cms_template_matches_a_freshly_built_cms(
    kind: str, rsa_credentials: Credentials, gost_credentials: Credentials
) -> None:
    creds = rsa_credentials if kind == "rsa" else gost_credentials
    key, cert = load_private_key(creds.key_pem), load_certificate(creds.cert_pem)
    templated = DetachedCmsTemplate(key, cert).sign(TEXT)
    fresh = sign_detached(TEXT, key, cert)
    verify_detached(templated, TEXT, cert)
    assert len(templated) == len(fresh)
    if kind == "rsa":  # deterministic PKCS#1 v1.5: byte-identical
        assert templated == fresh
