"""The weighted-average rule (DESIGN §3) at its borders, and the accepted marks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from diary_core.errors import InvalidInput
from diary_core.grading import parse_attendance, parse_mark, suggested_period_mark, weighted_average


def test_average_is_weighted_by_work_type() -> None:
    # 5 in class (1), 3 in a test (3): (5 + 9) / 4 = 3.5
    assert weighted_average([(5, 1, True), (3, 3, True)]) == Decimal("3.50")


def test_average_rounds_half_up_at_two_decimals() -> None:
    # (5*1 + 4*199) / 200 = 4.005 → 4.01 (half up), not banker's 4.00
    assert weighted_average([(5, 1, True), (4, 199, True)]) == Decimal("4.01")


def test_average_of_3_49_suggests_3() -> None:
    # (3*51 + 4*49) / 100 = 3.49
    avg = weighted_average([(3, 51, True), (4, 49, True)])
    assert avg == Decimal("3.49")
    assert suggested_period_mark(avg) == 3


def test_average_of_3_50_suggests_4() -> None:
    avg = weighted_average([(3, 1, True), (4, 1, True)])
    assert avg == Decimal("3.50")
    assert suggested_period_mark(avg) == 4


def test_average_of_4_5_suggests_5() -> None:
    avg = weighted_average([(4, 1, True), (5, 1, True)])
    assert avg == Decimal("4.50")
    assert suggested_period_mark(avg) == 5


def test_suggestion_follows_the_shown_two_decimal_average() -> None:
    """3.4995 is shown as 3.50, so it suggests 4: what a parent sees is what counts."""
    avg = weighted_average([(3, 1001, True), (4, 999, True)])  # 6999 / 2000 = 3.4995
    assert avg == Decimal("3.50")
    assert suggested_period_mark(avg) == 4
    below = weighted_average([(3, 1011, True), (4, 989, True)])  # 6989 / 2000 = 3.4945
    assert below == Decimal("3.49")
    assert suggested_period_mark(below) == 3


def test_marks_that_do_not_count_are_left_out() -> None:
    assert weighted_average([(5, 1, True), (2, 3, False)]) == Decimal("5.00")


def test_pass_fail_marks_have_no_number_and_no_effect() -> None:
    assert weighted_average([(None, 1, True), (4, 1, True)]) == Decimal("4.00")


def test_no_counting_marks_means_no_average() -> None:
    assert weighted_average([]) is None
    assert weighted_average([(None, 1, True), (5, 1, False)]) is None
    assert suggested_period_mark(None) is None


@pytest.mark.parametrize(
    ("raw", "text", "numeric"),
    [
        ("5", "5", 5),
        (" 4 ", "4", 4),
        ("1", "1", 1),
        ("зач", "зач", None),
        ("НЕЗАЧ", "незач", None),
        ("осв", "осв", None),
    ],
)
def test_accepted_marks(raw: str, text: str, numeric: int | None) -> None:
    mark = parse_mark(raw)
    assert (mark.text, mark.numeric) == (text, numeric)


@pytest.mark.parametrize("raw", ["6", "0", "5+", "", "отл", "4.5"])
def test_unknown_marks_are_refused_naming_the_mark(raw: str) -> None:
    with pytest.raises(InvalidInput, match="неизвестная отметка"):
        parse_mark(raw)


def test_attendance_is_its_own_vocabulary() -> None:
    assert [parse_attendance(k) for k in ("н", "Б", "оп")] == ["н", "б", "оп"]
    with pytest.raises(InvalidInput):
        parse_attendance("5")
