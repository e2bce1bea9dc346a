"""Keys for the adapter's unit tests (pure Python: no OpenSSL needed here)."""

from __future__ import annotations

import pytest

from gosuslugi_adapter.devkeys import (
    Credentials,
    generate_gost_credentials,
    generate_rsa_credentials,
)
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner, RsaSigner


@pytest.fixture(scope="session")
def rsa_credentials() -> Credentials:
    return generate_rsa_credentials("unit RSA")


@pytest.fixture(scope="session")
def gost_credentials() -> Credentials:
    return generate_gost_credentials("unit GOST")


@pytest.fixture(scope="session")
def rsa_signer(rsa_credentials: Credentials) -> RsaSigner:
    return RsaSigner(
        load_private_key(rsa_credentials.key_pem), load_certificate(rsa_credentials.cert_pem)
    )


@pytest.fixture(scope="session")
def gost_signer(gost_credentials: Credentials) -> GostSigner:
    return GostSigner(
        load_private_key(gost_credentials.key_pem), load_certificate(gost_credentials.cert_pem)
    )
