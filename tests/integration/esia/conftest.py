"""Fixtures for ESIA flows over real loopback HTTP: client keys, a running emulator, clients."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
import pytest

from gosuslugi_adapter.client import EsiaClient, EsiaProtocol
from gosuslugi_adapter.devkeys import generate_gost_credentials, generate_rsa_credentials
from gosuslugi_adapter.emulator import RegisteredClient, RunningEmulator, running_emulator
from gosuslugi_adapter.id_tokens import TokenVerifier
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner, RsaSigner, Signer

REDIRECT_URI = "http://127.0.0.1:8080/auth/esia/callback"
ISSUER = "http://esia.gosuslugi.ru/"


@pytest.fixture(scope="session")
def rsa_signer() -> Signer:
    creds = generate_rsa_credentials("RSA test client")
    return RsaSigner(load_private_key(creds.key_pem), load_certificate(creds.cert_pem))


@pytest.fixture(scope="session")
def gost_signer() -> Signer:
    creds = generate_gost_credentials("GOST test client")
    return GostSigner(load_private_key(creds.key_pem), load_certificate(creds.cert_pem))


@pytest.fixture(scope="session")
def openssl_gost_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A GOST key and self-signed certificate made by OpenSSL's GOST engine (must be present)."""
    assert shutil.which("openssl"), "openssl is required"
    base = tmp_path_factory.mktemp("openssl-gost")
    key, cert = base / "client.key", base / "client.pem"
    openssl(
        "genpkey",
        "-engine",
        "gost",
        "-algorithm",
        "gost2012_256",
        "-pkeyopt",
        "paramset:A",
        "-out",
        str(key),
    )
    openssl(
        "req",
        "-x509",
        "-engine",
        "gost",
        "-key",
        str(key),
        "-md_gost12_256",
        "-subj",
        "/CN=OpenSSL GOST client",
        "-days",
        "30",
        "-out",
        str(cert),
    )
    return key, cert


@pytest.fixture(scope="session")
def openssl_rsa_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("openssl-rsa")
    key, cert = base / "client.key", base / "client.pem"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-subj",
        "/CN=OpenSSL RSA client",
        "-days",
        "30",
        "-out",
        str(cert),
    )
    return key, cert


def openssl(*args: str, stdin: bytes | None = None) -> bytes:
    """Run openssl; a failure (e.g. no GOST engine) fails the test with OpenSSL's message."""
    done = subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture
async def esia(
    rsa_signer: Signer,
    gost_signer: Signer,
    openssl_gost_files: tuple[Path, Path],
    openssl_rsa_files: tuple[Path, Path],
) -> AsyncIterator[RunningEmulator]:
    clients = [
        RegisteredClient("RSA-CLIENT", rsa_signer.certificate, "http://127.0.0.1:8080/"),
        RegisteredClient("GOST-CLIENT", gost_signer.certificate, "http://127.0.0.1:8080/"),
        RegisteredClient("OPENSSL-GOST", load_certificate(openssl_gost_files[1])),
        RegisteredClient("OPENSSL-RSA", load_certificate(openssl_rsa_files[1])),
    ]
    async with running_emulator(clients) as running:
        yield running


MakeClient = Callable[..., EsiaClient]


@pytest.fixture
async def make_client(esia: RunningEmulator) -> AsyncIterator[MakeClient]:
    made: list[EsiaClient] = []
    token_cert = load_certificate(esia.token_certificate_pem)

    def make(
        signer: Signer,
        protocol: str = "v2",
        client_id: str | None = None,
        scopes: str | None = None,
        **kwargs: object,
    ) -> EsiaClient:
        client_id = client_id or ("RSA-CLIENT" if isinstance(signer, RsaSigner) else "GOST-CLIENT")
        verifier = TokenVerifier([token_cert], issuer=ISSUER, client_id=client_id)
        extra = {"scopes": scopes} if scopes else {}
        client = EsiaClient(
            base_url=esia.base_url,
            client_id=client_id,
            redirect_uri=REDIRECT_URI,
            signer=signer,
            verifier=verifier,
            protocol=EsiaProtocol(protocol),
            **extra,
            **kwargs,
        )  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that does not follow redirects: each hop is inspected, like a test browser."""
    async with aiohttp.ClientSession() as session:
        yield session


SignIn = Callable[[str, str], Awaitable[dict[str, str]]]


@pytest.fixture
def sign_in(browser: aiohttp.ClientSession) -> SignIn:
    """Open an authorization URL, pick ``oid`` on the emulator's form, return the callback query."""

    async def run(url: str, oid: str) -> dict[str, str]:
        async with browser.get(url, allow_redirects=False) as page:
            if page.status == 302:
                return _query(page.headers["Location"])
            assert page.status == 200, await page.text()
            html = await page.text()
        action = re.search(r'<form method="post" action="([^"]+)"', html)
        assert action is not None and 'name="oid"' in html
        target = urljoin(url, action.group(1).replace("&amp;", "&"))
        async with browser.post(target, data={"oid": oid}, allow_redirects=False) as answer:
            assert answer.status == 302, await answer.text()
            return _query(answer.headers["Location"])

    return run


def _query(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
