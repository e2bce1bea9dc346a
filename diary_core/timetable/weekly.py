"""The weekly timetable of a class: saving a draft from a date, publishing it (docs/regulation.md,
clause 6.2), and the list of a class's versions.

A published timetable is never edited in place: its correction is a draft from its own date,
invisible to families until it is published, and publishing it tells the class's families
which lessons changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import announcements, audit
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import (
    Timetable,
    TimetableSlot,
)
from diary_core.notifications import notify
from diary_core.policy import Action, ClassTarget
from diary_core.timetable.differences import in_force, publish_text, week_plan
from diary_core.timetable.plans import (
    SCHOOL_DAYS,
    SlotInput,
    TimetableInfo,
    bells_of,
    check_lesson_number,
    class_of,
    clean_room,
    sees_drafts,
    staff_ids,
    subject_ids,
)


async def _validate_slots(
    session: AsyncSession, school_id: int, slots: Sequence[SlotInput]
) -> list[SlotInput]:
    """The slots, rooms stripped; any bad slot is :class:`InvalidInput` naming it."""
    if not slots:
        raise InvalidInput("в расписании нет ни одного урока", field="slots")
    bells = await bells_of(session, school_id)
    seen: set[tuple[int, int]] = set()
    for slot in slots:
        if not 1 <= slot.weekday <= SCHOOL_DAYS:
            raise InvalidInput(f"день недели {slot.weekday}: ожидается от 1 до 6", field="weekday")
        check_lesson_number(slot.lesson_number, bells, "lesson_number")
        key = (slot.weekday, slot.lesson_number)
        if key in seen:
            raise InvalidInput(
                f"день {slot.weekday}, {slot.lesson_number}-й урок указан дважды", field="slots"
            )
        seen.add(key)
    bad_subjects = {s.subject_id for s in slots} - await subject_ids(
        session, school_id, (s.subject_id for s in slots)
    )
    if bad_subjects:
        raise InvalidInput(f"предметы не из этой школы: {sorted(bad_subjects)}", field="subject_id")
    bad_teachers = {s.teacher_id for s in slots} - await staff_ids(
        session, school_id, (s.teacher_id for s in slots)
    )
    if bad_teachers:
        raise InvalidInput(
            f"учителя не из сотрудников школы: {sorted(bad_teachers)}", field="teacher_id"
        )
    return [dataclasses.replace(s, room=clean_room(s.room)) for s in slots]


async def set_weekly_timetable(
    ctx: Ctx, class_id: int, valid_from: date, slots: Sequence[SlotInput]
) -> TimetableInfo:
    """Save a draft of the class's weekly timetable valid from a date: a new draft, or the
    draft already begun from that date with its slots replaced.

    A published timetable is never changed in place: a correction is a draft from its own
    date (the same date as the published one, or a later one), and until it is published
    families keep seeing the published timetable (docs/regulation.md, clause 6.2). Who may: the
    policy's ``PUBLISH_TIMETABLE``.
    """
    cls = await class_of(ctx, class_id)
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    clean = await _validate_slots(ctx.session, cls.school_id, slots)
    now, by = ctx.now(), None if ctx.actor.system else ctx.actor.user_id
    tt = await ctx.session.scalar(
        select(Timetable).where(
            Timetable.class_id == class_id,
            Timetable.valid_from == valid_from,
            Timetable.published_at.is_(None),
        )
    )
    if tt is None:
        tt = Timetable(
            school_id=cls.school_id,
            class_id=class_id,
            valid_from=valid_from,
            created_at=now,
            created_by_id=by,
            updated_at=now,
            updated_by_id=by,
        )
        ctx.session.add(tt)
        await ctx.session.flush()
    else:
        await ctx.session.execute(delete(TimetableSlot).where(TimetableSlot.timetable_id == tt.id))
        tt.updated_at, tt.updated_by_id = now, by
    ctx.session.add_all(
        TimetableSlot(
            timetable_id=tt.id,
            weekday=s.weekday,
            lesson_number=s.lesson_number,
            subject_id=s.subject_id,
            teacher_id=s.teacher_id,
            room=s.room,
        )
        for s in clean
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "timetable.set",
        now,
        school_id=cls.school_id,
        object_type="timetable",
        object_id=tt.id,
        class_id=class_id,
        valid_from=valid_from.isoformat(),
        slots=len(clean),
    )
    return TimetableInfo(tt.id, class_id, valid_from, None)


async def publish_timetable(ctx: Ctx, timetable_id: int) -> TimetableInfo:
    """Publish a draft weekly timetable: from its date on the class's families see it
    (docs/regulation.md, clause 6.2). A published timetable from the same date is replaced by it.

    The act is audited and records who published it. The class's pupils and their
    confirmed parents are told what changed from the date of this version against the
    timetable they saw until now (a first timetable: that there is one); a version that
    changes no lesson tells nobody anything.
    """
    tt = await ctx.session.get(Timetable, timetable_id)
    if tt is None:
        raise NotFound("расписание не найдено")
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(tt.school_id, tt.class_id))
    if tt.published_at is not None:
        raise Conflict("это расписание уже опубликовано")
    cls = await class_of(ctx, tt.class_id)
    before = await in_force(ctx.session, cls.id, tt.valid_from)
    before_plan, after_plan = (
        await week_plan(ctx.session, before),
        await week_plan(ctx.session, tt.id),
    )
    replaced = await ctx.session.scalar(
        select(Timetable.id).where(
            Timetable.class_id == cls.id,
            Timetable.valid_from == tt.valid_from,
            Timetable.published_at.is_not(None),
        )
    )
    if replaced is not None:
        await ctx.session.execute(
            delete(TimetableSlot).where(TimetableSlot.timetable_id == replaced)
        )
        await ctx.session.execute(delete(Timetable).where(Timetable.id == replaced))
    now = ctx.now()
    tt.published_at = now
    tt.published_by_id = None if ctx.actor.system else ctx.actor.user_id
    tt.updated_at, tt.updated_by_id = now, tt.published_by_id
    await ctx.session.flush()
    text = publish_text(cls.name, tt.valid_from, before_plan, after_plan, first=before is None)
    notified = 0
    if text:
        families = await announcements.family_ids(ctx.session, cls.id)
        notified = await notify(ctx.session, families, "timetable", text, None, now)
    audit.record(
        ctx.session,
        ctx.actor,
        "timetable.publish",
        now,
        school_id=tt.school_id,
        object_type="timetable",
        object_id=tt.id,
        class_id=cls.id,
        valid_from=tt.valid_from.isoformat(),
        replaced=replaced,
        notified=notified,
    )
    return TimetableInfo(tt.id, tt.class_id, tt.valid_from, now)


async def class_timetables(ctx: Ctx, class_id: int) -> list[TimetableInfo]:
    """The class's weekly timetables, oldest first; families see only the published ones."""
    cls = await class_of(ctx, class_id)
    ctx.require(Action.READ_CLASS, ClassTarget(cls.school_id, cls.id))
    t = Timetable.__table__.c
    query = select(t.id, t.class_id, t.valid_from, t.published_at).where(t.class_id == class_id)
    if not sees_drafts(ctx, cls.school_id, cls.id):
        query = query.where(t.published_at.is_not(None))
    return [TimetableInfo(*r) for r in await ctx.session.execute(query.order_by(t.valid_from))]
