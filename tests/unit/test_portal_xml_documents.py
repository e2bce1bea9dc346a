"""The portal's XML documents are written in their canonical form and signed without a tree:

- whatever a value holds comes back as that value, never as markup;
- what we write is exactly what lxml's Exclusive C14N makes of it (so the digest of our bytes
  is the digest any verifier computes), for every kind of document and awkward values;
- the signature verifies with signxml (a verifier we do not sign with) and fails after any
  change; a value XML cannot carry is refused, not written.

(xmlsec1 verifies the served documents in tests/integration/portal.)
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature

from gateway.portal import xmldsig
from gateway.portal.signing import DocumentSignatures
from gateway.portal.xml import (
    NS,
    NotXmlText,
    changes_xml,
    guardian_xml,
    parse_safely,
    progress_xml,
    schema,
)

AWKWARD = 'Д\'Артаньян <b>&amp; "Ко"\tи\nсыновья\r > ]]> 😀'
HEADER = {
    "version": 1,
    "issuer": "ediary <&> gateway\r",
    "issuedAt": "2025-10-15T10:00:00Z",
    "asOf": "2025-10-15T10:00:00Z",
}


def guardian(name: str) -> dict[str, Any]:
    return {
        "type": "guardianPupils",
        **HEADER,
        "guardian": {"esiaOid": "1000001"},
        "pupils": [
            {
                "snils": "112-233-445 95",
                "lastName": name,
                "firstName": "Иван",
                "middleName": "",
                "class": "5А",
                "school": {"id": 1, "name": name},
            }
        ],
    }


def mark(mark_id: int, value: str, **more: Any) -> dict[str, Any]:
    return {
        "id": mark_id,
        "date": "2025-10-01",
        **more,
        "workType": "Диктант",
        "weight": 2,
        "value": value,
        "numeric": 5 if value == "5" else None,
        "countsInAverage": value == "5",
    }


PERIOD_MARK = {
    "id": 9,
    "period": {"id": 3, "kind": "quarter", "number": 1, "name": AWKWARD,
               "from": "2025-09-01", "to": "2025-10-26"},
    "subjectId": 4,
    "subject": "Математика",
    "value": "5",
    "numeric": 5,
}  # fmt: skip


def progress(name: str) -> dict[str, Any]:
    return {
        "type": "progress",
        **HEADER,
        "range": {"from": "2025-09-01", "to": "2025-12-31"},
        "school": {"id": 1, "name": name},
        "pupil": {"snils": "112-233-445 95", "lastName": name, "firstName": "Иван",
                  "middleName": "", "class": "5А"},
        "subjects": [
            {"id": 4, "name": name, "average": "4.50", "marks": [mark(1, "5"), mark(2, "зач")]},
            {"id": 5, "name": "Физика", "average": None, "marks": [mark(3, "зач")]},
        ],
        "attendance": [
            {"id": 7, "date": "2025-10-02", "lessonNumber": 3, "subjectId": 4,
             "subject": name, "kind": "н"}
        ],
        "periodMarks": [PERIOD_MARK],
    }  # fmt: skip


def changes() -> dict[str, Any]:
    return {
        "type": "changes",
        **HEADER,
        "cursor": "10",
        "nextCursor": "13",
        "hasMore": False,
        "changes": [
            {"cursor": "11", "at": "2025-10-15T10:00:00Z", "entity": "mark", "id": 1,
             "action": "update", "schoolId": 1, "pupilSnils": "112-233-445 95",
             "mark": mark(1, "5", subjectId=4, subject=AWKWARD)},
            {"cursor": "12", "at": "2025-10-15T10:00:00Z", "entity": "period_mark", "id": 9,
             "action": "create", "schoolId": 1, "pupilSnils": "112-233-445 95",
             "periodMark": PERIOD_MARK},
            {"cursor": "13", "at": "2025-10-15T10:00:00Z", "entity": "mark", "id": 2,
             "action": "delete", "schoolId": 1, "pupilSnils": "112-233-445 95"},
        ],
    }  # fmt: skip


DOCUMENTS = {
    "progress": lambda: progress_xml(progress(AWKWARD)),
    "guardian": lambda: guardian_xml(guardian(AWKWARD)),
    "changes": lambda: changes_xml(changes()),
}


def exclusive_c14n(data: bytes) -> bytes:
    return etree.tostring(parse_safely(data), method="c14n", exclusive=True, with_comments=False)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_what_we_write_is_its_own_exclusive_canonical_form(kind: str) -> None:
    data = DOCUMENTS[kind]()
    assert exclusive_c14n(data) == data


def test_values_with_markup_characters_come_back_as_they_were() -> None:
    root = parse_safely(guardian_xml(guardian(AWKWARD)))
    pupil = root.find(f"{{{NS}}}Pupil")
    assert pupil is not None
    assert pupil.get("lastName") == AWKWARD
    assert pupil[0].get("name") == AWKWARD
    assert root.findtext(f"{{{NS}}}Issuer") == "ediary <&> gateway\r"
    assert [e.tag for e in root.iter()].count(f"{{{NS}}}Pupil") == 1  # no injected element


def test_attributes_are_in_canonical_order_and_absent_values_are_left_out() -> None:
    root = parse_safely(progress_xml(progress("Смирнов")))
    marks = root.findall(f".//{{{NS}}}Mark")
    assert list(marks[0].keys()) == sorted(marks[0].keys())
    assert marks[0].get("countsInAverage") == "true" and marks[1].get("numeric") is None
    subjects = root.findall(f".//{{{NS}}}Subject")
    assert subjects[1].get("average") is None


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x0b", "\x1f", "\ufffe", "\ud800"])
def test_a_character_xml_cannot_carry_is_refused_with_its_code(bad: str) -> None:
    with pytest.raises(NotXmlText, match=f"U\\+{ord(bad):04X}"):
        progress_xml(progress(f"Иванов{bad}"))


@pytest.fixture(scope="module")
def signer() -> DocumentSignatures:
    return DocumentSignatures.ephemeral("test")


def certificate_pem(signed: bytes) -> bytes:
    text = parse_safely(signed).findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    assert text
    cert = x509.load_der_x509_certificate(base64.b64decode(text))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_signxml_verifies_the_signature_and_sees_our_document(
    kind: str, signer: DocumentSignatures
) -> None:
    data = DOCUMENTS[kind]()
    signed = signer.sign_xml(data)
    assert signed.startswith(data[: data.rfind(b"</")])
    result = XMLVerifier().verify(
        signed, x509_cert=certificate_pem(signed).decode(), expect_config=_config()
    )
    assert exclusive_c14n(etree.tostring(result.signed_xml)) == data
    schema().assertValid(parse_safely(signed))


def _config() -> Any:
    from signxml import SignatureConfiguration

    return SignatureConfiguration(require_x509=True)


def test_a_changed_value_fails_the_digest_and_a_changed_signed_info_the_signature(
    signer: DocumentSignatures,
) -> None:
    signed = signer.sign_xml(progress_xml(progress("Смирнов")))
    cert = certificate_pem(signed).decode()
    changed_mark = signed.replace(b'value="5"', b'value="4"', 1)
    assert changed_mark != signed
    with pytest.raises(InvalidDigest):
        XMLVerifier().verify(changed_mark, x509_cert=cert, expect_config=_config())
    changed_info = signed.replace(b'<ds:Reference URI="">', b'<ds:Reference URI="" Id="x">')
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(changed_info, x509_cert=cert, expect_config=_config())


def test_signing_refuses_what_is_not_one_canonical_element(signer: DocumentSignatures) -> None:
    with pytest.raises(ValueError, match="not a canonical XML document"):
        signer.sign_xml(b"<?xml version='1.0'?>\n<a></a>\n")
    with pytest.raises(ValueError, match="not a canonical XML document"):
        signer.sign_xml(b"")


def test_signed_info_is_written_canonical(signer: DocumentSignatures) -> None:
    """The bytes signed are the bytes sent: SignedInfo as it stands in the document is its
    own Exclusive C14N."""
    signed = signer.sign_xml(guardian_xml(guardian("Смирнов")))
    start, end = signed.index(b"<ds:SignedInfo"), signed.index(b"</ds:SignedInfo>")
    info = signed[start : end + len(b"</ds:SignedInfo>")]
    node = parse_safely(signed).find(".//{http://www.w3.org/2000/09/xmldsig#}SignedInfo")
    assert node is not None
    assert etree.tostring(node, method="c14n", exclusive=True) == info
    assert xmldsig.EXC_C14N.encode() in info
