"""Writing a checked roster in bulk statements, in chunks: new classes, new and updated
pupils and parents, pupils moved to their new class, guardianships created or confirmed;
and :func:`import_roster`, the whole import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.sql.expression import bindparam

from diary_core.context import Ctx
from diary_core.imports.common import (
    Counts,
    ProgressFn,
    actor_id,
    chunked,
    import_target,
    record_import,
)
from diary_core.imports.csvfile import Errors
from diary_core.imports.roster.file import ParentEntry, PupilEntry, RosterFile, read_roster
from diary_core.imports.roster.matching import (
    CLASSES,
    LINKS,
    PUPILS,
    ROLES,
    USERS,
    Known,
    check_against,
    load_known,
)
from diary_core.models import AcademicYear
from diary_core.roles import Role


@dataclass
class RosterReport:
    """What a roster import did."""

    rows: int
    classes_created: int = 0
    pupils: Counts = field(default_factory=Counts)
    parents: Counts = field(default_factory=Counts)
    guardianships: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "classes_created": self.classes_created,
            "pupils": self.pupils.as_dict(),
            "parents": self.parents.as_dict(),
            "guardianships": self.guardianships.as_dict(),
        }


@dataclass
class _Writer:
    ctx: Ctx
    school_id: int
    known: Known
    report: RosterReport
    user_ids: dict[str, int] = field(default_factory=dict)  # SNILS → users.id
    pupil_ids: dict[str, int] = field(default_factory=dict)  # pupil SNILS → pupils.id
    done: set[str] = field(default_factory=set)
    links_done: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for snils, row in self.known.users.items():
            self.user_ids[snils] = row.id
            if row.id in self.known.pupils:
                self.pupil_ids[snils] = self.known.pupils[row.id].id

    @property
    def stamp(self) -> dict[str, Any]:
        now, who = self.ctx.now(), actor_id(self.ctx)
        return {"created_at": now, "updated_at": now, "created_by_id": who, "updated_by_id": who}


async def _create_classes(ctx: Ctx, roster: RosterFile, known: Known, year: AcademicYear) -> int:
    missing = {p.class_name: p.grade for p in roster.pupils.values()}
    rows = [
        {"school_id": year.school_id, "year_id": year.id, "name": n, "grade": g}
        for n, g in sorted(missing.items())
        if n not in known.classes
    ]
    if rows:
        result = await ctx.session.execute(
            insert(CLASSES).returning(CLASSES.c.name, CLASSES.c.id), rows
        )
        known.classes.update(dict(result.all()))
    return len(rows)


def _new_user(w: _Writer, snils: str, entry: Any, *, school_id: int | None) -> dict[str, Any]:
    return {
        "school_id": school_id,
        "login": None,
        "password_hash": None,
        "must_change_password": False,
        "is_active": True,
        "last_name": entry.last_name,
        "first_name": entry.first_name,
        "middle_name": entry.middle_name,
        "birth_date": getattr(entry, "birth_date", None),
        "snils": snils,
        "email": getattr(entry, "email", ""),
        "phone": getattr(entry, "phone", ""),
        **w.stamp,
    }


def _merged(user: Any, entry: Any) -> dict[str, Any] | None:
    """The user's fields as the file has them, or None when nothing differs. An empty middle
    name, e-mail, phone or birth date in the file means "not given", never "erase"."""
    wanted = {"last_name": entry.last_name, "first_name": entry.first_name}
    for name in ("middle_name", "email", "phone", "birth_date"):
        value = getattr(entry, name, None)
        if value:
            wanted[name] = value
    if all(getattr(user, k) == v for k, v in wanted.items()):
        return None
    full = {k: getattr(user, k) for k in ("middle_name", "email", "phone", "birth_date")}
    return {**full, **wanted}


_UPDATE_USER = (
    update(USERS)
    .where(USERS.c.id == bindparam("b_id"))
    .values(
        last_name=bindparam("last_name"),
        first_name=bindparam("first_name"),
        middle_name=bindparam("middle_name"),
        birth_date=bindparam("birth_date"),
        email=bindparam("email"),
        phone=bindparam("phone"),
        updated_at=bindparam("updated_at"),
        updated_by_id=bindparam("updated_by_id"),
    )
)
_MOVE_PUPIL = (
    update(PUPILS).where(PUPILS.c.id == bindparam("b_id")).values(class_id=bindparam("class_id"))
)
_CONFIRM_LINK = (
    update(LINKS)
    .where(LINKS.c.guardian_id == bindparam("b_guardian"), LINKS.c.pupil_id == bindparam("b_pupil"))
    .values(
        status="confirmed",
        source="roster",
        updated_at=bindparam("updated_at"),
        updated_by_id=bindparam("updated_by_id"),
    )
)


@dataclass
class _Batch:
    """The statements one chunk of rows needs."""

    new_users: list[dict[str, Any]] = field(default_factory=list)
    new_pupils: list[tuple[str, int]] = field(default_factory=list)  # (SNILS, class id)
    user_updates: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    new_parent_role: list[str] = field(default_factory=list)  # SNILS of new parents


def _plan_parent(w: _Writer, snils: str, entry: ParentEntry, batch: _Batch) -> None:
    user = w.known.users.get(snils)
    if user is None:
        batch.new_users.append(_new_user(w, snils, entry, school_id=None))
        batch.new_parent_role.append(snils)
        w.report.parents.created += 1
        return
    changed = _merged(user, entry)
    if Role.PARENT.value not in w.known.roles.get(user.id, set()):
        batch.roles.append({"user_id": user.id, "role": Role.PARENT.value})
    if changed is None:
        w.report.parents.unchanged += 1
        return
    batch.user_updates.append({"b_id": user.id, **changed, **_updated(w)})
    w.report.parents.updated += 1


def _plan_pupil(w: _Writer, snils: str, entry: PupilEntry, batch: _Batch) -> None:
    class_id = w.known.classes[entry.class_name]
    user = w.known.users.get(snils)
    if user is None:
        batch.new_users.append(_new_user(w, snils, entry, school_id=w.school_id))
        batch.new_pupils.append((snils, class_id))
        w.report.pupils.created += 1
        return
    changed = _merged(user, entry)
    if changed is not None:
        batch.user_updates.append({"b_id": user.id, **changed, **_updated(w)})
    enrolment = w.known.pupils[user.id]
    if enrolment.class_id != class_id:
        batch.moves.append({"b_id": enrolment.id, "class_id": class_id})
    if changed is None and enrolment.class_id == class_id:
        w.report.pupils.unchanged += 1
    else:
        w.report.pupils.updated += 1


def _updated(w: _Writer) -> dict[str, Any]:
    return {"updated_at": w.ctx.now(), "updated_by_id": actor_id(w.ctx)}


def _plan(w: _Writer, roster: RosterFile, rows: Any) -> _Batch:
    batch = _Batch()
    for pupil_snils, parent_snils in rows:
        if parent_snils is not None and parent_snils not in w.done:
            w.done.add(parent_snils)
            _plan_parent(w, parent_snils, roster.parents[parent_snils], batch)
        if pupil_snils not in w.done:
            w.done.add(pupil_snils)
            _plan_pupil(w, pupil_snils, roster.pupils[pupil_snils], batch)
    return batch


async def _write_people(w: _Writer, batch: _Batch) -> None:
    session = w.ctx.session
    if batch.new_users:
        result = await session.execute(
            insert(USERS).returning(USERS.c.snils, USERS.c.id), batch.new_users
        )
        w.user_ids.update(dict(result.all()))
    roles = batch.roles + [
        {"user_id": w.user_ids[s], "role": Role.PARENT.value} for s in batch.new_parent_role
    ]
    roles += [{"user_id": w.user_ids[s], "role": Role.PUPIL.value} for s, _ in batch.new_pupils]
    if roles:
        await session.execute(insert(ROLES), roles)
    if batch.new_pupils:
        pupil_rows = [
            {"user_id": w.user_ids[s], "school_id": w.school_id, "class_id": c}
            for s, c in batch.new_pupils
        ]
        result = await session.execute(
            insert(PUPILS).returning(PUPILS.c.user_id, PUPILS.c.id), pupil_rows
        )
        by_user: dict[int, int] = dict(result.all())
        w.pupil_ids.update({s: by_user[w.user_ids[s]] for s, _ in batch.new_pupils})
    if batch.user_updates:
        await session.execute(_UPDATE_USER, batch.user_updates)
    if batch.moves:
        await session.execute(_MOVE_PUPIL, batch.moves)


async def _write_links(w: _Writer, rows: Any) -> None:
    new: list[dict[str, Any]] = []
    confirm: list[dict[str, Any]] = []
    for pupil_snils, parent_snils in rows:
        if parent_snils is None:
            continue
        key = (w.user_ids[parent_snils], w.pupil_ids[pupil_snils])
        if key in w.links_done:
            continue
        w.links_done.add(key)
        status = w.known.links.get(key)
        if status is None:
            new.append(
                {
                    "guardian_id": key[0],
                    "pupil_id": key[1],
                    "status": "confirmed",
                    "source": "roster",
                    **w.stamp,
                }
            )
            w.report.guardianships.created += 1
        elif status != "confirmed":
            confirm.append({"b_guardian": key[0], "b_pupil": key[1], **_updated(w)})
            w.report.guardianships.updated += 1
        else:
            w.report.guardianships.unchanged += 1
    if new:
        await w.ctx.session.execute(insert(LINKS), new)
    if confirm:
        await w.ctx.session.execute(_CONFIRM_LINK, confirm)


async def import_roster(
    ctx: Ctx,
    school_id: int,
    data: bytes | str,
    *,
    file_name: str = "",
    create_classes: bool = False,
    progress: ProgressFn | None = None,
) -> RosterReport:
    """Import a roster file into the school's current academic year, all or nothing.

    Every row is checked first (the file on its own, then against the database with a few
    bulk reads); any error raises :class:`~diary_core.imports.csvfile.ImportFailed` listing
    them all, and nothing is written. Classes must exist unless ``create_classes``. Roster
    links are confirmed: the roster is the administrator's word on who a pupil's parents are.
    """
    _, year = await import_target(ctx, school_id)
    errors = Errors()
    roster = read_roster(data, ctx.now().date(), errors)
    known = await load_known(ctx, school_id, year, roster)
    check_against(roster, known, school_id, year, create_classes, errors)
    errors.raise_if_any()
    report = RosterReport(rows=len(roster.rows))
    if create_classes:
        report.classes_created = await _create_classes(ctx, roster, known, year)
    writer = _Writer(ctx, school_id, known, report)
    done = 0
    for rows in chunked(roster.rows):
        await _write_people(writer, _plan(writer, roster, rows))
        await _write_links(writer, rows)
        done += len(rows)
        if progress is not None:
            progress(done, report.rows)
    await record_import(ctx, "roster", school_id, file_name, year, report.as_dict())
    return report
