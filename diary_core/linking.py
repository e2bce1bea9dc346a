"""Linking a state-portal (ESIA) identity to a diary account, and its children to pupils.

The rules (docs/esia.md), each a security decision:
- An identity already linked signs that account in.
- Otherwise a *trusted* portal account (its SNILS and names checked against state registers)
  whose SNILS belongs to a person on the roster is linked automatically. An untrusted account's
  SNILS is only what its owner typed, so it is never enough.
- Anyone else needs a one-time link code from the class teacher.
- Children from the portal are matched to pupils by SNILS, then by full name and birth date.
  A match the roster already backs (a confirmed guardianship) stays confirmed; any other match
  becomes a *pending* guardianship for the class teacher to confirm. Nothing the portal says
  confirms a guardianship on its own.

The portal's data arrives as :class:`PortalPerson`, a plain record: this module knows nothing
of ESIA's protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from diary_core import audit
from diary_core.accounts import redeem_link_code
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.families import link_guardian
from diary_core.models import ExternalIdentity, Guardianship, Pupil, User
from diary_core.roles import Role
from diary_core.snils import normalize_snils

PROVIDER = "esia"


@dataclass(frozen=True)
class PortalChild:
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    snils: str = ""


@dataclass(frozen=True)
class PortalPerson:
    oid: str
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    snils: str = ""
    trusted: bool = False
    children: tuple[PortalChild, ...] = ()


@dataclass
class LinkOutcome:
    """What happened: whom to sign in (if anyone), and what became of the children."""

    user_id: int | None
    linked_now: bool = False
    confirmed_children: list[int] = field(default_factory=list)
    pending_children: list[int] = field(default_factory=list)
    unmatched_children: int = 0

    @property
    def needs_code(self) -> bool:
        return self.user_id is None


def _snils(raw: str) -> str | None:
    try:
        return normalize_snils(raw) if raw else None
    except InvalidInput:
        return None


def _fold(text: str) -> str:
    return (text or "").strip().lower().replace("ё", "е")


async def _linked_user(ctx: Ctx, oid: str) -> User | None:
    return await ctx.session.scalar(
        select(User)
        .join(ExternalIdentity, ExternalIdentity.user_id == User.id)
        .where(ExternalIdentity.provider == PROVIDER, ExternalIdentity.subject == oid)
    )


async def _link(ctx: Ctx, user: User, person: PortalPerson, how: str) -> None:
    ctx.session.add(
        ExternalIdentity(
            user_id=user.id, provider=PROVIDER, subject=person.oid, linked_at=ctx.now()
        )
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "esia.link",
        ctx.now(),
        object_type="user",
        object_id=user.id,
        how=how,
    )


async def _match_pupil(ctx: Ctx, child: PortalChild) -> Pupil | None:
    snils = _snils(child.snils)
    if snils:
        found = await ctx.session.scalar(
            select(Pupil).join(User, User.id == Pupil.user_id).where(User.snils == snils)
        )
        if found is not None:
            return found
    if not child.birth_date or not child.last_name or not child.first_name:
        return None
    candidates = list(
        await ctx.session.scalars(
            select(Pupil)
            .join(User, User.id == Pupil.user_id)
            .where(
                User.birth_date == child.birth_date,
                func.lower(User.first_name) == child.first_name.strip().lower(),
            )
        )
    )
    matches = []
    for pupil in candidates:
        user = await ctx.session.get(User, pupil.user_id)
        assert user is not None
        if (_fold(user.last_name), _fold(user.middle_name)) == (
            _fold(child.last_name),
            _fold(child.middle_name),
        ):
            matches.append(pupil)
    return matches[0] if len(matches) == 1 else None  # ambiguous names match nobody


async def _match_children(ctx: Ctx, user: User, person: PortalPerson, out: LinkOutcome) -> None:
    if not person.children:
        return
    from diary_core.accounts import add_role

    for child in person.children:
        pupil = await _match_pupil(ctx, child)
        if pupil is None:
            out.unmatched_children += 1
            continue
        link = await ctx.session.scalar(
            select(Guardianship).where(
                Guardianship.guardian_id == user.id, Guardianship.pupil_id == pupil.id
            )
        )
        if link is not None and link.status == "confirmed":
            out.confirmed_children.append(pupil.id)
        elif link is None:
            await add_role(ctx, user.id, Role.PARENT)
            await link_guardian(ctx, user.id, pupil.id, source="esia", confirmed=False)
            out.pending_children.append(pupil.id)
        elif link.status == "pending":
            out.pending_children.append(pupil.id)


async def sign_in_portal_person(ctx: Ctx, person: PortalPerson) -> LinkOutcome:
    """The account this portal person signs in as, linking it if the rules allow.

    Runs as the system actor (nobody is signed in yet); every link is audited."""
    if not person.oid:
        raise InvalidInput("портал не передал идентификатор пользователя")
    user = await _linked_user(ctx, person.oid)
    out = LinkOutcome(user_id=None)
    if user is None and person.trusted and (snils := _snils(person.snils)):
        candidate = await ctx.session.scalar(select(User).where(User.snils == snils))
        if candidate is not None and candidate.is_active:
            await _link(ctx, candidate, person, "trusted_snils")
            user, out.linked_now = candidate, True
    if user is None or not user.is_active:
        return out
    out.user_id = user.id
    await _match_children(ctx, user, person, out)
    return out


async def link_with_code(ctx: Ctx, person: PortalPerson, code: str) -> LinkOutcome:
    """Link the portal person to the account a class teacher's one-time code names."""
    if await _linked_user(ctx, person.oid) is not None:
        raise InvalidInput("эта учётная запись Госуслуг уже связана с дневником")
    user = await redeem_link_code(ctx, code)
    existing = await ctx.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.user_id == user.id, ExternalIdentity.provider == PROVIDER
        )
    )
    if existing is not None:
        raise InvalidInput("с этой учётной записью дневника уже связана другая запись Госуслуг")
    await _link(ctx, user, person, "one_time_code")
    out = LinkOutcome(user_id=user.id, linked_now=True)
    await _match_children(ctx, user, person, out)
    return out
