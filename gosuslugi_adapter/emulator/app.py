"""Building, starting and running the emulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gosuslugi_adapter.devkeys import generate_gost_credentials, generate_rsa_credentials
from gosuslugi_adapter.emulator import handlers
from gosuslugi_adapter.emulator.core import Emulator, RegisteredClient
from gosuslugi_adapter.emulator.persons import Person, builtin_persons, load_persons
from gosuslugi_adapter.emulator.token_issuer import ESIA_ISSUER, TokenIssuer
from gosuslugi_adapter.key_files import load_certificate, load_private_key


def make_token_issuer(algorithm: str = "RS256", issuer: str = ESIA_ISSUER) -> TokenIssuer:
    """A throwaway token-signing key and certificate: ``RS256`` or ``GOST3410_2012_256``."""
    generate = {
        "RS256": generate_rsa_credentials,
        "GOST3410_2012_256": generate_gost_credentials,
    }.get(algorithm)
    if generate is None:
        raise ValueError(f"token algorithm must be RS256 or GOST3410_2012_256, not {algorithm}")
    credentials = generate("ESIA emulator token signing")
    return TokenIssuer(
        load_private_key(credentials.key_pem), load_certificate(credentials.cert_pem), issuer
    )


def make_emulator_app(
    clients: Sequence[RegisteredClient],
    persons: Sequence[Person] | None = None,
    *,
    token_issuer: TokenIssuer | None = None,
    clock: Callable[[], float] = time.time,
    echo_nonce: bool = False,
) -> web.Application:
    """The emulator as an aiohttp application; ``app[EMULATOR]`` is its state and switches.

    ``echo_nonce``: carry the request's nonce into the id_token (production ESIA does not)."""
    people = builtin_persons() if persons is None else tuple(persons)
    app = web.Application(middlewares=[handlers.browser_errors])
    app[handlers.EMULATOR] = Emulator(
        clients={c.client_id: c for c in clients},
        persons={p.oid: p for p in people},
        issuer=token_issuer or make_token_issuer(),
        clock=clock,
        echo_nonce=echo_nonce,
    )
    _routes(app)
    return app


def _routes(app: web.Application) -> None:
    h = handlers
    app.router.add_get("/aas/oauth2/ac", h.authorize_v1)
    app.router.add_get("/aas/oauth2/v2/ac", h.authorize_v2)
    app.router.add_post("/aas/oauth2/login/{login_id}", h.pick_person)
    app.router.add_post("/aas/oauth2/te", h.token_v1)
    app.router.add_post("/aas/oauth2/v3/te", h.token_v3)
    app.router.add_get("/rs/prns/{oid}", h.person)
    app.router.add_get("/rs/prns/{oid}/ctts", h.contacts)
    app.router.add_get("/rs/prns/{oid}/ctts/{item}", h.contacts)
    app.router.add_get("/rs/prns/{oid}/kids", h.kids)
    app.router.add_get("/rs/prns/{oid}/kids/{item}", h.kids)
    app.router.add_get("/idp/ext/Logout", h.logout)
    app.router.add_route("*", "/emulator/switches", h.switches)
    app.router.add_get("/emulator/token-certificate.pem", h.token_certificate)


def parse_client_spec(spec: str) -> RegisteredClient:
    """``ID=CERT.pem[,REDIRECT_URI_PREFIX]`` → a registered client (certificate loaded)."""
    client_id, sep, rest = spec.partition("=")
    if not sep or not client_id or not rest:
        raise ValueError(f"--client {spec!r}: expected ID=CERT.pem[,REDIRECT_URI_PREFIX]")
    cert_path, _, prefix = rest.partition(",")
    return RegisteredClient(client_id, load_certificate(cert_path), prefix or None)


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator listening on loopback: where it is, and its state (switches, stores)."""

    base_url: str
    emulator: Emulator

    @property
    def token_certificate_pem(self) -> bytes:
        return self.emulator.issuer.certificate.pem()


@asynccontextmanager
async def running_emulator(
    clients: Sequence[RegisteredClient],
    persons: Sequence[Person] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token_issuer: TokenIssuer | None = None,
    clock: Callable[[], float] = time.time,
    echo_nonce: bool = False,
) -> AsyncIterator[RunningEmulator]:
    """Serve the emulator inside the current event loop (``port=0``: any free port)."""
    app = make_emulator_app(
        clients, persons, token_issuer=token_issuer, clock=clock, echo_nonce=echo_nonce
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield RunningEmulator(f"http://{url_host}:{bound_port}", app[handlers.EMULATOR])
    finally:
        await runner.cleanup()


def run_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 8090,
    clients: Sequence[RegisteredClient] = (),
    persons_file: str | Path | None = None,
    token_cert_out: str | Path | None = None,
    echo_nonce: bool = False,
    wrong_nonce: bool = False,
) -> None:
    """Blocking entry point of ``ediary esia-emulator``; stops on Ctrl+C.

    ``echo_nonce`` echoes the request's nonce in id_tokens; ``wrong_nonce`` starts with that
    switch on (id_tokens carry a nonce other than the one sent)."""
    persons = load_persons(persons_file) if persons_file else None
    app = make_emulator_app(clients, persons, echo_nonce=echo_nonce)
    emulator = app[handlers.EMULATOR]
    emulator.switches.wrong_nonce = wrong_nonce
    issuer = emulator.issuer
    if token_cert_out:
        Path(token_cert_out).write_bytes(issuer.certificate.pem())
    print(
        f"ESIA emulator on http://{host}:{port} — tokens {issuer.algorithm}, "
        f"clients: {', '.join(c.client_id for c in clients) or 'none'}, "
        f"nonce in id_tokens: {_nonce_mode(echo_nonce, wrong_nonce)}",
        flush=True,
    )
    web.run_app(app, host=host, port=port, print=None)


def _nonce_mode(echo_nonce: bool, wrong_nonce: bool) -> str:
    if wrong_nonce:
        return "a wrong one (misbehaving)"
    return "echoed" if echo_nonce else "none, like production ESIA"
