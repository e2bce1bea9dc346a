"""The two GOST backends against each other and against the ``openssl`` command, both key sizes.

Same bytes in the same layouts: a signature made by one backend verifies with the other and
with ``openssl dgst``/``openssl smime``; keys and certificates that OpenSSL's GOST engine writes
load and sign with either; 512-bit keys work like 256-bit ones.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gosuslugi_adapter import gost, gost_native
from gosuslugi_adapter.cms import CmsError, verify_detached
from gosuslugi_adapter.devkeys import generate_gost_credentials
from gosuslugi_adapter.gost import GostBackendError, GostPrivateKey, load_backend
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner, SignatureForm

from .conftest import openssl

TEXT = b"GOST-CLIENTopenid fullname2026.01.15 10:00:00 +0300state-1http://127.0.0.1/cb"
SIZES = (256, 512)


@pytest.fixture(scope="module", params=SIZES)
def openssl_files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A key and self-signed certificate of each size, made by OpenSSL's GOST engine."""
    bits = request.param
    base = tmp_path_factory.mktemp(f"openssl-gost{bits}")
    key, cert = base / "key.pem", base / "cert.pem"
    openssl(
        "genpkey",
        "-engine",
        "gost",
        "-algorithm",
        f"gost2012_{bits}",
        "-pkeyopt",
        "paramset:A",
        "-out",
        str(key),
    )
    openssl(
        "req",
        "-x509",
        "-engine",
        "gost",
        "-key",
        str(key),
        f"-md_gost12_{bits}",
        "-subj",
        f"/CN=OpenSSL GOST {bits}",
        "-days",
        "30",
        "-out",
        str(cert),
    )
    return bits, key, cert


def _pubkey(cert: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pub.pem"
    out.write_bytes(openssl("x509", "-engine", "gost", "-in", str(cert), "-pubkey", "-noout"))
    return out


@pytest.mark.parametrize("bits", SIZES)
def test_a_signature_by_one_backend_verifies_with_the_other(bits: int) -> None:
    native, pure = load_backend("openssl"), load_backend("gostcrypto")
    key = GostPrivateKey.generate(bits=bits)
    public = pure.public_key(key)
    assert native.public_key(key) == public
    for signer, verifier in ((native, pure), (pure, native)):
        signature = signer.sign(key, TEXT)
        assert len(signature) == bits // 4
        assert verifier.verify(public, TEXT, signature)
        assert not verifier.verify(public, TEXT + b"x", signature)
        assert not verifier.verify(public, TEXT, signature[::-1])


@pytest.mark.usefixtures("gost_backend")
def test_openssl_keys_of_both_sizes_load_and_sign_for_openssl(openssl_files, tmp_path) -> None:
    bits, key_path, cert_path = openssl_files
    key = load_private_key(key_path)
    assert isinstance(key, GostPrivateKey) and key.bits == bits
    signer = GostSigner(key, load_certificate(cert_path))
    (tmp_path / "text").write_bytes(TEXT)
    (tmp_path / "sig").write_bytes(signer.sign_now(TEXT, SignatureForm.RAW))
    out = openssl(
        "dgst",
        "-engine",
        "gost",
        f"-md_gost12_{bits}",
        "-verify",
        str(_pubkey(cert_path, tmp_path)),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "text"),
    )
    assert b"Verified OK" in out


@pytest.mark.usefixtures("gost_backend")
def test_openssl_signatures_of_both_sizes_verify_in_process(openssl_files, tmp_path) -> None:
    bits, key_path, cert_path = openssl_files
    (tmp_path / "text").write_bytes(TEXT)
    signature = openssl(
        "dgst",
        "-engine",
        "gost",
        f"-md_gost12_{bits}",
        "-sign",
        str(key_path),
        str(tmp_path / "text"),
    )
    public = load_certificate(cert_path).public_key
    assert len(signature) == bits // 4
    assert public.verify(TEXT, signature)
    half = bits // 8
    assert not public.verify(TEXT, signature[half:] + signature[:half])  # r||s is not the layout


@pytest.mark.usefixtures("gost_backend")
def test_cms_of_both_sizes_verifies_both_ways(openssl_files, tmp_path) -> None:
    _bits, key_path, cert_path = openssl_files
    certificate = load_certificate(cert_path)
    signer = GostSigner(load_private_key(key_path), certificate)
    (tmp_path / "text").write_bytes(TEXT)
    (tmp_path / "ours.der").write_bytes(signer.sign_now(TEXT, SignatureForm.CMS))
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
        str(tmp_path / "ours.der"),
        "-content",
        str(tmp_path / "text"),
        "-out",
        str(tmp_path / "out"),
    )
    assert (tmp_path / "out").read_bytes() == TEXT
    for attributes in ((), ("-noattr",)):
        theirs = openssl(
            "smime",
            "-sign",
            "-engine",
            "gost",
            "-binary",
            *attributes,
            "-outform",
            "DER",
            "-signer",
            str(cert_path),
            "-inkey",
            str(key_path),
            stdin=TEXT,
        )
        verify_detached(theirs, TEXT, certificate)
        with pytest.raises(CmsError):
            verify_detached(theirs, TEXT + b"x", certificate)


@pytest.mark.usefixtures("gost_backend")
@pytest.mark.parametrize("bits", SIZES)
def test_python_made_certificates_of_both_sizes_are_accepted_by_openssl(bits, tmp_path) -> None:
    creds = generate_gost_credentials("interop", bits=bits)
    key_path, cert_path = creds.write(tmp_path, "py")
    assert b"OK" in openssl("verify", "-engine", "gost", "-CAfile", str(cert_path), str(cert_path))
    assert load_certificate(cert_path).public_key.verify(
        TEXT,
        openssl(
            "dgst", "-engine", "gost", f"-md_gost12_{bits}", "-sign", str(key_path), stdin=TEXT
        ),
    )


@pytest.mark.parametrize("bits", SIZES)
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 1000])
def test_both_backends_hash_as_openssl_does(bits: int, size: int) -> None:
    data = (bytes(range(256)) * 4)[:size]
    expected = openssl("dgst", "-engine", "gost", f"-md_gost12_{bits}", "-r", stdin=data)
    for name in ("openssl", "gostcrypto"):
        assert load_backend(name).digest(data, bits).hex() == expected.split()[0].decode()


@pytest.mark.parametrize("bits", SIZES)
def test_the_native_backend_signs_and_verifies_from_many_threads(bits: int) -> None:
    native = load_backend("openssl")
    key = GostPrivateKey.generate(bits=bits)
    public = native.public_key(key)
    failures: list[str] = []

    def work(worker: int) -> None:
        for i in range(50):
            text = f"{worker}:{i}".encode()
            signature = native.sign(key, text)
            if not native.verify(public, text, signature) or native.verify(
                public, text + b"!", signature
            ):
                failures.append(f"{worker}:{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_missing_library_is_named_and_auto_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(GostBackendError, match=r"libcrypto-missing\.so"):
        gost_native._open("libcrypto-missing.so")

    def missing() -> gost_native.NativeGost:
        raise GostBackendError("OpenSSL has no engine 'gost' (package libengine-gost-openssl)")

    monkeypatch.setattr(gost_native, "load", missing)
    with caplog.at_level("WARNING", logger="ediary.gost"):
        chosen = load_backend("auto")
    assert chosen.name == "gostcrypto"
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "gostcrypto" in warnings[0].getMessage()
    assert "libengine-gost-openssl" in warnings[0].getMessage()
    with pytest.raises(GostBackendError, match="no engine 'gost'"):
        load_backend("openssl")


def test_auto_chooses_the_engine_where_it_loads() -> None:
    assert load_backend("auto").name == "openssl"
    assert "engine gost" in load_backend("openssl").description
    with pytest.raises(GostBackendError, match="unknown GOST backend"):
        load_backend("fast")
    assert gost.backend().name == "openssl"
