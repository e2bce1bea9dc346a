"""The weighted-average rule (docs/regulation.md, clause 2.1) at its borders, and the accepted
marks."""

from __future__ import annotations

import random
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import pytest

from diary_core.errors import InvalidInput
from diary_core.grading import (
    parse_attendance,
    parse_mark,
    rounded_average,
    suggested_period_mark,
    weighted_average,
)


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


def decimal_average(marks: Iterable[tuple[int | None, int, bool]]) -> Decimal | None:
    """The rule as first written, in Decimal throughout: the reference the integer sums of
    :func:`weighted_average` must match exactly."""
    total = Decimal(0)
    weights = 0
    for numeric, weight, counts in marks:
        if numeric is None or not counts or weight <= 0:
            continue
        total += Decimal(numeric) * weight
        weights += weight
    if weights == 0:
        return None
    return (total / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def random_marks(rnd: random.Random) -> list[tuple[int | None, int, bool]]:
    def weight() -> int:
        roll = rnd.random()
        if roll < 0.1:
            return rnd.randint(-3, 0)  # never counts
        if roll < 0.2:
            return rnd.randint(100, 2000)  # long, fine-grained fractions
        return rnd.randint(1, 10)

    numerics: list[int | None] = [None, 1, 2, 3, 4, 5, -2, 0]
    return [
        (rnd.choice(numerics), weight(), rnd.random() < 0.85) for _ in range(rnd.randint(0, 40))
    ]


def test_integer_sums_match_the_decimal_rule_on_random_marks() -> None:
    rnd = random.Random(20251015)
    for _ in range(20_000):
        marks = random_marks(rnd)
        assert weighted_average(marks) == decimal_average(marks), marks


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        ([(3, 101, True), (4, 99, True)], "3.50"),  # 699 / 200 = 3.495
        ([(2, 199, True), (3, 1, True)], "2.01"),  # 401 / 200 = 2.005
        ([(4, 199, True), (5, 1, True)], "4.01"),  # 801 / 200 = 4.005
        ([(3, 201, True), (4, 199, True)], "3.50"),  # 1399 / 400 = 3.4975
        ([(3, 203, True), (4, 197, True)], "3.49"),  # 1397 / 400 = 3.4925
        ([(5, 1, True), (4, 7, True), (2, 2, True)], "3.70"),
        ([(5, 0, True), (4, -1, True), (3, 2, True), (None, 5, True), (1, 9, False)], "3.00"),
    ],
)
def test_half_up_boundaries_match_the_decimal_rule(
    marks: list[tuple[int | None, int, bool]], expected: str
) -> None:
    assert weighted_average(marks) == decimal_average(marks) == Decimal(expected)
    assert str(weighted_average(marks)) == expected


def test_every_two_mark_boundary_matches_the_decimal_rule() -> None:
    """All averages of two marks with weights up to 200 that end in a half cent."""
    seen = 0
    for a in range(1, 6):
        for b in range(a + 1, 6):
            for wa in range(1, 201):
                for wb in range(1, 201):
                    total, weights = a * wa + b * wb, wa + wb
                    if (total * 1000) % weights or (total * 1000 // weights) % 10 != 5:
                        continue
                    seen += 1
                    marks = [(a, wa, True), (b, wb, True)]
                    assert weighted_average(marks) == decimal_average(marks), marks
                    assert rounded_average(total, weights) == decimal_average(marks)
    assert seen > 1000


def test_rounded_average_of_nothing_is_none() -> None:
    assert rounded_average(0, 0) is None
    assert rounded_average(7, 2) == Decimal("3.50")


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
