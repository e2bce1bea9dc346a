"""Versioned addresses of the static files: ``/static/style.css?v=<sha256[:12]>``.

Every file under ``gateway/static`` is hashed once, when the application is built; templates
reach the files only through :meth:`StaticVersions.url` (the ``static()`` template global), so
a changed file gets a new address and browsers may keep each address for a year
(``Cache-Control: public, max-age=31536000, immutable``). A request without the current
version (an old bookmark, a page rendered before a release) gets a short cache only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiohttp import web

PREFIX = "/static/"
#: How many hex digits of the content's SHA-256 name a version.
VERSION_LENGTH = 12
#: The answer for a versioned address: its content never changes.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The answer for any other static address: browsers check back after five minutes.
SHORT = "public, max-age=300"


def content_version(content: bytes) -> str:
    """The version of a file with ``content``: the first hex digits of its SHA-256."""
    return hashlib.sha256(content).hexdigest()[:VERSION_LENGTH]


class StaticVersions:
    """The version of every static file, computed once from the files' contents."""

    def __init__(self, directory: Path) -> None:
        self._versions: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                content = path.read_bytes()
                name = path.relative_to(directory).as_posix()
                self._versions[name] = content_version(content)
                self._sizes[name] = len(content)

    def url(self, name: str) -> str:
        """The versioned address of the static file ``name`` (e.g. ``"style.css"``)."""
        version = self._versions.get(name)
        if version is None:
            known = ", ".join(sorted(self._versions))
            raise LookupError(f"no static file {name!r}: the static files are {known}")
        return f"{PREFIX}{name}?v={version}"

    def size(self, name: str) -> int:
        """The size in bytes of the static file ``name``; 0 for a name that is not one."""
        return self._sizes.get(name, 0)

    def cache_control(self, request: web.BaseRequest) -> str:
        """The ``Cache-Control`` of the answer to a static ``request``: immutable for a year
        when it asks for a file's current version, short otherwise."""
        name = request.path.removeprefix(PREFIX)
        current = self._versions.get(name)
        asked = request.query.get("v")
        return IMMUTABLE if current is not None and asked == current else SHORT
