"""Token verification, one check at a time: missing → refused, wrong → refused, right → accepted.

Tokens are made by the emulator's own issuer (RS256 and GOST3410_2012_256) and then edited and
re-signed, so each case differs from a good token in exactly one respect.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import load_settings
from gosuslugi_adapter.emulator.app import make_token_issuer
from gosuslugi_adapter.emulator.core import Grant, Switches
from gosuslugi_adapter.emulator.token_issuer import TokenIssuer
from gosuslugi_adapter.encoding import b64url, b64url_decode
from gosuslugi_adapter.id_tokens import TokenConfigError, TokenRejected, TokenVerifier
from gosuslugi_adapter.key_files import Certificate

ISSUER = "http://esia.gosuslugi.ru/"
CLIENT = "SCHOOL-DIARY"
NOW = 1_800_000_000.0
GRANT = Grant(CLIENT, "1000300001", "openid fullname snils", "http://127.0.0.1/cb", "n1", NOW)


@pytest.fixture(scope="module", params=["RS256", "GOST3410_2012_256"])
def issuer(request: pytest.FixtureRequest) -> TokenIssuer:
    return make_token_issuer(request.param)


@pytest.fixture(scope="module")
def other_issuer() -> TokenIssuer:
    return make_token_issuer("RS256")


def verifier(*certs: Certificate, leeway: int = 60, require_nonce: bool = False) -> TokenVerifier:
    return TokenVerifier(
        list(certs),
        issuer=ISSUER,
        client_id=CLIENT,
        leeway_seconds=leeway,
        require_nonce=require_nonce,
        clock=lambda: NOW,
    )


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _sig = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


def resign(
    issuer: TokenIssuer,
    token: str,
    edit: Callable[[dict[str, Any]], None],
    header_edit: Callable[[dict[str, Any]], None] | None = None,
) -> str:
    """The token with claims (or header) edited, validly signed again by ``issuer``."""
    header, claims = _parts(token)
    edit(claims)
    if header_edit:
        header_edit(header)
    payload = json.dumps(claims).encode()
    # RS256 is PKCS#1 v1.5 with SHA-256, exactly what RsaPrivateKey.sign makes by default.
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(payload)
    signature = issuer._key.sign(signing_input.encode())  # type: ignore[union-attr]
    return f"{signing_input}.{b64url(signature)}"


def access(issuer: TokenIssuer) -> str:
    return issuer.access_token(GRANT, NOW, Switches())


def id_token(issuer: TokenIssuer, nonce: str | None = "n1") -> str:
    """A good id_token carrying ``nonce`` (as the login sent it; None: carrying none)."""
    return issuer.id_token(GRANT, True, NOW, Switches(), nonce=nonce)


def refused(check: str, call: Callable[[], object]) -> None:
    with pytest.raises(TokenRejected) as caught:
        call()
    assert caught.value.check == check, str(caught.value)


# --- construction ---------------------------------------------------------------------------


def test_verifier_refuses_to_exist_without_a_certificate() -> None:
    with pytest.raises(TokenConfigError, match="certificate"):
        TokenVerifier([], issuer=ISSUER, client_id=CLIENT)


@pytest.mark.parametrize("leeway", [-1, 61, 120])
def test_verifier_refuses_a_leeway_over_60_seconds(leeway: int, issuer: TokenIssuer) -> None:
    with pytest.raises(TokenConfigError, match="leeway"):
        verifier(issuer.certificate, leeway=leeway)


def test_verifier_needs_issuer_and_client_id(issuer: TokenIssuer) -> None:
    with pytest.raises(TokenConfigError):
        TokenVerifier([issuer.certificate], issuer="", client_id=CLIENT)


# --- right → accepted -----------------------------------------------------------------------


def test_good_access_token_is_accepted(issuer: TokenIssuer) -> None:
    verified = verifier(issuer.certificate).verify_access_token(access(issuer))
    assert verified.oid == "1000300001" and verified.header["alg"] == issuer.algorithm


def test_good_id_token_is_accepted(issuer: TokenIssuer) -> None:
    verified = verifier(issuer.certificate).verify_id_token(id_token(issuer), nonce="n1")
    assert verified.oid == "1000300001"


def test_any_of_several_certificates_verifies(issuer: TokenIssuer, other_issuer: TokenIssuer):
    v = verifier(other_issuer.certificate, issuer.certificate)
    assert v.verify_access_token(access(issuer)).oid == "1000300001"


# --- structure and algorithm ----------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!!.e30.", "e30.W10.AA"])
def test_malformed_tokens_are_refused(token: str, issuer: TokenIssuer) -> None:
    refused("structure", lambda: verifier(issuer.certificate).verify_access_token(token))


@pytest.mark.parametrize("alg", [None, "none", "HS256", "RS512", "ES256"])
def test_missing_or_disallowed_alg_is_refused(alg: str | None, issuer: TokenIssuer) -> None:
    def set_alg(header: dict[str, Any]) -> None:
        header.pop("alg")
        if alg is not None:
            header["alg"] = alg

    token = resign(issuer, access(issuer), lambda c: None, set_alg)
    refused("alg", lambda: verifier(issuer.certificate).verify_access_token(token))


def test_crit_header_is_refused(issuer: TokenIssuer) -> None:
    token = resign(issuer, access(issuer), lambda c: None, lambda h: h.update(crit=["x"]))
    refused("alg", lambda: verifier(issuer.certificate).verify_access_token(token))


# --- signature ------------------------------------------------------------------------------


def test_missing_signature_is_refused(issuer: TokenIssuer) -> None:
    head, body, _ = access(issuer).split(".")
    unsigned = f"{head}.{body}."
    refused("signature", lambda: verifier(issuer.certificate).verify_access_token(unsigned))


def test_signature_by_another_key_is_refused(issuer: TokenIssuer, other_issuer: TokenIssuer):
    token = access(issuer)
    refused("signature", lambda: verifier(other_issuer.certificate).verify_access_token(token))


def test_corrupted_signature_is_refused(issuer: TokenIssuer) -> None:
    token = issuer.access_token(GRANT, NOW, Switches(bad_token_signature=True))
    refused("signature", lambda: verifier(issuer.certificate).verify_access_token(token))


def test_edited_claims_break_the_signature(issuer: TokenIssuer) -> None:
    head, _body, sig = access(issuer).split(".")
    _h, claims = _parts(access(issuer))
    claims["urn:esia:sbj_id"] = 1
    forged = f"{head}.{b64url(json.dumps(claims).encode())}.{sig}"
    refused("signature", lambda: verifier(issuer.certificate).verify_access_token(forged))


# --- claims: one table ----------------------------------------------------------------------


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda claims: claims.pop(name)


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda claims: claims.__setitem__(name, value)


ACCESS_CASES = [
    ("iss", _drop("iss")),
    ("iss", _set("iss", "http://esia.evil.example/")),
    ("iss", _set("iss", "http://esia.gosuslugi.ru")),
    ("exp", _drop("exp")),
    ("exp", _set("exp", NOW - 61)),
    ("exp", _set("exp", "soon")),
    ("nbf", _drop("nbf")),
    ("nbf", _set("nbf", NOW + 61)),
    ("iat", _drop("iat")),
    ("iat", _set("iat", NOW + 61)),
    ("iat", _set("iat", True)),
    ("aud", _drop("client_id")),
    ("aud", _set("client_id", "OTHER")),
    ("sbj", _drop("urn:esia:sbj_id")),
    ("sbj", _set("urn:esia:sbj_id", "abc")),
    ("sbj", _set("urn:esia:sbj_id", 0)),
]


@pytest.mark.parametrize(("check", "edit"), ACCESS_CASES)
def test_access_token_claim_missing_or_wrong_is_refused(
    check: str, edit: Callable[[dict[str, Any]], None], issuer: TokenIssuer
) -> None:
    token = resign(issuer, access(issuer), edit)
    refused(check, lambda: verifier(issuer.certificate).verify_access_token(token))


@pytest.mark.parametrize(
    "edit", [_set("exp", NOW - 59), _set("nbf", NOW + 59), _set("iat", NOW + 59)]
)
def test_times_within_the_leeway_are_accepted(
    edit: Callable[[dict[str, Any]], None], issuer: TokenIssuer
) -> None:
    token = resign(issuer, access(issuer), edit)
    assert verifier(issuer.certificate).verify_access_token(token).oid == "1000300001"


def test_zero_leeway_refuses_one_second_late(issuer: TokenIssuer) -> None:
    token = resign(issuer, access(issuer), _set("exp", NOW - 1))
    refused("exp", lambda: verifier(issuer.certificate, leeway=0).verify_access_token(token))


def _drop_sbj_oid(claims: dict[str, Any]) -> None:
    claims["urn:esia:sbj"].pop("urn:esia:sbj:oid")


ID_CASES = [
    ("aud", _drop("aud")),
    ("aud", _set("aud", "OTHER")),
    ("aud", _set("aud", [CLIENT, "X"])),
    ("sbj", _drop("urn:esia:sbj")),
    ("sbj", _drop_sbj_oid),
    ("sbj", _set("sub", 42)),
    ("nonce", _set("nonce", "n2")),
    ("iss", _set("iss", "https://esia.gosuslugi.ru/")),
    ("exp", _drop("exp")),
]


@pytest.mark.parametrize(("check", "edit"), ID_CASES)
def test_id_token_claim_missing_or_wrong_is_refused(
    check: str, edit: Callable[[dict[str, Any]], None], issuer: TokenIssuer
) -> None:
    token = resign(issuer, id_token(issuer), edit)
    refused(check, lambda: verifier(issuer.certificate).verify_id_token(token, nonce="n1"))


# --- nonce: one table (production ESIA stopped echoing it in November 2022) -----------------

NONCE_CASES = [
    # (the nonce the id_token carries, require_nonce, None when accepted or the check refusing)
    pytest.param(None, False, None, id="absent-accepted"),
    pytest.param("n1", False, None, id="equal-accepted"),
    pytest.param("n2", False, "nonce", id="different-refused"),
    pytest.param("n1-and-more", False, "nonce", id="longer-refused"),
    pytest.param("", False, "nonce", id="empty-refused"),
    pytest.param(None, True, "nonce", id="required-but-absent-refused"),
    pytest.param("n1", True, None, id="required-and-equal-accepted"),
    pytest.param("n2", True, "nonce", id="required-and-different-refused"),
]


@pytest.mark.parametrize(("carried", "required", "check"), NONCE_CASES)
def test_nonce_table(
    carried: str | None, required: bool, check: str | None, issuer: TokenIssuer
) -> None:
    token = id_token(issuer, nonce=carried)
    v = verifier(issuer.certificate, require_nonce=required)
    if check is None:
        assert v.verify_id_token(token, nonce="n1").oid == "1000300001"
    else:
        refused(check, lambda: v.verify_id_token(token, nonce="n1"))


def test_nonce_that_is_not_a_string_is_refused(issuer: TokenIssuer) -> None:
    token = resign(issuer, id_token(issuer), _set("nonce", 1))
    refused("nonce", lambda: verifier(issuer.certificate).verify_id_token(token, nonce="1"))


def test_nonce_is_compared_in_constant_time(
    issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gosuslugi_adapter.id_tokens as tokens

    compared: list[tuple[bytes, bytes]] = []
    real = tokens.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    verifier(issuer.certificate).verify_id_token(id_token(issuer), nonce="n1")
    assert compared == [(b"n1", b"n1")]


def test_absent_nonce_is_logged_at_info_without_the_token(
    issuer: TokenIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    token = id_token(issuer, nonce=None)
    with caplog.at_level(logging.INFO, logger="ediary.esia"):
        verifier(issuer.certificate).verify_id_token(token, nonce="n1")
    notes = [r for r in caplog.records if r.name == "ediary.esia"]
    assert [r.levelno for r in notes] == [logging.INFO]
    assert "no nonce" in notes[0].getMessage()
    assert token not in caplog.text and token.split(".")[1] not in caplog.text


def test_without_a_sent_nonce_there_is_nothing_to_check(issuer: TokenIssuer) -> None:
    """A refresh sends no nonce: any or none in the id_token is not bound to anything."""
    for required in (False, True):
        v = verifier(issuer.certificate, require_nonce=required)
        assert v.verify_id_token(id_token(issuer, nonce=None)).oid == "1000300001"
        assert v.verify_id_token(id_token(issuer, nonce="x")).oid == "1000300001"


def test_require_nonce_comes_from_the_settings(issuer: TokenIssuer, tmp_path: Path) -> None:
    cert = tmp_path / "esia.pem"
    cert.write_bytes(issuer.certificate.pem())
    env = {"EDIARY_ESIA_CERTIFICATES": str(cert), "EDIARY_ESIA_CLIENT_ID": CLIENT}
    assert TokenVerifier.from_settings(load_settings(environ=env).esia).require_nonce is False
    env["EDIARY_ESIA_REQUIRE_NONCE"] = "true"
    assert TokenVerifier.from_settings(load_settings(environ=env).esia).require_nonce is True


def test_access_token_is_not_an_id_token(issuer: TokenIssuer) -> None:
    refused("aud", lambda: verifier(issuer.certificate).verify_id_token(access(issuer)))


def test_expired_switch_gives_a_token_the_verifier_refuses(issuer: TokenIssuer) -> None:
    token = issuer.access_token(GRANT, NOW, Switches(expired_token=True))
    refused("exp", lambda: verifier(issuer.certificate).verify_access_token(token))


def test_real_clock_is_the_default() -> None:
    v = TokenVerifier([make_token_issuer().certificate], issuer=ISSUER, client_id=CLIENT)
    assert abs(v._clock() - time.time()) < 5
