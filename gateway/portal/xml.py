"""The portal's documents as XML in the project's namespace, built from the JSON documents
(:mod:`gateway.portal.documents`) so both representations always carry the same data.

A document is written directly in its canonical form: the bytes Exclusive XML
Canonicalization 1.0 (without comments) makes of it. That is what an enveloped XML-DSig
signature digests, so the signer (:mod:`gateway.portal.xmldsig`) hashes these bytes as they
are, with no tree to build, copy or canonicalise; and the canonical form is plain XML that
any parser reads. Its rules, as they apply to these documents (W3C XML-C14N §2.3, xml-exc-c14n
§3):

- no XML declaration, no whitespace between elements; an empty element is written as a
  start and an end tag (``<p:Mark …></p:Mark>``);
- the namespace declaration ``xmlns:p`` only on the root (every element uses the prefix;
  attributes are unqualified, so none needs one);
- attributes in lexicographic order of their names (unqualified names: code point order);
- in attribute values ``&``, ``<``, ``"``, tab, line feed and carriage return are escaped
  (``&amp; &lt; &quot; &#x9; &#xA; &#xD;``); in text ``&``, ``<``, ``>`` and carriage
  return (``&amp; &lt; &gt; &#xD;``); nothing else is.

A test holds every kind of document, awkward values included, to ``lxml``'s own exclusive
canonicalisation of what it parses from our bytes: they must come back unchanged. A value
XML cannot carry at all (most control characters, unpaired surrogates) is refused with
:class:`NotXmlText` rather than written.

The schema is ``progress.xsd`` beside this module, served at ``/portal/v1/schema/progress.xsd``.
Any XML this service reads (the schema included) goes through :data:`SAFE_PARSER`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from gateway.portal.documents import Json

NS = "urn:ediary-gateway:progress:1"
XSD_PATH = Path(__file__).with_name("progress.xsd")
#: The signature's schema, imported by ``progress.xsd`` by this name (served beside it).
SIGNATURE_XSD_PATH = XSD_PATH.with_name("progress-signature.xsd")

#: No entity expansion (billion laughs, XXE), no DTDs, no network: parsing never reaches out.
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


def parse_safely(data: bytes) -> etree._Element:
    """Parse untrusted XML without entities, DTDs or network access."""
    return etree.fromstring(data, SAFE_PARSER)


@cache
def schema() -> etree.XMLSchema:
    """The feed's schema. Parsed with its own path as base URL, so that its ``xs:import`` of
    ``progress-signature.xsd`` (the signature as we write it) is found beside it."""
    return etree.XMLSchema(
        etree.fromstring(XSD_PATH.read_bytes(), SAFE_PARSER, base_url=str(XSD_PATH))
    )


class NotXmlText(ValueError):
    """A value holds a character that XML 1.0 cannot carry, escaped or not: ``char``, in the
    document's member ``field`` (a path such as ``pupil.lastName``). Only data stored before
    the diary refused such characters at the door (:mod:`diary_core.text`) can hold one; the
    JSON representations carry it escaped, so only the XML one fails."""

    def __init__(self, char: str, field: str | None) -> None:
        self.char, self.field = char, field
        self.code = f"U+{ord(char):04X}"
        where = f" in {field}" if field else ""
        super().__init__(f"the document holds {self.code}{where}, a character XML cannot carry")

    def reason(self) -> str:
        """In Russian, for a person: what the character is and where it is."""
        where = f" в поле {self.field}" if self.field else ""
        return f"недопустимый в XML символ {self.code}{where}"


def find_not_xml(doc: object, path: str = "") -> tuple[str, str] | None:
    """The first string of a JSON document holding a character XML cannot carry, as (its
    member's path, the character), or None. Only called once a document has failed."""
    if isinstance(doc, str):
        bad = _NOT_XML.search(doc)
        return None if bad is None else (path, bad.group())
    if isinstance(doc, dict):
        for key, value in doc.items():
            found = find_not_xml(value, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found = find_not_xml(value, f"{path}[{i}]")
            if found is not None:
                return found
    return None


#: Canonical escapes of an attribute value and of element text.
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}
)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})

#: What is not an XML 1.0 ``Char`` (tab, line feed and carriage return are).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


#: The canonical attribute order of each shape of object the documents hold (a few dozen).
_ORDER: dict[tuple[str, ...], tuple[str, ...]] = {}


def _order(doc: Json) -> tuple[str, ...]:
    keys = tuple(doc)
    order = _ORDER.get(keys)
    if order is None:
        order = tuple(sorted(keys))
        if len(_ORDER) < 1024:  # bounded, whatever a caller passes
            _ORDER[keys] = order
    return order


def _attrs(doc: Json, skip: tuple[str, ...] = ()) -> str:
    """Scalar members as attributes, in canonical (name) order: strings as they are,
    integers in decimal, booleans as ``true``/``false``; None (absent values), objects and
    lists are not attributes. (Inline type checks: this runs for every mark of every
    document.)"""
    out = ""
    for k in _order(doc):
        v = doc[k]
        kind = type(v)
        if kind is str:
            if k not in skip:
                out += f' {k}="{v.translate(_ATTRIBUTE)}"'
        elif kind is int:
            if k not in skip:
                out += f' {k}="{v}"'
        elif kind is bool and k not in skip:
            out += f' {k}="true"' if v else f' {k}="false"'
    return out


class _Text:
    """A document of the project's namespace (prefix ``p``) being written, canonically."""

    def __init__(self, tag: str, doc: Json) -> None:
        self.parts = [
            f'<p:{tag} xmlns:p="{NS}" version="{doc["version"]}">',
            f"<p:Issuer>{doc['issuer'].translate(_TEXT)}</p:Issuer>",
            f"<p:IssuedAt>{doc['issuedAt'].translate(_TEXT)}</p:IssuedAt>",
            f"<p:AsOf>{doc['asOf'].translate(_TEXT)}</p:AsOf>",
        ]
        self.tag = tag
        self.doc = doc

    def empty(self, tag: str, doc: Json, skip: tuple[str, ...] = ()) -> None:
        self.parts.append(f"<p:{tag}{_attrs(doc, skip)}></p:{tag}>")

    def open(self, tag: str, doc: Json | None = None) -> None:
        self.parts.append(f"<p:{tag}{_attrs(doc) if doc else ''}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</p:{tag}>")

    def finish(self) -> bytes:
        self.close(self.tag)
        text = "".join(self.parts)
        bad = _NOT_XML.search(text)
        if bad is not None:
            found = find_not_xml(self.doc)
            raise NotXmlText(found[1], found[0]) if found else NotXmlText(bad.group(), None)
        return text.encode()


def _pupil(out: _Text, pupil: Json) -> None:
    if "school" not in pupil:
        out.empty("Pupil", pupil)
        return
    out.open("Pupil", pupil)
    out.empty("School", pupil["school"])
    out.close("Pupil")


def _period_mark(out: _Text, pm: Json) -> None:
    out.open("PeriodMark", pm)
    out.empty("Period", pm["period"])
    out.close("PeriodMark")


def progress_xml(doc: Json) -> bytes:
    """A progress document, canonical UTF-8 (see the module's docstring)."""
    out = _Text("Progress", doc)
    out.empty("Range", doc["range"])
    out.empty("School", doc["school"])
    _pupil(out, doc["pupil"])
    out.open("Subjects")
    for s in doc["subjects"]:
        out.open("Subject", s)
        for m in s["marks"]:
            out.empty("Mark", m)
        out.close("Subject")
    out.close("Subjects")
    out.open("Attendance")
    for a in doc["attendance"]:
        out.empty("Absence", a)
    out.close("Attendance")
    out.open("PeriodMarks")
    for pm in doc["periodMarks"]:
        _period_mark(out, pm)
    out.close("PeriodMarks")
    return out.finish()


def guardian_xml(doc: Json) -> bytes:
    """A parent's children, canonical UTF-8."""
    out = _Text("GuardianPupils", doc)
    out.empty("Guardian", doc["guardian"])
    for p in doc["pupils"]:
        _pupil(out, p)
    return out.finish()


_CHANGE_STATES = {"mark": "Mark", "absence": "Absence", "periodMark": "PeriodMark"}


def changes_xml(doc: Json) -> bytes:
    """A page of the changes feed, canonical UTF-8."""
    out = _Text("Changes", doc)
    out.empty("Page", doc, ("type", "version", "issuer", "issuedAt", "asOf"))
    for c in doc["changes"]:
        states = [(key, tag) for key, tag in _CHANGE_STATES.items() if key in c]
        if not states:
            out.empty("Change", c)
            continue
        out.open("Change", c)
        for key, tag in states:
            if key == "periodMark":
                _period_mark(out, c[key])
            else:
                out.empty(tag, c[key])
        out.close("Change")
    return out.finish()
