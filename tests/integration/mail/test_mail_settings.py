"""The [mail] section: a mistake is refused at start-up, naming the key."""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings


def test_mail_is_off_by_default() -> None:
    assert not load_settings(environ={}).mail.enabled


def test_configured_mail_server_is_read_from_the_environment() -> None:
    mail = load_settings(
        environ={
            "EDIARY_MAIL_HOST": "smtp.school.example",
            "EDIARY_MAIL_PORT": "465",
            "EDIARY_MAIL_SECURITY": "tls",
            "EDIARY_MAIL_USERNAME": "diary",
            "EDIARY_MAIL_PASSWORD": "s3cret",
            "EDIARY_MAIL_SENDER": "diary@school.example",
        }
    ).mail
    assert mail.enabled and (mail.host, mail.port, mail.security) == (
        "smtp.school.example",
        465,
        "tls",
    )
    assert "s3cret" not in repr(mail)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"EDIARY_MAIL_HOST": "smtp.example"}, "mail.sender: must be set"),
        ({"EDIARY_MAIL_SENDER": "not an address"}, "mail.sender: must be an e-mail address"),
        ({"EDIARY_MAIL_SECURITY": "ssl"}, "mail.security: must be one of none, starttls, tls"),
        ({"EDIARY_MAIL_PORT": "70000"}, "mail.port: must be a port number"),
        ({"EDIARY_MAIL_USERNAME": "diary"}, "mail.password: must be set"),
        (
            {
                "EDIARY_MAIL_USERNAME": "u",
                "EDIARY_MAIL_PASSWORD": "p",
                "EDIARY_MAIL_SECURITY": "none",
            },
            "mail.security: none would send the password unencrypted",
        ),
        ({"EDIARY_MAIL_BASE_URL": "school.example"}, "mail.base_url: must be an http"),
        ({"EDIARY_MAIL_DEFAULT_DIGEST_HOUR": "24"}, "mail.default_digest_hour: must be an hour"),
        ({"EDIARY_MAIL_RELAY": "x"}, "unknown key mail.relay"),
    ],
)
def test_bad_mail_setting_is_refused_naming_the_key(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_settings(environ=env)
