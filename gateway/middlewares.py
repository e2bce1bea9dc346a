"""Cross-cutting HTTP concerns: errors become answers (as gateway/http_errors.py maps them),
security and cache headers, and the compression of text answers."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from diary_core.errors import DiaryError
from gateway import http_errors, keys, sessions
from gateway.static_files import PREFIX as STATIC_PREFIX

log = logging.getLogger("ediary.gateway")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Core errors and refusals are answered as :mod:`gateway.http_errors` maps them;
    unexpected errors are logged and answered without internals."""
    try:
        return await handler(request)
    except DiaryError as exc:
        answer = http_errors.of_core(exc)
    except web.HTTPException as exc:
        refusal = http_errors.of_refusal(exc)
        if refusal is None:
            raise
        answer = refusal
    except Exception as exc:
        if http_errors.database_unreachable(exc):
            log.error("database unreachable on %s %s: %r", request.method, request.path, exc)
            answer = http_errors.database_unavailable()
        else:
            log.exception("unhandled error on %s %s", request.method, request.path)
            answer = http_errors.internal_error()
    return http_errors.respond(request, answer)


#: Paths whose answers may be cached: static files (fingerprinted by the release) and the
#: health check. Everything else is answered ``no-store`` to a signed-in user.
_CACHEABLE_PREFIXES = ("/static/", "/healthz")


def _personal(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether the answer is someone's own: the API, any answer to a signed-in user, and any
    answer that sets or clears the session cookie (sign-in, sign-out)."""
    if request.path.startswith("/api/"):
        return True
    if request.path.startswith(_CACHEABLE_PREFIXES):
        return False
    view = request.get(sessions.REQUEST_KEY)
    return (view is not None and view.signed_in) or bool(response.cookies)


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if _personal(request, response):
        # Back after signing out must not show the pupil's marks from the browser's cache.
        headers["Cache-Control"] = "no-store"
    elif request.path.startswith(STATIC_PREFIX) and response.status < 400:
        # A year for a file's current version (its address changes with it), else minutes.
        headers["Cache-Control"] = request.app[keys.STATIC_VERSIONS].cache_control(request)
    elif request.path.startswith("/portal/"):
        headers.setdefault("Cache-Control", "no-store")  # unless the portal's handler says
    if request.app[keys.SETTINGS].server.is_https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers and the cache rule on every answer, redirects included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add_headers(request, exc)
        raise
    _add_headers(request, response)
    return response


#: Content types worth compressing: the pages, their style sheets and scripts, JSON answers.
COMPRESSIBLE_TYPES = frozenset(
    {
        "text/html",
        "text/css",
        "application/json",
        "application/problem+json",
        "application/javascript",
        "text/javascript",
        "image/svg+xml",
    }
)
#: Answers shorter than this go as they are: compressing them saves next to nothing.
MIN_COMPRESSED_BYTES = 1024
#: The static files compressed, by suffix (a file answer gets its type only when it is sent):
#: style sheets, scripts and SVG images.
_STATIC_TEXT_SUFFIXES = frozenset({".css", ".js", ".svg"})
#: Headers that make a file answer partial or possibly bodiless (304, 412).
_CONDITIONAL_HEADERS = (
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
)
#: The codings we send, best first: every browser takes gzip.
_CODINGS = (web.ContentCoding.gzip, web.ContentCoding.deflate)


def accepted_coding(request: web.BaseRequest) -> web.ContentCoding | None:
    """The coding to compress the answer with, from ``Accept-Encoding`` (``q=0`` refuses a
    coding, ``*`` stands for every coding not named), or None for none."""
    quality: dict[str, float] = {}
    for part in request.headers.get("Accept-Encoding", "").lower().split(","):
        name, _, params = part.partition(";")
        value = 1.0
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "q":
                try:
                    value = float(number)
                except ValueError:
                    value = 0.0
        if name.strip():
            quality[name.strip()] = value
    for coding in _CODINGS:
        if quality.get(coding.value, quality.get("*", 0.0)) > 0:
            return coding
    return None


def _compressible(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether the answer is text worth compressing that compression cannot break."""
    if request.path.startswith("/portal/"):
        # The portal's documents are signed and their strong ETags name the exact bytes:
        # they go as they are.
        return False
    if response.status in (204, 304) or "Content-Encoding" in response.headers:
        return False
    if isinstance(response, web.FileResponse):
        name = request.path.removeprefix(STATIC_PREFIX)
        suffix = name[name.rfind(".") :] if "." in name else ""
        versions = request.app[keys.STATIC_VERSIONS]
        return suffix in _STATIC_TEXT_SUFFIXES and versions.size(name) >= MIN_COMPRESSED_BYTES
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return False  # streamed answers (exports) and payload objects go as they are
    etag = response.etag
    if etag is not None and not etag.is_weak:
        return False  # a strong ETag (the API's marks) names these exact bytes
    return (
        response.content_type in COMPRESSIBLE_TYPES and len(response.body) >= MIN_COMPRESSED_BYTES
    )


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Text answers of 1 KB and more go gzip-compressed to clients that accept it (the
    timetable editor's HTML shrinks more than tenfold); they say ``Vary: Accept-Encoding``
    whether compressed or not, so a shared cache keeps the two apart."""
    response = await handler(request)
    if not _compressible(request, response):
        return response
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    coding = accepted_coding(request)
    if coding is not None and not _file_not_whole(request, response):
        response.enable_compression(coding)
    return response


def _file_not_whole(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether a static file's answer may be other than the whole file: a byte range is of the
    file as stored, and aiohttp would write an empty gzip stream as the body of a HEAD or of a
    304 to a revalidation. Such requests get the file as it is (a 304 has no body anyway)."""
    return isinstance(response, web.FileResponse) and (
        request.method != "GET" or any(header in request.headers for header in _CONDITIONAL_HEADERS)
    )
