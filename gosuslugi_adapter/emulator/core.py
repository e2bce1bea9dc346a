"""The emulator's rules and state, without HTTP: what ESIA would accept, and what it issues.

Every refusal is a :class:`Rejection` carrying ESIA's error code; the handlers only translate it
into an error redirect, an error page or a JSON error body.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from ipaddress import ip_address
from urllib.parse import urlsplit

from gosuslugi_adapter.client import EsiaProtocol, signed_text
from gosuslugi_adapter.cms import CmsError, verify_detached
from gosuslugi_adapter.emulator.persons import Person
from gosuslugi_adapter.emulator.token_issuer import TokenIssuer
from gosuslugi_adapter.encoding import b64url_decode
from gosuslugi_adapter.errors import CODES
from gosuslugi_adapter.key_files import Certificate
from gosuslugi_adapter.timestamps import parse_timestamp

CODE_TTL_SECONDS = 240
LOGIN_TTL_SECONDS = 600
TIMESTAMP_SKEW_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 3600
KNOWN_SCOPES = frozenset(
    "openid fullname birthdate gender snils inn id_doc birthplace contacts email mobile "
    "addresses usr_org kid_fullname kid_birthdate kid_gender kid_snils kid_inn "
    "kid_birth_cert_doc kid_medical_doc".split()
)


class Rejection(Exception):
    """A request ESIA would refuse, with ESIA's code (``ESIA-0070xx``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.info = CODES[code]
        self.detail = detail
        super().__init__(f"{code}: {self.info.meaning}{' — ' + detail if detail else ''}")


@dataclass(frozen=True)
class RegisteredClient:
    """A relying party: its certificate and where it may be redirected.

    Without a prefix only loopback redirect URIs are allowed. Security: a prefix matches only at
    a path boundary, so ``http://a.example`` does not allow ``http://a.example.evil.test/``.
    """

    client_id: str
    certificate: Certificate
    redirect_prefix: str | None = None

    def redirect_allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if self.redirect_prefix is None:
            return _is_loopback(parts.hostname)
        prefix = self.redirect_prefix
        if not uri.startswith(prefix):
            return False
        rest = uri[len(prefix) :]
        return prefix.endswith("/") or rest == "" or rest[0] in "/?#"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Switches:
    """Ways to make the emulator misbehave, for tests of the client's defences."""

    bad_token_signature: bool = False
    wrong_issuer: bool = False
    expired_token: bool = False
    wrong_state: bool = False
    wrong_callback_state: bool = False
    #: The id_token carries a nonce other than the one the authorization request sent (whether
    #: or not the emulator echoes nonces; see ``Emulator.echo_nonce``).
    wrong_nonce: bool = False
    error_redirect: str = ""

    def update(self, values: Mapping[str, object]) -> None:
        """Set switches from JSON; unknown names or wrong types raise ``ValueError``."""
        known = {f.name: f for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown switch {name!r}")
            expected = str if name == "error_redirect" else bool
            if type(value) is not expected:
                raise ValueError(f"switch {name!r} must be {expected.__name__}")
            if name == "error_redirect" and value and value not in CODES:
                raise ValueError(f"unknown ESIA code {value!r}")
            setattr(self, name, value)

    def reset(self) -> None:
        self.update({f.name: f.default for f in fields(self)})


@dataclass(frozen=True)
class Grant:
    """What a code or refresh token stands for."""

    client_id: str
    oid: str
    scope: str
    redirect_uri: str
    nonce: str | None
    expires_at: float


@dataclass(frozen=True)
class PendingLogin:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str | None
    expires_at: float


@dataclass
class Emulator:
    """State and rules of one emulated ESIA.

    ``echo_nonce``: put the authorization request's ``nonce`` into the id_token. Off by
    default, as production ESIA has not reliably done so since November 2022; on, the emulator
    behaves like a textbook OpenID Connect provider. (Not a switch: ``reset`` leaves it alone.)
    """

    clients: dict[str, RegisteredClient]
    persons: dict[str, Person]
    issuer: TokenIssuer
    clock: Callable[[], float] = time.time
    switches: Switches = field(default_factory=Switches)
    echo_nonce: bool = False
    pending: dict[str, PendingLogin] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, Grant] = field(default_factory=dict)

    def client(self, client_id: str) -> RegisteredClient:
        found = self.clients.get(client_id)
        if found is None:
            raise Rejection("ESIA-007002", "unknown client_id")
        return found

    def check_signed_request(
        self,
        client: RegisteredClient,
        protocol: EsiaProtocol,
        params: Mapping[str, str],
        required: Iterable[str],
        grant: str = "",
    ) -> None:
        """Parameters, scope, timestamp, certificate hash and the client_secret, in ESIA's order."""
        needed = ["client_id", "client_secret", "redirect_uri", "scope", "state", "timestamp"]
        if protocol is EsiaProtocol.V2:
            needed.append("client_certificate_hash")
        missing = [name for name in (*needed, *required) if not params.get(name)]
        if missing:
            raise Rejection("ESIA-007014", "missing: " + ", ".join(missing))
        if not client.redirect_allowed(params["redirect_uri"]):
            raise Rejection("ESIA-007023")
        _check_scope(params["scope"])
        self._check_timestamp(params["timestamp"])
        if protocol is EsiaProtocol.V2:
            given = params["client_certificate_hash"].lower()
            if not secrets.compare_digest(given, client.certificate.streebog_hex):
                raise Rejection("ESIA-007002", "client_certificate_hash is not the certificate's")
        text = signed_text(
            protocol,
            client_id=client.client_id,
            scope=params["scope"],
            timestamp=params["timestamp"],
            state=params["state"],
            redirect_uri=params["redirect_uri"],
            grant=grant,
        )
        _check_secret(client.certificate, protocol, text.encode(), params["client_secret"])

    def _check_timestamp(self, text: str) -> None:
        try:
            moment = parse_timestamp(text)
        except ValueError:
            raise Rejection("ESIA-007015", "timestamp format") from None
        if abs(moment.timestamp() - self.clock()) > TIMESTAMP_SKEW_SECONDS:
            raise Rejection("ESIA-007015", "timestamp too far from now")

    def start_login(self, client: RegisteredClient, params: Mapping[str, str]) -> str:
        """Remember an accepted authorization request until a person is picked."""
        login_id = secrets.token_urlsafe(24)
        self.pending[login_id] = PendingLogin(
            client.client_id,
            params["redirect_uri"],
            params["scope"],
            params["state"],
            params.get("nonce"),
            self.clock() + LOGIN_TTL_SECONDS,
        )
        return login_id

    def take_login(self, login_id: str) -> PendingLogin | None:
        """The pending login, once; None when unknown or stale."""
        login = self.pending.pop(login_id, None)
        return login if login and login.expires_at >= self.clock() else None

    def issue_code(self, login: PendingLogin, oid: str) -> str:
        """A single-use authorization code valid for 240 s."""
        code = secrets.token_urlsafe(32)
        self.codes[code] = Grant(
            login.client_id,
            oid,
            login.scope,
            login.redirect_uri,
            login.nonce,
            self.clock() + CODE_TTL_SECONDS,
        )
        return code

    def redeem(self, store: dict[str, Grant], key: str, client_id: str, redirect_uri: str) -> Grant:
        """Take a code / refresh token out of ``store`` (single use) and check it fits."""
        grant = store.pop(key, None)
        if grant is None or grant.expires_at < self.clock():
            raise Rejection("ESIA-007011", "unknown, used or expired")
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            raise Rejection("ESIA-007011", "issued to another client or redirect_uri")
        return grant

    def issue_tokens(self, grant: Grant, with_id_token: bool) -> dict[str, object]:
        """Access (and id) token, a rotated refresh token; switches applied."""
        now = self.clock()
        person = self.persons[grant.oid]
        access = self.issuer.access_token(grant, now, self.switches)
        expires = now + ACCESS_TOKEN_TTL_SECONDS
        self.access_tokens[access] = Grant(
            grant.client_id, grant.oid, grant.scope, grant.redirect_uri, None, expires
        )
        refresh = secrets.token_urlsafe(32)
        self.refresh_tokens[refresh] = Grant(
            grant.client_id, grant.oid, grant.scope, grant.redirect_uri, None, now + 86400
        )
        body: dict[str, object] = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_SECONDS,
        }
        if with_id_token:
            body["id_token"] = self.issuer.id_token(
                grant, person.trusted, now, self.switches, nonce=self._id_token_nonce(grant)
            )
        return body

    def _id_token_nonce(self, grant: Grant) -> str | None:
        """ESIA's default: none. Echoed on request; a wrong one under ``wrong_nonce``."""
        if self.switches.wrong_nonce:
            return "wrong-" + (grant.nonce or secrets.token_urlsafe(16))
        return grant.nonce if self.echo_nonce and grant.nonce else None

    def bearer(self, token: str) -> Grant | None:
        grant = self.access_tokens.get(token)
        return grant if grant and grant.expires_at >= self.clock() else None


def _check_scope(scope: str) -> None:
    names = scope.split()
    if not names:
        raise Rejection("ESIA-007013")
    unknown = [n for n in names if n not in KNOWN_SCOPES]
    if unknown:
        raise Rejection("ESIA-007006", "unknown scope " + " ".join(unknown))


def _check_secret(
    certificate: Certificate, protocol: EsiaProtocol, text: bytes, secret: str
) -> None:
    """Real verification against the client's registered certificate, or ESIA-007053.

    v1: a detached CMS (RSA or GOST, with or without signed attributes). v2/v3: the raw
    signature — 64-byte GOST in OpenSSL's layout, or (emulator only) PKCS#1 v1.5 for RSA keys.
    """
    try:
        signature = b64url_decode(secret)
    except ValueError:
        raise Rejection("ESIA-007053", "client_secret is not base64") from None
    if protocol is EsiaProtocol.V1:
        try:
            verify_detached(signature, text, certificate)
        except CmsError as exc:
            raise Rejection("ESIA-007053", str(exc)) from None
    elif not certificate.public_key.verify(text, signature):
        raise Rejection("ESIA-007053", "signature does not verify")
