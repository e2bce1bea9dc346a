"""Which representation a request asks for (``Accept``, with q-values)."""

from __future__ import annotations

MEDIA_TYPES = {
    "xml": "application/xml",
    "jose": "application/jose",
    "json": "application/json",
}
_BY_TYPE = {v: k for k, v in MEDIA_TYPES.items()}
#: On equal preference the signed XML document wins, then the JWS.
_ORDER = ("xml", "jose", "json")


def _q(params: list[str]) -> float:
    for p in params:
        name, _, value = p.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def choose(accept: str | None) -> str | None:
    """``xml``, ``jose`` or ``json``; None when nothing offered is acceptable (406).
    No ``Accept`` (or ``*/*``) gets the signed XML document."""
    if not accept or not accept.strip():
        return "xml"
    scores: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _q(params)
        if media in ("*/*", "application/*"):
            for fmt in _ORDER:
                scores.setdefault(fmt, q)
        elif media in _BY_TYPE:
            scores[_BY_TYPE[media]] = q  # an exact type overrides a wildcard
    best = max(_ORDER, key=lambda f: (scores.get(f, 0.0), -_ORDER.index(f)))
    return best if scores.get(best, 0.0) > 0 else None
