"""Accounts, roles, pupils, guardianship and external (ESIA) identities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, Stamped, UTCDateTime


class User(Stamped, Base):
    """Every person the diary knows: staff, parents and pupils.

    A person may exist before he can sign in (a parent from the roster): ``login`` is empty
    until credentials are issued or an ESIA identity is linked. Staff and pupils belong to one
    school; a parent's ``school_id`` is empty, his reach comes from his children.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    login: Mapped[str | None] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    snils: Mapped[str | None] = mapped_column(String(14), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Pupil(Base):
    """A pupil's enrolment: the person (a user row) in a class of a school."""

    __tablename__ = "pupils"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)


class Guardianship(Stamped, Base):
    """A parent (legal representative) of a pupil: confirmed or waiting for the class teacher."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("guardian_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # confirmed | pending | rejected
    source: Mapped[str] = mapped_column(String(16))  # roster | class_teacher | esia


class ExternalIdentity(Base):
    """A portal identity (ESIA oid) linked to an account."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))  # "esia"
    subject: Mapped[str] = mapped_column(String(64))  # the portal person id (oid)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OneTimeCode(Base):
    """A one-time ESIA link code, stored only as a hash, expiring, usable once."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "esia_link"
    code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
