"""docs/regulation.md, clause 5.1: the seven-day reply deadline, at its border, and message/topic
hygiene."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diary_core.errors import InvalidInput
from diary_core.messaging import MAX_BODY, OVERDUE_AFTER, clean_body, clean_topic, is_overdue

SINCE = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def test_deadline_is_seven_days() -> None:
    assert timedelta(days=7) == OVERDUE_AFTER


def test_overdue_after_exactly_seven_days() -> None:
    assert is_overdue(SINCE, SINCE + timedelta(days=7))


def test_not_overdue_one_second_before_seven_days() -> None:
    assert not is_overdue(SINCE, SINCE + timedelta(days=6, hours=23, minutes=59, seconds=59))


def test_overdue_long_after() -> None:
    assert is_overdue(SINCE, SINCE + timedelta(days=30))


def test_nothing_awaiting_is_never_overdue() -> None:
    assert not is_overdue(None, SINCE + timedelta(days=365))


def test_body_is_stripped() -> None:
    assert clean_body("  Здравствуйте!\n") == "Здравствуйте!"


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_empty_body_refused(body: str) -> None:
    with pytest.raises(InvalidInput, match="пуст"):
        clean_body(body)


def test_body_at_max_length_accepted_and_one_more_refused() -> None:
    assert len(clean_body("я" * MAX_BODY)) == MAX_BODY
    with pytest.raises(InvalidInput, match=str(MAX_BODY)):
        clean_body("я" * (MAX_BODY + 1))


def test_topic_whitespace_collapsed_and_empty_refused() -> None:
    assert clean_topic("  Домашнее   задание ") == "Домашнее задание"
    with pytest.raises(InvalidInput, match="тем"):
        clean_topic("  ")
