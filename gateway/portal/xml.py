"""The portal's documents as XML in the project's namespace, built from the JSON documents
(:mod:`gateway.portal.documents`) so both representations always carry the same data.

The schema is ``progress.xsd`` beside this module, served at ``/portal/v1/schema/progress.xsd``.
Any XML this service reads (the schema included) goes through :data:`SAFE_PARSER`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

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


_TAGS: dict[str, str] = {}


def _q(tag: str) -> str:
    qname = _TAGS.get(tag)
    if qname is None:
        qname = _TAGS[tag] = f"{{{NS}}}{tag}"
    return qname


def _attrs(doc: Json, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Scalar members as attributes: strings as they are, integers in decimal, booleans as
    ``true``/``false``; None (absent values), objects and lists are not attributes.
    (Inline type checks: this runs for every mark of every document.)"""
    out: dict[str, str] = {}
    for k, v in doc.items():
        kind = type(v)
        if kind is str:
            out[k] = v
        elif kind is int:
            out[k] = str(v)
        elif kind is bool:
            out[k] = "true" if v else "false"
    for k in skip:
        out.pop(k, None)
    return out


def _child(parent: etree._Element, tag: str, doc: Json, skip: tuple[str, ...] = ()) -> Any:
    return etree.SubElement(parent, _q(tag), _attrs(doc, skip))


def _root(tag: str, doc: Json) -> etree._Element:
    root = etree.Element(_q(tag), {"version": str(doc["version"])}, nsmap={"p": NS})
    etree.SubElement(root, _q("Issuer")).text = doc["issuer"]
    etree.SubElement(root, _q("IssuedAt")).text = doc["issuedAt"]
    etree.SubElement(root, _q("AsOf")).text = doc["asOf"]
    return root


def _pupil(parent: etree._Element, pupil: Json) -> None:
    el = _child(parent, "Pupil", pupil)
    if "school" in pupil:
        _child(el, "School", pupil["school"])


def _period_mark(parent: etree._Element, pm: Json) -> None:
    _child(_child(parent, "PeriodMark", pm), "Period", pm["period"])


def progress_xml(doc: Json) -> etree._Element:
    root = _root("Progress", doc)
    _child(root, "Range", doc["range"])
    _child(root, "School", doc["school"])
    _pupil(root, doc["pupil"])
    subjects = etree.SubElement(root, _q("Subjects"))
    for s in doc["subjects"]:
        subject = _child(subjects, "Subject", s)
        for m in s["marks"]:
            _child(subject, "Mark", m)
    attendance = etree.SubElement(root, _q("Attendance"))
    for a in doc["attendance"]:
        _child(attendance, "Absence", a)
    periods = etree.SubElement(root, _q("PeriodMarks"))
    for pm in doc["periodMarks"]:
        _period_mark(periods, pm)
    return root


def guardian_xml(doc: Json) -> etree._Element:
    root = _root("GuardianPupils", doc)
    _child(root, "Guardian", doc["guardian"])
    for p in doc["pupils"]:
        _pupil(root, p)
    return root


_CHANGE_STATES = {"mark": "Mark", "absence": "Absence", "periodMark": "PeriodMark"}


def changes_xml(doc: Json) -> etree._Element:
    root = _root("Changes", doc)
    _child(root, "Page", doc, ("type", "version", "issuer", "issuedAt", "asOf"))
    for c in doc["changes"]:
        change = _child(root, "Change", c)
        for key, tag in _CHANGE_STATES.items():
            if key == "periodMark" and key in c:
                _period_mark(change, c[key])
            elif key in c:
                _child(change, tag, c[key])
    return root
