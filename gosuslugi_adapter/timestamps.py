"""ESIA's request timestamp: ``yyyy.MM.dd HH:mm:ss +ZZZZ`` (no colon in the offset)."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y.%m.%d %H:%M:%S %z"


def format_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now, UTC) in ESIA's format; a naive ``moment`` is refused."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("timestamp needs a timezone-aware datetime")
    return moment.strftime(FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse ESIA's format strictly (offset required, no colon); ``ValueError`` otherwise."""
    moment = datetime.strptime(text, FORMAT)
    if format_timestamp(moment) != text:
        raise ValueError(f"timestamp {text!r} is not in ESIA's exact format")
    return moment
