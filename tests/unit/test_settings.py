"""Settings: defaults < TOML file < EDIARY_* variables; bad keys and values stop start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings


def test_defaults_match_the_design_contract() -> None:
    s = load_settings(environ={})
    assert (s.server.host, s.server.port) == ("127.0.0.1", 8080)
    assert s.server.esia_redirect_uri == "http://127.0.0.1:8080/auth/esia/callback"
    assert s.database.url == "sqlite+aiosqlite:///var/ediary.sqlite"
    assert s.esia.issuer == "http://esia.gosuslugi.ru/"
    assert s.esia.protocol == "v2"


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[esia]\ncertificates = ["a.pem"]\n')
    s = load_settings(f, environ={"EDIARY_SERVER_PORT": "9100"})
    assert s.server.port == 9100
    assert s.server.host == "0.0.0.0"  # noqa: S104
    assert s.esia.certificates == ("a.pem",)


def test_config_file_from_environment(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[database]\nurl = "postgresql+asyncpg://postgres@127.0.0.1/x"\n')
    s = load_settings(environ={"EDIARY_CONFIG": str(f)})
    assert s.database.url.startswith("postgresql+asyncpg://")


def test_test_suite_variables_are_not_settings() -> None:
    s = load_settings(environ={"EDIARY_TEST_POSTGRES": "1", "EDIARY_TEST_ARTIFACTS": "x"})
    assert s == load_settings(environ={})


def test_list_from_environment() -> None:
    s = load_settings(environ={"EDIARY_ESIA_CERTIFICATES": "a.pem, b.pem"})
    assert s.esia.certificates == ("a.pem", "b.pem")
    s = load_settings(environ={"EDIARY_ESIA_CERTIFICATES": '["c.pem"]'})
    assert s.esia.certificates == ("c.pem",)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EDIARY_SERVER_PROT": "1"}, "server.prot"),
        ({"EDIARY_NOSUCH_KEY": "1"}, "EDIARY_NOSUCH_KEY"),
        ({"EDIARY_SERVER_PORT": "eighty"}, "server.port"),
        ({"EDIARY_SERVER_PORT": "70000"}, "server.port"),
        ({"EDIARY_ESIA_PROTOCOL": "v9"}, "esia.protocol"),
        ({"EDIARY_ESIA_SIGNER": "magic"}, "esia.signer"),
        ({"EDIARY_ESIA_LEEWAY_SECONDS": "120"}, "esia.leeway_seconds"),
        ({"EDIARY_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"EDIARY_DATABASE_ECHO": "perhaps"}, "database.echo"),
        ({"EDIARY_SERVER_PUBLIC_URL": "ftp://x"}, "server.public_url"),
        ({"EDIARY_SERVER_TIMEZONE": "Mars/Olympus"}, "server.timezone"),
    ],
)
def test_bad_environment_names_the_key(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(environ=env)


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_settings(f, environ={})


def test_unknown_section_in_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[servre]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"\[servre\]"):
        load_settings(f, environ={})


def test_wrong_type_in_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nport = "8080"\n')
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(f, environ={})


def test_missing_or_broken_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "none.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, environ={})
