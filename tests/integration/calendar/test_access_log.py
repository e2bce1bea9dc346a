"""The access log of ``ediary serve`` masks subscription tokens: a feed's address is its
credential, and logs travel further than the database."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.calendar.access_log import TokenMaskingAccessLogger

TOKEN = "Ab3_-" + "x" * 38


def logged(path: str, caplog: pytest.LogCaptureFixture) -> str:
    logger = logging.getLogger("test.access")
    access = TokenMaskingAccessLogger(logger, '%a %t "%r" %s')
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(make_mocked_request("GET", path), web.Response(status=200), 0.01)
    (record,) = caplog.records
    return record.getMessage()


def test_the_token_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    line = logged(f"/calendar/{TOKEN}.ics", caplog)
    assert TOKEN not in line
    assert '"GET /calendar/***.ics HTTP/1.1" 200' in line


def test_other_paths_are_logged_as_they_are(caplog: pytest.LogCaptureFixture) -> None:
    assert '"GET /diary?week=2025-10-20 HTTP/1.1" 200' in logged("/diary?week=2025-10-20", caplog)
