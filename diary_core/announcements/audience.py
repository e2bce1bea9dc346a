"""Who is in an announcement's audience, decided once for every read path with the policy's
:class:`~diary_core.policy.AnnouncementReach`: the reader's side is :func:`visible_query`,
the author's side (read receipts, notifications) :func:`members_query`.

The audience of a school announcement is its staff, its pupils and their parents; of a class
announcement, the class's pupils, their parents and its teachers (subject teachers and the
class teacher); of a staff-only one, the school's staff; of a grade's, the parents of its
classes; of several classes, each as a class announcement. Parents count only through a
confirmed guardianship.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import (
    Announcement,
    AnnouncementClass,
    Guardianship,
    Pupil,
    SchoolClass,
    TeachingAssignment,
    User,
    UserRole,
)
from diary_core.policy import (
    Actor,
    AnnouncementReach,
    announcement_reach,
)
from diary_core.roles import STAFF_ROLES

# Who an announcement is addressed to: the whole school, its staff only, the parents of one
# grade, one class (the class teacher's console), several classes (the administration's).
AUDIENCES = ("school", "staff", "grade", "class", "classes")


def _family_queries(scope: ColumnElement[bool], parents_only: bool) -> list[Select[Any]]:
    pupil_user = User.__table__.alias("pupil_user")
    parent_user = User.__table__.alias("parent_user")
    parents = (
        select(Guardianship.guardian_id.label("user_id"))
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(parent_user, parent_user.c.id == Guardianship.guardian_id)
        .where(scope, Guardianship.status == "confirmed")
        .where(parent_user.c.is_active)
    )
    if parents_only:
        return [parents]
    pupils = (
        select(Pupil.user_id.label("user_id"))
        .join(pupil_user, pupil_user.c.id == Pupil.user_id)
        .where(scope, pupil_user.c.is_active)
    )
    return [pupils, parents]


def _class_staff_queries(in_classes: Callable[[Any], ColumnElement[bool]]) -> list[Select[Any]]:
    """The teachers of classes: ``in_classes`` maps a class id column to the condition."""
    subject_teachers = select(TeachingAssignment.teacher_id.label("user_id")).where(
        in_classes(TeachingAssignment.class_id)
    )
    class_teacher = select(SchoolClass.class_teacher_id.label("user_id")).where(
        in_classes(SchoolClass.id), SchoolClass.class_teacher_id.is_not(None)
    )
    return [subject_teachers, class_teacher]


def _staff_queries(school_id: int, class_id: int | None) -> list[Select[Any]]:
    if class_id is not None:
        return _class_staff_queries(lambda column: column == class_id)
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    return [select(User.id.label("user_id")).where(User.school_id == school_id, is_staff)]


async def audience_ids(
    session: AsyncSession, school_id: int, class_id: int | None, *, parents_only: bool = False
) -> set[int]:
    """The accounts a school (``class_id`` None) or class announcement reaches.

    With ``parents_only`` just the confirmed parents; the same rule serves timetable-change
    notifications (pupils and parents, no staff) through :func:`family_ids`.
    """
    audience = "class" if class_id is not None else "school"
    query = members_query(audience, school_id, class_id, parents_only=parents_only)
    return set(await session.scalars(query))


def members_query(
    audience: str,
    school_id: int,
    class_id: int | None = None,
    grade: int | None = None,
    class_ids: Sequence[int] = (),
    *,
    parents_only: bool = False,
) -> Select[Any] | CompoundSelect[Any]:
    """The accounts (``user_id``) an announcement reaches, as one statement: the author's side
    of the rule :func:`visible_query` applies from the reader's side.

    ``parents_only``: just its confirmed parents (whom a parent meeting notifies).
    """
    if audience == "staff":
        parts = [] if parents_only else _staff_queries(school_id, None)
        if not parts:
            return select(User.id.label("user_id")).where(literal(False))
    elif audience == "grade":
        grade_classes = select(SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.grade == grade
        )
        parts = _family_queries(Pupil.class_id.in_(grade_classes), True)
    elif audience == "classes":
        ids = sorted(class_ids)
        parts = _family_queries(Pupil.class_id.in_(ids), parents_only)
        if not parents_only:
            parts += _class_staff_queries(lambda column: column.in_(ids))
    else:
        the_class = class_id if audience == "class" else None
        scope = (
            Pupil.class_id == the_class if the_class is not None else Pupil.school_id == school_id
        )
        parts = _family_queries(scope, parents_only)
        if not parents_only:
            parts += _staff_queries(school_id, the_class)
    return parts[0] if len(parts) == 1 else union(*parts)


async def members_of(
    session: AsyncSession, row: Announcement, *, parents_only: bool = False
) -> Select[Any] | CompoundSelect[Any]:
    class_ids: list[int] = []
    if row.audience == "classes":
        class_ids = list(
            await session.scalars(
                select(AnnouncementClass.class_id).where(
                    AnnouncementClass.announcement_id == row.id
                )
            )
        )
    return members_query(
        row.audience,
        row.school_id,
        row.class_id,
        row.grade,
        class_ids,
        parents_only=parents_only,
    )


async def family_ids(session: AsyncSession, class_id: int) -> set[int]:
    """The pupils of a class and their confirmed parents (not its staff)."""
    return await _ids(session, _family_queries(Pupil.class_id == class_id, False))


async def _ids(session: AsyncSession, parts: list[Select[Any]]) -> set[int]:
    query = parts[0] if len(parts) == 1 else union(*parts)
    ids: set[int] = set(await session.scalars(query))
    return ids


def reach_params(actor: Actor) -> dict[str, Any]:
    """The bind parameters of :func:`visible_query` for the actor (the policy's reach)."""
    reach: AnnouncementReach = announcement_reach(actor)
    return {
        "schools": sorted(reach.schools),
        "staff_schools": sorted(reach.staff_schools),
        "classes": sorted(reach.classes),
        "listed_classes": sorted(reach.classes),
        "parent_classes": sorted(reach.parent_classes),
    }


def visible_query(a: Any) -> ColumnElement[bool]:
    """Whether the reader (the bind parameters of :func:`reach_params`) is in the audience
    of announcement ``a`` (its table's columns): the one rule every read path applies."""
    t = AnnouncementClass.__table__.alias("t")
    c = SchoolClass.__table__.alias("grade_class")
    return or_(
        and_(a.audience == "school", a.school_id.in_(bindparam("schools", expanding=True))),
        and_(a.audience == "staff", a.school_id.in_(bindparam("staff_schools", expanding=True))),
        and_(a.audience == "class", a.class_id.in_(bindparam("classes", expanding=True))),
        and_(
            a.audience == "classes",
            exists().where(
                t.c.announcement_id == a.id,
                t.c.class_id.in_(bindparam("listed_classes", expanding=True)),
            ),
        ),
        and_(
            a.audience == "grade",
            exists().where(
                c.c.id.in_(bindparam("parent_classes", expanding=True)),
                c.c.school_id == a.school_id,
                c.c.grade == a.grade,
            ),
        ),
    )
