"""What changed between two versions of a class's weekly timetable, in Russian, for the
notification its publication sends (docs/regulation.md, clause 6.2).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import (
    Subject,
    Timetable,
    TimetableSlot,
    User,
)
from diary_core.timetable.plans import Slot, short_name

WeekPlan = dict[tuple[int, int], Slot]  # (weekday, lesson number) → the lesson
WEEKDAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота")


async def in_force(session: AsyncSession, class_id: int, day: date) -> int | None:
    """The published timetable families see on ``day``, if any."""
    t = Timetable.__table__.c
    return await session.scalar(
        select(t.id)
        .where(t.class_id == class_id, t.valid_from <= day, t.published_at.is_not(None))
        .order_by(t.valid_from.desc())
        .limit(1)
    )


async def week_plan(session: AsyncSession, timetable_id: int | None) -> WeekPlan:
    """The lessons of one weekly timetable by (weekday, lesson number)."""
    if timetable_id is None:
        return {}
    s, u, subject = TimetableSlot.__table__.c, User.__table__.c, Subject.__table__.c
    rows = await session.execute(
        select(
            s.weekday,
            s.lesson_number,
            s.subject_id,
            subject.name,
            s.teacher_id,
            u.last_name,
            u.first_name,
            u.middle_name,
            s.room,
        )
        .join(Subject.__table__, subject.id == s.subject_id)
        .join(User.__table__, u.id == s.teacher_id)
        .where(s.timetable_id == timetable_id)
    )
    return {
        (r.weekday, r.lesson_number): Slot(
            r.subject_id,
            r.name,
            r.teacher_id,
            short_name(r.last_name, r.first_name, r.middle_name),
            r.room,
        )
        for r in rows
    }


def _room_label(room: str) -> str:
    """«кабинет 12» for a numbered room, a named one as it is named («актовый зал»)."""
    if not room:
        return "кабинет не указан"
    return f"кабинет {room}" if room[0].isdigit() else room


def _lesson_words(s: Slot) -> str:
    room = f", {_room_label(s.room)}" if s.room else ""
    return f"{s.subject_name} ({s.teacher_name}{room})"


def _where(key: tuple[int, int]) -> str:
    return f"{WEEKDAY_NAMES[key[0] - 1]}, {key[1]}-й урок"


def _slot_changes(before: Slot, after: Slot) -> list[str]:
    what = []
    if before.subject_id != after.subject_id:
        what.append(f"предмет {after.subject_name} (раньше — {before.subject_name})")
    if before.teacher_id != after.teacher_id:
        what.append(f"ведёт {after.teacher_name} (раньше — {before.teacher_name})")
    if before.room != after.room:
        old, new = before.room, after.room
        if old[:1].isdigit() and new[:1].isdigit():
            what.append(f"кабинет {new} вместо {old}")
        elif old:
            what.append(f"{_room_label(new)} (раньше — {_room_label(old)})")
        else:
            what.append(_room_label(new))
    return what


def describe_changes(before: WeekPlan, after: WeekPlan) -> list[str]:
    """What differs between two weekly plans, one Russian phrase per lesson, in the order of
    the week: a changed subject, teacher or room; a lesson moved to another time (the same
    subject and teacher gone from one place and added at another); an added or removed one."""
    removed = sorted(k for k in before if k not in after)
    added = sorted(k for k in after if k not in before)
    items: list[tuple[tuple[int, int], str]] = []
    for key in sorted(k for k in before if k in after):
        what = _slot_changes(before[key], after[key])
        if what:
            items.append((key, f"{_where(key)} — {', '.join(what)}"))
    for key in list(removed):
        old = before[key]
        to = next(
            (
                k
                for k in added
                if (after[k].subject_id, after[k].teacher_id) == (old.subject_id, old.teacher_id)
            ),
            None,
        )
        if to is None:
            continue
        removed.remove(key)
        added.remove(to)
        room = "" if after[to].room == old.room else f", {_room_label(after[to].room)}"
        moved = f"{_where(key)} ({old.subject_name}) перенесён на {_where(to)}{room}"
        items.append((key, moved))
    items += [(k, f"{_where(k)} — убран урок {before[k].subject_name}") for k in removed]
    items += [(k, f"{_where(k)} — добавлен урок {_lesson_words(after[k])}") for k in added]
    return [text for _, text in sorted(items)]


def publish_text(
    class_name: str, valid_from: date, before: WeekPlan, after: WeekPlan, *, first: bool
) -> str:
    """The notification of a publication: empty when no lesson changed."""
    if first:
        return f"Опубликовано расписание класса {class_name} с {valid_from:%d.%m.%Y}"
    changes = describe_changes(before, after)
    if not changes:
        return ""
    return f"Изменения в расписании {class_name} с {valid_from:%d.%m.%Y}: {'; '.join(changes)}"
