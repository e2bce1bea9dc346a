"""The sessions table's browser column (gateway.useragent): names, not raw header strings."""

from __future__ import annotations

import pytest

from gateway.useragent import UNKNOWN, describe

WIN_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
ANDROID_YANDEX = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 YaBrowser/24.12.0.0 Mobile Safari/537.36"
)
WIN_EDGE = WIN_CHROME + " Edg/131.0.0.0"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (WIN_CHROME, "Chrome 131, Windows 10"),
        (IPHONE_SAFARI, "Safari, iOS 17"),
        (MAC_SAFARI, "Safari, macOS"),
        (LINUX_FIREFOX, "Firefox 133, Linux"),
        (ANDROID_YANDEX, "Яндекс Браузер 24, Android 14"),
        (WIN_EDGE, "Edge 131, Windows 10"),
        ("", UNKNOWN),
        (None, UNKNOWN),
        ("test", UNKNOWN),
        ("\x00" * 5000, UNKNOWN),
    ],
)
def test_browser_and_system_in_words(header: str | None, expected: str) -> None:
    assert describe(header) == expected
    assert UNKNOWN == "неизвестный браузер"
