"""Which representation a request asks for (``Accept``, with q-values and the XML profile).

Four representations: ``xml`` (enveloped XML-DSig), ``smev3`` (the SMEV 3 profile), ``jose``
and ``json``. Both XML profiles are ``application/xml``; a ``profile`` parameter picks one
(``profile="smev3"`` or ``profile="xmldsig"``), and without it the deployment's
``[feed] xml_profile`` is meant.
"""

from __future__ import annotations

MEDIA_TYPES = {
    "xml": "application/xml",
    "smev3": "application/xml",
    "jose": "application/jose",
    "json": "application/json",
}
#: The Content-Type parameter that names an XML profile in a response.
PROFILE = {"xml": "xmldsig", "smev3": "smev3"}
_BY_TYPE = {"application/xml": "xml", "application/jose": "jose", "application/json": "json"}
_PROFILES = {"xmldsig": "xml", "smev3": "smev3"}
#: On equal preference the signed XML document wins, then the JWS.
_ORDER = ("xml", "smev3", "jose", "json")


def _params(params: list[str]) -> dict[str, str]:
    found = {}
    for p in params:
        name, _, value = p.strip().partition("=")
        found[name.strip().lower()] = value.strip().strip('"').strip()
    return found


def _q(params: dict[str, str]) -> float:
    if "q" not in params:
        return 1.0
    try:
        return max(0.0, min(1.0, float(params["q"])))
    except ValueError:
        return 0.0


def choose(accept: str | None, xml_profile: str = "xmldsig") -> str | None:
    """``xml``, ``smev3``, ``jose`` or ``json``; None when nothing offered is acceptable (406).
    No ``Accept`` (or ``*/*``) gets the signed XML document of the deployment's profile."""
    default_xml = _PROFILES[xml_profile]
    if not accept or not accept.strip():
        return default_xml
    scores: dict[str, float] = {}
    for item in accept.split(","):
        media, *raw = item.split(";")
        media = media.strip().lower()
        params = _params(raw)
        q = _q(params)
        if media in ("*/*", "application/*"):
            for fmt in (default_xml, "jose", "json"):
                scores.setdefault(fmt, q)
        elif media == "application/xml":
            profile = params.get("profile", "").lower()
            fmt = _PROFILES.get(profile, default_xml) if profile else default_xml
            if profile and profile not in _PROFILES:
                continue  # a profile we do not make is not acceptable
            scores[fmt] = q
        elif media in _BY_TYPE:
            scores[_BY_TYPE[media]] = q  # an exact type overrides a wildcard
    best = max(_ORDER, key=lambda f: (scores.get(f, 0.0), -_ORDER.index(f)))
    return best if scores.get(best, 0.0) > 0 else None
