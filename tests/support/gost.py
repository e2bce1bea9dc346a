"""Run a test once with each GOST backend: OpenSSL's engine in-process, and gostcrypto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gosuslugi_adapter.gost import GostBackend, backend, load_backend, use_backend

BACKENDS = ("openssl", "gostcrypto")


@pytest.fixture(params=BACKENDS)
def gost_backend(request: pytest.FixtureRequest) -> Iterator[GostBackend]:
    """The process's GOST backend for this test; the automatic choice is restored after.

    ``openssl`` must load here (CI installs libengine-gost-openssl): a missing engine fails the
    test instead of quietly testing gostcrypto twice."""
    previous = backend()
    chosen = load_backend(request.param)
    use_backend(chosen)
    try:
        yield chosen
    finally:
        use_backend(previous)
