"""Publishing an announcement to a school or a class, or (the administration) to the school's
staff only, the parents of one grade or several classes; a parent-meeting announcement also
notifies the parents it reaches. The checks on its texts and the dates it is shown through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import (
    func,
    select,
)

from diary_core import audit
from diary_core.announcements.audience import members_query
from diary_core.announcements.reading import AnnouncementView
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    Announcement,
    AnnouncementClass,
    SchoolClass,
    User,
)
from diary_core.notifications import notify
from diary_core.policy import (
    Action,
    ClassTarget,
    SchoolTarget,
    Target,
)
from diary_core.text import clean_line
from diary_core.text import clean_text as clean_multiline

KINDS = ("general", "timetable_change", "parent_meeting")


SCHOOL_AUDIENCES = ("school", "staff", "grade", "classes")  # the administration's console
MAX_TITLE = 200
MAX_BODY = 5000


def clean_text(
    value: str, *, field: str, label: str, max_length: int, multiline: bool = True
) -> str:
    """Strip a text; empty, too long or holding a character the diary refuses
    (:mod:`diary_core.text`) is :class:`InvalidInput` naming the field."""
    (clean_multiline if multiline else clean_line)(value, field, label)
    text = value.strip()
    if not text:
        raise InvalidInput(f"{label}: текст не может быть пустым", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label}: не длиннее {max_length} символов", field=field)
    return text


async def _target(ctx: Ctx, school_id: int, class_id: int | None) -> tuple[Target, str]:
    if class_id is None:
        return SchoolTarget(school_id), ""
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != school_id:
        raise NotFound("класс не найден")
    return ClassTarget(school_id, class_id), cls.name


def end_of_day(last_day: date, zone: tzinfo) -> datetime:
    """The instant (UTC) something shown through ``last_day`` inclusive, a calendar date of
    the school in ``zone``, stops being shown: the school's next midnight."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def last_day_shown(expires_at: datetime, zone: tzinfo) -> date:
    """The school's last calendar date on which something expiring at ``expires_at`` is
    still shown (the inverse of :func:`end_of_day`)."""
    return (expires_at.astimezone(zone) - timedelta(microseconds=1)).date()


def check_expiry(ctx: Ctx, expires_at: datetime | None) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise InvalidInput("срок действия объявления указан без часового пояса", field="expires_at")
    if expires_at <= ctx.now():
        raise InvalidInput("срок действия объявления уже истёк", field="expires_at")


async def _check_audience(
    ctx: Ctx, school_id: int, audience: str, grade: int | None, class_ids: Sequence[int]
) -> tuple[int | None, tuple[int, ...], str]:
    """Validate a school-level audience; returns its grade, its classes and a label."""
    if audience not in SCHOOL_AUDIENCES:
        raise InvalidInput(f"неизвестный круг получателей «{audience}»", field="audience")
    if audience == "grade":
        if grade is None:
            raise InvalidInput("не выбрана параллель", field="grade")
        found = await ctx.session.scalar(
            select(func.count())
            .select_from(SchoolClass)
            .where(SchoolClass.school_id == school_id, SchoolClass.grade == grade)
        )
        if not found:
            raise InvalidInput(f"в школе нет классов параллели {grade}", field="grade")
        return grade, (), f"родители, параллель {grade}"
    if audience == "classes":
        ids = tuple(sorted(set(class_ids)))
        if not ids:
            raise InvalidInput("не выбран ни один класс", field="classes")
        names = list(
            await ctx.session.scalars(
                select(SchoolClass.name)
                .where(SchoolClass.id.in_(ids), SchoolClass.school_id == school_id)
                .order_by(SchoolClass.grade, SchoolClass.name)
            )
        )
        if len(names) != len(ids):
            raise NotFound("класс не найден")
        return None, ids, ", ".join(names)
    return None, (), ""


async def announce(
    ctx: Ctx,
    title: str,
    body: str,
    kind: str,
    school_id: int,
    class_id: int | None = None,
    expires_at: datetime | None = None,
    *,
    audience: str | None = None,
    grade: int | None = None,
    class_ids: Sequence[int] = (),
) -> AnnouncementView:
    """Publish an announcement to a school or to one class, or (``audience``) to the
    school's staff only, the parents of one ``grade`` or several classes (``class_ids``).

    Who may: the policy's ``ANNOUNCE`` (a class: its class teacher or the administration; the
    school and its other audiences: the administration). A parent meeting notifies the
    parents in the audience.
    """
    if audience is None or audience == "class":
        audience = "class" if class_id is not None else "school"
        if audience == "class" and class_id is None:
            raise InvalidInput("не выбран класс", field="class_id")
        target, class_name = await _target(ctx, school_id, class_id)
        ctx.require(Action.ANNOUNCE, target)
        grade, class_ids = None, ()
    else:
        if class_id is not None:
            raise InvalidInput("объявление одному классу не указывает круг получателей")
        ctx.require(Action.ANNOUNCE, SchoolTarget(school_id))
        grade, class_ids, class_name = await _check_audience(
            ctx, school_id, audience, grade, class_ids
        )
    if kind not in KINDS:
        raise InvalidInput(f"неизвестный вид объявления «{kind}»", field="kind")
    title = clean_text(
        title, field="title", label="Заголовок", max_length=MAX_TITLE, multiline=False
    )
    body = clean_text(body, field="body", label="Текст объявления", max_length=MAX_BODY)
    check_expiry(ctx, expires_at)
    now = ctx.now()
    row = Announcement(
        school_id=school_id,
        class_id=class_id,
        kind=kind,
        title=title,
        body=body,
        created_by_id=ctx.actor.user_id,
        created_at=now,
        expires_at=expires_at,
        audience=audience,
        grade=grade,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    for listed in class_ids:
        ctx.session.add(AnnouncementClass(announcement_id=row.id, class_id=listed))
    if class_ids:
        await ctx.session.flush()
    if kind == "parent_meeting":
        parents: set[int] = set(
            await ctx.session.scalars(
                members_query(audience, school_id, class_id, grade, class_ids, parents_only=True)
            )
        )
        where = f" ({class_name})" if class_name else ""
        await notify(
            ctx.session, parents, "meeting", f"Родительское собрание{where}: {title}", None, now
        )
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.create",
        now,
        school_id=school_id,
        object_type="announcement",
        object_id=row.id,
        kind=kind,
        class_id=class_id,
        audience=audience,
    )
    author = await ctx.session.get(User, ctx.actor.user_id)
    return AnnouncementView(
        row.id,
        school_id,
        class_id,
        kind,
        title,
        body,
        ctx.actor.user_id,
        author.full_name if author else "",
        now,
        expires_at,
        False,
        audience,
        grade,
    )
