"""The VTIMEZONE is the school's zone as it is: Moscow without daylight saving since 2014, a
zone with it (``[server] timezone`` may be any IANA zone) with both its rules, so a parser
places each lesson at its local time on either side of a change. No database: the events are
made by hand and written by :func:`gateway.calendar.feed.render`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import vobject

from gateway.calendar.feed import Lesson, Revision, Window, etag, render

STAMP = Revision(3, datetime(2026, 3, 20, 7, 0, tzinfo=UTC))


def lesson(day: date) -> Lesson:
    return Lesson(
        uid=f"{day:%Y%m%d}-1-c1-t1@school.example",
        day=day,
        lesson_number=1,
        starts=time(8, 30),
        ends=time(9, 10),
        summary="Математика, 5А",
        location="кабинет 12",
        description="1-й урок, 5А\nДомашнее задание: № 1, 2; «стр. 5»",
        cancelled=False,
    )


def test_a_zone_with_daylight_saving_gets_both_rules() -> None:
    zone = ZoneInfo("Europe/Berlin")
    window = Window.around(date(2026, 3, 25))  # daylight saving begins on 29.03.2026
    winter, summer = date(2026, 3, 23), date(2026, 3, 30)
    text = render("Расписание", zone, window, [(lesson(winter), STAMP), (lesson(summer), STAMP)])

    cal = icalendar.Calendar.from_ical(text)
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Berlin" and tz.walk("DAYLIGHT") and tz.walk("STANDARD")
    parsed = {e.dtstart.value.date(): e for e in vobject.readOne(text.decode()).vevent_list}
    assert parsed[winter].dtstart.value.utcoffset() == timedelta(hours=1)
    assert parsed[summer].dtstart.value.utcoffset() == timedelta(hours=2)
    for e in parsed.values():  # 08:30 school time on both sides of the change
        assert e.dtstart.value.strftime("%H:%M") == "08:30"
        assert e.sequence.value == "3"
        assert e.description.value.endswith("№ 1, 2; «стр. 5»")  # escaped and read back


def test_moscow_has_one_rule_and_the_etag_follows_the_content() -> None:
    zone = ZoneInfo("Europe/Moscow")
    window = Window.around(date(2026, 3, 25))
    events = [(lesson(date(2026, 3, 23)), STAMP)]
    cal = icalendar.Calendar.from_ical(render("Расписание", zone, window, events))
    (tz,) = cal.walk("VTIMEZONE")
    assert not tz.walk("DAYLIGHT")
    assert {s.decoded("TZOFFSETTO") for s in tz.walk("STANDARD")} == {timedelta(hours=3)}

    same = etag("Расписание", zone, window, events)
    assert same == etag("Расписание", zone, window, list(events))
    bumped = [(events[0][0], Revision(4, STAMP.changed_at))]
    assert etag("Расписание", zone, window, bumped) != same
    assert etag("Расписание", zone, window, []) != same
