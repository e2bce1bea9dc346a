"""The one signer interface: ESIA's client_secret and the portal's documents alike.

A :class:`Signer` knows its certificate and its :class:`Algorithm` and signs bytes, as a
detached CMS or as the bare signature. What a signature is *of* (ESIA's client_secret text, an
XML-DSig ``SignedInfo``, a JWS signing input) is the caller's format, built on these verbs.
Three implementations:

- :class:`RsaSigner` — RSA-SHA256. CMS detached for v1; for v2/v3 a bare PKCS#1 v1.5 signature
  (only the emulator accepts that: the real ESIA wants GOST for v2/v3).
- :class:`GostSigner` — GOST R 34.10-2012 (256- or 512-bit) by the process's GOST backend
  (OpenSSL's GOST engine in-process, or gostcrypto where the engine is missing): CMS detached for
  v1, the raw signature in OpenSSL's layout (64 bytes for 256-bit keys) for v2/v3.
- :class:`CommandSigner` — a certified crypto provider (e.g. a CryptoPro tool) run as a command:
  it reads the text on stdin and writes the signature on stdout; the environment variable
  ``ESIA_SIGNATURE_FORM`` says ``cms`` or ``raw``.

Every signer knows its certificate, so ``certificate_hash`` (ESIA's ``client_certificate_hash``,
Streebog-256 of the DER certificate, hex) comes from the same place as the signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum

from asn1crypto import pem

from config.settings import EsiaSettings
from gosuslugi_adapter.cms import CmsError, DetachedCmsTemplate, verify_detached
from gosuslugi_adapter.errors import SignerError
from gosuslugi_adapter.gost import GostPrivateKey, GostPublicKey, backend, streebog
from gosuslugi_adapter.key_files import (
    Certificate,
    KeyLoadError,
    PrivateKey,
    PublicKey,
    RsaPrivateKey,
    key_matches_certificate,
    load_certificate,
    load_private_key,
)


class SignatureForm(StrEnum):
    """What a signer returns: a detached CMS (DER) or the bare signature bytes."""

    CMS = "cms"
    RAW = "raw"


class Algorithm(StrEnum):
    """What a signer's bare signature is: the key family, its size and the digest signed."""

    RSA_SHA256 = "rsa-sha256"  # PKCS#1 v1.5 over SHA-256 (RS256 in JOSE)
    GOST_256 = "gost3410-2012-256"  # GOST R 34.10-2012 over Streebog-256, OpenSSL's layout
    GOST_512 = "gost3410-2012-512"  # the same with 512-bit keys and Streebog-512

    @classmethod
    def of(cls, key: PublicKey) -> Algorithm:
        """The algorithm a key of this kind signs with."""
        if isinstance(key, GostPublicKey):
            return cls.GOST_512 if key.bits == 512 else cls.GOST_256
        return cls.RSA_SHA256

    def digest(self, data: bytes) -> bytes:
        """The digest this algorithm signs (what an XML-DSig ``DigestValue`` of it holds)."""
        if self is Algorithm.RSA_SHA256:
            return hashlib.sha256(data).digest()
        return streebog(data, 512 if self is Algorithm.GOST_512 else 256)


class Signer(ABC):
    """Signs bytes with the key of ``certificate``, by ``algorithm``."""

    def __init__(self, certificate: Certificate) -> None:
        self.certificate = certificate
        self.certificate_hash = certificate.streebog_hex
        self.algorithm = Algorithm.of(certificate.public_key)

    @abstractmethod
    async def sign(self, text: bytes, form: SignatureForm) -> bytes:
        """The signature of ``text`` in ``form``; :class:`SignerError` when it cannot be made."""


class KeySigner(Signer):
    """A signer holding its private key in process memory: it can also sign synchronously
    (:meth:`sign_now`), which the portal's per-request and worker-process formats need."""

    def __init__(self, key: PrivateKey, certificate: Certificate) -> None:
        """Security: refuse a key that does not match the certificate, or ESIA would answer
        ESIA-007053 on every login with nothing in the logs to say why."""
        if not key_matches_certificate(key, certificate):
            raise SignerError("the private key does not belong to the certificate")
        super().__init__(certificate)
        self._key = key
        self._cms = DetachedCmsTemplate(key, certificate)

    def sign_now(self, text: bytes, form: SignatureForm) -> bytes:
        """Synchronous signing (benchmarks, and callers that are not in an event loop)."""
        if form is SignatureForm.CMS:
            return self._cms.sign(text)
        return self._key.sign(text)

    async def sign(self, text: bytes, form: SignatureForm) -> bytes:
        return self.sign_now(text, form)


class RsaSigner(KeySigner):
    """RSA-SHA256 (PKCS#1 v1.5)."""

    def __init__(self, key: PrivateKey, certificate: Certificate) -> None:
        if not isinstance(key, RsaPrivateKey):
            raise SignerError("the RSA signer needs an RSA key")
        super().__init__(key, certificate)


class GostSigner(KeySigner):
    """GOST R 34.10-2012 with Streebog of the key's size, by the process's GOST backend."""

    def __init__(self, key: PrivateKey, certificate: Certificate) -> None:
        if not isinstance(key, GostPrivateKey):
            raise SignerError("the GOST signer needs a GOST R 34.10-2012 key")
        super().__init__(key, certificate)

    async def sign(self, text: bytes, form: SignatureForm) -> bytes:
        """The engine signs in about 0.1 ms, on the loop; pure-Python GOST takes tens of ms,
        so it runs in a thread and the loop keeps serving."""
        if backend().name == "gostcrypto":
            return await asyncio.to_thread(self.sign_now, text, form)
        return self.sign_now(text, form)


class CommandSigner(Signer):
    """An external command that signs stdin; its output is checked before it is used."""

    def __init__(self, argv: Sequence[str], certificate: Certificate, timeout: float = 30.0):
        if not argv:
            raise SignerError("the command signer needs a command")
        super().__init__(certificate)
        self._argv = list(argv)
        self._timeout = timeout

    async def sign(self, text: bytes, form: SignatureForm) -> bytes:
        output = await self._run(text, form)
        if output.startswith(b"-----BEGIN"):
            output = bytes(pem.unarmor(output)[2])
        return self._checked(text, form, output)

    async def _run(self, text: bytes, form: SignatureForm) -> bytes:
        env = {**os.environ, "ESIA_SIGNATURE_FORM": form.value}
        try:
            process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            raise SignerError(f"cannot start the sign command: {exc.strerror}") from None
        try:
            out, err = await asyncio.wait_for(process.communicate(text), self._timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SignerError(f"the sign command took longer than {self._timeout}s") from None
        if process.returncode != 0 or not out:
            tail = err.decode("utf-8", "replace").strip()[-300:]
            raise SignerError(f"the sign command failed (exit {process.returncode}): {tail}")
        return out

    def _checked(self, text: bytes, form: SignatureForm, output: bytes) -> bytes:
        """Security and diagnosis: verify the provider's signature against our certificate.

        A raw GOST signature that verifies only byte-reversed is the CryptoAPI layout that
        CryptoPro tools write; it is turned into OpenSSL's layout, which ESIA expects.
        """
        if form is SignatureForm.CMS:
            try:
                verify_detached(output, text, self.certificate)
            except CmsError as exc:
                raise SignerError(f"the sign command's CMS does not verify: {exc}") from None
            return output
        key = self.certificate.public_key
        if key.verify(text, output):
            return output
        if isinstance(key, GostPublicKey) and key.verify(text, output[::-1]):
            return output[::-1]
        raise SignerError("the sign command's signature does not verify against the certificate")


def load_signer(kind: str, *, key_file: str = "", cert_file: str = "", command: str = "") -> Signer:
    """Build the signer named by ``kind`` (``rsa`` | ``gost`` | ``command``) from files."""
    if not cert_file:
        raise SignerError("esia.cert_file is required for every signer")
    try:
        certificate = load_certificate(cert_file)
        if kind == "command":
            return CommandSigner(shlex.split(command), certificate)
        if not key_file:
            raise SignerError(f"esia.key_file is required for signer {kind!r}")
        key = load_private_key(key_file)
    except KeyLoadError as exc:
        raise SignerError(str(exc)) from None
    if kind == "rsa":
        return RsaSigner(key, certificate)
    if kind == "gost":
        return GostSigner(key, certificate)
    raise SignerError(f"unknown signer {kind!r} (rsa, gost or command)")


def signer_from_settings(esia: EsiaSettings) -> Signer:
    """The signer the ``[esia]`` settings describe."""
    return load_signer(
        esia.signer, key_file=esia.key_file, cert_file=esia.cert_file, command=esia.sign_command
    )
