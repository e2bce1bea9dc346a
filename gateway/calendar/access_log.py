"""The server's access log without subscription tokens.

A feed's address is its credential (docs/calendar.md), and aiohttp's access log writes every
request's path: a log shipped to a log store would hand out working addresses. This logger
is aiohttp's own (same format) with the token of ``/calendar/<token>.ics`` masked.
"""

from __future__ import annotations

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

PREFIX = "/calendar/"
MASKED = PREFIX + "***.ics"


class TokenMaskingAccessLogger(AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path.startswith(PREFIX):
            request = request.clone(rel_url=MASKED)
        super().log(request, response, time)
