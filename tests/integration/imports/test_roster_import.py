"""The roster import (README.md): pupils by class and their parents, all or nothing, idempotent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import Forbidden, NotFound
from diary_core.imports import ROSTER_COLUMNS, ImportFailed, RosterReport, import_roster
from diary_core.models import (
    AuditEvent,
    Guardianship,
    Pupil,
    SchoolClass,
    User,
    UserRole,
)
from diary_core.snils import make_snils
from tests.support.world import World

DATA = Path(__file__).with_name("data")
TABLES = (User, UserRole, Pupil, Guardianship, SchoolClass, AuditEvent)

KID_1, KID_2, KID_3 = make_snils(300_000_001), make_snils(300_000_002), make_snils(300_000_004)
MOTHER = make_snils(300_000_003)


def roster(*rows: str) -> str:
    return "\n".join((",".join(ROSTER_COLUMNS), *rows)) + "\n"


def row(
    cls: str = "5А",
    last: str = "Орлов",
    first: str = "Максим",
    middle: str = "",
    born: str = "2014-04-12",
    snils: str = KID_1,
    parent: str = "",
) -> str:
    """A roster row; ``parent`` is "last,first,middle,snils,email,phone" or empty."""
    return ",".join((cls, last, first, middle, born, snils, parent or ",,,,,"))


def mother(snils: str = MOTHER, last: str = "Орлова", email: str = "orlova@example.ru") -> str:
    return f"{last},Татьяна,Викторовна,{snils},{email},+7 912 345-67-89"


async def counts(session: AsyncSession) -> dict[str, int]:
    return {
        t.__tablename__: await session.scalar(select(func.count()).select_from(t)) or 0
        for t in TABLES
    }


async def import_as_admin(
    world: World, data: bytes | str, *, create_classes: bool = False
) -> RosterReport:
    ctx = await world.ctx(world.admin_a)
    report = await import_roster(
        ctx, world.a.id, data, file_name="roster.csv", create_classes=create_classes
    )
    await world.session.commit()
    return report


async def user_by_snils(session: AsyncSession, snils: str) -> User:
    user = await session.scalar(select(User).where(User.snils == snils))
    assert user is not None
    return user


async def roles(session: AsyncSession, user_id: int) -> set[str]:
    return set(await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


async def test_roster_from_excel_enrols_pupils_and_links_their_parent(world: World) -> None:
    report = await import_as_admin(world, (DATA / "roster_excel.csv").read_bytes())
    assert (report.pupils.created, report.parents.created, report.guardianships.created) == (
        3,
        1,
        2,
    )
    s = world.session
    kid = await user_by_snils(s, KID_1)
    assert (kid.last_name, kid.first_name, kid.middle_name) == ("Орлов", "Максим", "Сергеевич")
    assert kid.birth_date == date(2014, 4, 12)
    assert kid.school_id == world.a.id and kid.login is None
    assert await roles(s, kid.id) == {"pupil"}
    pupil = await s.scalar(select(Pupil).where(Pupil.user_id == kid.id))
    assert pupil is not None and pupil.class_id == world.class_5a
    kid_2 = await user_by_snils(s, KID_2)
    assert kid_2.birth_date == date(2015, 9, 3)
    parent = await user_by_snils(s, MOTHER)
    assert parent.school_id is None
    assert (parent.email, parent.phone) == ("orlova@example.ru", "+7 912 345-67-89")
    assert await roles(s, parent.id) == {"parent"}
    links = list(await s.scalars(select(Guardianship).where(Guardianship.guardian_id == parent.id)))
    assert {(g.status, g.source) for g in links} == {("confirmed", "roster")}
    assert len(links) == 2


async def test_parent_with_two_children_in_one_file_is_one_user(world: World) -> None:
    await import_as_admin(
        world,
        roster(
            row(snils=KID_1, parent=mother()),
            row(cls="5Б", first="Алиса", snils=KID_2, parent=mother()),
        ),
    )
    s = world.session
    assert await s.scalar(select(func.count()).where(User.snils == MOTHER)) == 1
    parent = await user_by_snils(s, MOTHER)
    actor = await world.actor(parent.id)
    assert len(actor.children) == 2


async def test_pupil_without_parents_has_no_guardianship(world: World) -> None:
    report = await import_as_admin(world, roster(row(snils=KID_3)))
    assert report.parents.created == 0 and report.guardianships.created == 0
    kid = await user_by_snils(world.session, KID_3)
    pupil = await world.session.scalar(select(Pupil).where(Pupil.user_id == kid.id))
    assert pupil is not None
    links = await world.session.scalar(
        select(func.count()).where(Guardianship.pupil_id == pupil.id)
    )
    assert links == 0


async def test_a_cell_filled_on_one_row_only_is_no_conflict(world: World) -> None:
    report = await import_as_admin(
        world,
        roster(
            row(snils=KID_1, parent=f"Орлова,Татьяна,,{MOTHER},,"),
            row(cls="5Б", first="Алиса", snils=KID_2, parent=mother()),
        ),
    )
    assert report.parents.created == 1
    parent = await user_by_snils(world.session, MOTHER)
    assert (parent.middle_name, parent.email) == ("Викторовна", "orlova@example.ru")


async def test_reimporting_the_same_roster_changes_nothing(world: World) -> None:
    data = (DATA / "roster_excel.csv").read_bytes()
    await import_as_admin(world, data)
    before = await counts(world.session)
    stamps = dict((await world.session.execute(select(User.id, User.updated_at))).all())
    report = await import_as_admin(world, data)
    assert (report.pupils.unchanged, report.parents.unchanged) == (3, 1)
    assert report.guardianships.unchanged == 2
    assert report.pupils.created + report.pupils.updated == 0
    assert report.parents.created + report.parents.updated == 0
    assert report.guardianships.created + report.guardianships.updated == 0
    after = await counts(world.session)
    assert after == {**before, "audit_events": before["audit_events"] + 1}
    world.session.expire_all()
    again = dict((await world.session.execute(select(User.id, User.updated_at))).all())
    assert again == stamps


async def test_one_audit_event_per_import_with_counts_and_file_name(world: World) -> None:
    before = await counts(world.session)
    await import_as_admin(world, (DATA / "roster_excel.csv").read_bytes())
    assert (await counts(world.session))["audit_events"] == before["audit_events"] + 1
    event = await world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "roster.import")
    )
    assert event is not None
    assert (event.actor_id, event.school_id) == (world.admin_a, world.a.id)
    assert event.details["file"] == "roster.csv"
    assert event.details["pupils"] == {"created": 3, "updated": 0, "unchanged": 0}


async def test_roster_moves_and_renames_a_known_pupil_and_confirms_a_pending_parent(
    world: World,
) -> None:
    s = world.session
    kid = await s.get(User, world.pupil_a1_user)
    pending = await s.get(User, world.parent_pending)
    assert kid is not None and pending is not None and kid.snils and pending.snils
    parent = f"Смирнов,Олег,Петрович,{pending.snils},,"
    report = await import_as_admin(
        world,
        roster(row(cls="5Б", last="Смирнов-Орлов", first="Артём", snils=kid.snils, parent=parent)),
    )
    assert (report.pupils.updated, report.guardianships.updated) == (1, 1)
    assert report.parents.updated == 1  # the file gives another middle name
    s.expire_all()
    pupil = await s.get(Pupil, world.pupil_a1)
    assert pupil is not None and pupil.class_id == world.class_5b
    kid = await s.get(User, world.pupil_a1_user)
    assert kid is not None and kid.last_name == "Смирнов-Орлов"
    link = await s.scalar(
        select(Guardianship).where(
            Guardianship.guardian_id == world.parent_pending,
            Guardianship.pupil_id == world.pupil_a1,
        )
    )
    assert link is not None and (link.status, link.source) == ("confirmed", "roster")


async def test_parent_known_from_another_school_is_the_same_person(world: World) -> None:
    other = await world.session.get(User, world.parent_z1)
    assert other is not None and other.snils
    parent = f"{other.last_name},{other.first_name},{other.middle_name},{other.snils},,"
    report = await import_as_admin(world, roster(row(snils=KID_1, parent=parent)))
    assert (report.parents.created, report.parents.unchanged) == (0, 1)
    actor = await world.actor(world.parent_z1)
    assert {p.school_id for p in actor.children} == {world.a.id, world.b.id}


async def test_unknown_class_is_created_only_when_asked(world: World) -> None:
    data = roster(row(cls="6в", snils=KID_1))
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(world, data)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "class")]
    report = await import_as_admin(world, data, create_classes=True)
    assert report.classes_created == 1
    cls = await world.session.scalar(select(SchoolClass).where(SchoolClass.name == "6В"))
    assert cls is not None and (cls.school_id, cls.year_id, cls.grade) == (
        world.a.id,
        world.a.year_id,
        6,
    )
    again = await import_as_admin(world, data, create_classes=True)
    assert again.classes_created == 0 and again.pupils.unchanged == 1


async def test_every_bad_row_is_reported_with_line_and_column_and_nothing_written(
    world: World,
) -> None:
    s = world.session
    foreign = await s.get(User, world.pupil_z1_user)
    teacher = await s.get(User, world.teacher_math)
    assert foreign is not None and foreign.snils and teacher is not None
    teacher.snils = make_snils(300_000_100)
    await s.commit()
    bad_checksum = "300-000-001 29"
    data = roster(
        row(snils=KID_1, parent=mother()),  # 2: fine
        row(snils=bad_checksum),  # 3
        row(cls="5Ж", snils=make_snils(300_000_010)),  # 4: unknown class
        row(born="31.02.2014", snils=make_snils(300_000_011)),  # 5: bad date
        row(last="", snils=make_snils(300_000_012)),  # 6: no last name
        row(snils=KID_2, parent=mother(snils=KID_2)),  # 7: parent is the pupil
        row(first="Макс", snils=KID_1),  # 8: same SNILS, other name
        row(cls="5Б", snils=KID_1),  # 9: same SNILS, other class
        row(snils=foreign.snils),  # 10: a pupil of school Б
        row(snils=make_snils(300_000_013), parent=mother(last="Иванова")),  # 11: parent differs
        row(snils=make_snils(300_000_014), parent=mother(snils=KID_1)),  # 12: a pupil as parent
        row(snils=make_snils(300_000_015), parent=mother(email="нет почты")),  # 13
        row(snils=teacher.snils),  # 14: a teacher's SNILS
        row(cls="XYZ", snils=make_snils(300_000_016)),  # 15: not a class name
        row(snils=make_snils(300_000_017), parent=",Татьяна,,,,"),  # 16: parent without SNILS
    )
    before = await counts(s)
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(world, data)
    await s.rollback()
    found = [(e.line, e.column) for e in caught.value.errors]
    assert found == [
        (3, "pupil_snils"),
        (4, "class"),
        (5, "pupil_birth_date"),
        (6, "pupil_last_name"),
        (7, "parent_snils"),
        (8, "pupil_first_name"),
        (9, "class"),
        (10, "pupil_snils"),
        (11, "parent_last_name"),
        (12, "parent_snils"),
        (13, "parent_email"),
        (14, "pupil_snils"),
        (15, "class"),
        (16, "parent_last_name"),
        (16, "parent_snils"),
    ]
    reasons = {(e.line, e.column): e.reason for e in caught.value.errors}
    assert "контрольная сумма" in reasons[(3, "pupil_snils")]
    assert "5Ж" in reasons[(4, "class")]
    assert "другой школы" in reasons[(10, "pupil_snils")]
    assert "строке 2" in reasons[(8, "pupil_first_name")]
    assert "совпадает" in reasons[(7, "parent_snils")]
    assert await counts(s) == before


async def test_an_error_found_in_the_database_also_writes_nothing(world: World) -> None:
    foreign = await world.session.get(User, world.pupil_z1_user)
    assert foreign is not None and foreign.snils
    data = roster(row(snils=KID_1, parent=mother()), row(snils=foreign.snils))
    before = await counts(world.session)
    with pytest.raises(ImportFailed):
        await import_as_admin(world, data)
    await world.session.rollback()
    assert await counts(world.session) == before


async def test_other_schools_administrator_cannot_import_into_this_school(world: World) -> None:
    ctx = await world.ctx(world.admin_b)
    with pytest.raises(NotFound):
        await import_roster(ctx, world.a.id, roster(row()))


async def test_a_teacher_cannot_import_the_roster(world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(Forbidden):
        await import_roster(ctx, world.a.id, roster(row()))


async def test_progress_is_reported_up_to_all_rows(world: World) -> None:
    seen: list[tuple[int, int]] = []
    ctx = await world.ctx(world.admin_a)
    rows = [row(snils=make_snils(300_001_000 + i)) for i in range(2500)]
    await import_roster(ctx, world.a.id, roster(*rows), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (2500, 2500)
    assert len(seen) >= 2
