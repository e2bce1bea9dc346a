"""One generated access test for every route of the pages and the API
(docs/regulation.md, clause 3.3).

For every route in the application's route table that names an object in its path (and for
the few that name objects in the query), for every role, requests naming objects of another
school, another class or another family must answer 403 or 404 (unsafe methods: 400, 403 or
404, and the database must not change) and the answer must carry none of their data.

And the answer must not tell "not yours" from "does not exist": the same request naming ids
that exist nowhere must get the very same answer (status, redirect, content type and the
whole body), so nobody can probe which ids belong to other people.

The test is generated from ``app.router``: a new route is covered the day it is added. A route
whose path parameter this file does not know fails the test, so the author has to say what
kind of object it names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import announcements, lessons, marks, messaging, timetable
from diary_core.clock import FixedClock
from diary_core.families import link_guardian
from diary_core.models import Period
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

DAY = date(2025, 10, 14)
#: Routes that name no object of anyone else's (the caller's own things, public pages), and
#: the portal's machine interface, which people cannot call (bearer tokens of registered
#: clients; its client-scope rule has its own tests in tests/integration/portal/); the
#: timetable subscription, whose path holds a token, not an object (tests/integration/calendar/).
SKIP_PREFIXES = ("/static", "/auth/esia/", "/healthz", "/portal/", "/.well-known/", "/calendar/")
#: The one-click unsubscribe names no object: its token is a capability (tests/integration/mail/).
SKIP_PREFIXES += ("/mail/unsubscribe/",)

#: Which kind of object each path parameter names.
PARAM_KINDS = {
    "pupil_id": "pupil",
    "class_id": "class",
    "mark_id": "mark",
    "conversation_id": "conversation",
    "announcement_id": "announcement",
    "guardianship_id": "guardianship",
    "link_id": "guardianship",
    "user_id": "staff",
    "timetable_id": "timetable",
    "period_id": "period",
    "lesson_id": "lesson",
}

#: Routes that name objects in the query string, not the path.
QUERY_ROUTES = (
    ("GET", "/diary?pupil={pupil}"),
    ("GET", "/console/gradebook?class={class}&subject={subject}&period={period}"),
    ("GET", "/api/v1/gradebook?class={class}&subject={subject}&period={period}"),
    ("GET", "/api/v1/pupils/{pupil}/marks?from=2025-09-01&to=2025-12-31"),
)


#: Ids that name no object at all, by kind.
MISSING = {
    kind: 900_000 + n
    for n, kind in enumerate(
        ("pupil", "class", "subject", "mark", "lesson", "conversation", "announcement",
         "guardianship", "timetable", "period", "staff")
    )
}  # fmt: skip


@dataclass
class Foreign:
    """Objects the actor must not reach, and names that must not appear in any answer."""

    ids: dict[str, int]
    names: tuple[str, ...]


async def _objects(world: World, *, pupil: int, klass: int, subject: int, teacher: int,
                   parent: int, admin: int, school_period: int) -> dict[str, int]:  # fmt: skip
    """Create a mark, a lesson, a conversation, an announcement, a pending guardianship and a
    weekly timetable around ``pupil`` and ``klass``; return the ids by kind."""
    t = await world.ctx(teacher)
    lesson = await lessons.record_lesson(
        t, class_id=klass, subject_id=subject, day=DAY, lesson_number=1, topic="Тема"
    )
    mark = await marks.record_mark(
        t, pupil_id=pupil, subject_id=subject, day=DAY, value="4",
        work_type_id=await _work_type(world, subject), lesson_id=lesson.id,
    )  # fmt: skip
    conversation = await messaging.start_conversation(
        await world.ctx(parent), [teacher], "Вопрос", "Здравствуйте", pupil_id=pupil
    )
    a = await world.ctx(admin)
    school_id = a.actor.school_id
    assert school_id is not None
    note = await announcements.announce(
        a, "Собрание", "В пятницу", "parent_meeting", school_id, klass
    )
    tt = await timetable.set_weekly_timetable(
        a, klass, date(2025, 9, 1), [timetable.SlotInput(1, 1, subject, teacher, "101")]
    )
    stranger = await _stranger_parent(world, pupil)
    return {
        "pupil": pupil,
        "class": klass,
        "subject": subject,
        "mark": mark.id,
        "lesson": lesson.id,
        "conversation": conversation,
        "announcement": note.id,
        "guardianship": stranger,
        "timetable": tt.id,
        "period": school_period,
        "staff": teacher,
    }


async def _work_type(world: World, subject: int) -> int:
    ids = (
        world.a.work_type_ids
        if subject in (world.math_a, world.russian_a)
        else world.b.work_type_ids
    )
    return ids["Ответ на уроке"]


async def _stranger_parent(world: World, pupil: int) -> int:
    from diary_core.families import PersonData, find_or_create_parent
    from tests.support.world import next_snils

    ctx = await world.ctx()
    parent = await find_or_create_parent(ctx, PersonData("Чужой", "Родитель", snils=next_snils()))
    link = await link_guardian(ctx, parent.id, pupil, source="esia", confirmed=False)
    return link.id


@pytest.fixture
async def foreign(world: World) -> dict[str, Foreign]:
    """Objects of another school (school B), another class (5Б) and another family (pupil_a2)."""
    period_b = await world.session.get(Period, world.b.quarter_ids[0])
    assert period_b is not None
    other_school = await _objects(
        world, pupil=world.pupil_z1, klass=world.class_7a, subject=world.math_b,
        teacher=world.teacher_b, parent=world.parent_z1, admin=world.admin_b,
        school_period=period_b.id,
    )  # fmt: skip
    other_class = await _objects(
        world, pupil=world.pupil_b1, klass=world.class_5b, subject=world.russian_a,
        teacher=world.ct_5b, parent=world.parent_b1, admin=world.admin_a,
        school_period=world.a.quarter_ids[0],
    )  # fmt: skip
    t = await world.ctx(world.teacher_math)
    mark_a2 = await marks.record_mark(
        t, pupil_id=world.pupil_a2, subject_id=world.math_a, day=DAY, value="3",
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
    )  # fmt: skip
    talk_a2 = await messaging.start_conversation(
        await world.ctx(world.parent_a2), [world.teacher_math], "Про Дашу", "Добрый день",
        pupil_id=world.pupil_a2,
    )  # fmt: skip
    other_family = {
        "pupil": world.pupil_a2,
        "mark": mark_a2.id,
        "conversation": talk_a2,
        "guardianship": await _stranger_parent(world, world.pupil_a2),
    }
    await world.session.commit()
    return {
        "other_school": Foreign(other_school, ("Далёкий", "Далёкая", "Чужова")),
        "other_class": Foreign(other_class, ("Попов", "Попова")),
        "other_family": Foreign(other_family, ("Кузнецова", "Про Дашу")),
    }


#: Who is asked to reach what: every role against another school; families also against
#: another class and another family (staff legitimately see every class of their school).
ACTORS = {
    "administrator": ("admin_a", ("other_school",)),
    "teacher": ("teacher_math", ("other_school",)),
    "class_teacher": ("ct_5a", ("other_school",)),
    "parent": ("parent_a1", ("other_school", "other_class", "other_family")),
    "pupil": ("pupil_a1_user", ("other_school", "other_class", "other_family")),
}


def _route_cases(app: web.Application) -> list[tuple[str, str, tuple[str, ...]]]:
    cases = []
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path") or ""
        if not path or path.startswith(SKIP_PREFIXES) or "{" not in path:
            continue
        params = tuple(re.findall(r"{(\w+)}", path))
        unknown = [p for p in params if p not in PARAM_KINDS]
        assert not unknown, f"{route.method} {path}: say what {unknown} names in PARAM_KINDS"
        template = path
        for p in params:
            template = template.replace("{" + p + "}", "{" + PARAM_KINDS[p] + "}")
        cases.append((route.method, template, tuple(PARAM_KINDS[p] for p in params)))
    for method, template in QUERY_ROUTES:
        cases.append((method, template, tuple(re.findall(r"{(\w+)}", template))))
    return cases


async def _fingerprint(engine: AsyncEngine) -> str:
    """A digest of what a refused write could have touched."""
    queries = (
        "SELECT id, value, weight, counts FROM marks ORDER BY id",
        "SELECT id, status FROM guardianships ORDER BY id",
        "SELECT id, is_active, login FROM users ORDER BY id",
        "SELECT count(*) FROM messages",
        "SELECT count(*) FROM announcement_receipts",
        "SELECT count(*) FROM timetable_changes",
        "SELECT id, published_at FROM timetables ORDER BY id",
        "SELECT id, locked_at FROM period_marks ORDER BY id",
        "SELECT id, topic, homework FROM lessons ORDER BY id",
        "SELECT count(*) FROM one_time_codes",
    )
    digest = hashlib.sha256()
    async with engine.connect() as conn:
        for q in queries:
            digest.update(repr((await conn.execute(text(q))).all()).encode())
    return digest.hexdigest()


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


#: Query values every GET carries, so that routes with required parameters reach their
#: access check instead of stopping at "missing parameter".
COMMON_QUERY = "from=2025-09-01&to=2025-12-31&week=2025-10-13"
#: A page that is not for this role sends him home; that reveals nothing.
HOMES = ("/console", "/diary", "/login")


def _answer(resp: Any, body: str) -> tuple[object, ...]:
    """Everything a caller learns from an answer (the status, where it sends him, the body)."""
    return (resp.status, resp.headers.get("Location"), resp.headers.get("Content-Type"), body)


async def _ask(browser: Browser, base: str, method: str, url: str, token: str) -> Any:
    if method == "GET":
        joiner = "&" if "?" in url else "?"
        return await browser.get(base + url + joiner + COMMON_QUERY)
    if url.startswith("/api/"):
        # If-Match: * so that writes guarded by an ETag reach their access check.
        headers = {"X-CSRF-Token": token, "If-Match": "*"}
        resp = await browser.http.request(
            method, base + url, json={}, headers=headers, allow_redirects=False
        )
        await resp.read()
        return resp
    return await browser.post(base + url, {"csrf_token": token})


@pytest.mark.parametrize("role", list(ACTORS))
async def test_no_route_reaches_another_familys_classs_or_schools_objects(
    role: str,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    foreign: dict[str, Foreign],
) -> None:
    attr, relations = ACTORS[role]
    browser = Browser()
    await sign_in_as(browser, engine, getattr(world, attr), clock.now())
    token = await browser.csrf(base + "/account")
    from gateway.app import create_app
    from tests.support.gateway import gateway_settings as _settings

    cases = _route_cases(create_app(_settings("sqlite+aiosqlite:///:memory:", 1)))
    assert len(cases) > 30  # the route table really was read
    checked = 0
    failures: list[str] = []
    for relation in relations:
        objects = foreign[relation]
        for method, template, kinds in cases:
            if not all(k in objects.ids for k in kinds):
                continue  # this relation has no object of that kind that must stay hidden
            url = template.format(**objects.ids)
            before = await _fingerprint(engine) if method != "GET" else ""
            resp = await _ask(browser, base, method, url, token)
            body = await resp.text()
            allowed = {403, 404} if method == "GET" else {400, 403, 404}
            sent_home = resp.status == 303 and resp.headers.get("Location", "").startswith(HOMES)
            if resp.status not in allowed and not sent_home:
                failures.append(f"{relation}: {method} {url} → {resp.status}")
            leaked = [n for n in objects.names if n in body]
            if leaked:
                failures.append(f"{relation}: {method} {url} shows {leaked}")
            if method != "GET" and await _fingerprint(engine) != before:
                failures.append(f"{relation}: {method} {url} changed the database")
            missing_url = template.format(**{**objects.ids, **MISSING})
            missing = await _ask(browser, base, method, missing_url, token)
            if _answer(resp, body) != _answer(missing, await missing.text()):
                failures.append(
                    f"{relation}: {method} {url} → {_answer(resp, body)[:3]} differs from "
                    f"{missing_url} → {_answer(missing, await missing.text())[:3]} "
                    "(another's object and a missing one must answer alike)"
                )
            checked += 1
    await browser.close()
    assert not failures, "\n".join(failures)
    assert checked >= 20
