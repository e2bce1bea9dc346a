"""Signed-text order per generation, authorization URLs, callbacks and ESIA error codes."""

from __future__ import annotations

import argparse
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.cli.esia_emulator import register
from gosuslugi_adapter.client import EsiaClient, EsiaProtocol, signed_text
from gosuslugi_adapter.emulator.app import make_token_issuer
from gosuslugi_adapter.emulator.persons import (
    PersonsFileError,
    builtin_persons,
    normalise_snils,
    parse_persons,
)
from gosuslugi_adapter.encoding import b64url_decode
from gosuslugi_adapter.errors import (
    EsiaAccessDenied,
    EsiaAuthorizationError,
    EsiaRemoteError,
    EsiaStateMismatch,
    lookup,
)
from gosuslugi_adapter.id_tokens import TokenVerifier
from gosuslugi_adapter.signers import SignatureForm, Signer

PARTS = {
    "client_id": "CID",
    "scope": "openid snils",
    "timestamp": "2026.01.15 10:00:00 +0300",
    "state": "S",
    "redirect_uri": "http://127.0.0.1/cb",
}


def test_v1_signed_text_is_scope_timestamp_client_state() -> None:
    text = signed_text(EsiaProtocol.V1, **PARTS, grant="CODE")
    assert text == "openid snils2026.01.15 10:00:00 +0300CIDS"


def test_v2_signed_text_is_client_scope_timestamp_state_redirect() -> None:
    text = signed_text(EsiaProtocol.V2, **PARTS)
    assert text == "CIDopenid snils2026.01.15 10:00:00 +0300Shttp://127.0.0.1/cb"


def test_v2_token_text_ends_with_the_code() -> None:
    text = signed_text(EsiaProtocol.V2, **PARTS, grant="CODE")
    assert text.endswith("http://127.0.0.1/cbCODE")


class RecordingSigner(Signer):
    """A fake signer that records what it was asked to sign."""

    def __init__(self, inner: Signer) -> None:
        super().__init__(inner.certificate)
        self.seen: list[tuple[bytes, SignatureForm]] = []

    async def sign(self, text: bytes, form: SignatureForm) -> bytes:
        self.seen.append((text, form))
        return b"\x01" * 64


def _client(signer: Signer, protocol: str) -> EsiaClient:
    verifier = TokenVerifier(
        [make_token_issuer().certificate], issuer="http://esia.gosuslugi.ru/", client_id="CID"
    )
    return EsiaClient(
        base_url="https://esia.example/",
        client_id="CID",
        redirect_uri="http://127.0.0.1/cb",
        signer=signer,
        verifier=verifier,
        protocol=protocol,
        scopes="openid  snils",
    )


@pytest.mark.parametrize(
    ("protocol", "path", "form"),
    [("v1", "/aas/oauth2/ac", SignatureForm.CMS), ("v2", "/aas/oauth2/v2/ac", SignatureForm.RAW)],
)
async def test_authorization_url_carries_signed_parameters(
    protocol: str, path: str, form: SignatureForm, rsa_signer: Signer
) -> None:
    recorder = RecordingSigner(rsa_signer)
    request = await _client(recorder, protocol).authorization_request()
    url = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == path and "%2B" in url.query and "+" not in url.query
    assert query["timestamp"] == request.timestamp and query["state"] == request.state
    assert query["response_type"] == "code" and query["access_type"] == "offline"
    assert b64url_decode(query["client_secret"]) == b"\x01" * 64
    text = signed_text(
        EsiaProtocol(protocol),
        client_id="CID",
        scope="openid snils",
        timestamp=request.timestamp,
        state=request.state,
        redirect_uri="http://127.0.0.1/cb",
    )
    assert recorder.seen == [(text.encode(), form)]
    assert ("client_certificate_hash" in query) is (protocol == "v2")
    if protocol == "v2":
        assert "=" not in query["client_secret"]
        assert query["client_certificate_hash"] == rsa_signer.certificate_hash


async def test_every_request_has_a_fresh_uuid_state(rsa_signer: Signer) -> None:
    client = _client(rsa_signer, "v2")
    first, second = await client.authorization_request(), await client.authorization_request()
    assert first.state != second.state and len(first.state) == 36


def test_callback_returns_the_code_when_state_matches(rsa_signer: Signer) -> None:
    assert _client(rsa_signer, "v2").parse_callback({"code": "C", "state": "S"}, "S") == "C"


@pytest.mark.parametrize("query", [{"code": "C", "state": "T"}, {"code": "C"}])
def test_callback_with_another_or_no_state_is_refused(query: dict[str, str], rsa_signer: Signer):
    with pytest.raises(EsiaStateMismatch):
        _client(rsa_signer, "v2").parse_callback(query, "S")


def test_error_redirect_becomes_a_typed_error_explaining_the_code(rsa_signer: Signer) -> None:
    query = {
        "error": "invalid_request",
        "state": "S",
        "error_description": "ESIA-007014: The request doesn't contain the mandatory param",
    }
    with pytest.raises(EsiaAuthorizationError) as caught:
        _client(rsa_signer, "v2").parse_callback(query, "S")
    assert caught.value.code == "ESIA-007014"
    assert "mandatory parameter is missing" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ESIA-007002", "client_id is unknown"),
        ("ESIA-007003", "repeated"),
        ("ESIA-007004", "refused"),
        ("ESIA-007005", "method"),
        ("ESIA-007006", "scope"),
        ("ESIA-007007", "unexpected"),
        ("ESIA-007008", "maintenance"),
        ("ESIA-007009", "grant"),
        ("ESIA-007010", "refused"),
        ("ESIA-007011", "already used"),
        ("ESIA-007012", "response_type"),
        ("ESIA-007013", "no scope"),
        ("ESIA-007014", "missing"),
        ("ESIA-007015", "timestamp"),
        ("ESIA-007023", "redirect_uri"),
        ("ESIA-007053", "client_secret"),
        ("ESIA-007055", "not confirmed"),
    ],
)
def test_each_esia_code_has_a_meaning_and_a_russian_message(code: str, words: str) -> None:
    info = lookup("invalid_request", f"{code}: whatever")
    assert info.code == code and words in info.meaning
    assert any("а" <= ch <= "я" for ch in info.user_message)


def test_access_denied_without_code_is_access_denied() -> None:
    error = EsiaRemoteError.from_fields({"error": "access_denied"})
    assert isinstance(error, EsiaAccessDenied) and error.code == "access_denied"


def test_unknown_code_is_kept_verbatim() -> None:
    assert lookup("server_error", "ESIA-999999: new").code == "ESIA-999999"


def test_logout_url(rsa_signer: Signer) -> None:
    url = _client(rsa_signer, "v1").logout_url("http://127.0.0.1/bye")
    assert url == (
        "https://esia.example/idp/ext/Logout?client_id=CID"
        "&redirect_url=http%3A%2F%2F127.0.0.1%2Fbye"
    )


def test_builtin_persons_cover_the_cases_the_tests_need() -> None:
    persons = builtin_persons()
    assert any(p.trusted for p in persons) and any(not p.trusted for p in persons)
    assert any(len(p.kids) >= 2 for p in persons)
    kid_snils = {k.fields["snils"] for p in persons for k in p.kids}
    assert any(p.fields["snils"] in kid_snils for p in persons)  # a pupil with his own account
    for snils in [p.fields["snils"] for p in persons] + list(kid_snils):
        assert normalise_snils(snils) == snils


@pytest.mark.parametrize(
    ("raw", "normal"), [("11223344595", "112-233-445 95"), ("112-233-445 95", "112-233-445 95")]
)
def test_snils_is_normalised(raw: str, normal: str) -> None:
    assert normalise_snils(raw) == normal


def test_snils_with_wrong_checksum_is_refused() -> None:
    with pytest.raises(ValueError, match="checksum"):
        normalise_snils("112-233-445 96")


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        [{"oid": 1}],
        [{"oid": 1, "lastName": "А", "firstName": "Б", "trusted": "yes"}],
        [{"oid": 1, "lastName": "А", "firstName": "Б", "trusted": True, "snils": "112-233-445 96"}],
    ],
)
def test_bad_persons_file_is_refused(data: object) -> None:
    with pytest.raises(PersonsFileError):
        parse_persons(data)


def test_cli_follows_the_design_contract() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "esia-emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "8091",
            "--persons",
            "p.json",
            "--client",
            "A=a.pem",
            "--client",
            "B=b.pem,http://127.0.0.1:8080/",
            "--token-cert-out",
            "esia.pem",
        ]
    )
    assert (args.host, args.port, args.persons, args.token_cert_out) == (
        "127.0.0.1",
        8091,
        "p.json",
        "esia.pem",
    )
    assert args.client == ["A=a.pem", "B=b.pem,http://127.0.0.1:8080/"]
    assert args.func(argparse.Namespace(**{**vars(args), "client": ["bad"]})) == 2


def test_adapter_imports_neither_gateway_nor_diary_core() -> None:
    import ast
    from pathlib import Path

    import gosuslugi_adapter

    root = Path(gosuslugi_adapter.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                assert name.split(".")[0] not in ("gateway", "diary_core"), f"{path}: {name}"
