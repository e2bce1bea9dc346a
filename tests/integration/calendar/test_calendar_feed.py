"""The timetable subscription (docs/calendar.md): the address on /account, made, shown once,
renewed and revoked; the iCalendar feed it serves, checked with two independent parsers
(``icalendar`` and ``vobject``); who sees what.

The clock stands on Wednesday 15.10.2025, 10:00 UTC. 5А has lessons on Monday and Tuesday
(1st: Математика, teacher_math «Числова М.», room 12; 2nd: Русский язык, the class teacher
«Классова О.», room 14); 5Б has Monday's first lesson, Математика with teacher_math, room 20.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
import vobject
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import families, lessons, timetable
from diary_core.clock import FixedClock
from diary_core.models import Guardianship, User
from diary_core.timetable import ChangeRequest, SlotInput
from gateway.storage.calendar import CalendarEventVersion, CalendarFeed
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

SEPT_1 = date(2025, 9, 1)
MON = date(2025, 10, 20)  # next week's Monday
TUE = date(2025, 10, 21)
WED = date(2025, 10, 22)
MOSCOW = ZoneInfo("Europe/Moscow")
FEED = re.compile(r'value="(http://[^"]+/calendar/[A-Za-z0-9_-]{43}\.ics)"')


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    async def browser(self, user_id: int) -> Browser:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        return browser

    async def subscribe(self, user_id: int) -> str:
        """The feed address the account page gives ``user_id``."""
        browser = await self.browser(user_id)
        try:
            return await make_address(self, browser)
        finally:
            await browser.close()


async def make_address(site: Site, browser: Browser) -> str:
    token = await browser.csrf(site.base + "/account")
    made = await browser.post(site.base + "/account/calendar", {"csrf_token": token})
    assert made.status == 303, await made.text()
    page = await (await browser.get(site.base + made.headers["Location"])).text()
    found = FEED.search(page)
    assert found, page
    return found.group(1)


async def fetch(url: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """A calendar app's request: no cookies, no session."""
    async with aiohttp.ClientSession() as http:
        resp = await http.get(url, headers=headers or {}, allow_redirects=False)
        await resp.read()
        return resp


async def feed_text(url: str) -> str:
    resp = await fetch(url)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return (await resp.read()).decode("utf-8")


def events(text: str) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def on(evs: dict[str, icalendar.Event], day: date, start: str) -> list[icalendar.Event]:
    """The events starting on ``day`` at ``start`` (HH:MM, school time)."""
    return [
        e
        for e in evs.values()
        if e.decoded("DTSTART").date() == day and e.decoded("DTSTART").strftime("%H:%M") == start
    ]


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    admin = await world.ctx(world.admin_a)
    week_5a = [
        SlotInput(1, 1, world.math_a, world.teacher_math, "12"),
        SlotInput(1, 2, world.russian_a, world.ct_5a, "14"),
        SlotInput(2, 1, world.math_a, world.teacher_math, "12"),
        SlotInput(2, 2, world.russian_a, world.ct_5a, "14"),
    ]
    info = await timetable.set_weekly_timetable(admin, world.class_5a, SEPT_1, week_5a)
    await timetable.publish_timetable(admin, info.id)
    week_5b = [SlotInput(1, 1, world.math_a, world.teacher_math, "20")]
    info_b = await timetable.set_weekly_timetable(admin, world.class_5b, SEPT_1, week_5b)
    await timetable.publish_timetable(admin, info_b.id)
    await world.session.commit()
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock)


async def change(site: Site, day: date, number: int, req: ChangeRequest) -> None:
    w = site.world
    await timetable.change_timetable(await w.ctx(w.admin_a), w.class_5a, day, number, req)
    await w.session.commit()


async def test_the_feed_parses_in_two_parsers_in_the_school_zone(site: Site) -> None:
    w = site.world
    text = await feed_text(await site.subscribe(w.parent_a1))
    assert "\r\n" in text  # RFC 5545 line ends

    cal = icalendar.Calendar.from_ical(text)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Moscow"
    assert not tz.walk("DAYLIGHT")  # Moscow keeps +03:00 all year since 2014
    assert {s.decoded("TZOFFSETTO") for s in tz.walk("STANDARD")} == {timedelta(hours=3)}
    evs = cal.walk("VEVENT")
    # 13 weeks (4 back, this one, 8 ahead) × 4 lessons of 5А
    assert len(evs) == 13 * 4
    for e in evs:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
            assert prop in e, (prop, e)
        assert e["DTSTART"].params["TZID"] == "Europe/Moscow"
        assert e.decoded("DTSTART").tzinfo is not None
        assert e.decoded("DTSTART").utcoffset() == timedelta(hours=3)
        assert str(e["SUMMARY"]).startswith("Артём: ")  # a parent's feed names the child
    monday = on(events(text), MON, "08:30")
    assert [str(e["SUMMARY"]) for e in monday] == ["Артём: Математика"]
    assert str(monday[0]["LOCATION"]) == "кабинет 12"
    assert "Учитель: " in str(monday[0]["DESCRIPTION"])
    assert monday[0]["STATUS"] == "CONFIRMED"

    # an independent parser reads the same events, times in the school's zone
    parsed = vobject.readOne(text)
    v_events = parsed.vevent_list
    assert len(v_events) == len(evs)
    uids = {e.uid.value for e in v_events}
    assert uids == {str(e["UID"]) for e in evs}
    for e in v_events:
        start = e.dtstart.value
        assert isinstance(start, datetime) and start.utcoffset() == timedelta(hours=3)
        assert e.dtend.value > start
        assert e.dtstamp.value.tzinfo is not None
        assert e.summary.value
    first = min(v_events, key=lambda e: e.dtstart.value)
    assert first.dtstart.value.date() == date(2025, 9, 15)  # Monday four weeks back


async def test_changes_appear_as_they_are(site: Site) -> None:
    w = site.world
    url = await site.subscribe(w.parent_a1)
    before = events(await feed_text(url))
    tuesday_math_uid = str(on(before, TUE, "08:30")[0]["UID"])

    await change(site, MON, 1, ChangeRequest("cancellation", note="Учитель на курсах"))
    await change(site, MON, 2, ChangeRequest("substitution", teacher_id=w.teacher_math))
    await change(site, TUE, 2, ChangeRequest("room_change", room="актовый зал"))
    await change(site, TUE, 1, ChangeRequest("moved", moved_to_date=WED, moved_to_lesson=3))
    teacher = await w.ctx(w.teacher_math)
    await lessons.record_lesson(
        teacher,
        class_id=w.class_5a,
        subject_id=w.math_a,
        day=MON + timedelta(days=7),
        lesson_number=1,
        topic="Дроби",
        homework="№ 125, 127",
    )
    await w.session.commit()

    evs = events(await feed_text(url))
    assert len(evs) == len(before)  # the moved lesson moved, it was not added

    (cancelled,) = on(evs, MON, "08:30")
    assert cancelled["STATUS"] == "CANCELLED"
    assert "отменён" in str(cancelled["SUMMARY"])
    assert "Учитель на курсах" in str(cancelled["DESCRIPTION"])

    (substituted,) = on(evs, MON, "09:20")
    assert str(substituted["SUMMARY"]) == "Артём: Русский язык — замена"
    expected = "Замена: урок ведёт Числова М. вместо Классова О."
    assert expected in str(substituted["DESCRIPTION"])

    (moved_room,) = on(evs, TUE, "09:20")
    assert str(moved_room["LOCATION"]) == "актовый зал"
    assert "Другой кабинет: актовый зал (было: кабинет 14)" in str(moved_room["DESCRIPTION"])

    assert on(evs, TUE, "08:30") == []  # gone from Tuesday …
    (moved,) = on(evs, WED, "10:20")  # … to Wednesday's third lesson, under the same UID
    assert str(moved["UID"]) == tuesday_math_uid
    assert moved["STATUS"] == "CONFIRMED"
    assert "Урок перенесён с 21.10.2025, 1-го урока" in str(moved["DESCRIPTION"])

    (with_homework,) = on(evs, MON + timedelta(days=7), "08:30")
    description = str(with_homework["DESCRIPTION"])
    assert "Тема: Дроби" in description and "Домашнее задание: № 125, 127" in description


async def test_uids_are_stable_and_sequence_grows_with_each_change(site: Site) -> None:
    w = site.world
    url = await site.subscribe(w.pupil_a1_user)
    first = await fetch(url)
    second = await fetch(url)
    assert await first.read() == await second.read()  # DTSTAMP and SEQUENCE are not per render
    assert first.headers["ETag"] == second.headers["ETag"]
    evs = events((await first.read()).decode())
    assert all(str(e["SUMMARY"]).startswith(("Математика", "Русский")) for e in evs.values())
    uid = str(on(evs, MON, "08:30")[0]["UID"])
    assert evs[uid]["SEQUENCE"] == 0

    # a calendar polling with what it has gets 304 and no body
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = await fetch(url, {"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag
    since = await fetch(url, {"If-Modified-Since": modified})
    assert since.status == 304

    # the child's parent reads the same lessons (named «Артём: …»): his events are his own,
    # and reading both feeds in turn raises nobody's SEQUENCE
    parents = events(await feed_text(await site.subscribe(w.parent_a1)))
    assert not set(parents) & set(evs)
    assert (await fetch(url, {"If-None-Match": etag})).status == 304
    assert all(e["SEQUENCE"] == 0 for e in parents.values())

    await change(site, MON, 1, ChangeRequest("room_change", room="7"))
    changed = await fetch(url, {"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    after = events((await changed.read()).decode())
    assert set(after) == set(evs)  # the same UIDs
    assert after[uid]["SEQUENCE"] == 1
    assert str(after[uid]["LOCATION"]) == "кабинет 7"
    assert all(after[u]["SEQUENCE"] == 0 for u in after if u != uid)

    await change(site, MON, 1, ChangeRequest("cancellation"))
    await change(site, MON, 1, ChangeRequest("room_change", room="8"))
    for _ in range(2):  # each change raises it once, however often the feed is read
        latest = events(await feed_text(url))
    assert latest[uid]["SEQUENCE"] == 2
    assert latest[uid].decoded("DTSTAMP") >= after[uid].decoded("DTSTAMP")


async def test_a_familys_token_never_shows_another_familys_child(site: Site) -> None:
    w = site.world
    feed_a = await feed_text(await site.subscribe(w.parent_a1))
    feed_b = await feed_text(await site.subscribe(w.parent_b1))
    uids_a, uids_b = set(events(feed_a)), set(events(feed_b))
    assert uids_a and uids_b and not uids_a & uids_b
    assert all(f"-c{w.class_5a}-p{w.pupil_a1}-u{w.parent_a1}@" in u for u in uids_a)
    assert all(f"-c{w.class_5b}-p{w.pupil_b1}-u{w.parent_b1}@" in u for u in uids_b)
    assert "Илья" not in feed_a and "5Б" not in feed_a
    assert "Артём" not in feed_b and "5А" not in feed_b
    # another family with a child in the same class: its own child only
    feed_a2 = await feed_text(await site.subscribe(w.parent_a2))
    assert "Артём" not in feed_a2 and "Дарья: " in feed_a2
    # a parent whose link is not confirmed gets an empty calendar
    pending = icalendar.Calendar.from_ical(await feed_text(await site.subscribe(w.parent_pending)))
    assert pending.walk("VEVENT") == []


async def test_a_parent_sees_every_child_and_loses_one_whose_guardianship_ended(
    site: Site,
) -> None:
    w = site.world
    admin = await w.ctx(w.admin_a)
    await families.link_guardian(admin, w.parent_a1, w.pupil_b1, source="roster", confirmed=True)
    await w.session.commit()
    url = await site.subscribe(w.parent_a1)
    full = await fetch(url)
    both = events((await full.read()).decode())
    names = {str(e["SUMMARY"]).split(":")[0] for e in both.values()}
    assert names == {"Артём", "Илья"}
    (ilya,) = [e for e in on(both, MON, "08:30") if str(e["SUMMARY"]).startswith("Илья")]
    assert str(ilya["LOCATION"]) == "кабинет 20" and "5Б" in str(ilya["DESCRIPTION"])

    await w.session.execute(
        update(Guardianship)
        .where(Guardianship.guardian_id == w.parent_a1, Guardianship.pupil_id == w.pupil_b1)
        .values(status="rejected")
    )
    await w.session.commit()
    site.clock.advance(timedelta(minutes=5))  # the next poll
    # no lesson changed, one child's lessons went: both validators see it
    by_tag = await fetch(url, {"If-None-Match": full.headers["ETag"]})
    assert by_tag.status == 200 and by_tag.headers["ETag"] != full.headers["ETag"]
    by_date = await fetch(url, {"If-Modified-Since": full.headers["Last-Modified"]})
    assert by_date.status == 200
    assert by_date.headers["Last-Modified"] != full.headers["Last-Modified"]
    left = (await by_date.read()).decode()
    assert "Илья" not in left and "Артём: " in left
    again = await fetch(url, {"If-Modified-Since": by_date.headers["Last-Modified"]})
    assert again.status == 304


async def test_renewing_revokes_the_old_address_and_revoked_ones_are_a_bare_404(
    site: Site,
) -> None:
    w = site.world
    browser = await site.browser(w.parent_a1)
    try:
        old = await make_address(site, browser)
        page = await (await browser.get(site.base + "/account")).text()
        assert old not in page  # shown once only
        assert "Действующая ссылка создана" in page
        new = await make_address(site, browser)
        assert new != old
        gone = await fetch(old)
        assert gone.status == 404 and await gone.text() == "Not Found"
        assert (await fetch(new)).status == 200

        token = await browser.csrf(site.base + "/account")
        revoked = await browser.post(site.base + "/account/calendar/revoke", {"csrf_token": token})
        assert revoked.status == 303
        page = await (await browser.get(site.base + revoked.headers["Location"])).text()
        assert "Ссылка отозвана" in page and "Получить ссылку на расписание" in page
        assert (await fetch(new)).status == 404

        # a double click: two addresses made at once leave one working
        token = await browser.csrf(site.base + "/account")
        form = {"csrf_token": token}
        clicks = await asyncio.gather(
            *(browser.post(site.base + "/account/calendar", form) for _ in range(2))
        )
        assert [c.status for c in clicks] == [303, 303]
        async with AsyncSession(site.engine) as db:
            live = select(func.count()).where(
                CalendarFeed.user_id == w.parent_a1, CalendarFeed.revoked_at.is_(None)
            )
            assert await db.scalar(live) == 1

        # the forms need the session's CSRF token
        forged = await browser.post(site.base + "/account/calendar", {"csrf_token": "x"})
        assert forged.status == 403
    finally:
        await browser.close()
    unknown = new.rsplit("/", 1)[0] + "/" + "A" * 43 + ".ics"
    for url in (unknown, site.base + "/calendar/short.ics"):
        resp = await fetch(url)
        assert resp.status == 404 and await resp.text() == "Not Found"


async def test_a_teacher_gets_the_lessons_he_gives(site: Site) -> None:
    w = site.world
    url = await site.subscribe(w.teacher_math)
    evs = events(await feed_text(url))
    # Monday: 5А's and 5Б's first lessons; Tuesday: 5А's first lesson
    (a, b) = sorted(on(evs, MON, "08:30"), key=lambda e: str(e["SUMMARY"]))
    assert str(a["SUMMARY"]) == "Математика, 5А" and str(b["SUMMARY"]) == "Математика, 5Б"
    assert on(evs, MON, "09:20") == []  # Russian is not his
    assert len(evs) == 13 * 3

    await change(site, MON, 2, ChangeRequest("substitution", teacher_id=w.teacher_math))
    await change(site, TUE, 1, ChangeRequest("substitution", teacher_id=w.ct_5a))
    evs = events(await feed_text(url))
    (taken,) = on(evs, MON, "09:20")  # he substitutes: the lesson is his now
    assert str(taken["SUMMARY"]) == "Русский язык, 5А — замена"
    assert taken["STATUS"] == "CONFIRMED"
    (given_away,) = on(evs, TUE, "08:30")  # his lesson given by another: cancelled for him
    assert given_away["STATUS"] == "CANCELLED"
    assert "Замена: урок ведёт" in str(given_away["DESCRIPTION"])
    # the class teacher's feed shows the lesson she takes over
    ct = events(await feed_text(await site.subscribe(w.ct_5a)))
    assert str(on(ct, TUE, "08:30")[0]["SUMMARY"]) == "Математика, 5А — замена"


async def test_a_disabled_account_gets_404_and_old_revisions_are_dropped(site: Site) -> None:
    w = site.world
    url = await site.subscribe(w.pupil_a1_user)
    assert (await fetch(url)).status == 200
    first_day = date(2025, 9, 15)
    async with AsyncSession(site.engine) as db:
        assert await db.scalar(select(func.min(CalendarEventVersion.day))) == first_day

    site.clock.advance(timedelta(days=7))  # a week on: a new week enters the feed
    later = events(await feed_text(url))
    assert min(e.decoded("DTSTART").date() for e in later.values()) == date(2025, 9, 22)
    async with AsyncSession(site.engine) as db:
        # the week that left every feed is no longer kept
        assert await db.scalar(select(func.min(CalendarEventVersion.day))) == date(2025, 9, 22)

    await w.session.execute(update(User).where(User.id == w.pupil_a1_user).values(is_active=False))
    await w.session.commit()
    resp = await fetch(url)
    assert resp.status == 404 and await resp.text() == "Not Found"


async def test_a_lesson_moved_beyond_the_feed_shows_where_it_went_until_it_is_in_it(
    site: Site,
) -> None:
    w = site.world
    url = await site.subscribe(w.pupil_a1_user)
    far = date(2025, 12, 24)  # a Wednesday nine weeks after the lesson: beyond the feed
    await change(site, MON, 1, ChangeRequest("moved", moved_to_date=far, moved_to_lesson=3))
    evs = events(await feed_text(url))
    (stand_in,) = on(evs, MON, "08:30")
    assert stand_in["STATUS"] == "CANCELLED"
    assert "Урок перенесён на 24.12.2025, 3-й урок" in str(stand_in["DESCRIPTION"])
    uid, sequence = str(stand_in["UID"]), stand_in["SEQUENCE"]

    site.clock.advance(timedelta(days=35))  # Wednesday 19.11: the feed reaches 24.12
    later = events(await feed_text(url))
    assert on(later, MON, "08:30") == []
    (moved,) = on(later, far, "10:20")
    assert str(moved["UID"]) == uid and moved["SEQUENCE"] == sequence + 1
    assert moved["STATUS"] == "CONFIRMED" and str(moved["SUMMARY"]) == "Математика"
