"""A session's browser and system in words a person recognises («Chrome 131, Windows 10»,
«Safari, iOS 17», «неизвестный браузер»), read from its User-Agent header by ``ua-parser``
(the maintained uap-core rules, shipped in ``ua-parser-builtins``)."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

UNKNOWN = "неизвестный браузер"

#: uap-core's family names shortened to what the browser calls itself.
_BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Chromium": "Chromium",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Yandex Browser": "Яндекс Браузер",
    "Samsung Internet": "Samsung Internet",
}
#: Browsers whose own version says little (Safari's follows the system's).
_NO_VERSION = {"Safari"}
_SYSTEMS = {"Mac OS X": "macOS", "Other": ""}
#: Systems whose version in the header is frozen (every macOS says 10.15).
_NO_SYSTEM_VERSION = {"macOS"}


def _version(major: str | None) -> str:
    return f" {major}" if major and major.isdigit() else ""


@lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> str:
    """The browser (with its major version) and the system, or «неизвестный браузер»."""
    if not user_agent or not user_agent.strip():
        return UNKNOWN
    result = parse(user_agent[:1000])
    agent, system = result.user_agent, result.os
    if agent is None or agent.family == "Other":
        return UNKNOWN
    name = _BROWSERS.get(agent.family, agent.family)
    browser = name if name in _NO_VERSION else name + _version(agent.major)
    if system is None:
        return browser
    system_name = _SYSTEMS.get(system.family, system.family)
    if not system_name:
        return browser
    version = "" if system_name in _NO_SYSTEM_VERSION else _version(system.major)
    return f"{browser}, {system_name}{version}"
