"""The roster import (formats: README.md): the school's pupils by class, and their parents.

One row per pupil–parent pair; a pupil without parents has empty parent columns. Pupils and
parents are matched by SNILS, so importing the same file again changes nothing; a parent of
children in two schools is one person (parents belong to no school). Every row is checked
before anything is written, and a file with any error writes nothing.

Field conventions are those of :mod:`diary_core.accounts` and :mod:`diary_core.families`
(``_person``, ``enroll_pupil``, ``find_or_create_parent``, ``link_guardian``), done in bulk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.sql.expression import bindparam

from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.imports.common import (
    Counts,
    ProgressFn,
    actor_id,
    chunked,
    import_target,
    record_import,
    select_in_chunks,
    table,
)
from diary_core.imports.csvfile import CsvRow, Errors, parse_date, read_csv
from diary_core.models import AcademicYear, Guardianship, Pupil, SchoolClass, User, UserRole
from diary_core.roles import Role
from diary_core.school import parse_class_name
from diary_core.snils import normalize_snils

ROSTER_COLUMNS = (
    "class",
    "pupil_last_name",
    "pupil_first_name",
    "pupil_middle_name",
    "pupil_birth_date",
    "pupil_snils",
    "parent_last_name",
    "parent_first_name",
    "parent_middle_name",
    "parent_snils",
    "parent_email",
    "parent_phone",
)
#: The columns' Russian titles, accepted in the header beside the names above.
ROSTER_TITLES = {
    "class": "Класс",
    "pupil_last_name": "Фамилия обучающегося",
    "pupil_first_name": "Имя обучающегося",
    "pupil_middle_name": "Отчество обучающегося",
    "pupil_birth_date": "Дата рождения обучающегося",
    "pupil_snils": "СНИЛС обучающегося",
    "parent_last_name": "Фамилия родителя",
    "parent_first_name": "Имя родителя",
    "parent_middle_name": "Отчество родителя",
    "parent_snils": "СНИЛС родителя",
    "parent_email": "Email родителя",
    "parent_phone": "Телефон родителя",
}
PARENT_COLUMNS = ROSTER_COLUMNS[6:]
_NAME_MAX = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-\s]{5,40}$")

USERS = table(User)
PUPILS = table(Pupil)
ROLES = table(UserRole)
LINKS = table(Guardianship)
CLASSES = table(SchoolClass)


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


@dataclass(frozen=True)
class PupilEntry:
    class_name: str
    grade: int
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date | None


@dataclass(frozen=True)
class ParentEntry:
    last_name: str
    first_name: str
    middle_name: str
    email: str
    phone: str


#: The column that carries each entry field, to name it when two rows disagree.
_PUPIL_COLUMN = {
    "class_name": "class",
    "grade": "class",
    "last_name": "pupil_last_name",
    "first_name": "pupil_first_name",
    "middle_name": "pupil_middle_name",
    "birth_date": "pupil_birth_date",
}
_PARENT_COLUMN = {
    "last_name": "parent_last_name",
    "first_name": "parent_first_name",
    "middle_name": "parent_middle_name",
    "email": "parent_email",
    "phone": "parent_phone",
}


@dataclass
class RosterFile:
    """The file's content after checking: each person once (by SNILS), and the rows as
    (pupil SNILS, parent SNILS or None) pairs in file order."""

    pupils: dict[str, PupilEntry] = field(default_factory=dict)
    parents: dict[str, ParentEntry] = field(default_factory=dict)
    rows: list[tuple[str, str | None]] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)  # SNILS → line it first appears


# --- reading and checking the file (no database) -------------------------------------------


def _name(row: CsvRow, column: str, errors: Errors, *, required: bool) -> str:
    value = " ".join(row[column].split())
    if required and not value:
        errors.add(row.line, column, "не заполнено")
    elif len(value) > _NAME_MAX:
        errors.add(row.line, column, f"длиннее {_NAME_MAX} символов")
    return value


def _snils(row: CsvRow, column: str, errors: Errors) -> str | None:
    try:
        return normalize_snils(row[column])
    except InvalidInput as exc:
        errors.add(row.line, column, str(exc))
        return None


def _birth_date(row: CsvRow, today: date, errors: Errors) -> date | None:
    raw = row["pupil_birth_date"]
    if not raw:
        return None
    try:
        born = parse_date(raw)
    except InvalidInput as exc:
        errors.add(row.line, "pupil_birth_date", str(exc))
        return None
    if not date(1900, 1, 1) <= born <= today:
        errors.add(row.line, "pupil_birth_date", f"невозможная дата рождения «{raw}»")
    return born


def _pupil(row: CsvRow, today: date, errors: Errors) -> tuple[str | None, PupilEntry]:
    class_name, grade = "", 0
    try:
        class_name, grade = parse_class_name(row["class"])
    except InvalidInput as exc:
        errors.add(row.line, "class", str(exc))
    entry = PupilEntry(
        class_name=class_name,
        grade=grade,
        last_name=_name(row, "pupil_last_name", errors, required=True),
        first_name=_name(row, "pupil_first_name", errors, required=True),
        middle_name=_name(row, "pupil_middle_name", errors, required=False),
        birth_date=_birth_date(row, today, errors),
    )
    return _snils(row, "pupil_snils", errors), entry


def _parent(row: CsvRow, errors: Errors) -> tuple[str | None, ParentEntry]:
    email, phone = row["parent_email"], row["parent_phone"]
    if email and not _EMAIL.match(email):
        errors.add(row.line, "parent_email", f"неверный адрес электронной почты «{email}»")
    if phone and not _PHONE.match(phone):
        errors.add(row.line, "parent_phone", f"неверный номер телефона «{phone}»")
    entry = ParentEntry(
        last_name=_name(row, "parent_last_name", errors, required=True),
        first_name=_name(row, "parent_first_name", errors, required=True),
        middle_name=_name(row, "parent_middle_name", errors, required=False),
        email=email,
        phone=phone,
    )
    return _snils(row, "parent_snils", errors), entry


def _agree(
    known: Any, entry: Any, columns: dict[str, str], line: int, first: int, errors: Errors
) -> Any:
    """The same person described on another row: what both rows say together.

    A cell left empty on one row and filled on another is no conflict (a parent's phone
    written once is enough); two different non-empty values are, and name their column.
    """
    merged: dict[str, Any] = {}
    reported: set[str] = set()
    for f in fields(known):
        old, new = getattr(known, f.name), getattr(entry, f.name)
        merged[f.name] = old or new
        column = columns[f.name]
        if old and new and old != new and column not in reported:
            reported.add(column)
            errors.add(line, column, f"расходится с данными того же СНИЛС в строке {first}")
    return replace(known, **merged)


def _add_row(data: RosterFile, row: CsvRow, today: date, errors: Errors) -> None:
    before = len(errors.items)
    pupil_snils, pupil = _pupil(row, today, errors)
    parent_snils: str | None = None
    parent: ParentEntry | None = None
    if any(row[c] for c in PARENT_COLUMNS):
        parent_snils, parent = _parent(row, errors)
        if parent_snils is not None and parent_snils == pupil_snils:
            errors.add(row.line, "parent_snils", "СНИЛС родителя совпадает со СНИЛС обучающегося")
    if len(errors.items) > before or pupil_snils is None:
        return
    _remember(data, pupil_snils, pupil, data.pupils, _PUPIL_COLUMN, row.line, errors)
    if parent is not None and parent_snils is not None:
        _remember(data, parent_snils, parent, data.parents, _PARENT_COLUMN, row.line, errors)
    data.rows.append((pupil_snils, parent_snils))


def _remember(
    data: RosterFile,
    snils: str,
    entry: Any,
    known: dict[str, Any],
    columns: dict[str, str],
    line: int,
    errors: Errors,
) -> None:
    if snils in known:
        known[snils] = _agree(known[snils], entry, columns, line, data.first_line[snils], errors)
    else:
        known[snils] = entry
        data.first_line.setdefault(snils, line)


def _check_roles(data: RosterFile, rows: list[CsvRow], errors: Errors) -> None:
    """One SNILS cannot be a pupil on one row and a parent on another."""
    both = data.pupils.keys() & data.parents.keys()
    if not both:
        return
    for row in rows:
        try:
            snils = normalize_snils(row["parent_snils"]) if row["parent_snils"] else None
        except InvalidInput:
            continue
        if snils in both:
            first = data.first_line[snils]
            errors.add(
                row.line, "parent_snils", f"этот СНИЛС указан у обучающегося (строка {first})"
            )


def read_roster(data: bytes | str, today: date, errors: Errors) -> RosterFile:
    """Read and check a roster file on its own. A bad header raises
    :class:`~diary_core.imports.csvfile.ImportFailed` at once; bad rows are added to
    ``errors`` and left out, so the rest can still be checked against the database."""
    table = read_csv(data, ROSTER_COLUMNS, titles=ROSTER_TITLES)
    errors.columns.update(table.columns)
    roster = RosterFile()
    for row in table.rows:
        _add_row(roster, row, today, errors)
    _check_roles(roster, table.rows, errors)
    return roster


# --- checking against the database (a few bulk reads) ---------------------------------------


@dataclass
class Known:
    """What the database already holds for the people and classes of the file."""

    classes: dict[str, int]
    users: dict[str, Any]  # SNILS → users row
    pupils: dict[int, Any]  # users.id → pupils row (user_id, id, school_id, class_id)
    roles: dict[int, set[str]]
    links: dict[tuple[int, int], str]  # (guardian user id, pupil id) → status


async def _load(ctx: Ctx, school_id: int, year: AcademicYear, roster: RosterFile) -> Known:
    session = ctx.session
    result = await session.execute(
        select(SchoolClass.name, SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.year_id == year.id
        )
    )
    classes: dict[str, int] = dict(result.all())
    snils = list(roster.pupils.keys() | roster.parents.keys())
    # Single-table reads by indexed keys: right after a big import the planner's statistics
    # are stale, and a join could then turn into a nested loop over whole tables.
    user_rows = await select_in_chunks(
        session, lambda part: select(USERS).where(USERS.c.snils.in_(part)), snils
    )
    users = {r.snils: r for r in user_rows}
    user_ids = [r.id for r in user_rows]
    enrolled = await select_in_chunks(
        session,
        lambda part: select(
            PUPILS.c.user_id, PUPILS.c.id, PUPILS.c.school_id, PUPILS.c.class_id
        ).where(PUPILS.c.user_id.in_(part)),
        user_ids,
    )
    pupils = {r.user_id: r for r in enrolled}
    roles: dict[int, set[str]] = {}
    for user_id, role in await select_in_chunks(
        session,
        lambda part: select(ROLES.c.user_id, ROLES.c.role).where(ROLES.c.user_id.in_(part)),
        user_ids,
    ):
        roles.setdefault(user_id, set()).add(role)
    link_rows = await select_in_chunks(
        session,
        lambda part: select(LINKS.c.guardian_id, LINKS.c.pupil_id, LINKS.c.status).where(
            LINKS.c.pupil_id.in_(part)
        ),
        [r.id for r in enrolled],
    )
    links = {(g, p): status for g, p, status in link_rows}
    return Known(classes, users, pupils, roles, links)


def _check_against(
    roster: RosterFile,
    known: Known,
    school_id: int,
    year: AcademicYear,
    create: bool,
    errors: Errors,
) -> None:
    if not create:
        for snils, pupil in roster.pupils.items():
            if pupil.class_name not in known.classes:
                errors.add(
                    roster.first_line[snils],
                    "class",
                    f"класса {pupil.class_name} нет в учебном году {year.name}",
                )
    for snils in roster.pupils:
        user = known.users.get(snils)
        if user is None:
            continue
        enrolment = known.pupils.get(user.id)
        if enrolment is None:
            reason = "этот СНИЛС уже принадлежит другому пользователю (не обучающемуся)"
        elif enrolment.school_id != school_id:
            reason = "этот СНИЛС принадлежит обучающемуся другой школы"
        else:
            continue
        errors.add(roster.first_line[snils], "pupil_snils", reason)
    for snils in roster.parents:
        user = known.users.get(snils)
        if user is not None and user.id in known.pupils:
            errors.add(
                roster.first_line[snils], "parent_snils", "этот СНИЛС принадлежит обучающемуся"
            )


# --- writing (bulk statements in chunks) ----------------------------------------------------


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
    known = await _load(ctx, school_id, year, roster)
    _check_against(roster, known, school_id, year, create_classes, errors)
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
