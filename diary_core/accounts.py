"""Accounts, roles and credentials (docs/regulation.md, clauses 3.1 and 6.2).

Staff accounts are made and given credentials by the administrator (deputy director);
parents' and pupils' by the class teacher of the pupil's class. Credentials are a login and a
one-time password that must be changed at the first sign-in, or a one-time code that links
an ESIA identity to the account. Passwords are hashed with argon2id; codes with SHA-256
(they are long random strings, so a slow hash adds nothing).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from diary_core import audit
from diary_core.actors import load_user_target, roles_of
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import OneTimeCode, User, UserRole
from diary_core.policy import Action, SchoolTarget
from diary_core.roles import STAFF_ROLES, Role
from diary_core.snils import normalize_snils
from diary_core.text import clean_line

#: OWASP's argon2id floor (m = 19 MiB, t = 2, p = 1). Raising these makes old hashes
#: "need rehash"; the sign-in upgrades them (see :func:`authenticate`).
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

LINK_CODE_TTL = timedelta(days=14)
MIN_PASSWORD_LENGTH = 10
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch  y  e yu ya".split(" "),
        strict=True,
    )
)


@dataclass(frozen=True)
class IssuedCredentials:
    """Shown once, to the issuer only, for a printed slip; never stored in clear."""

    user_id: int
    full_name: str
    login: str
    one_time_password: str


@dataclass(frozen=True)
class AuthResult:
    user: User
    must_change_password: bool


def hash_password(password: str) -> str:
    return HASHER.hash(password)


async def verify_password(stored: str, password: str) -> bool:
    """Argon2 verification off the event loop (it takes tens of milliseconds by design)."""

    def check() -> bool:
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


def transliterate(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum())


async def add_role(ctx: Ctx, user_id: int, role: str | Role) -> None:
    role = Role(role)
    if role not in await roles_of(ctx.session, user_id):
        ctx.session.add(UserRole(user_id=user_id, role=role.value))
        await ctx.session.flush()


async def require_staff_of(ctx: Ctx, user_id: int, school_id: int) -> User:
    user = await ctx.session.get(User, user_id)
    if user is None or user.school_id != school_id:
        raise NotFound("сотрудник не найден в этой школе")
    if not (await roles_of(ctx.session, user_id)) & STAFF_ROLES:
        raise InvalidInput("пользователь не является сотрудником школы")
    return user


async def _person(
    ctx: Ctx,
    *,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    school_id: int | None,
    snils: str | None = None,
    birth_date: date | None = None,
    email: str = "",
    phone: str = "",
) -> User:
    for value, field, label in (
        (last_name, "last_name", "Фамилия"),
        (first_name, "first_name", "Имя"),
        (middle_name, "middle_name", "Отчество"),
        (email, "email", "Электронная почта"),
        (phone, "phone", "Телефон"),
    ):
        clean_line(value, field, label)
    if not last_name.strip() or not first_name.strip():
        raise InvalidInput("фамилия и имя обязательны")
    norm = normalize_snils(snils) if snils else None
    if norm and await ctx.session.scalar(select(User.id).where(User.snils == norm)):
        raise Conflict(f"человек со СНИЛС {norm} уже есть")
    now = ctx.now()
    actor_id = None if ctx.actor.system else ctx.actor.user_id
    user = User(
        school_id=school_id,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        middle_name=middle_name.strip(),
        snils=norm,
        birth_date=birth_date,
        email=email.strip(),
        phone=phone.strip(),
        must_change_password=False,
        is_active=True,
        created_at=now,
        updated_at=now,
        created_by_id=actor_id,
        updated_by_id=actor_id,
    )
    ctx.session.add(user)
    await ctx.session.flush()
    return user


async def create_staff(
    ctx: Ctx,
    school_id: int,
    *,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    roles: tuple[Role, ...] = (Role.TEACHER,),
    snils: str | None = None,
    email: str = "",
) -> User:
    """A staff member of ``school_id``: only that school's administrator makes one."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    if not roles or not set(roles) <= STAFF_ROLES:
        raise InvalidInput(
            "сотруднику нужна роль: администратор, учитель или классный руководитель"
        )
    user = await _person(
        ctx,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        school_id=school_id,
        snils=snils,
        email=email,
    )
    for role in roles:
        await add_role(ctx, user.id, role)
    audit.record(
        ctx.session,
        ctx.actor,
        "user.create",
        ctx.now(),
        school_id=school_id,
        object_type="user",
        object_id=user.id,
        roles=sorted(r.value for r in roles),
    )
    return user


async def _unique_login(ctx: Ctx, user: User) -> str:
    base = transliterate(user.last_name)[:16] or "user"
    initials = transliterate(user.first_name[:1] + user.middle_name[:1])
    stem = f"{base}.{initials}" if initials else base
    taken = set(await ctx.session.scalars(select(User.login).where(User.login.like(f"{stem}%"))))
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def new_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


async def issue_credentials(ctx: Ctx, user_id: int) -> IssuedCredentials:
    """A login (kept if he has one) and a fresh one-time password, forced to change.

    Issuing again invalidates the previous password: a lost slip is fixed by a new one.
    """
    target = await load_user_target(ctx.session, user_id)
    ctx.require(Action.ISSUE_CREDENTIALS, target)
    user = await ctx.session.get(User, user_id)
    assert user is not None
    if not user.is_active:
        raise Conflict("учётная запись отключена")
    if not user.login:
        user.login = await _unique_login(ctx, user)
    password = new_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.updated_at = ctx.now()
    user.updated_by_id = None if ctx.actor.system else ctx.actor.user_id
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "credentials.issue",
        ctx.now(),
        school_id=ctx.actor.school_id,
        object_type="user",
        object_id=user.id,
    )
    return IssuedCredentials(user.id, user.full_name, user.login, password)


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


async def issue_link_code(ctx: Ctx, user_id: int) -> str:
    """A one-time code that links an ESIA identity to this account; older codes stop working."""
    target = await load_user_target(ctx.session, user_id)
    ctx.require(Action.ISSUE_CREDENTIALS, target)
    now = ctx.now()
    for old in await ctx.session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.user_id == user_id,
            OneTimeCode.purpose == "esia_link",
            OneTimeCode.used_at.is_(None),
        )
    ):
        old.used_at = now
    code = _new_code()
    ctx.session.add(
        OneTimeCode(
            user_id=user_id,
            purpose="esia_link",
            code_hash=_digest(code),
            expires_at=now + LINK_CODE_TTL,
            created_by_id=ctx.actor.user_id if not ctx.actor.system else user_id,
            created_at=now,
            attempts=0,
        )
    )
    await ctx.session.flush()
    audit.record(
        ctx.session, ctx.actor, "link_code.issue", now, object_type="user", object_id=user_id
    )
    return code


async def redeem_link_code(ctx: Ctx, code: str) -> User:
    """The account a valid, unexpired, unused code belongs to; the code is spent.

    Wrong, expired and used codes all answer alike, so the answer tells nothing.
    """
    now = ctx.now()
    row = await ctx.session.scalar(
        select(OneTimeCode).where(
            OneTimeCode.code_hash == _digest(code.strip()), OneTimeCode.purpose == "esia_link"
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise InvalidInput("код недействителен или срок его действия истёк", field="code")
    user = await ctx.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidInput("код недействителен или срок его действия истёк", field="code")
    row.used_at = now
    await ctx.session.flush()
    return user


async def authenticate(ctx: Ctx, login: str, password: str) -> AuthResult | None:
    """The account for a login and password, or None; an old-parameter hash is upgraded.

    An unknown login still costs one hash, so the answer time does not tell whether the
    login exists.
    """
    user = await ctx.session.scalar(
        select(User).where(func.lower(User.login) == login.strip().lower())
    )
    stored = user.password_hash if user and user.is_active and user.password_hash else None
    if not await verify_password(stored or _DUMMY_HASH, password):
        return None
    if stored is None or user is None:
        return None
    if HASHER.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
        await ctx.session.flush()
    return AuthResult(user, user.must_change_password)


_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


def check_new_password(password: str, user: User) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов", field="password"
        )
    if user.login and user.login.lower() in password.lower():
        raise InvalidInput("пароль не должен содержать логин", field="password")
    if len(set(password)) < 4:
        raise InvalidInput("пароль слишком простой", field="password")


async def change_password(ctx: Ctx, current: str, new: str) -> None:
    """The actor changes his own password; the one-time password stops being one."""
    user = await ctx.session.get(User, ctx.actor.user_id)
    if user is None or not user.password_hash:
        raise NotFound("учётная запись не найдена")
    if not await verify_password(user.password_hash, current):
        raise InvalidInput("текущий пароль указан неверно", field="current")
    if current == new:
        raise InvalidInput("новый пароль должен отличаться от текущего", field="password")
    check_new_password(new, user)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.updated_at = ctx.now()
    user.updated_by_id = user.id
    await ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "password.change", ctx.now(), object_id=user.id)
