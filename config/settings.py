"""One settings object for the whole service.

Layers, later wins: ``config/default.toml`` < the TOML file named by ``--config`` or
``EDIARY_CONFIG`` < environment variables ``EDIARY_<SECTION>_<KEY>``. An unknown section or
key, or a value of the wrong type or out of range, raises :class:`ConfigError` naming the key,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULTS_FILE = Path(__file__).with_name("default.toml")
ENV_PREFIX = "EDIARY_"
#: Variables the test suite reads (EDIARY_TEST_POSTGRES, …): never settings, never refused.
TEST_PREFIX = "EDIARY_TEST_"


class ConfigError(ValueError):
    """A setting is unknown or has a bad value; the message names the key."""


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an http:// or https:// URL"
    return None


def _one_of(*choices: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone name such as Europe/Moscow"
    return None


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number 0..65535"


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be positive"


def _database_url(value: str) -> str | None:
    if value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return None
    return "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"


def _leeway(value: int) -> str | None:
    return None if 0 <= value <= 60 else "must be 0..60 seconds"


def check(fn: Callable[[Any], str | None]) -> dict[str, Any]:
    """Field metadata: a validator returning an error text or None."""
    return {"check": fn}


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=check(_port))
    public_url: str = field(default="http://127.0.0.1:8080", metadata=check(_http_url))
    #: The school's time zone: times are stored in UTC and shown to people in this zone.
    timezone: str = field(default="Europe/Moscow", metadata=check(_timezone))

    @property
    def esia_redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/esia/callback"

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default="sqlite+aiosqlite:///var/ediary.sqlite", metadata=check(_database_url))
    echo: bool = False
    pool_size: int = field(default=10, metadata=check(_positive))
    # Test every pooled connection with a round trip before use (PostgreSQL). Off: a
    # connection that died (the server restarted) fails the request that meets it, and the
    # pool is then refreshed as a whole; on: that request is saved, every request pays.
    pool_pre_ping: bool = False


@dataclass(frozen=True)
class EsiaSettings:
    base_url: str = field(
        default="https://esia-portal1.test.gosuslugi.ru", metadata=check(_http_url)
    )
    protocol: str = field(default="v2", metadata=check(_one_of("v1", "v2")))
    client_id: str = ""
    signer: str = field(default="gost", metadata=check(_one_of("rsa", "gost", "command")))
    key_file: str = ""
    cert_file: str = ""
    sign_command: str = ""
    certificates: tuple[str, ...] = ()
    issuer: str = "http://esia.gosuslugi.ru/"
    scopes: str = "openid fullname birthdate snils kid_fullname kid_birthdate kid_snils"
    leeway_seconds: int = field(default=60, metadata=check(_leeway))
    #: Refuse an id_token that does not echo the login's nonce. Off by default: production
    #: ESIA has not reliably echoed it since November 2022 (docs/esia.md, "Nonce"); a nonce
    #: that *is* echoed must always match, whatever this says.
    require_nonce: bool = False


@dataclass(frozen=True)
class SessionSettings:
    idle_timeout_minutes: int = field(default=30, metadata=check(_positive))
    absolute_timeout_hours: int = field(default=12, metadata=check(_positive))
    #: Sign-in throttling: failures allowed within the window per login and per client
    #: address, before further attempts get 429 with Retry-After; past the overall budget
    #: password checks are only slowed down, never refused (gateway/throttle.py).
    throttle_window_minutes: int = field(default=5, metadata=check(_positive))
    max_failures_per_login: int = field(default=10, metadata=check(_positive))
    max_failures_per_address: int = field(default=50, metadata=check(_positive))
    max_failures_overall: int = field(default=1000, metadata=check(_positive))


@dataclass(frozen=True)
class FeedSettings:
    key_file: str = ""
    cert_file: str = ""
    #: What ``application/xml`` without a ``profile`` gets: enveloped XML-DSig, or SMEV 3.
    xml_profile: str = field(default="xmldsig", metadata=check(_one_of("xmldsig", "smev3")))
    #: The SMEV 3 profile's GOST R 34.10-2012 key and certificate, or a certified provider's
    #: command that signs SignedInfo (stdin → raw signature); none set: a throwaway GOST key.
    smev3_key_file: str = ""
    smev3_cert_file: str = ""
    smev3_sign_command: str = ""
    issuer: str = "ediary-gateway"
    token_lifetime_seconds: int = field(default=300, metadata=check(_positive))
    rate_limit_per_minute: int = field(default=600, metadata=check(_positive))
    cursor_retention_days: int = field(default=90, metadata=check(_positive))
    document_cache_days: int = field(default=7, metadata=check(_positive))


def _mail_address(value: str) -> str | None:
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    if not value:
        return None
    try:
        parsed = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        return "must be an e-mail address such as diary@school.example"
    return None if parsed.domain and parsed.username else "must be an address with a domain"


def _hour(value: int) -> str | None:
    return None if 0 <= value <= 23 else "must be an hour 0..23"


@dataclass(frozen=True)
class MailSettings:
    """E-mail notifications (docs/mail.md). ``host`` empty: no mail is sent, and the
    account page offers none. The password is best given as ``EDIARY_MAIL_PASSWORD``."""

    host: str = ""
    port: int = field(default=25, metadata=check(_port))
    #: ``none``: plain SMTP (a relay on the same host); ``starttls``: upgrade after connecting
    #: (port 587); ``tls``: TLS from the first byte (port 465). A wrong choice hangs or fails
    #: the connection, and every mail waits in the outbox until it is fixed.
    security: str = field(default="starttls", metadata=check(_one_of("none", "starttls", "tls")))
    username: str = ""
    password: str = field(default="", repr=False)
    #: The From address; mail servers refuse or junk mail whose sender domain is not theirs.
    sender: str = field(default="", metadata=check(_mail_address))
    sender_name: str = "Электронный дневник"
    #: Where links in mails point (unsubscribe, the diary); empty: ``server.public_url``.
    base_url: str = field(default="", metadata=check(lambda v: _http_url(v) if v else None))
    timeout_seconds: int = field(default=30, metadata=check(_positive))
    #: Seconds between looks at the outbox when it is empty.
    poll_seconds: int = field(default=5, metadata=check(_positive))
    #: The digest hour offered first on the account page (school time, 0..23).
    default_digest_hour: int = field(default=18, metadata=check(_hour))

    def __post_init__(self) -> None:
        if self.host and not self.sender:
            raise ConfigError("mail.sender: must be set when mail.host is (the From address)")
        if self.username and not self.password:
            raise ConfigError(
                "mail.password: must be set when mail.username is "
                "(preferably as EDIARY_MAIL_PASSWORD)"
            )
        if self.username and self.security == "none":
            raise ConfigError(
                "mail.security: none would send the password unencrypted; "
                "use starttls or tls with a username"
            )

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    esia: EsiaSettings = field(default_factory=EsiaSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)
    mail: MailSettings = field(default_factory=MailSettings)

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some keys of one section changed (validated like any other source)."""
        current = dataclasses.asdict(self)
        current[section].update(values)
        return _build(current)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _merge(base: dict[str, Any], layer: Mapping[str, Any], origin: str) -> None:
    sections = _section_types()
    for section, values in layer.items():
        if section not in sections:
            raise ConfigError(f"{origin}: unknown section [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        known = {f.name for f in dataclasses.fields(sections[section])}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{origin}: unknown key {section}.{key}")
            base.setdefault(section, {})[key] = value


def _env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """EDIARY_<SECTION>_<KEY> variables as raw strings, typed later in :func:`_coerce`."""
    sections = _section_types()
    layer: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "EDIARY_CONFIG":
            continue
        if name.startswith(TEST_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(f"environment variable {name}: unknown section")
        key = rest[len(section) + 1 :]
        known = {f.name for f in dataclasses.fields(sections[section])}
        if key not in known:
            raise ConfigError(f"environment variable {name}: unknown key {section}.{key}")
        layer.setdefault(section, {})[key] = _EnvString(raw)
    return layer


class _EnvString(str):
    """A value that came from the environment: parsed into the field's type, not type-checked."""


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    from_env = isinstance(value, _EnvString)
    if hint is bool:
        if from_env:
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if hint is int:
        if from_env:
            try:
                return int(value)
            except ValueError:
                raise ConfigError(f"{key}: expected a whole number, got {value!r}") from None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected a whole number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return str(value)
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    if origin is tuple:
        if from_env:
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    raise ConfigError(f"{key}: expected a JSON list, got {value!r}") from None
            else:
                value = [p for p in (s.strip() for s in text.split(",")) if p]
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(str(v) for v in value)
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    if isinstance(hint, types.UnionType):  # pragma: no cover - no such field yet
        raise ConfigError(f"{key}: unsupported type")
    raise ConfigError(f"{key}: unsupported type {hint!r}")  # pragma: no cover


def _build(raw: Mapping[str, Mapping[str, Any]]) -> Settings:
    built: dict[str, Any] = {}
    for section, cls in _section_types().items():
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in raw.get(section, {}):
                continue
            key = f"{section}.{f.name}"
            value = _coerce(key, raw[section][f.name], hints[f.name])
            validator = f.metadata.get("check")
            problem = validator(value) if validator else None
            if problem:
                raise ConfigError(f"{key}: {problem} (got {value!r})")
            kwargs[f.name] = value
        built[section] = cls(**kwargs)
    return Settings(**built)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from defaults, an optional TOML file and the environment."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    _merge(raw, _read_toml(DEFAULTS_FILE), str(DEFAULTS_FILE))
    file_path = path if path is not None else env.get("EDIARY_CONFIG") or None
    if file_path:
        _merge(raw, _read_toml(Path(file_path)), str(file_path))
    _merge(raw, _env_layer(env), "environment")
    return _build(raw)
