"""The emulator refuses what ESIA refuses, with ESIA's codes; its switches make it misbehave,
and the client's defences catch every misbehaviour."""

from __future__ import annotations

import time
import uuid

import aiohttp
import pytest

from gosuslugi_adapter.client import EsiaClient
from gosuslugi_adapter.emulator import RunningEmulator
from gosuslugi_adapter.errors import EsiaAccessDenied, EsiaStateMismatch, EsiaTokenError
from gosuslugi_adapter.id_tokens import TokenRejected
from gosuslugi_adapter.signers import Signer

from .conftest import MakeClient, SignIn

PUPIL = "1000300005"


async def _code(client: EsiaClient, sign_in: SignIn) -> str:
    request = await client.authorization_request()
    return client.parse_callback(await sign_in(request.url, PUPIL), request.state)


async def _post_token(
    browser: aiohttp.ClientSession, client: EsiaClient, code: str, **tamper: str | None
) -> tuple[int, dict[str, str]]:
    """A token request built like the client's, with some fields replaced or removed (None)."""
    form = await client._signed_params(str(uuid.uuid4()), code)
    form.update(grant_type="authorization_code", token_type="Bearer", code=code)
    for name, value in tamper.items():
        if value is None:
            form.pop(name)
        else:
            form[name] = value
    path = "/aas/oauth2/te" if client.protocol == "v1" else "/aas/oauth2/v3/te"
    async with browser.post(client.base_url + path, data=form) as answer:
        return answer.status, await answer.json()


@pytest.mark.parametrize("protocol", ["v1", "v2"])
async def test_bad_client_secret_is_esia_007053(
    protocol: str,
    gost_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    browser: aiohttp.ClientSession,
) -> None:
    client = make_client(gost_signer, protocol)
    code = await _code(client, sign_in)
    status, body = await _post_token(browser, client, code, state=str(uuid.uuid4()))
    assert status == 401
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("ESIA-007053")


async def test_secret_signed_by_another_key_is_esia_007053(
    rsa_signer: Signer,
    gost_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    browser: aiohttp.ClientSession,
) -> None:
    honest = make_client(gost_signer, "v2")
    code = await _code(honest, sign_in)
    impostor = make_client(rsa_signer, "v2", client_id="GOST-CLIENT")
    form_client_hash = gost_signer.certificate_hash
    status, body = await _post_token(
        browser, impostor, code, client_certificate_hash=form_client_hash
    )
    assert (status, body["error_description"][:11]) == (401, "ESIA-007053")


async def test_missing_parameter_is_esia_007014(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, browser: aiohttp.ClientSession
) -> None:
    client = make_client(rsa_signer, "v2")
    code = await _code(client, sign_in)
    status, body = await _post_token(browser, client, code, timestamp=None)
    assert (status, body["error"]) == (400, "invalid_request")
    assert body["error_description"].startswith("ESIA-007014")


async def test_wrong_certificate_hash_is_esia_007002(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, browser: aiohttp.ClientSession
) -> None:
    client = make_client(rsa_signer, "v2")
    code = await _code(client, sign_in)
    status, body = await _post_token(browser, client, code, client_certificate_hash="00" * 32)
    assert status == 401
    assert body["error_description"].startswith("ESIA-007002")


async def test_timestamp_out_of_window_is_esia_007015(
    rsa_signer: Signer, make_client: MakeClient, esia: RunningEmulator
) -> None:
    client = make_client(rsa_signer, "v1")
    esia.emulator.clock = lambda: time.time() + 3600
    with pytest.raises(EsiaTokenError) as refused:
        await client.exchange_code("whatever")
    assert refused.value.code == "ESIA-007015"
    assert "timestamp" in str(refused.value)


async def test_used_code_is_esia_007011(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(rsa_signer, "v2")
    code = await _code(client, sign_in)
    await client.exchange_code(code)
    with pytest.raises(EsiaTokenError) as refused:
        await client.exchange_code(code)
    assert refused.value.code == "ESIA-007011"
    assert "already used" in str(refused.value)


async def test_code_expires_after_240_seconds(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, esia: RunningEmulator
) -> None:
    client = make_client(rsa_signer, "v2")
    code = await _code(client, sign_in)
    esia.emulator.clock = lambda: time.time() + 241
    with pytest.raises(EsiaTokenError) as refused:
        await client.exchange_code(code)
    assert refused.value.code == "ESIA-007011"


async def test_code_is_still_good_at_239_seconds(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, esia: RunningEmulator
) -> None:
    client = make_client(rsa_signer, "v2")
    code = await _code(client, sign_in)
    esia.emulator.clock = lambda: time.time() + 239
    client.verifier._clock = esia.emulator.clock
    assert (await client.exchange_code(code)).oid == PUPIL


@pytest.mark.parametrize(
    "redirect_uri", ["https://evil.example/cb", "http://127.0.0.1:8080.evil.example/cb"]
)
async def test_redirect_not_allowed_is_esia_007023_shown_on_esia_page(
    redirect_uri: str,
    rsa_signer: Signer,
    make_client: MakeClient,
    browser: aiohttp.ClientSession,
) -> None:
    client = make_client(rsa_signer, "v2")
    client.redirect_uri = redirect_uri
    request = await client.authorization_request()
    async with browser.get(request.url, allow_redirects=False) as page:
        assert page.status == 400
        html = await page.text()
    assert "ESIA-007023" in html and "Адрес возврата" in html


async def test_unknown_client_is_esia_007002(
    rsa_signer: Signer, make_client: MakeClient, browser: aiohttp.ClientSession
) -> None:
    client = make_client(rsa_signer, "v2", client_id="NOBODY")
    request = await client.authorization_request()
    async with browser.get(request.url, allow_redirects=False) as page:
        assert page.status == 400 and "ESIA-007002" in await page.text()


async def test_bad_secret_on_authorization_redirects_with_007053(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn
) -> None:
    client = make_client(rsa_signer, "v2")
    request = await client.authorization_request()
    tampered = request.url.replace("scope=openid", "scope=openid%20email")
    callback = await sign_in(tampered, PUPIL)
    assert callback["error"] == "invalid_client"
    assert callback["error_description"].startswith("ESIA-007053")
    assert callback["state"] == request.state


@pytest.mark.parametrize(
    ("switch", "check"),
    [
        ("bad_token_signature", "signature"),
        ("wrong_issuer", "iss"),
        ("expired_token", "exp"),
    ],
)
@pytest.mark.parametrize("token_kind", ["RS256"])
async def test_misbehaving_tokens_are_refused(
    switch: str,
    check: str,
    token_kind: str,
    gost_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    esia: RunningEmulator,
) -> None:
    client = make_client(gost_signer, "v2")
    code = await _code(client, sign_in)
    esia.emulator.switches.update({switch: True})
    with pytest.raises(TokenRejected) as refused:
        await client.exchange_code(code)
    assert refused.value.check == check


async def test_wrong_echoed_state_in_token_response_is_refused(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, esia: RunningEmulator
) -> None:
    client = make_client(rsa_signer, "v1")
    code = await _code(client, sign_in)
    esia.emulator.switches.wrong_state = True
    with pytest.raises(EsiaStateMismatch):
        await client.exchange_code(code)


async def test_wrong_state_on_callback_is_refused(
    rsa_signer: Signer, make_client: MakeClient, sign_in: SignIn, esia: RunningEmulator
) -> None:
    client = make_client(rsa_signer, "v2")
    esia.emulator.switches.wrong_callback_state = True
    request = await client.authorization_request()
    with pytest.raises(EsiaStateMismatch):
        client.parse_callback(await sign_in(request.url, PUPIL), request.state)


@pytest.mark.parametrize("code", ["ESIA-007004", "ESIA-007055"])
async def test_error_redirect_becomes_access_denied_with_russian_message(
    code: str,
    rsa_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    esia: RunningEmulator,
) -> None:
    client = make_client(rsa_signer, "v2")
    esia.emulator.switches.error_redirect = code
    request = await client.authorization_request()
    with pytest.raises(EsiaAccessDenied) as refused:
        client.parse_callback(await sign_in(request.url, PUPIL), request.state)
    assert refused.value.code == code
    assert "Госуслуг" in refused.value.user_message


async def test_person_declining_is_access_denied(
    rsa_signer: Signer, make_client: MakeClient, browser: aiohttp.ClientSession
) -> None:
    client = make_client(rsa_signer, "v2")
    request = await client.authorization_request()
    async with browser.get(request.url) as page:
        html = await page.text()
    action = html.split('action="')[1].split('"')[0]
    async with browser.post(
        client.base_url + action, data={"deny": "1"}, allow_redirects=False
    ) as answer:
        location = answer.headers["Location"]
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    with pytest.raises(EsiaAccessDenied) as refused:
        client.parse_callback(query, request.state)
    assert refused.value.code == "ESIA-007004"


async def test_switches_are_settable_over_http_and_validated(
    esia: RunningEmulator, browser: aiohttp.ClientSession
) -> None:
    url = esia.base_url + "/emulator/switches"
    async with browser.post(url, json={"expired_token": True}) as answer:
        assert (await answer.json())["expired_token"] is True
    assert esia.emulator.switches.expired_token is True
    async with browser.post(url, json={"no_such_switch": True}) as answer:
        assert answer.status == 400
    async with browser.post(url, json={"reset": True}) as answer:
        assert (await answer.json())["expired_token"] is False


async def test_rest_needs_a_token_for_that_person(
    rsa_signer: Signer,
    make_client: MakeClient,
    sign_in: SignIn,
    browser: aiohttp.ClientSession,
) -> None:
    client = make_client(rsa_signer, "v2")
    tokens = await client.exchange_code(await _code(client, sign_in))
    other = f"{client.base_url}/rs/prns/1000300001"
    async with browser.get(other, headers={"Authorization": f"Bearer {tokens.access_token}"}) as r:
        assert r.status == 403
    async with browser.get(f"{client.base_url}/rs/prns/{PUPIL}") as r:
        assert r.status == 401
