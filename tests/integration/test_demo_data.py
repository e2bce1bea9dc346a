"""The demo-data generator: deterministic, realistic, and consistent with the diary's rules.

Generated with small classes (``pupils_per_class``) at 20 November 2025, so the first quarter
is finished (its period marks exist) and the data stays small on both databases.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import accounts, grading
from diary_core.actors import load_actor
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.db import create_engine, session_factory
from diary_core.demo import (
    DEMO_PASSWORD,
    DEMO_SCHOOL_NAME,
    DemoSummary,
    ensure_demo_school,
    generate_demo_school,
)
from diary_core.demo.calendar import school_year
from diary_core.models import (
    Attendance,
    ChangeLogEntry,
    Conversation,
    Guardianship,
    Lesson,
    Mark,
    Message,
    Period,
    PeriodMark,
    Pupil,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
    UserRole,
)
from diary_core.policy import Action, Actor, PupilTarget, allowed
from diary_core.snils import is_valid_snils
from gateway.demo.esia_persons import esia_persons
from gateway.storage.schema import upgrade
from tests.support.databases import empty_postgres

NOW = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
SMALL = 4  # pupils per class


@pytest.fixture
def demo_clock() -> FixedClock:
    return FixedClock(NOW)


async def _generate(session: AsyncSession, clock: FixedClock, seed: int = 7) -> DemoSummary:
    summary = await generate_demo_school(session, clock, seed=seed, pupils_per_class=SMALL)
    assert summary is not None
    await session.commit()
    return summary


@pytest.fixture
async def demo(session: AsyncSession, demo_clock: FixedClock) -> DemoSummary:
    return await _generate(session, demo_clock)


async def _fingerprint(session: AsyncSession) -> tuple[int, list[tuple[object, ...]], list[str]]:
    pupil_user = User.__table__.alias("pu")
    marks = await session.execute(
        select(pupil_user.c.last_name, pupil_user.c.first_name, Subject.name, Mark.date, Mark.value)
        .join(Pupil, Pupil.id == Mark.pupil_id)
        .join(pupil_user, pupil_user.c.id == Pupil.user_id)
        .join(Subject, Subject.id == Mark.subject_id)
        .order_by(Mark.id)
        .limit(60)
    )
    names = await session.scalars(select(User.last_name + " " + User.first_name).order_by(User.id))
    count = await session.scalar(select(func.count()).select_from(Mark))
    return int(count or 0), [tuple(r) for r in marks], list(names)


async def _second_database(engine: AsyncEngine, db_url: str, tmp_path: Path) -> AsyncEngine:
    """An empty migrated database beside the fixture's (PostgreSQL: the same one, emptied)."""
    if db_url.startswith("postgresql"):
        await empty_postgres(engine)
        return engine
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite'}")
    await upgrade(other)
    return other


async def test_same_seed_gives_identical_data(
    session: AsyncSession, engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    first_summary = await _generate(session, FixedClock(NOW))
    first = await _fingerprint(session)
    await session.close()
    other = await _second_database(engine, db_url, tmp_path)
    try:
        async with session_factory(other)() as second_session:
            second_summary = await _generate(second_session, FixedClock(NOW))
            second = await _fingerprint(second_session)
    finally:
        if other is not engine:
            await other.dispose()
    assert first[0] > 500
    assert first == second
    assert first_summary.persons == second_summary.persons
    assert first_summary.counts == second_summary.counts


async def test_another_seed_gives_other_people(
    session: AsyncSession, engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    await _generate(session, FixedClock(NOW), seed=1)
    first = await _fingerprint(session)
    await session.close()
    other = await _second_database(engine, db_url, tmp_path)
    try:
        async with session_factory(other)() as second_session:
            await _generate(second_session, FixedClock(NOW), seed=2)
            second = await _fingerprint(second_session)
    finally:
        if other is not engine:
            await other.dispose()
    assert first[2] != second[2]


async def test_demo_accounts_sign_in_with_the_demo_password(
    session: AsyncSession, demo: DemoSummary, demo_clock: FixedClock
) -> None:
    ctx = Ctx(session, Actor.system_actor(), demo_clock)
    assert {a.login for a in demo.accounts} == {
        "admin",
        "teacher",
        "classteacher",
        "parent",
        "pupil",
    }
    for account in demo.accounts:
        result = await accounts.authenticate(ctx, account.login, DEMO_PASSWORD)
        assert result is not None, account.login
        assert not result.must_change_password
        assert result.user.full_name == account.full_name
        assert await accounts.authenticate(ctx, account.login, "wrong-password-1") is None
    hashed = await session.scalar(
        select(func.count()).select_from(User).where(User.password_hash.is_not(None))
    )
    assert hashed == 5


async def test_demo_accounts_have_their_roles(session: AsyncSession, demo: DemoSummary) -> None:
    by_login = {
        u.login: u.id for u in await session.scalars(select(User).where(User.login.is_not(None)))
    }
    admin = await load_actor(session, by_login["admin"])
    assert admin.admin_of(demo.school_id)
    teacher = await load_actor(session, by_login["teacher"])
    assert teacher.taught and not teacher.led_classes
    class_teacher = await load_actor(session, by_login["classteacher"])
    led = await session.scalar(
        select(SchoolClass.name).where(SchoolClass.id.in_(class_teacher.led_classes))
    )
    assert led == "5А"
    parent = await load_actor(session, by_login["parent"])
    classes = await session.scalars(
        select(SchoolClass.name).where(SchoolClass.id.in_({c.class_id for c in parent.children}))
    )
    assert sorted(classes) == ["2А", "5А"]
    pupil = await load_actor(session, by_login["pupil"])
    assert pupil.own_pupil is not None
    assert pupil.own_pupil.pupil_id in {c.pupil_id for c in parent.children}


async def test_marks_only_on_school_days_for_class_pupils_by_the_lesson_teacher(
    session: AsyncSession, demo: DemoSummary
) -> None:
    year = school_year(2025)
    rows = (
        await session.execute(
            select(
                Mark.date,
                Mark.subject_id,
                Mark.created_by_id,
                Mark.created_at,
                Lesson.date.label("lesson_date"),
                Lesson.subject_id.label("lesson_subject"),
                Lesson.teacher_id,
                Lesson.class_id,
                Pupil.class_id.label("pupil_class"),
                SchoolClass.grade,
            )
            .join(Lesson, Lesson.id == Mark.lesson_id)
            .join(Pupil, Pupil.id == Mark.pupil_id)
            .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        )
    ).all()
    assert len(rows) == demo.counts.marks > 0
    taught = set(
        (
            await session.execute(
                select(
                    TeachingAssignment.teacher_id,
                    TeachingAssignment.class_id,
                    TeachingAssignment.subject_id,
                )
            )
        ).all()
    )
    for r in rows:
        assert r.date == r.lesson_date and year.is_school_day(r.date, r.grade)
        assert r.pupil_class == r.class_id
        assert r.created_by_id == r.teacher_id and r.subject_id == r.lesson_subject
        assert (r.teacher_id, r.class_id, r.subject_id) in taught
        assert r.grade >= 2  # first grade is taught without marks
        assert r.created_at <= NOW
    holidays = await session.scalar(
        select(func.count())
        .select_from(Lesson)
        .where(Lesson.date.between(date(2025, 10, 27), date(2025, 11, 4)))
    )
    assert holidays == 0


async def test_marks_and_attendance_look_like_a_school(
    session: AsyncSession, demo_clock: FixedClock
) -> None:
    """With the real class sizes (8–15): mostly 3–5, some 2, about two marks a lesson."""
    summary = await generate_demo_school(session, demo_clock, seed=11)
    assert summary is not None
    values = dict(
        (await session.execute(select(Mark.value, func.count()).group_by(Mark.value))).all()
    )
    numeric = sum(values.get(v, 0) for v in "2345")
    assert sum(values.get(v, 0) for v in "345") > 0.85 * numeric
    assert values.get("2", 0) > 0
    assert values.get("зач", 0) > 0  # PE in the primary grades
    graded = await session.scalar(
        select(func.count())
        .select_from(Lesson)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(SchoolClass.grade >= 2, Lesson.date < NOW.date())
    )
    assert 1.5 <= summary.counts.marks / int(graded or 1) <= 3.0
    kinds = set(await session.scalars(select(Attendance.kind).distinct()))
    assert kinds <= {"н", "б", "оп"} and "б" in kinds
    pupil_lessons = await session.scalar(
        select(func.count()).select_from(Lesson).join(Pupil, Pupil.class_id == Lesson.class_id)
    )
    assert 0.01 < summary.counts.attendance / int(pupil_lessons or 1) < 0.08


async def test_period_marks_agree_with_the_suggested_mark_of_the_average(
    session: AsyncSession, demo: DemoSummary
) -> None:
    quarter = await session.scalar(
        select(Period).where(Period.kind == "quarter", Period.number == 1)
    )
    assert quarter is not None
    period_marks = list(
        await session.scalars(select(PeriodMark).where(PeriodMark.period_id == quarter.id))
    )
    numeric = [pm for pm in period_marks if pm.numeric is not None]
    assert len(numeric) > 100
    for pm in numeric:
        marks = await session.execute(
            select(Mark.numeric, Mark.weight, Mark.counts).where(
                Mark.pupil_id == pm.pupil_id,
                Mark.subject_id == pm.subject_id,
                Mark.date.between(quarter.starts_on, quarter.ends_on),
            )
        )
        average = grading.weighted_average((n, w, c) for n, w, c in marks)
        assert pm.value == str(grading.suggested_period_mark(average))
    locked = [pm for pm in period_marks if pm.locked_at is not None]
    assert locked and all(pm.locked_at <= NOW for pm in locked)
    second = await session.scalar(
        select(Period.id).where(Period.kind == "quarter", Period.number == 2)
    )
    assert not await session.scalar(
        select(func.count()).select_from(PeriodMark).where(PeriodMark.period_id == second)
    )


async def test_each_parent_sees_only_his_children(session: AsyncSession, demo: DemoSummary) -> None:
    pupils = (await session.execute(select(Pupil.id, Pupil.school_id, Pupil.class_id))).all()
    parents = list(await session.scalars(select(UserRole.user_id).where(UserRole.role == "parent")))
    assert len(parents) > 20
    for parent_id in parents:
        actor = await load_actor(session, parent_id)
        confirmed = set(
            await session.scalars(
                select(Guardianship.pupil_id).where(
                    Guardianship.guardian_id == parent_id, Guardianship.status == "confirmed"
                )
            )
        )
        visible = {
            p.id
            for p in pupils
            if allowed(actor, Action.READ_PUPIL, PupilTarget(p.school_id, p.class_id, p.id))
        }
        assert visible == confirmed == {c.pupil_id for c in actor.children}
    pending = await session.scalar(select(Guardianship).where(Guardianship.status == "pending"))
    assert pending is not None and pending.source == "esia"
    guardian = await load_actor(session, pending.guardian_id)
    assert pending.pupil_id not in {c.pupil_id for c in guardian.children}


async def test_some_parents_have_two_children_in_the_school(
    session: AsyncSession, demo: DemoSummary
) -> None:
    per_parent = (
        select(Guardianship.guardian_id, func.count().label("n"))
        .where(Guardianship.status == "confirmed")
        .group_by(Guardianship.guardian_id)
        .subquery()
    )
    two = await session.scalar(
        select(func.count()).select_from(per_parent).where(per_parent.c.n >= 2)
    )
    assert two and two >= 1


async def test_overdue_thread_waits_more_than_seven_days(
    session: AsyncSession, demo: DemoSummary
) -> None:
    week_ago = NOW - timedelta(days=7)
    threads = list(await session.scalars(select(Conversation)))
    overdue = [c for c in threads if c.awaiting_reply_since and c.awaiting_reply_since <= week_ago]
    fresh = [c for c in threads if c.awaiting_reply_since and c.awaiting_reply_since > week_ago]
    answered = [c for c in threads if c.awaiting_reply_since is None]
    assert overdue and fresh and answered
    assert any(c.kind == "admin_question" for c in threads)
    for thread in overdue:
        authors = list(
            await session.scalars(
                select(Message.author_id).where(Message.conversation_id == thread.id)
            )
        )
        roles = set(
            await session.scalars(select(UserRole.role).where(UserRole.user_id.in_(authors)))
        )
        assert roles == {"parent"}  # nobody on the staff has answered


async def test_every_mark_attendance_and_period_mark_has_a_create_entry(
    session: AsyncSession, demo: DemoSummary
) -> None:
    for model, entity in ((Mark, "mark"), (Attendance, "attendance"), (PeriodMark, "period_mark")):
        rows = {
            r.id: r.created_by_id
            for r in (await session.execute(select(model.id, model.created_by_id))).all()
        }
        log = {
            r.entity_id: r.actor_id
            for r in (
                await session.execute(
                    select(ChangeLogEntry.entity_id, ChangeLogEntry.actor_id).where(
                        ChangeLogEntry.entity == entity, ChangeLogEntry.action == "create"
                    )
                )
            ).all()
        }
        assert rows and log == rows, entity
    mark = await session.scalar(select(Mark).order_by(Mark.id.desc()).limit(1))
    assert mark is not None
    entry = await session.scalar(
        select(ChangeLogEntry).where(
            ChangeLogEntry.entity == "mark", ChangeLogEntry.entity_id == mark.id
        )
    )
    assert entry is not None and entry.new is not None and entry.old is None
    assert entry.new["value"] == mark.value and entry.new["lesson_id"] == mark.lesson_id


async def test_esia_persons_have_valid_snils_and_the_demo_parents_children(
    session: AsyncSession, demo: DemoSummary
) -> None:
    persons = esia_persons(demo.persons)
    snils = [p["snils"] for p in persons] + [k["snils"] for p in persons for k in p["kids"]]
    assert all(is_valid_snils(s) for s in snils)
    assert len({p["snils"] for p in persons}) == len(persons)
    for person in persons:
        assert {"oid", "lastName", "firstName", "middleName", "birthDate", "gender", "snils",
                "trusted", "email", "mobile", "kids"} <= set(person)  # fmt: skip
        datetime.strptime(person["birthDate"], "%d.%m.%Y")
        assert person["gender"] in ("M", "F")
    parent = await session.scalar(select(User).where(User.login == "parent"))
    assert parent is not None
    demo_parent = next(p for p in persons if p["snils"] == parent.snils)
    assert demo_parent["trusted"] is True
    children = set(
        await session.scalars(
            select(User.snils)
            .join(Pupil, Pupil.user_id == User.id)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.guardian_id == parent.id, Guardianship.status == "confirmed")
        )
    )
    assert {k["snils"] for k in demo_parent["kids"]} == children and len(children) == 2
    assert any(p["trusted"] is False for p in persons)
    pupil_snils = set(
        await session.scalars(select(User.snils).join(Pupil, Pupil.user_id == User.id))
    )
    assert any(p["snils"] in pupil_snils and not p["kids"] for p in persons)
    unbacked = 0
    for person in persons:
        user_id = await session.scalar(select(User.id).where(User.snils == person["snils"]))
        linked = set(
            await session.scalars(
                select(User.snils)
                .join(Pupil, Pupil.user_id == User.id)
                .join(Guardianship, Guardianship.pupil_id == Pupil.id)
                .where(Guardianship.guardian_id == user_id)
            )
        )
        unbacked += any(k["snils"] not in linked for k in person["kids"])
    assert unbacked == 1


async def test_existing_school_is_not_generated_again(
    session: AsyncSession, engine: AsyncEngine, demo: DemoSummary, demo_clock: FixedClock
) -> None:
    assert await generate_demo_school(session, demo_clock, pupils_per_class=SMALL) is None
    rebuilt = await ensure_demo_school(engine, demo_clock)
    assert rebuilt is not None and not rebuilt.created
    assert rebuilt.accounts == demo.accounts
    assert rebuilt.persons == demo.persons
    assert rebuilt.counts == demo.counts


async def test_ensure_demo_school_generates_into_an_empty_database_only(
    engine: AsyncEngine, session: AsyncSession, demo_clock: FixedClock
) -> None:
    summary = await ensure_demo_school(engine, demo_clock)
    assert summary is not None and summary.created and summary.school_name == DEMO_SCHOOL_NAME
    assert summary.counts.classes == 9 and 8 * 9 <= summary.counts.pupils <= 15 * 9 + 2


def test_demo_data_command_creates_the_school_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from gateway.cli import demo_data

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite'}"

    async def migrate() -> None:
        eng = create_engine(url)
        await upgrade(eng)
        await eng.dispose()

    asyncio.run(migrate())
    for name in [n for n in os.environ if n.startswith("EDIARY_")]:
        monkeypatch.delenv(name)  # EDIARY_TEST_* would be an unknown settings section
    monkeypatch.setenv("EDIARY_DATABASE_URL", url)
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    demo_data.register(parser.add_subparsers())
    persons = tmp_path / "persons.json"
    args = parser.parse_args(
        ["demo-data", "--pupils-per-class", "3", "--esia-persons", str(persons)]
    )
    assert demo_data.run(args) == 0
    out = capsys.readouterr().out
    assert DEMO_SCHOOL_NAME in out and DEMO_PASSWORD in out and "classteacher" in out
    assert persons.exists() and "snils" in persons.read_text()
    assert demo_data.run(parser.parse_args(["demo-data"])) == 0
    assert "уже есть" in capsys.readouterr().out
