"""base64url as ESIA uses it: padded for v1 client_secret, unpadded for v2/v3 and JWTs."""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(rb"\A[A-Za-z0-9_\-+/]*={0,2}\Z")


def b64url(data: bytes, *, padded: bool = False) -> str:
    """URL-safe base64 of ``data``, with ``=`` padding only when ``padded``."""
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if padded else text.rstrip("=")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url or standard base64, padded or not; anything else raises ``ValueError``.

    Lenient on the alphabet (clients differ: most v1 clients send standard base64), strict on
    content: stray characters, whitespace or bad lengths are refused rather than skipped.
    """
    raw = text.encode("ascii") if isinstance(text, str) else text
    if not _ALPHABET.match(raw):
        raise ValueError("not base64")
    raw = raw.rstrip(b"=").replace(b"+", b"-").replace(b"/", b"_")
    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
