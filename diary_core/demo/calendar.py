"""The demo school's calendar: the academic year, its quarters, holidays and school days.

The year runs from 1 September to 31 May, in quarters separated by the usual holidays
(autumn 27 Oct – 4 Nov, winter 29 Dec – 11 Jan, spring 23 – 31 Mar), with the public holidays
off and an extra February week for the first grade. Times are the school's local time
(Moscow time); the database gets them in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from diary_core.errors import InvalidInput

LOCAL = timezone(timedelta(hours=3), "MSK")


def local_dt(day: date, at: time) -> datetime:
    """A local wall-clock moment as an aware UTC datetime (what the UTC columns take)."""
    return datetime.combine(day, at, LOCAL).astimezone(UTC)


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class SchoolYear:
    start_year: int
    starts_on: date
    ends_on: date
    quarters: tuple[tuple[date, date], ...]
    holidays: frozenset[date]
    first_grade_break: frozenset[date]

    @property
    def name(self) -> str:
        return f"{self.start_year}/{self.start_year + 1}"

    def is_school_day(self, day: date, grade: int) -> bool:
        if not self.starts_on <= day <= self.ends_on or day.isoweekday() > 5:
            return False
        if day in self.holidays:
            return False
        return not (grade == 1 and day in self.first_grade_break)

    def school_days(self, until: date, grade: int) -> list[date]:
        """School days of ``grade`` from 1 September to ``until`` inclusive."""
        last = min(until, self.ends_on)
        return [d for d in _span(self.starts_on, last) if self.is_school_day(d, grade)]

    def quarter_of(self, day: date) -> int | None:
        """The quarter (0-based) containing ``day``, or None in the holidays."""
        for index, (first, last) in enumerate(self.quarters):
            if first <= day <= last:
                return index
        return None

    def last_school_day(self, first: date, last: date) -> date:
        days = [d for d in _span(first, last) if self.is_school_day(d, 2)]
        return days[-1] if days else last


def school_year(start_year: int) -> SchoolYear:
    """The academic year that starts on 1 September of ``start_year``."""
    y, n = start_year, start_year + 1
    holidays = {
        *_span(date(y, 10, 27), date(y, 11, 4)),
        *_span(date(y, 12, 29), date(n, 1, 11)),
        *_span(date(n, 3, 23), date(n, 3, 31)),
        date(n, 2, 23),
        date(n, 3, 8),
        date(n, 5, 1),
        date(n, 5, 9),
    }
    feb = date(n, 2, 9)
    monday = feb + timedelta(days=(7 - feb.weekday()) % 7)
    quarters = (
        (date(y, 9, 1), date(y, 10, 26)),
        (date(y, 11, 5), date(y, 12, 28)),
        (date(n, 1, 12), date(n, 3, 22)),
        (date(n, 4, 1), date(n, 5, 31)),
    )
    return SchoolYear(
        start_year=y,
        starts_on=date(y, 9, 1),
        ends_on=date(n, 5, 31),
        quarters=quarters,
        holidays=frozenset(holidays),
        first_grade_break=frozenset(_span(monday, monday + timedelta(days=6))),
    )


def year_for(today: date, start_year: int | None = None) -> SchoolYear:
    """The year to generate: the one given, else the one containing ``today`` (in summer, the
    year just finished). A year that has not begun yet is refused."""
    if start_year is None:
        start_year = today.year if today.month >= 9 else today.year - 1
    year = school_year(start_year)
    if year.starts_on > today:
        raise InvalidInput(f"учебный год {year.name} ещё не начался", field="year")
    return year


def clamp(moment: datetime, asof: datetime) -> datetime:
    """A moment, or the "as of" moment if it is later: nothing generated is in the future."""
    return moment if moment <= asof else asof


def days_before(asof: datetime, days: float, at: time) -> datetime:
    """The school's time of day ``at`` on the date ``days`` before the "as of" moment, but
    never after that moment."""
    day = (asof - timedelta(days=days)).astimezone(LOCAL).date()
    return min(local_dt(day, at), asof)
