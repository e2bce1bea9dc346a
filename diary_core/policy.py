"""The access policy: the one place that answers "may this actor do this to that object".

docs/regulation.md, clause 3.3: parents and pupils reach only their own (their children's) data.
Staff reach only their own school, and within it what their role and teaching assignments give them.
Every use case asks :func:`require` before it reads or writes; no caller re-implements a rule.

The policy is pure: it decides on an :class:`Actor` (who is asking, with everything that gives
him reach, loaded once per request) and a small target record naming the object's school,
class, pupil or account. It never touches the database, so it is tested as a full matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from diary_core.errors import Forbidden, NotFound
from diary_core.roles import FAMILY_ROLES, STAFF_ROLES, Role


class Action(StrEnum):
    READ_PUPIL = "read_pupil"  # marks, attendance, period marks, profile of a pupil
    READ_CLASS = "read_class"  # timetable, lessons, homework, class announcements
    READ_CLASS_ROSTER = "read_class_roster"  # the list of a class's pupils and parents
    READ_GRADEBOOK = "read_gradebook"  # a class × subject journal: all its pupils' marks
    WRITE_MARKS = "write_marks"  # marks and attendance in a class × subject
    EDIT_LESSON = "edit_lesson"  # topic and homework in a class × subject
    WRITE_PERIOD_MARKS = "write_period_marks"
    LOCK_PERIOD_MARKS = "lock_period_marks"
    CHANGE_TIMETABLE = "change_timetable"  # per-date changes for a class
    PUBLISH_TIMETABLE = "publish_timetable"  # edit and publish the weekly timetable
    ANNOUNCE = "announce"  # to a class (ClassTarget) or the whole school (SchoolTarget)
    ISSUE_CREDENTIALS = "issue_credentials"
    CONFIRM_GUARDIANSHIP = "confirm_guardianship"
    MANAGE_SCHOOL = "manage_school"  # classes, subjects, assignments, imports
    READ_AUDIT = "read_audit"
    READ_REPLY_DASHBOARD = "read_reply_dashboard"
    MESSAGE = "message"  # start a conversation with a user
    #: A question to the school's administrators (docs/regulation.md, clause 6.1).
    ASK_ADMINISTRATION = "ask_administration"
    READ_DRAFT_TIMETABLE = "read_draft_timetable"  # unpublished timetables: staff's working copy


@dataclass(frozen=True)
class PupilPlace:
    """Where a pupil is: enough to decide who may reach him."""

    pupil_id: int
    school_id: int
    class_id: int


@dataclass(frozen=True)
class Actor:
    """Who is asking, and everything that gives him reach."""

    user_id: int
    roles: frozenset[Role]
    school_id: int | None = None
    taught: frozenset[tuple[int, int]] = frozenset()  # (class_id, subject_id)
    led_classes: frozenset[int] = frozenset()  # classes he is class teacher of
    own_pupil: PupilPlace | None = None  # a pupil's own enrolment
    children: frozenset[PupilPlace] = frozenset()  # confirmed guardianships only
    system: bool = False  # the operator's command line on the server; never from HTTP

    @classmethod
    def system_actor(cls) -> Actor:
        """The server operator (``ediary`` commands): may do anything, audited as "system"."""
        return cls(user_id=0, roles=frozenset(), system=True)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def staff_of(self, school_id: int) -> bool:
        return self.is_staff and self.school_id == school_id

    def admin_of(self, school_id: int) -> bool:
        return self.has(Role.ADMINISTRATOR) and self.school_id == school_id

    @property
    def taught_classes(self) -> frozenset[int]:
        return frozenset(c for c, _ in self.taught) | self.led_classes

    @property
    def family_places(self) -> frozenset[PupilPlace]:
        own = {self.own_pupil} if self.own_pupil and self.has(Role.PUPIL) else set()
        kids = self.children if self.has(Role.PARENT) else frozenset()
        return frozenset(own) | kids


@dataclass(frozen=True)
class SchoolTarget:
    school_id: int


@dataclass(frozen=True)
class ClassTarget:
    school_id: int
    class_id: int


@dataclass(frozen=True)
class SubjectTarget:
    """A class × subject: the unit of a teaching assignment."""

    school_id: int
    class_id: int
    subject_id: int


@dataclass(frozen=True)
class PupilTarget:
    school_id: int
    class_id: int
    pupil_id: int


@dataclass(frozen=True)
class UserTarget:
    """Another account: for messaging and for issuing credentials."""

    user_id: int
    roles: frozenset[Role]
    school_id: int | None = None  # staff's or pupil's school
    family_places: frozenset[PupilPlace] = field(default_factory=frozenset)
    taught_classes: frozenset[int] = field(default_factory=frozenset)  # staff: classes he teaches


Target = SchoolTarget | ClassTarget | SubjectTarget | PupilTarget | UserTarget


@dataclass(frozen=True)
class AnnouncementReach:
    """Which announcements an actor is in the audience of (docs/regulation.md, clause 2.3): the one
    rule every read path (the diary, ``/announcements``, the API, opening one by its address)
    applies, through :func:`diary_core.announcements.visible_query`.

    - ``schools``: announcements to the whole school (its staff, pupils and parents);
    - ``staff_schools``: staff-only announcements, never shown to families;
    - ``classes``: announcements to one class or to several classes naming one of these
      (the pupils of the class, their parents, the class's teachers);
    - ``parent_classes``: announcements to the parents of a grade reach a parent whose
      child is in a class of that grade (parents only: not pupils, not staff).
    """

    schools: frozenset[int]
    staff_schools: frozenset[int]
    classes: frozenset[int]
    parent_classes: frozenset[int]


def announcement_reach(actor: Actor) -> AnnouncementReach:
    places = actor.family_places
    schools = {p.school_id for p in places}
    classes = {p.class_id for p in places}
    staff_schools: set[int] = set()
    if actor.is_staff and actor.school_id is not None:
        schools.add(actor.school_id)
        staff_schools.add(actor.school_id)
        classes |= set(actor.taught_classes)
    parent_classes = {p.class_id for p in actor.children} if actor.has(Role.PARENT) else set()
    return AnnouncementReach(
        frozenset(schools), frozenset(staff_schools), frozenset(classes), frozenset(parent_classes)
    )


def _reads_pupil(actor: Actor, t: PupilTarget) -> bool:
    if actor.staff_of(t.school_id):
        return actor.has(Role.ADMINISTRATOR) or t.class_id in actor.taught_classes
    return any(p.pupil_id == t.pupil_id for p in actor.family_places)


def _reads_class(actor: Actor, t: ClassTarget) -> bool:
    if actor.staff_of(t.school_id):
        return True  # staff see every class's timetable and homework in their school
    return any(p.class_id == t.class_id for p in actor.family_places)


def _leads(actor: Actor, school_id: int, class_id: int) -> bool:
    return actor.staff_of(school_id) and class_id in actor.led_classes


def _teaches(actor: Actor, t: SubjectTarget) -> bool:
    return actor.staff_of(t.school_id) and (t.class_id, t.subject_id) in actor.taught


def _may_message(actor: Actor, t: UserTarget) -> bool:
    """Who may write to whom (docs/regulation.md, clause 2.2)."""
    if t.user_id == actor.user_id:
        return False
    if actor.is_staff and actor.school_id is not None:
        if t.school_id == actor.school_id:
            return True
        return any(p.school_id == actor.school_id for p in t.family_places)
    target_is_staff = bool(t.roles & STAFF_ROLES) and t.school_id is not None
    if not target_is_staff:
        return False  # families write to staff, not to one another
    for place in actor.family_places:
        if place.school_id != t.school_id:
            continue
        if place.class_id in t.taught_classes:
            return True
        if actor.has(Role.PARENT) and Role.ADMINISTRATOR in t.roles:
            return True
    return False


def _may_issue(actor: Actor, t: UserTarget) -> bool:
    """docs/regulation.md, clause 3.1: staff credentials from the administrator, families' from the
    class teacher of (one of) their pupils' classes."""
    if t.roles & STAFF_ROLES:
        return t.school_id is not None and actor.admin_of(t.school_id)
    if t.roles & FAMILY_ROLES:
        return any(_leads(actor, p.school_id, p.class_id) for p in t.family_places)
    return False


def _user_visible(actor: Actor, t: UserTarget) -> bool:
    return _may_message(actor, t) or _may_issue(actor, t) or t.user_id == actor.user_id


def allowed(actor: Actor, action: Action, target: Target) -> bool:
    """The decision itself. Unknown action/target pairs are refused (fail closed)."""
    if actor.system:
        return True
    if isinstance(target, UserTarget):
        if action is Action.MESSAGE:
            return _may_message(actor, target)
        if action is Action.ISSUE_CREDENTIALS:
            return _may_issue(actor, target)
        return False
    if isinstance(target, PupilTarget):
        if action is Action.READ_PUPIL:
            return _reads_pupil(actor, target)
        if action is Action.CONFIRM_GUARDIANSHIP:
            return _leads(actor, target.school_id, target.class_id)
        return False
    if isinstance(target, SubjectTarget):
        if action in (Action.WRITE_MARKS, Action.EDIT_LESSON):
            return _teaches(actor, target)
        if action is Action.WRITE_PERIOD_MARKS:
            return _teaches(actor, target) or actor.admin_of(target.school_id)
        if action is Action.READ_GRADEBOOK:
            return (
                _teaches(actor, target)
                or _leads(actor, target.school_id, target.class_id)
                or actor.admin_of(target.school_id)
            )
        return False
    if isinstance(target, ClassTarget):
        if action is Action.READ_CLASS:
            return _reads_class(actor, target)
        if action is Action.READ_DRAFT_TIMETABLE:
            return actor.staff_of(target.school_id)
        if action is Action.READ_CLASS_ROSTER:
            return actor.admin_of(target.school_id) or (
                actor.staff_of(target.school_id) and target.class_id in actor.taught_classes
            )
        if action in (Action.CHANGE_TIMETABLE, Action.ANNOUNCE, Action.PUBLISH_TIMETABLE):
            return actor.admin_of(target.school_id) or _leads(
                actor, target.school_id, target.class_id
            )
        return False
    if action is Action.ASK_ADMINISTRATION:
        return actor.staff_of(target.school_id) or any(
            p.school_id == target.school_id for p in actor.family_places
        )
    if action in (
        Action.MANAGE_SCHOOL,
        Action.LOCK_PERIOD_MARKS,
        Action.READ_AUDIT,
        Action.READ_REPLY_DASHBOARD,
        Action.ANNOUNCE,
        Action.PUBLISH_TIMETABLE,
    ):
        return actor.admin_of(target.school_id)
    return False


def _visible(actor: Actor, target: Target) -> bool:
    """Whether the actor may know that the object exists at all."""
    if isinstance(target, UserTarget):
        return _user_visible(actor, target)
    if isinstance(target, PupilTarget):
        return _reads_pupil(actor, target)
    if isinstance(target, SchoolTarget):
        return actor.staff_of(target.school_id) or any(
            p.school_id == target.school_id for p in actor.family_places
        )
    return _reads_class(actor, ClassTarget(target.school_id, target.class_id))


def require(actor: Actor, action: Action, target: Target) -> None:
    """Raise unless allowed: :class:`NotFound` when the actor may not even know the object
    exists (so another family's pupil and a missing pupil look alike), else :class:`Forbidden`."""
    if allowed(actor, action, target):
        return
    if not _visible(actor, target):
        raise NotFound("объект не найден")
    raise Forbidden("недостаточно прав для этого действия")


# ---------------------------------------------------------------------------------------------
# The state services portal: a machine client, not a person
# (docs/regulation.md, clauses 1.2, 2.1, 3.3).
#
# The portal reads progress on behalf of parents it has identified itself; the diary decides
# which schools a registered client serves and what its request was granted. It has no Actor
# and takes no part in the rules above; every core read of the portal's asks
# :func:`require_portal` before it reads a pupil's rows.
# ---------------------------------------------------------------------------------------------


class PortalScope(StrEnum):
    """What a portal request may read (the scopes of its bearer token)."""

    READ_PROGRESS = "progress.read"  # a pupil's progress; a parent's children
    READ_CHANGES = "changes.read"  # the change feed of the schools it serves


@dataclass(frozen=True)
class PortalReader:
    """A registered portal client reading through one request: the schools it serves (None:
    every school) and the scopes the request holds (none: it reads nothing)."""

    client_id: str
    schools: frozenset[int] | None = None
    scopes: frozenset[str] = frozenset()

    @classmethod
    def school_export(cls, school_id: int) -> PortalReader:
        """The operator's export of one school's documents (``ediary feed export``): the
        progress of that school's pupils, nothing else."""
        return cls("feed-export", frozenset({school_id}), frozenset({PortalScope.READ_PROGRESS}))


def portal_may_read(reader: PortalReader, pupil: PupilPlace) -> bool:
    """Whether the pupil is in the reader's reach: a school it serves."""
    return reader.schools is None or pupil.school_id in reader.schools


def require_portal(
    reader: PortalReader, scope: PortalScope, pupil: PupilPlace | None = None
) -> None:
    """Raise unless the reader may read this: :class:`Forbidden` when its request does not
    hold ``scope`` (which says nothing about any pupil), :class:`NotFound` for a pupil of a
    school it does not serve, exactly as for a pupil who does not exist, so a client cannot
    probe other schools' rosters (docs/regulation.md, clause 3.3)."""
    if scope not in reader.scopes:
        raise Forbidden(f"запросу портала не выдана область {scope}")
    if pupil is not None and not portal_may_read(reader, pupil):
        raise NotFound("обучающийся не найден")
