"""A class's roster for its class teacher and the administration: its pupils with their
parents (confirmed and pending links) and how each can sign in. The read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Exists, exists, select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import (
    ExternalIdentity,
    Guardianship,
    Pupil,
    School,
    SchoolClass,
    User,
)
from diary_core.policy import Action, ClassTarget, PupilTarget, allowed
from diary_core.russian import full_name


@dataclass(frozen=True)
class Access:
    """How a person can sign in: a login (and whether its one-time password is still unused)
    and a linked ESIA identity."""

    login: str | None
    must_change_password: bool
    esia: bool

    @property
    def signs_in(self) -> bool:
        return bool(self.login) or self.esia


@dataclass(frozen=True)
class RosterParent:
    user_id: int
    full_name: str
    guardianship_id: int
    status: str  # confirmed | pending
    phone: str
    email: str
    access: Access


@dataclass
class RosterPupil:
    pupil_id: int
    user_id: int
    full_name: str
    birth_date: date | None
    access: Access
    manageable: bool  # the actor leads the pupil's class: issues credentials, decides links
    parents: list[RosterParent] = field(default_factory=list)


@dataclass(frozen=True)
class ClassRoster:
    class_id: int
    class_name: str
    school_id: int
    school_name: str
    class_teacher: str
    pupils: list[RosterPupil]

    @property
    def leads(self) -> bool:
        """Whether the actor leads this class (issues its credentials, decides its links)."""
        return any(p.manageable for p in self.pupils)

    def person(self, user_id: int) -> tuple[str, RosterPupil] | None:
        """Whether an account is this class's pupil or one of their parents: the pupil's row
        and the person's name."""
        for p in self.pupils:
            if p.user_id == user_id:
                return p.full_name, p
            for parent in p.parents:
                if parent.user_id == user_id:
                    return parent.full_name, p
        return None


async def _class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    return cls


def _has_esia() -> Exists:
    return exists().where(ExternalIdentity.user_id == User.id)


async def class_roster(ctx: Ctx, class_id: int) -> ClassRoster:
    """The pupils of a class with their parents (confirmed and pending links), and how each
    can sign in. Who may: the policy's ``READ_CLASS_ROSTER``; the read is audited."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.READ_CLASS_ROSTER, ClassTarget(cls.school_id, cls.id))
    esia = _has_esia()
    pupil_rows = await ctx.session.execute(
        select(
            Pupil.id,
            User.id,
            User.last_name,
            User.first_name,
            User.middle_name,
            User.birth_date,
            User.login,
            User.must_change_password,
            esia,
        )
        .join(User, User.id == Pupil.user_id)
        .where(Pupil.class_id == class_id)
        .order_by(User.last_name, User.first_name, Pupil.id)
    )
    pupils: dict[int, RosterPupil] = {}
    for r in pupil_rows:
        target = PupilTarget(cls.school_id, cls.id, r[0])
        pupils[r[0]] = RosterPupil(
            r[0],
            r[1],
            full_name(r[2], r[3], r[4]),
            r[5],
            Access(r[6], bool(r[7]), bool(r[8])),
            allowed(ctx.actor, Action.CONFIRM_GUARDIANSHIP, target),
        )
    for pupil_id, parent in await _parents(ctx, class_id):
        pupils[pupil_id].parents.append(parent)
    teacher = await ctx.session.get(User, cls.class_teacher_id) if cls.class_teacher_id else None
    school = await ctx.session.get(School, cls.school_id)
    audit.record(
        ctx.session,
        ctx.actor,
        "class.roster.read",
        ctx.now(),
        school_id=cls.school_id,
        object_type="class",
        object_id=cls.id,
    )
    return ClassRoster(
        cls.id,
        cls.name,
        cls.school_id,
        school.name if school else "",
        teacher.full_name if teacher else "",
        list(pupils.values()),
    )


async def _parents(ctx: Ctx, class_id: int) -> list[tuple[int, RosterParent]]:
    rows = await ctx.session.execute(
        select(
            Guardianship.pupil_id,
            Guardianship.id,
            Guardianship.status,
            User.id,
            User.last_name,
            User.first_name,
            User.middle_name,
            User.phone,
            User.email,
            User.login,
            User.must_change_password,
            _has_esia(),
        )
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(User, User.id == Guardianship.guardian_id)
        .where(Pupil.class_id == class_id, Guardianship.status != "rejected")
        .order_by(Guardianship.status, User.last_name, User.first_name, User.id)
    )
    return [
        (
            r[0],
            RosterParent(
                r[3],
                full_name(r[4], r[5], r[6]),
                r[1],
                r[2],
                r[7],
                r[8],
                Access(r[9], bool(r[10]), bool(r[11])),
            ),
        )
        for r in rows
    ]
