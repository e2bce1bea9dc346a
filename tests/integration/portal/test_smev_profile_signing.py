"""Documents signed in the SMEV 3 profile, checked by independent means, and the verifier.

- the SignedInfo's signature verifies with ``openssl dgst -engine gost -verify`` over the
  Exclusive C14N bytes lxml makes of it;
- the digest equals ``openssl dgst -engine gost`` over the SMEV transform of lxml's Exclusive
  C14N of the payload (not of our own bytes);
- :func:`verify_document` accepts both profiles, returns only what was signed, and refuses
  tampering with a value, moving the Id, and unsigned content of every kind;
- the byte orders match what CryptoPro-based SMEV itself produced (tests/data/smev_signed).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from gateway.portal import smev
from gateway.portal.signing import DocumentSignatures
from gateway.portal.smev_transform import smev_transform
from gateway.portal.verify import VerificationError, verify_document
from gateway.portal.xml import NS, changes_xml, guardian_xml, progress_xml
from gosuslugi_adapter import signers
from gosuslugi_adapter.devkeys import generate_gost_credentials
from gosuslugi_adapter.gost import streebog
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from tests.integration.esia.conftest import openssl
from tests.unit.test_portal_xml_documents import changes, guardian, progress

pytestmark = pytest.mark.usefixtures("gost_backend")

DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAMPLES = Path(__file__).parents[2] / "data" / "smev_signed"


class GostSigner:
    """A GOST key and its certificate, signing documents in the SMEV profile."""

    def __init__(self, bits: int) -> None:
        creds = generate_gost_credentials("ediary smev test", bits=bits)
        self.certificate = load_certificate(creds.cert_pem)
        self.key = signers.GostSigner(load_private_key(creds.key_pem), self.certificate)
        self.cert_pem = creds.cert_pem
        self.bits = bits

    def sign(self, document: bytes) -> bytes:
        return smev.sign_smev(document, self.key)


@pytest.fixture(scope="module", params=[256, 512])
def signer(request: pytest.FixtureRequest) -> GostSigner:
    return GostSigner(request.param)


DOCUMENTS = {
    "progress": lambda: progress_xml(progress("Смирнов")),
    "guardian": lambda: guardian_xml(guardian("Смирнов")),
    "changes": lambda: changes_xml(changes()),
}


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_signed_document_verifies_and_yields_only_the_payload(
    kind: str, signer: GostSigner
) -> None:
    document = DOCUMENTS[kind]()
    verified = verify_document(signer.sign(document), trusted=[signer.certificate.der])
    assert verified.profile == "smev3"
    assert verified.element.get("Id") == smev.PAYLOAD_ID
    assert verified.signed == smev.with_id(document)
    assert etree.QName(verified.element).namespace == NS
    assert verified.signature_method == smev.GOST_URIS[signer.bits][1]
    assert "ediary smev test" in verified.signer


def _parts(signed: bytes) -> tuple[etree._Element, etree._Element]:
    root = etree.fromstring(signed)
    return root[0], root[1][0]


def test_signed_info_signature_verifies_with_openssl(signer: GostSigner, tmp_path: Path) -> None:
    _payload, signature = _parts(signer.sign(DOCUMENTS["progress"]()))
    signed_info = signature.find(f"{DS}SignedInfo")
    (tmp_path / "si").write_bytes(etree.tostring(signed_info, method="c14n", exclusive=True))
    value = base64.b64decode(signature.findtext(f"{DS}SignatureValue"))
    (tmp_path / "sig").write_bytes(value)
    (tmp_path / "cert.pem").write_bytes(signer.cert_pem)
    pub = openssl("x509", "-engine", "gost", "-in", str(tmp_path / "cert.pem"), "-pubkey", "-noout")
    (tmp_path / "pub.pem").write_bytes(pub)
    out = openssl(
        "dgst",
        "-engine",
        "gost",
        f"-md_gost12_{signer.bits}",
        "-verify",
        str(tmp_path / "pub.pem"),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "si"),
    )
    assert b"Verified OK" in out


def test_digest_equals_openssl_over_the_transformed_payload(signer: GostSigner) -> None:
    payload, signature = _parts(signer.sign(DOCUMENTS["progress"]()))
    transformed = smev_transform(etree.tostring(payload, method="c14n", exclusive=True))
    expected = openssl(
        "dgst", "-engine", "gost", f"-md_gost12_{signer.bits}", "-binary", stdin=transformed
    )
    assert base64.b64decode(signature.findtext(f".//{DS}DigestValue")) == expected


def test_the_signed_info_names_the_profile() -> None:
    signed = GostSigner(256).sign(DOCUMENTS["guardian"]())
    _payload, signature = _parts(signed)
    reference = signature.find(f"{DS}SignedInfo/{DS}Reference")
    assert reference.get("URI") == "#SIGNED_BY_EDIARY"
    assert [t.get("Algorithm") for t in reference.iter(f"{DS}Transform")] == [
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "urn://smev-gov-ru/xmldsig/transform",
    ]
    assert signature.find(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate") is not None


def _tamper(signed: bytes, old: bytes, new: bytes) -> bytes:
    assert signed.count(old) >= 1, old
    return signed.replace(old, new, 1)


def _signed() -> tuple[GostSigner, bytes]:
    signer = GostSigner(256)
    return signer, signer.sign(DOCUMENTS["progress"]())


def _refused(data: bytes, check: str) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_document(data)
    assert caught.value.check == check, str(caught.value)


def test_a_changed_value_fails_the_digest() -> None:
    _signer, signed = _signed()
    _refused(_tamper(signed, "Смирнов".encode(), "Петрова".encode()), "digest")


def test_a_changed_signed_info_fails_the_signature_value() -> None:
    _signer, signed = _signed()
    digest = re.search(rb"<ds:DigestValue>([^<]+)</ds:DigestValue>", signed)
    assert digest
    flipped = base64.b64encode(
        bytes([base64.b64decode(digest.group(1))[0] ^ 1]) + base64.b64decode(digest.group(1))[1:]
    )
    with pytest.raises(VerificationError) as caught:
        verify_document(signed.replace(digest.group(1), flipped))
    assert caught.value.check in ("digest", "value")


def test_moving_the_id_is_refused() -> None:
    _signer, signed = _signed()
    moved = _tamper(signed, b' Id="SIGNED_BY_EDIARY"', b"")
    moved = _tamper(moved, b"<p:Issuer>", b'<p:Issuer Id="SIGNED_BY_EDIARY">')
    _refused(moved, "shape")
    twice = _tamper(signed, b"<p:Issuer>", b'<p:Issuer Id="SIGNED_BY_EDIARY">')
    _refused(twice, "shape")


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [
        (
            b"<ds:KeyInfo>",
            b"<ds:Object><p:Subject>fake</p:Subject></ds:Object><ds:KeyInfo>",
            "signature",
        ),
        (b"<p:Issuer>", b"<!-- unsigned --><p:Issuer>", "unsigned"),
        (b"<s:Signature>", b"<p:Extra>unsigned</p:Extra><s:Signature>", "shape"),
        (b"<ds:SignatureValue>", b"<p:Subject>fake</p:Subject><ds:SignatureValue>", "signature"),
        (b"<s:Signature>", b"unsigned text<s:Signature>", "shape"),
        (b"</s:SignedDocument>", b"</s:SignedDocument><?pi unsigned?>", "unsigned"),
        (b"<ds:SignedInfo ", b'<ds:SignedInfo Id="x" ', "value"),
    ],
)
def test_unsigned_content_is_refused(old: bytes, new: bytes, check: str) -> None:
    _signer, signed = _signed()
    data = _tamper(signed, old, new)
    if b"<p:" in new:  # the injected element's prefix, declared where a forger would
        data = data.replace(b"<s:SignedDocument ", f'<s:SignedDocument xmlns:p="{NS}" '.encode())
    _refused(data, check)


def test_an_untrusted_or_expired_certificate_is_refused() -> None:
    signer, signed = _signed()
    other = GostSigner(256)
    with pytest.raises(VerificationError, match="not trusted"):
        verify_document(signed, trusted=[other.certificate.der])
    with pytest.raises(VerificationError, match="not valid now"):
        verify_document(signed, now=datetime.now(UTC) + timedelta(days=4000))
    assert verify_document(signed, trusted=[signer.certificate.der]).profile == "smev3"


def test_the_rsa_enveloped_profile_verifies_and_refuses_an_object() -> None:
    signer = DocumentSignatures.ephemeral("ediary test")
    signed = signer.sign_xml(DOCUMENTS["progress"]())
    verified = verify_document(signed)
    assert verified.profile == "xmldsig"
    assert verified.element.find(f"{DS}Signature") is None
    assert etree.QName(verified.element).localname == "Progress"
    fake = f'<ds:Object><p:Subject xmlns:p="{NS}">f</p:Subject></ds:Object>'.encode()
    forged = signed.replace(b"<ds:KeyInfo>", fake + b"<ds:KeyInfo>")
    _refused(forged, "signature")
    _refused(signed.replace(b"<p:Issuer>", b"<!--x--><p:Issuer>"), "unsigned")


def test_smevs_own_signature_verifies_in_our_byte_order() -> None:
    """SMEV signed this GetRequestResponse with CryptoPro (GOST 2012-256): our reading of
    SignatureValue (s‖r as it stands) verifies it, the reversed one does not."""
    root = etree.parse(str(SAMPLES / "gisogd_get_request_response_gost2012.xml")).getroot()
    signature = next(root.iter(f"{DS}Signature"))
    signed_info = signature.find(f"{DS}SignedInfo")
    data = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = base64.b64decode(signature.findtext(f"{DS}SignatureValue"))
    cert_der = base64.b64decode("".join(signature.findtext(f".//{DS}X509Certificate").split()))
    from gosuslugi_adapter.key_files import certificate_from_der

    key = certificate_from_der(cert_der).public_key
    assert key.verify(data, value)
    assert not key.verify(data, value[::-1])


def test_a_cryptopro_digest_is_ours_unreversed() -> None:
    """The digest of an AckRequest signed with CryptoPro (GOST 2012-256) is what our transform
    and Streebog make of the referenced element, as OpenSSL prints it."""
    root = etree.parse(str(SAMPLES / "mylab_ack_request_gost2012.xml")).getroot()
    signature = next(root.iter(f"{DS}Signature"))
    uri = signature.find(f"{DS}SignedInfo/{DS}Reference").get("URI")
    (target,) = root.xpath("//*[@Id=$id]", id=uri[1:])
    ours = streebog(smev_transform(etree.tostring(target, method="c14n", exclusive=True)), 256)
    assert base64.b64decode(signature.findtext(f".//{DS}DigestValue")) == ours
