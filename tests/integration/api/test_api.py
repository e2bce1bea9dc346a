"""The JSON API over real HTTP, on both databases: each endpoint for the role it is for, the
same access rules as the pages, CSRF, sign-in and input validation. Every answer is checked
against its declared schema by :class:`tests.integration.api.Api`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import announcements, attendance, lessons, marks, timetable
from diary_core.clock import FixedClock
from diary_core.models import Attendance, Guardianship, Lesson, Mark
from diary_core.timetable import SlotInput
from tests.integration.api import Api
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

SignIn = Callable[[int | None], Awaitable[Api]]
TODAY = date(2025, 10, 15)  # the clock fixture's day, a Wednesday
MONDAY = date(2025, 10, 13)
RANGE: dict[str, object] = {"from": "2025-09-01", "to": "2025-10-31"}


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def api_as(base: str, engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[SignIn]:
    """``await api_as(user_id)``: an API client signed in as that user, holding his CSRF
    token; ``api_as(None)``: a client without a session."""
    browsers: list[Browser] = []

    async def make(user_id: int | None) -> Api:
        browser = Browser()
        browsers.append(browser)
        api = Api(base, browser)
        if user_id is not None:
            await sign_in_as(browser, engine, user_id, clock.now())
            await api.sign_csrf()
        return api

    yield make
    for browser in browsers:
        await browser.close()


async def _mark(world: World, pupil_id: int, value: str, work: str, day: date) -> int:
    ctx = await world.ctx()
    mark = await marks.record_mark(
        ctx,
        pupil_id=pupil_id,
        subject_id=world.math_a,
        day=day,
        value=value,
        work_type_id=world.a.work_type_ids[work],
    )
    await world.session.commit()
    return mark.id


async def _lesson(world: World, *, homework: str = "№ 5, 7") -> int:
    ctx = await world.ctx()
    lesson = await lessons.record_lesson(
        ctx,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=TODAY,
        lesson_number=2,
        topic="Дроби",
        homework=homework,
        teacher_id=world.teacher_math,
    )
    await world.session.commit()
    return lesson.id


async def _count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


# --- session ------------------------------------------------------------------------------


async def test_session_names_user_roles_and_csrf_token(api_as: SignIn, world: World) -> None:
    api = await api_as(world.teacher_math)
    answer = await api.get("/session")
    assert answer.body["user_id"] == world.teacher_math
    assert answer.body["roles"] == ["teacher"]
    assert answer.body["csrf_token"] == api.token and api.token


async def test_no_session_is_401_problem(api_as: SignIn, world: World) -> None:
    nobody = await api_as(None)
    for path in ("/session", "/me/pupils", f"/pupils/{world.pupil_a1}/marks"):
        answer = await nobody.get(path, **RANGE)
        assert answer.status == 401
        assert answer.body["code"] == "unauthorized"
        assert "Смирнов" not in answer.text


async def test_unsafe_request_without_session_is_401_not_403(api_as: SignIn) -> None:
    nobody = await api_as(None)
    answer = await nobody.call("POST", "/marks", body={})
    assert answer.status == 401 and answer.body["code"] == "unauthorized"


async def test_unknown_path_and_method_are_problem_json(api_as: SignIn, world: World) -> None:
    api = await api_as(world.parent_a1)
    missing = await api.get("/no-such-thing")
    assert missing.status == 404 and missing.body["code"] == "not_found"
    wrong_method = await api.call("DELETE", "/me/pupils")
    assert wrong_method.status == 405 and wrong_method.body["code"] == "method_not_allowed"


async def test_openapi_document_is_public(api_as: SignIn) -> None:
    answer = await (await api_as(None)).get("/openapi.json")
    assert answer.status == 200 and answer.body["openapi"].startswith("3.1")


# --- the family's diary -------------------------------------------------------------------


async def test_parent_lists_only_own_children(api_as: SignIn, world: World) -> None:
    answer = await (await api_as(world.parent_a1)).get("/me/pupils")
    assert [p["id"] for p in answer.body] == [world.pupil_a1]
    assert answer.body[0]["class_name"] == "5А"


async def test_parent_reads_child_marks_with_weighted_average(api_as: SignIn, world: World) -> None:
    await _mark(world, world.pupil_a1, "5", "Ответ на уроке", date(2025, 10, 1))
    await _mark(world, world.pupil_a1, "3", "Контрольная работа", date(2025, 10, 2))
    answer = await (await api_as(world.parent_a1)).get(f"/pupils/{world.pupil_a1}/marks", **RANGE)
    (math,) = answer.body["subjects"]
    assert math["subject"] == "Математика"
    assert [m["value"] for m in math["marks"]] == ["5", "3"]
    assert math["marks"][1]["work_type"] == "Контрольная работа"
    assert math["average"] == "3.50"  # (5·1 + 3·3) / 4
    assert math["suggested_period_mark"] == 4


async def test_parent_cannot_see_other_family_marks(api_as: SignIn, world: World) -> None:
    await _mark(world, world.pupil_a2, "2", "Ответ на уроке", date(2025, 10, 1))
    api = await api_as(world.parent_a1)
    for pupil in (world.pupil_a2, world.pupil_z1, 999_999):
        for what in ("marks", "attendance"):
            answer = await api.get(f"/pupils/{pupil}/{what}", **RANGE)
            assert answer.status == 404 and answer.body["code"] == "not_found"
            assert "Кузнецова" not in answer.text and "Далёкий" not in answer.text


async def test_parent_reads_child_attendance(api_as: SignIn, world: World) -> None:
    lesson_id = await _lesson(world)
    await attendance.set_attendance(
        await world.ctx(), pupil_id=world.pupil_a1, lesson_id=lesson_id, kind="б"
    )
    await world.session.commit()
    answer = await (await api_as(world.parent_a1)).get(
        f"/pupils/{world.pupil_a1}/attendance", **RANGE
    )
    assert answer.body["attendance"] == [
        {
            "date": "2025-10-15",
            "lesson_number": 2,
            "subject_id": world.math_a,
            "subject": "Математика",
            "kind": "б",
        }
    ]


async def test_class_lessons_show_homework_to_the_class_only(api_as: SignIn, world: World) -> None:
    await _lesson(world, homework="Выучить таблицу")
    answer = await (await api_as(world.pupil_a1_user)).get(
        f"/classes/{world.class_5a}/lessons", **RANGE
    )
    assert [(x["topic"], x["homework"]) for x in answer.body] == [("Дроби", "Выучить таблицу")]
    other = await (await api_as(world.parent_b1)).get(f"/classes/{world.class_5a}/lessons", **RANGE)
    assert other.status == 404 and "Выучить" not in other.text


async def test_timetable_week_shows_published_lessons(api_as: SignIn, world: World) -> None:
    ctx = await world.ctx()
    slot = SlotInput(
        weekday=3,
        lesson_number=1,
        subject_id=world.math_a,
        teacher_id=world.teacher_math,
        room="12",
    )
    info = await timetable.set_weekly_timetable(ctx, world.class_5a, date(2025, 9, 1), [slot])
    await timetable.publish_timetable(ctx, info.id)
    await world.session.commit()
    api = await api_as(world.parent_a1)
    answer = await api.get(f"/classes/{world.class_5a}/timetable", week="2025-10-16")
    assert answer.body["monday"] == MONDAY.isoformat()
    wednesday = answer.body["days"][2]
    assert wednesday["date"] == "2025-10-15"
    (cell,) = wednesday["lessons"]
    assert cell["actual"]["subject"] == "Математика" and cell["actual"]["room"] == "12"
    default_week = await api.get(f"/classes/{world.class_5a}/timetable")
    assert default_week.body["monday"] == MONDAY.isoformat()
    other_school = await api.get(f"/classes/{world.class_7a}/timetable")
    assert other_school.status == 404


# --- the gradebook and marks --------------------------------------------------------------


async def test_teacher_reads_gradebook_of_his_class(api_as: SignIn, world: World) -> None:
    await _mark(world, world.pupil_a1, "4", "Ответ на уроке", date(2025, 10, 1))
    params = {"class": world.class_5a, "subject": world.math_a, "period": world.a.quarter_ids[0]}
    answer = await (await api_as(world.teacher_math)).get("/gradebook", **params)
    names = [row["full_name"] for row in answer.body["rows"]]
    assert names == ["Кузнецова Дарья", "Смирнов Артём"]
    smirnov = answer.body["rows"][1]
    assert [m["value"] for m in smirnov["unplaced"]] == ["4"] and smirnov["average"] == "4.00"


async def test_other_class_gradebook_is_refused_without_data(api_as: SignIn, world: World) -> None:
    params = {"class": world.class_5a, "subject": world.math_a, "period": world.a.quarter_ids[0]}
    for user in (world.ct_5b, world.teacher_b, world.parent_a1):
        answer = await (await api_as(user)).get("/gradebook", **params)
        assert answer.status in (403, 404), (user, answer.status)
        assert "Смирнов" not in answer.text and "Кузнецова" not in answer.text


async def test_teacher_records_mark_and_parent_sees_it(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    teacher = await api_as(world.teacher_math)
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,
        "date": "2025-10-15",
        "value": "5",
        "work_type_id": world.a.work_type_ids["Контрольная работа"],
        "comment": "Отлично",
    }
    answer = await teacher.call("POST", "/marks", body=body)
    assert answer.status == 201 and answer.body["weight"] == 3
    async with engine.connect() as conn:
        stored = (await conn.execute(select(Mark.value, Mark.created_by_id))).one()
    assert tuple(stored) == ("5", world.teacher_math)
    seen = await (await api_as(world.parent_a1)).get(f"/pupils/{world.pupil_a1}/marks", **RANGE)
    assert seen.body["subjects"][0]["marks"][0]["comment"] == "Отлично"


async def test_teacher_of_other_subject_cannot_post_mark(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,  # ct_5a teaches Russian in 5А, not maths
        "date": "2025-10-15",
        "value": "2",
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
    }
    answer = await (await api_as(world.ct_5a)).call("POST", "/marks", body=body)
    assert answer.status == 403 and answer.body["code"] == "forbidden"
    other_school = await (await api_as(world.teacher_b)).call("POST", "/marks", body=body)
    assert other_school.status == 404
    assert await _count(engine, Mark) == 0


async def test_corrected_and_deleted_mark_keeps_history(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    mark_id = await _mark(world, world.pupil_a1, "3", "Ответ на уроке", date(2025, 10, 1))
    teacher = await api_as(world.teacher_math)
    read = await teacher.get(f"/marks/{mark_id}")
    patched = await teacher.call(
        "PATCH",
        f"/marks/{mark_id}",
        body={"value": "4", "reason": "пересдал"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert patched.body["value"] == "4" and patched.body["numeric"] == 4
    deleted = await teacher.call(
        "DELETE",
        f"/marks/{mark_id}",
        params={"reason": "ошибка"},
        headers={"If-Match": patched.headers["ETag"]},
    )
    assert deleted.status == 204 and await _count(engine, Mark) == 0
    history = await teacher.get(f"/marks/{mark_id}/history")
    assert [e["action"] for e in history.body] == ["create", "update", "delete"]
    assert history.body[1]["old"]["value"] == "3" and history.body[1]["new"]["value"] == "4"
    assert history.body[1]["by"] == world.teacher_math
    stranger = await (await api_as(world.parent_a2)).get(f"/marks/{mark_id}/history")
    assert stranger.status == 404 and "пересдал" not in stranger.text


async def test_teacher_sets_and_clears_attendance(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    lesson_id = await _lesson(world)
    teacher = await api_as(world.teacher_math)
    body = {"pupil_id": world.pupil_a2, "lesson_id": lesson_id, "kind": "оп"}
    answer = await teacher.call("PUT", "/attendance", body=body)
    assert answer.body == body
    async with engine.connect() as conn:
        assert await conn.scalar(select(Attendance.kind)) == "оп"
    cleared = await teacher.call("PUT", "/attendance", body={**body, "kind": None})
    assert cleared.body["kind"] is None and await _count(engine, Attendance) == 0
    # ct_5b does not teach 5А: its pupil is "not found" to him, like a missing one.
    refused = await (await api_as(world.ct_5b)).call("PUT", "/attendance", body=body)
    assert refused.status == 404 and await _count(engine, Attendance) == 0


async def test_teacher_records_lesson_topic_and_homework(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    body = {
        "class_id": world.class_5a,
        "subject_id": world.math_a,
        "date": "2025-10-15",
        "lesson_number": 3,
        "topic": "Проценты",
        "homework": "№ 12",
    }
    answer = await (await api_as(world.teacher_math)).call("POST", "/lessons", body=body)
    assert answer.body["teacher_id"] == world.teacher_math and answer.body["homework"] == "№ 12"
    refused = await (await api_as(world.ct_5a)).call(
        "POST", "/lessons", body={**body, "lesson_number": 4}
    )
    assert refused.status == 403
    assert await _count(engine, Lesson) == 1


# --- messages, announcements, notifications ---------------------------------------------


async def test_parent_writes_to_teacher_and_teacher_replies(
    api_as: SignIn, world: World, clock: FixedClock
) -> None:
    body = {"recipient_ids": [world.teacher_math], "topic": "Контрольная", "body": "Когда?"}
    started = await (await api_as(world.parent_a1)).call(
        "POST", "/conversations", body={**body, "pupil_id": world.pupil_a1}
    )
    conv = started.body["id"]
    clock.advance(timedelta(days=7))  # overdue after a week (docs/regulation.md, clause 5.1)
    teacher = await api_as(world.teacher_math)
    (summary,) = (await teacher.get("/conversations")).body
    assert summary["id"] == conv and summary["unread"] == 1 and summary["overdue"] is True
    thread = await teacher.get(f"/conversations/{conv}")
    assert [m["body"] for m in thread.body["messages"]] == ["Когда?"]
    clock.advance(timedelta(minutes=1))
    replied = await teacher.call(
        "POST", f"/conversations/{conv}/messages", body={"body": "В пятницу"}
    )
    assert replied.status == 201
    parent = await api_as(world.parent_a1)
    (after,) = (await parent.get("/conversations")).body
    assert after["unread"] == 1 and after["awaiting_reply_since"] is None
    assert after["overdue"] is False
    notes = await parent.get("/notifications", unread_only="true")
    assert len(notes.body) == 1 and notes.body[0]["kind"] == "message"
    read = await parent.call("POST", "/notifications/read", body={"ids": [notes.body[0]["id"]]})
    assert read.body == {"count": 1}
    assert (await parent.get("/notifications", unread_only="true")).body == []


async def test_conversation_exists_only_for_participants(api_as: SignIn, world: World) -> None:
    parent = await api_as(world.parent_a1)
    body = {"recipient_ids": [world.teacher_math], "topic": "Секрет", "body": "Личное"}
    conv = (await parent.call("POST", "/conversations", body=body)).body["id"]
    other = await api_as(world.parent_a2)
    for answer in (
        await other.get(f"/conversations/{conv}"),
        await other.call("POST", f"/conversations/{conv}/messages", body={"body": "Я тоже"}),
    ):
        assert answer.status == 404 and "Личное" not in answer.text
    assert (await other.get("/conversations")).body == []


async def test_parent_may_not_write_to_another_school(api_as: SignIn, world: World) -> None:
    body = {"recipient_ids": [world.teacher_b], "topic": "Вопрос", "body": "Здравствуйте"}
    answer = await (await api_as(world.parent_a1)).call("POST", "/conversations", body=body)
    assert answer.status in (403, 404)


async def test_parent_reads_class_announcement(api_as: SignIn, world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    view = await announcements.announce(
        ctx, "Собрание", "В четверг в 18:00", "parent_meeting", world.a.id, world.class_5a
    )
    await world.session.commit()
    parent = await api_as(world.parent_a1)
    (item,) = (await parent.get("/announcements")).body
    assert item["title"] == "Собрание" and item["is_read"] is False
    read = await parent.call("POST", f"/announcements/{view.id}/read")
    assert read.status == 204
    assert (await parent.get("/announcements")).body[0]["is_read"] is True
    outsider = await api_as(world.parent_z1)
    assert (await outsider.get("/announcements")).body == []
    refused = await outsider.call("POST", f"/announcements/{view.id}/read")
    assert refused.status == 404


# --- guardianships ---------------------------------------------------------------------------


async def test_class_teacher_confirms_pending_guardianship(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    teacher = await api_as(world.ct_5a)
    (link,) = (await teacher.get(f"/classes/{world.class_5a}/pending-guardianships")).body
    assert link["guardian_name"] == "Смирнов Олег" and link["pupil_name"] == "Смирнов Артём"
    decided = await teacher.call(
        "POST", f"/guardianships/{link['id']}/decision", body={"accept": True}
    )
    assert decided.body["status"] == "confirmed"
    async with engine.connect() as conn:
        status = await conn.scalar(select(Guardianship.status).where(Guardianship.id == link["id"]))
    assert status == "confirmed"
    again = await teacher.call(
        "POST", f"/guardianships/{link['id']}/decision", body={"accept": False}
    )
    assert again.status == 409 and again.body["code"] == "conflict"


async def test_other_class_teacher_cannot_decide_guardianship(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    teacher = await api_as(world.ct_5a)
    (link,) = (await teacher.get(f"/classes/{world.class_5a}/pending-guardianships")).body
    other = await api_as(world.ct_5b)
    refused = await other.call(
        "POST", f"/guardianships/{link['id']}/decision", body={"accept": True}
    )
    assert refused.status in (403, 404)
    listing = await (await api_as(world.admin_b)).get(
        f"/classes/{world.class_5a}/pending-guardianships"
    )
    assert listing.status == 404 and "Смирнов" not in listing.text
    async with engine.connect() as conn:
        status = await conn.scalar(select(Guardianship.status).where(Guardianship.id == link["id"]))
    assert status == "pending"


# --- CSRF and input validation ---------------------------------------------------------------


async def test_unsafe_requests_without_csrf_header_are_refused(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    mark_id = await _mark(world, world.pupil_a1, "3", "Ответ на уроке", date(2025, 10, 1))
    teacher = await api_as(world.teacher_math)
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,
        "date": "2025-10-15",
        "value": "5",
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
    }
    for method, path, payload in (
        ("POST", "/marks", body),
        ("PATCH", f"/marks/{mark_id}", {"value": "2"}),
        ("DELETE", f"/marks/{mark_id}", None),
    ):
        answer = await teacher.call(method, path, body=payload, csrf=False)
        assert answer.status == 403 and answer.body["code"] == "forbidden", method
    teacher.token = "not-the-token"
    assert (await teacher.call("POST", "/marks", body=body)).status == 403
    async with engine.connect() as conn:
        assert list(await conn.scalars(select(Mark.value))) == ["3"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pupil_id": "один"}, "pupil_id"),
        ({"date": "15.10.2025"}, "date"),
        ({"date": "2025-02-30"}, "date"),
        ({"value": None}, "value"),
        ({"weight": 11}, "weight"),
        ({"surprise": 1}, "surprise"),
        ({"value": "6"}, "value"),
        ({"date": "2025-10-20"}, "date"),  # the core's rule (no future dates), named by it
    ],
)
async def test_malformed_mark_is_400_naming_the_field(
    api_as: SignIn, world: World, engine: AsyncEngine, change: dict[str, object], field: str
) -> None:
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,
        "date": "2025-10-15",
        "value": "5",
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
        **change,
    }
    answer = await (await api_as(world.teacher_math)).call("POST", "/marks", body=body)
    assert answer.status == 400, answer.text
    assert answer.body["code"] == "invalid_input" and answer.body["field"] == field
    assert await _count(engine, Mark) == 0


async def test_missing_field_and_non_json_body_are_named(api_as: SignIn, world: World) -> None:
    teacher = await api_as(world.teacher_math)
    missing = await teacher.call("POST", "/marks", body={"pupil_id": world.pupil_a1})
    assert missing.status == 400 and missing.body["field"] == "subject_id"
    garbage = await teacher.call("POST", "/marks", raw="{not json")
    assert garbage.status == 400 and garbage.body["field"] == "body"
    empty_patch = await teacher.call("PATCH", "/marks/1", body={})
    assert empty_patch.status == 400


async def test_bad_ids_and_dates_in_url_are_400_naming_the_parameter(
    api_as: SignIn, world: World
) -> None:
    parent = await api_as(world.parent_a1)
    cases: list[tuple[str, dict[str, object], str]] = [
        ("/pupils/abc/marks", RANGE, "pupil_id"),
        (f"/pupils/{world.pupil_a1}/marks", {"from": "2025-9-1", "to": "2025-10-31"}, "from"),
        (f"/pupils/{world.pupil_a1}/marks", {"from": "2025-09-01"}, "to"),
        (f"/pupils/{world.pupil_a1}/marks", {"from": "2025-10-31", "to": "2025-09-01"}, "to"),
        ("/gradebook", {"class": "5А", "subject": 1, "period": 1}, "class"),
        ("/notifications", {"limit": 0}, "limit"),
    ]
    for path, params, field in cases:
        answer = await parent.get(path, **params)
        assert answer.status == 400 and answer.body["field"] == field, (path, answer.text)
