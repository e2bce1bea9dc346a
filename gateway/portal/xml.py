"""The portal's documents as XML in the project's namespace, built from the JSON documents
(:mod:`gateway.portal.documents`) so both representations always carry the same data.

A document is written as text and parsed once: for documents of a few hundred elements that
is about twice as fast as building the tree element by element, and the text is escaped
here, in one place (:func:`_attrs`), so nothing a value holds can become markup. The tree is
the same either way (the tests compare it with the schema and ``xmlsec1``).

The schema is ``progress.xsd`` beside this module, served at ``/portal/v1/schema/progress.xsd``.
Any XML this service reads (the schema included) goes through :data:`SAFE_PARSER`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from gateway.portal.documents import Json

NS = "urn:ediary-gateway:progress:1"
XSD_PATH = Path(__file__).with_name("progress.xsd")

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
    return etree.XMLSchema(parse_safely(XSD_PATH.read_bytes()))


#: Escapes of an attribute value (quotes, and the whitespace a parser would normalise) and
#: of element text.
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
     "\r": "&#13;"}
)  # fmt: skip
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _attrs(doc: Json, skip: tuple[str, ...] = ()) -> str:
    """Scalar members as attributes: strings as they are, integers in decimal, booleans as
    ``true``/``false``; None (absent values), objects and lists are not attributes.
    (Inline type checks: this runs for every mark of every document.)"""
    out = []
    for k, v in doc.items():
        kind = type(v)
        if k in skip:
            continue
        if kind is str:
            out.append(f' {k}="{v.translate(_ATTRIBUTE)}"')
        elif kind is int:
            out.append(f' {k}="{v}"')
        elif kind is bool:
            out.append(f' {k}="true"' if v else f' {k}="false"')
    return "".join(out)


class _Text:
    """A document of the project's namespace (prefix ``p``) being written."""

    def __init__(self, tag: str, doc: Json) -> None:
        self.parts = [
            f'<p:{tag} xmlns:p="{NS}" version="{doc["version"]}">',
            f"<p:Issuer>{doc['issuer'].translate(_TEXT)}</p:Issuer>",
            f"<p:IssuedAt>{doc['issuedAt'].translate(_TEXT)}</p:IssuedAt>",
            f"<p:AsOf>{doc['asOf'].translate(_TEXT)}</p:AsOf>",
        ]
        self.tag = tag

    def empty(self, tag: str, doc: Json, skip: tuple[str, ...] = ()) -> None:
        self.parts.append(f"<p:{tag}{_attrs(doc, skip)}/>")

    def open(self, tag: str, doc: Json | None = None) -> None:
        self.parts.append(f"<p:{tag}{_attrs(doc) if doc else ''}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</p:{tag}>")

    def element(self) -> etree._Element:
        self.close(self.tag)
        return etree.fromstring("".join(self.parts).encode(), SAFE_PARSER)


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


def progress_xml(doc: Json) -> etree._Element:
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
    return out.element()


def guardian_xml(doc: Json) -> etree._Element:
    out = _Text("GuardianPupils", doc)
    out.empty("Guardian", doc["guardian"])
    for p in doc["pupils"]:
        _pupil(out, p)
    return out.element()


_CHANGE_STATES = {"mark": "Mark", "absence": "Absence", "periodMark": "PeriodMark"}


def changes_xml(doc: Json) -> etree._Element:
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
    return out.element()
