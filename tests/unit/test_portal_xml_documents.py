"""The portal's XML documents are written as text and parsed once: whatever a value holds
comes back as that value, never as markup; and the signer's shortcut for the documents built
that way does not let an entity through."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from signxml.exceptions import InvalidInput

from gateway.portal.signing import RsaDocumentSigner
from gateway.portal.xml import NS, guardian_xml

AWKWARD = 'Д\'Артаньян <b>&amp; "Ко"\tи\nсыновья\r'


def guardian(name: str) -> dict[str, Any]:
    return {
        "type": "guardianPupils",
        "version": 1,
        "issuer": "ediary <&> gateway",
        "issuedAt": "2025-10-15T10:00:00Z",
        "asOf": "2025-10-15T10:00:00Z",
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


def test_values_with_markup_characters_come_back_as_they_were() -> None:
    root = guardian_xml(guardian(AWKWARD))
    pupil = root.find(f"{{{NS}}}Pupil")
    assert pupil is not None
    assert pupil.get("lastName") == AWKWARD
    assert pupil[0].get("name") == AWKWARD
    assert root.findtext(f"{{{NS}}}Issuer") == "ediary <&> gateway"
    assert [e.tag for e in root.iter()].count(f"{{{NS}}}Pupil") == 1  # no injected element


def test_a_document_is_signed_on_a_copy_and_the_signature_carries_the_certificate() -> None:
    root = guardian_xml(guardian("Смирнов"))
    before = etree.tostring(root)
    signed = RsaDocumentSigner.ephemeral("test").sign_xml(root)
    assert etree.tostring(root) == before
    assert b"<ds:X509Certificate>" in signed and b"Smirnov" not in signed


def test_the_signer_still_refuses_an_unexpanded_entity() -> None:
    """signxml re-parses its input, which an entity reference does not survive; the copy
    made for our own documents must not sign one either."""
    xml = b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False))
    with pytest.raises((InvalidInput, etree.XMLSyntaxError)):
        RsaDocumentSigner.ephemeral("test").sign_xml(root)
