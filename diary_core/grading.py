"""What a mark means: the accepted mark strings, their numbers, and the weighted average.

The average rule (docs/regulation.md, clause 2.1), documented once: over the marks that count and
have a number, ``sum(value × weight) / sum(weight)``, rounded to two decimals, half up (3.495 →
3.50). Pass/fail marks (зач, незач, осв) carry no number and never enter an average.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from diary_core.errors import InvalidInput

MARK_VALUES: dict[str, int | None] = {
    "5": 5,
    "4": 4,
    "3": 3,
    "2": 2,
    "1": 1,
    "зач": None,
    "незач": None,
    "осв": None,
}

ATTENDANCE_KINDS: dict[str, str] = {"н": "отсутствовал", "б": "болел", "оп": "опоздал"}

_TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class MarkValue:
    text: str
    numeric: int | None


def parse_mark(raw: str) -> MarkValue:
    """The mark as written, or :class:`InvalidInput` naming the allowed marks."""
    text = (raw or "").strip().lower()
    if text not in MARK_VALUES:
        allowed = ", ".join(MARK_VALUES)
        raise InvalidInput(f"неизвестная отметка «{raw}» (допустимы: {allowed})", field="mark")
    return MarkValue(text, MARK_VALUES[text])


def parse_attendance(raw: str) -> str:
    kind = (raw or "").strip().lower()
    if kind not in ATTENDANCE_KINDS:
        allowed = ", ".join(ATTENDANCE_KINDS)
        raise InvalidInput(f"неизвестная отметка посещаемости «{raw}» (допустимы: {allowed})")
    return kind


def weighted_average(marks: Iterable[tuple[int | None, int, bool]]) -> Decimal | None:
    """Average of ``(numeric, weight, counts)`` triples; ``None`` when nothing counts."""
    total = weights = 0
    for numeric, weight, counts in marks:
        if numeric is None or not counts or weight <= 0:
            continue
        total += numeric * weight
        weights += weight
    return rounded_average(total, weights)


def rounded_average(total: int, weights: int) -> Decimal | None:
    """``total / weights`` by the average rule, from the sums of ``numeric × weight`` and of
    ``weight`` over the marks that count (integers: one Decimal is made, at the end);
    ``None`` when nothing counts (``weights`` is 0)."""
    if weights == 0:
        return None
    return (Decimal(total) / weights).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)


def suggested_period_mark(average: Decimal | None) -> int | None:
    """The period mark an average suggests: the average rounded half up (3.49 → 3, 3.50 → 4)."""
    if average is None:
        return None
    return int(average.quantize(Decimal(1), rounding=ROUND_HALF_UP))
