"""Full logins against the emulator over loopback HTTP: both generations, both signers."""

from __future__ import annotations

from datetime import date

import pytest

from gosuslugi_adapter.emulator import RunningEmulator
from gosuslugi_adapter.id_tokens import TokenRejected
from gosuslugi_adapter.signers import Signer

from .conftest import MakeClient, SignIn

MOTHER_OF_THREE = "1000300001"
PUPIL = "1000300005"
UNTRUSTED = "1000300003"


@pytest.fixture(params=["rsa", "gost"])
def signer(request: pytest.FixtureRequest, rsa_signer: Signer, gost_signer: Signer) -> Signer:
    return rsa_signer if request.param == "rsa" else gost_signer


@pytest.mark.parametrize("protocol", ["v1", "v2"])
async def test_parent_signs_in_and_gets_identity_with_children(
    protocol: str, signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(signer, protocol)
    request = await client.authorization_request()
    callback = await sign_in(request.url, MOTHER_OF_THREE)
    code = client.parse_callback(callback, expected_state=request.state)
    tokens = await client.exchange_code(code)
    identity = await client.identity(tokens)
    assert tokens.oid == MOTHER_OF_THREE and identity.oid == MOTHER_OF_THREE
    assert (identity.last_name, identity.first_name, identity.middle_name) == (
        "Иванова",
        "Мария",
        "Петровна",
    )
    assert identity.trusted is True and identity.birth_date == date(1985, 7, 2)
    assert identity.snils == "112-233-445 95"
    assert len(identity.children) == 3
    assert {c.first_name for c in identity.children} == {"Дмитрий", "Алексей", "Анна"}
    assert all(c.snils and c.birth_date for c in identity.children)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
async def test_refresh_gives_new_tokens_once(
    protocol: str, signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(signer, protocol)
    request = await client.authorization_request()
    code = client.parse_callback(await sign_in(request.url, PUPIL), request.state)
    tokens = await client.exchange_code(code)
    renewed = await client.refresh(tokens.refresh_token)
    assert renewed.oid == PUPIL and renewed.access_token != tokens.access_token
    person = await client.person(renewed)
    assert person["snils"] == "158-224-371 66"


async def test_untrusted_account_is_reported_untrusted(
    gost_signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(gost_signer, "v2")
    request = await client.authorization_request()
    code = client.parse_callback(await sign_in(request.url, UNTRUSTED), request.state)
    identity = await client.identity(await client.exchange_code(code))
    assert identity.trusted is False


async def test_nonce_is_carried_into_the_id_token_when_echo_is_asked_for(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, esia: RunningEmulator
) -> None:
    esia.emulator.echo_nonce = True  # production ESIA does not echo it (the default)
    client = make_client(rsa_signer, "v2")
    request = await client.authorization_request(nonce="n-123")
    code = client.parse_callback(await sign_in(request.url, PUPIL), request.state)
    tokens = await client.exchange_code(code, nonce="n-123")
    assert tokens.id_claims["nonce"] == "n-123"


async def test_like_production_esia_the_id_token_carries_no_nonce_and_is_accepted(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(rsa_signer, "v2")
    request = await client.authorization_request(nonce="n-123")
    assert "nonce=n-123" in request.url  # still sent
    code = client.parse_callback(await sign_in(request.url, PUPIL), request.state)
    tokens = await client.exchange_code(code, nonce="n-123")
    assert "nonce" not in tokens.id_claims and tokens.oid == PUPIL


@pytest.mark.parametrize("echo", [False, True])
async def test_wrong_nonce_switch_is_refused(
    echo: bool,
    rsa_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    esia: RunningEmulator,
) -> None:
    esia.emulator.echo_nonce = echo
    esia.emulator.switches.wrong_nonce = True
    client = make_client(rsa_signer, "v2")
    request = await client.authorization_request(nonce="n-123")
    code = client.parse_callback(await sign_in(request.url, PUPIL), request.state)
    with pytest.raises(TokenRejected) as refused:
        await client.exchange_code(code, nonce="n-123")
    assert refused.value.check == "nonce"


async def test_logout_url_returns_to_the_site(
    rsa_signer: Signer, make_client: MakeClient, esia: RunningEmulator, browser: object
) -> None:
    import aiohttp

    client = make_client(rsa_signer, "v2")
    url = client.logout_url("http://127.0.0.1:8080/")
    assert url.startswith(f"{esia.base_url}/idp/ext/Logout?client_id=RSA-CLIENT")
    assert isinstance(browser, aiohttp.ClientSession)
    async with browser.get(url, allow_redirects=False) as answer:
        assert answer.status == 302 and answer.headers["Location"] == "http://127.0.0.1:8080/"
