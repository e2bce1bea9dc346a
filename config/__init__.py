"""Typed settings: defaults (default.toml) < a TOML file < EDIARY_* environment variables."""

from config.settings import (
    ConfigError,
    DatabaseSettings,
    EsiaSettings,
    FeedSettings,
    MailSettings,
    ServerSettings,
    SessionSettings,
    Settings,
    load_settings,
)

__all__ = [
    "ConfigError",
    "DatabaseSettings",
    "EsiaSettings",
    "FeedSettings",
    "MailSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "load_settings",
]
