"""The SMEV 3 signature profile: a document signed as state information systems sign data.

The signed document is a wrapper with two children, as SMEV 3 messages carry their signed
content (``SenderProvidedRequestData`` and its sibling ``CallerInformationSystemSignature``)::

    <s:SignedDocument xmlns:s="urn:ediary-gateway:smev3:1">
      <p:Progress xmlns:p="urn:ediary-gateway:progress:1" Id="SIGNED_BY_EDIARY" …>…</p:Progress>
      <s:Signature><ds:Signature xmlns:ds="…">…</ds:Signature></s:Signature>
    </s:SignedDocument>

- the payload is the document as :mod:`gateway.portal.xml` writes it, with an ``Id``;
- its ``ds:Signature`` references ``#Id`` with the transforms Exclusive C14N and then the SMEV
  transform (:mod:`gateway.portal.smev_transform`), in this order;
- DigestMethod and SignatureMethod are the GOST R 34.11-2012 / 34.10-2012 URIs of the key's
  size; ``SignedInfo`` is canonicalised with Exclusive C14N; ``KeyInfo`` has the certificate;
- DigestValue and SignatureValue are base64 of the bytes exactly as OpenSSL's GOST engine
  makes them: the Streebog digest as ``openssl dgst`` prints it, the signature in ``s || r``
  order, each half big-endian. Neither is reversed: CryptoPro-based verifiers (SMEV itself)
  expect that, as published signed SMEV messages show (docs/smev3.md).

What makes it cheap: the payload is already canonical and declares its own namespace, so its
Exclusive C14N inside the wrapper is its bytes as written; the digest is Streebog of the SMEV
transform of those bytes.
"""

from __future__ import annotations

import base64
import logging
import re

from config.settings import ConfigError, FeedSettings
from gateway.portal import xmldsig
from gateway.portal.smev_transform import smev_transform
from gosuslugi_adapter.devkeys import generate_gost_credentials
from gosuslugi_adapter.errors import SignerError
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import (
    Algorithm,
    GostSigner,
    KeySigner,
    SignatureForm,
    Signer,
    load_signer,
)

log = logging.getLogger("ediary.portal")

SMEV_TRANSFORM = "urn://smev-gov-ru/xmldsig/transform"
#: Key size → (DigestMethod, SignatureMethod).
GOST_URIS = {256: xmldsig.URIS[Algorithm.GOST_256], 512: xmldsig.URIS[Algorithm.GOST_512]}
TRANSFORMS = (xmldsig.EXC_C14N, SMEV_TRANSFORM)
NS = "urn:ediary-gateway:smev3:1"
PAYLOAD_ID = "SIGNED_BY_EDIARY"

#: The root start tag our writer makes: its prefix, namespace and the attributes after it.
_ROOT = re.compile(rb'^<(p:[A-Za-z]+) xmlns:p="[^"]+"((?: [a-z][A-Za-z]*="[^"]*")*)>')


def with_id(document: bytes, ident: str = PAYLOAD_ID) -> bytes:
    """``document`` (canonical, from :mod:`gateway.portal.xml`) with ``Id`` on its root.

    Canonical order puts ``Id`` right after the namespace declaration: an upper-case ``I``
    sorts before the writer's attributes, which all start with a lower-case letter."""
    found = _ROOT.match(document)
    if found is None or b" Id=" in found.group(0):
        raise ValueError("not a document of this feed: its root start tag is not as written")
    at = found.start(2)
    return document[:at] + f' Id="{ident}"'.encode() + document[at:]


def digest_input(payload: bytes) -> bytes:
    """What the reference digests: Exclusive C14N of the payload (its bytes as written,
    canonical already), then the SMEV transform."""
    return smev_transform(payload)


def _signed_info(payload: bytes, alg: Algorithm) -> bytes:
    digest = alg.digest(digest_input(payload))
    return xmldsig.signed_info(alg, digest, uri=f"#{PAYLOAD_ID}", transforms=TRANSFORMS)


def _assemble(payload: bytes, si: bytes, value: bytes, info: bytes) -> bytes:
    return b"".join(
        (
            f'<s:SignedDocument xmlns:s="{NS}">'.encode(),
            payload,
            f'<s:Signature><ds:Signature xmlns:ds="{xmldsig.DS}">'.encode(),
            si,
            f"<ds:SignatureValue>{base64.b64encode(value).decode()}</ds:SignatureValue>".encode(),
            info,
            b"</ds:Signature></s:Signature></s:SignedDocument>",
        )
    )


def _gost(signer: Signer) -> Algorithm:
    if signer.algorithm not in (Algorithm.GOST_256, Algorithm.GOST_512):
        raise ValueError("the SMEV 3 profile needs a GOST R 34.10-2012 certificate")
    return signer.algorithm


def sign_smev(document: bytes, signer: KeySigner) -> bytes:
    """``document`` signed in the SMEV 3 profile by a GOST key in the process, at once."""
    payload = with_id(document)
    si = _signed_info(payload, _gost(signer))
    value = signer.sign_now(si, SignatureForm.RAW)
    return _assemble(payload, si, value, xmldsig.key_info(signer.certificate.der))


class SmevSignatures:
    """Signs documents in the SMEV 3 profile with the adapter's signer: a GOST key in the
    process, or a certified provider's command (CryptoPro's ``cryptcp`` or ``csptest``) that
    signs the ``SignedInfo``. The command's output is checked against the certificate (and
    CryptoAPI's reversed byte order turned around) by
    :class:`~gosuslugi_adapter.signers.CommandSigner` itself."""

    def __init__(self, signer: Signer) -> None:
        self._alg = _gost(signer)
        self.signer = signer
        self.certificate = signer.certificate
        self._info = xmldsig.key_info(signer.certificate.der)
        #: Names the key in every ETag of this profile: a new key re-signs.
        self.key_id = signer.certificate_hash[:32]

    async def sign(self, document: bytes) -> bytes:
        payload = with_id(document)
        si = _signed_info(payload, self._alg)
        value = await self.signer.sign(si, SignatureForm.RAW)
        return _assemble(payload, si, value, self._info)


def smev_signer_from_settings(feed: FeedSettings) -> SmevSignatures:
    """The ``[feed] smev3_*`` signer; with none configured, a throwaway GOST key (warned
    about, like the feed's throwaway RSA key)."""
    if feed.smev3_cert_file and (feed.smev3_key_file or feed.smev3_sign_command):
        kind = "command" if feed.smev3_sign_command else "gost"
        try:
            signer = load_signer(
                kind,
                key_file=feed.smev3_key_file,
                cert_file=feed.smev3_cert_file,
                command=feed.smev3_sign_command,
            )
            return SmevSignatures(signer)
        except (SignerError, ValueError) as exc:
            raise ConfigError(f"feed.smev3_*: {exc}") from None
    if feed.smev3_key_file or feed.smev3_cert_file or feed.smev3_sign_command:
        raise ConfigError(
            "feed.smev3_cert_file is needed with feed.smev3_key_file or feed.smev3_sign_command"
        )
    if feed.xml_profile == "smev3":
        log.warning(
            "[feed] smev3_key_file/smev3_cert_file are not set: SMEV 3 documents are signed "
            "with a throwaway GOST key generated now (fine for the demo, not for production)"
        )
    creds = generate_gost_credentials(feed.issuer)
    return SmevSignatures(
        GostSigner(load_private_key(creds.key_pem), load_certificate(creds.cert_pem))
    )
