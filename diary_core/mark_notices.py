"""What a family is told of its marks: a notification for each mark saved in the journal
(kind ``mark``), or one digest per family account of an import's new and corrected marks
(kind ``marks_digest``). Written by :class:`diary_core.mark_writes.MarkWrites` when it
finishes, in its transaction.

The family of a pupil: the pupil's own account and his confirmed parents (never a pending
link).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.models import Guardianship, Pupil, Subject, User, WorkType
from diary_core.notifications import Note, notify_all
from diary_core.russian import counted

DIGEST_KIND = "marks_digest"

_CHUNK = 2000  # ids per IN (…): under both databases' bind-parameter limits


@dataclass(frozen=True)
class Told:
    """One change a family is told of: a new mark (``old`` None) or a corrected one."""

    pupil_id: int
    subject_id: int
    work_type_id: int
    day: date
    old: str | None
    new: str

    @classmethod
    def of(cls, mark: Mapping[str, Any], old: str | None) -> Told:
        return cls(
            mark["pupil_id"], mark["subject_id"], mark["work_type_id"], mark["date"], old,
            mark["value"],
        )  # fmt: skip


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


async def _families(ctx: Ctx, pupil_ids: Iterable[int]) -> dict[int, list[int]]:
    """pupil id → the accounts of his family (his own first, then his confirmed parents')."""
    family: dict[int, list[int]] = {}
    for part in _chunks(pupil_ids):
        for pupil_id, user_id in await ctx.session.execute(
            select(Pupil.id, Pupil.user_id).where(Pupil.id.in_(part))
        ):
            family[pupil_id] = [user_id]
        for pupil_id, guardian_id in await ctx.session.execute(
            select(Guardianship.pupil_id, Guardianship.guardian_id)
            .where(Guardianship.pupil_id.in_(part), Guardianship.status == "confirmed")
            .order_by(Guardianship.guardian_id)
        ):
            family[pupil_id].append(guardian_id)
    return family


async def _names(ctx: Ctx, told: Sequence[Told]) -> tuple[dict[int, str], dict[int, str]]:
    """The told marks' subjects and work types by id (a school has a few dozen of each; a
    save has just read its own, so the session has them)."""
    subjects: dict[int, str] = {}
    for subject_id in sorted({t.subject_id for t in told}):
        subject = await ctx.session.get(Subject, subject_id)
        subjects[subject_id] = subject.name if subject is not None else ""
    work_types: dict[int, str] = {}
    for work_type_id in sorted({t.work_type_id for t in told}):
        work_type = await ctx.session.get(WorkType, work_type_id)
        work_types[work_type_id] = work_type.name if work_type is not None else ""
    return subjects, work_types


def mark_text(told: Told, subject: str, work_type: str) -> str:
    """The notification of one mark saved in the journal."""
    if told.old is None:
        return (
            f"Новая отметка «{told.new}» по предмету «{subject}» "
            f"({work_type.lower()}, {told.day.strftime('%d.%m')})"
        )
    return (
        f"Отметка по предмету «{subject}» за {told.day.strftime('%d.%m')} исправлена: "
        f"«{told.old}» → «{told.new}»"
    )


async def tell_each(ctx: Ctx, told: Sequence[Told]) -> int:
    """A notification of each new mark and each correction of a mark's value, to the
    pupil's family."""
    told = [t for t in told if t.old != t.new]
    if not told:
        return 0
    subjects, work_types = await _names(ctx, told)
    families = await _families(ctx, (t.pupil_id for t in told))
    notes: list[Note] = [
        (
            families[t.pupil_id],
            "mark",
            mark_text(t, subjects.get(t.subject_id, ""), work_types.get(t.work_type_id, "")),
            t.pupil_id,
        )
        for t in told
    ]
    return await notify_all(ctx.session, notes, ctx.now())


def _digest_line(told: Told, subject: str, work_type: str) -> str:
    day = told.day.strftime("%d.%m")
    if told.old is None:
        return f"— {subject}, {day}: новая отметка «{told.new}» ({work_type.lower()})"
    if told.old == told.new:
        return f"— {subject}, {day}: у отметки «{told.new}» изменены вес или комментарий"
    return f"— {subject}, {day}: отметка исправлена: «{told.old}» → «{told.new}»"


def digest_text(
    children: Sequence[tuple[str, Sequence[Told]]],
    subjects: Mapping[int, str],
    work_types: Mapping[int, str],
) -> str:
    """One family account's digest of an import: each child by name, with his new and
    corrected marks by date and subject."""
    every = [t for _, marks in children for t in marks]
    new = sum(1 for t in every if t.old is None)
    fixed = len(every) - new
    summary = []
    if new:
        summary.append(counted(new, "новая отметка", "новые отметки", "новых отметок"))
    if fixed:
        summary.append(counted(fixed, "исправленная", "исправленные", "исправленных"))
    lines = [f"Загружены отметки из файла школы: {', '.join(summary)}."]
    for name, marks in children:
        lines.append(f"{name}:")
        ordered = sorted(marks, key=lambda t: (t.day, subjects.get(t.subject_id, "")))
        for t in ordered:
            subject, work_type = subjects.get(t.subject_id, ""), work_types.get(t.work_type_id, "")
            lines.append(_digest_line(t, subject, work_type))
    return "\n".join(lines)


async def _pupil_names(ctx: Ctx, pupil_ids: Iterable[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for part in _chunks(pupil_ids):
        for pupil_id, last, first in await ctx.session.execute(
            select(Pupil.id, User.last_name, User.first_name)
            .join(User, User.id == Pupil.user_id)
            .where(Pupil.id.in_(part))
        ):
            names[pupil_id] = f"{last} {first}"
    return names


async def tell_digests(ctx: Ctx, told: Sequence[Told]) -> int:
    """One notification per family account listing every change of its children in
    ``told`` (a parent of two pupils gets one, naming both); ``pupil_id`` is the child's
    when the digest is of one child. Returns how many notifications were written."""
    if not told:
        return 0
    by_pupil: dict[int, list[Told]] = defaultdict(list)
    for t in told:
        by_pupil[t.pupil_id].append(t)
    families = await _families(ctx, by_pupil)
    names = await _pupil_names(ctx, by_pupil)
    subjects, work_types = await _names(ctx, told)
    children_of: dict[int, list[int]] = defaultdict(list)  # account → its children told of
    for pupil_id in sorted(by_pupil, key=lambda p: (names.get(p, ""), p)):
        for user_id in families.get(pupil_id, []):
            children_of[user_id].append(pupil_id)
    accounts: dict[tuple[int, ...], list[int]] = defaultdict(list)  # children → accounts
    for user_id, children in children_of.items():
        accounts[tuple(children)].append(user_id)
    notes: list[Note] = [
        (
            users,
            DIGEST_KIND,
            digest_text([(names.get(p, ""), by_pupil[p]) for p in told_of], subjects, work_types),
            told_of[0] if len(told_of) == 1 else None,
        )
        for told_of, users in accounts.items()
    ]
    return await notify_all(ctx.session, notes, ctx.now())
