"""ESIA's timestamp: ``yyyy.MM.dd HH:mm:ss +ZZZZ``, no colon in the offset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gosuslugi_adapter.timestamps import format_timestamp, parse_timestamp

MSK = timezone(timedelta(hours=3))


def test_format_has_dots_and_offset_without_colon() -> None:
    moment = datetime(2026, 1, 5, 9, 7, 3, tzinfo=MSK)
    assert format_timestamp(moment) == "2026.01.05 09:07:03 +0300"


def test_default_is_now_in_utc() -> None:
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2} \+0000", format_timestamp())


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_timestamp(datetime(2026, 1, 5, 9, 7, 3))


def test_parse_round_trips() -> None:
    parsed = parse_timestamp("2026.01.05 09:07:03 +0300")
    assert parsed == datetime(2026, 1, 5, 6, 7, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05 09:07:03 +0300",
        "2026.01.05 09:07:03 +03:00",
        "2026.01.05 09:07:03",
        "2026.1.5 9:07:03 +0300",
    ],
)
def test_parse_refuses_other_formats(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)
