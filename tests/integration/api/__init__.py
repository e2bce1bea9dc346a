"""A JSON API client for tests: every answer is checked against the endpoint's declaration.

A 2xx body must validate against the declared response schema; an error must be problem
JSON (RFC 9457, with ``code``) whose status the endpoint declares. So a handler that drifts
from its published schema fails the test that exercised it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict

from gateway.api import ENDPOINTS
from gateway.api.openapi import document
from gateway.api.spec import PREFIX, Endpoint
from gateway.api.validation import ApiValidator
from tests.support.gateway import Browser

#: Checks answers against the schemas of the document the gateway publishes.
VALIDATOR = ApiValidator(document(ENDPOINTS, "ediary_session"))


def _pattern(ep: Endpoint) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", ep.full_path) + "$")


def declared(method: str, path: str) -> Endpoint | None:
    """The declared endpoint that routes ``method`` ``path`` (path without the query)."""
    for ep in ENDPOINTS:
        if ep.method == method and _pattern(ep).match(path):
            return ep
    return None


@dataclass
class Answer:
    status: int
    body: Any
    text: str
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)


class Api:
    """Calls ``/api/v1`` as a signed-in browser (or as nobody)."""

    def __init__(self, base: str, browser: Browser) -> None:
        self.base, self.browser = base, browser
        self.token: str | None = None

    async def sign_csrf(self) -> None:
        """Fetch the session's CSRF token the way a client would: GET /session."""
        answer = await self.get("/session")
        assert answer.status == 200, answer.text
        self.token = answer.body["csrf_token"]

    async def get(self, path: str, **params: Any) -> Answer:
        return await self.call("GET", path, params=params)

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: str | None = None,
        params: dict[str, Any] | None = None,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"Accept": "application/json", **(headers or {})}
        if csrf and self.token and method != "GET":
            headers["X-CSRF-Token"] = self.token
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if data is not None:
            headers["Content-Type"] = "application/json"
        query = {k: str(v) for k, v in (params or {}).items()}
        resp = await self.browser.http.request(
            method,
            self.base + PREFIX + path,
            data=data,
            params=query,
            headers=headers,
            allow_redirects=False,
        )
        text = await resp.text()
        answer = Answer(
            resp.status, json.loads(text) if text else None, text, CIMultiDict(resp.headers)
        )
        check_answer(method, PREFIX + path, answer, resp.content_type)
        return answer


def check_answer(method: str, path: str, answer: Answer, content_type: str) -> None:
    """The answer is what the declaration of ``method path`` promises."""
    ep = declared(method, path)
    if ep is None:  # an undeclared path: only a problem 404/405 may come back
        assert answer.status in (404, 405), (method, path, answer.status)
        assert content_type == "application/problem+json"
        return
    if answer.status >= 400:
        assert content_type == "application/problem+json", answer.text
        errors = VALIDATOR.component_errors("Problem", answer.body)
        assert not errors, (errors, answer.body)
        assert answer.status in ep.error_statuses, (ep.operation_id, answer.status, answer.text)
        return
    assert answer.status == (ep.status if ep.response is not None else 204), answer.text
    if ep.response is not None:
        assert content_type == "application/json"
        errors = VALIDATOR.response_errors(ep, answer.body)
        assert not errors, (ep.operation_id, errors)
