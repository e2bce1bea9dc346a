"""The transactional outbox: a notification's mail is written in the notification's own flush.

Why an ORM event rather than a call from the core: the core (diary_core/notifications.py)
tells people things and must not know that some of them read mail. The gateway listens to
every SQLAlchemy session instead: when a statement or a flush inserts ``notifications``
rows, :func:`_enqueue` adds the matching ``mail_outbox`` rows on the same connection, in the
same transaction. Both commit together or neither does, so a mail is never lost (the
notification committed, the mail not) and never invented (the mail committed for a
notification that was rolled back). Whoever notifies — the gradebook, the JSON API, a CSV
import, a use case written next year — gets mail without knowing it.

Only people who switched mail on (``mail_preferences.enabled``) and want that kind of
notification get a row; everyone else costs one indexed lookup per notifying statement.

Announcements are mailed the same way, without a notification: a flush that adds an
``Announcement`` marks it for this transaction, and just before the commit
(:func:`_on_before_commit`, still in the transaction) everyone in its audience — the
members the core counts read receipts of, :func:`diary_core.announcements.audience.
members_query` — who wants announcements by mail gets a row. It waits for the commit
because the classes of an announcement to several classes are written in a later flush.
A parent meeting's own ``meeting`` notifications are then not mailed a second time: the
announcement's mail, which carries the whole text, replaces them.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.utils import make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import Insert

from config import Settings
from diary_core.announcements.audience import members_query
from diary_core.models import (
    Announcement,
    AnnouncementClass,
    Notification,
    School,
    SchoolClass,
    User,
)
from gateway.mail import wake
from gateway.storage.mail import MailPreference, OutboxMail

log = logging.getLogger("ediary.mail")

#: Which preference switch covers a notification kind, by the kind's first word. A kind
#: none of them names (a future one) is mailed to everyone who has mail on at all.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("marks", ("mark",)),
    ("messages", ("message",)),
    ("announcements", ("announcement", "meeting")),
    ("timetable", ("timetable",)),
)


def category_of(kind: str) -> str | None:
    """The preference switch for ``kind`` (``marks``, ``messages``, …), None for none."""
    for name, prefixes in CATEGORIES:
        if kind.startswith(prefixes):
            return name
    return None


@dataclass(frozen=True)
class OutboxConfig:
    """What enqueueing needs from the settings: the school's zone (digest hours are school
    time) and the domain of the Message-IDs (the sender's)."""

    zone: ZoneInfo
    domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxConfig:
        sender = settings.mail.sender or "diary@localhost"
        return cls(ZoneInfo(settings.server.timezone), sender.rpartition("@")[2] or "localhost")


_config: OutboxConfig | None = None
_lock = threading.Lock()


def install(settings: Settings) -> None:
    """Start writing mails beside notifications, in every session of this process.

    Called by every entry point that may notify (the app, the import commands, the mail
    worker); calling it again only refreshes the configuration."""
    global _config
    with _lock:
        first = _config is None
        _config = OutboxConfig.from_settings(settings)
        if first:
            event.listen(Session, "do_orm_execute", _on_execute)
            event.listen(Session, "after_flush", _on_flush)
            event.listen(Session, "before_commit", _on_before_commit)
            event.listen(Session, "after_commit", _on_commit)
            event.listen(Session, "after_rollback", _on_rollback)


def new_message_id(domain: str) -> str:
    """A Message-ID made once per mail and kept across every retry of it."""
    return make_msgid(idstring="ediary", domain=domain)


def next_digest(moment: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first ``hour``:00 school time strictly after ``moment`` (an aware UTC time)."""
    local = moment.astimezone(zone)
    slot = datetime.combine(local.date(), time(hour), tzinfo=zone)
    if slot <= local:
        slot = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=zone)
    return slot.astimezone(moment.tzinfo)


def wants(pref: Any, kind: str) -> bool:
    """Whether this person's preferences ask for mail about a notification of ``kind``."""
    name = category_of(kind)
    return bool(pref.enabled) and (name is None or bool(getattr(pref, name)))


def _on_execute(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)
    # An ORM ``insert(Notification)`` carries an annotated copy of the table: compare names.
    if not state.is_insert or getattr(table, "name", None) != _NOTIFICATIONS:
        return
    if _enqueue(state.session, _statement_rows(state)):
        state.session.info[_QUEUED] = True


def _on_flush(session: Session, _flush: UOWTransaction) -> None:
    announced = [obj.id for obj in session.new if isinstance(obj, Announcement)]
    if announced:
        session.info.setdefault(_ANNOUNCED, []).extend(announced)
        if any(obj.kind == MEETING_KIND for obj in session.new if isinstance(obj, Announcement)):
            session.info[_MEETING] = True
    added = [obj for obj in session.new if isinstance(obj, Notification)]
    if added and _enqueue(
        session,
        [
            {
                "user_id": n.user_id,
                "kind": n.kind,
                "text": n.text,
                "pupil_id": n.pupil_id,
                "created_at": n.created_at,
            }
            for n in added
        ],
    ):
        session.info[_QUEUED] = True


def _on_commit(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        wake.notify()


def _on_rollback(session: Session) -> None:
    for key in (_QUEUED, _ANNOUNCED, _MEETING, _DEFERRED):
        session.info.pop(key, None)


_NOTIFICATIONS = Notification.__tablename__
_QUEUED = "ediary.mail.queued"
#: The ids of the announcements added in this transaction, mailed at its commit.
_ANNOUNCED = "ediary.mail.announced"
#: Whether one of them is a parent meeting, and the ``meeting`` notification rows held back
#: meanwhile: those of people its mail reaches are dropped, the others mailed at the commit.
_MEETING = "ediary.mail.meeting"
_DEFERRED = "ediary.mail.deferred"
#: The announcement kind whose publication also notifies (``meeting``) the parents it reaches.
MEETING_KIND = "parent_meeting"


def _statement_rows(state: ORMExecuteState) -> list[Mapping[str, Any]]:
    """The notification rows an INSERT statement writes, from its parameters or VALUES."""
    params: Any = state.parameters
    if isinstance(params, Mapping) and params:
        return [params]
    if isinstance(params, Sequence) and params:
        return list(params)
    statement = state.statement
    compiled = statement.compile() if isinstance(statement, Insert) else None
    if compiled is not None and {"user_id", "kind"} <= compiled.params.keys():
        return [compiled.params]
    # A form we cannot read (multi-row VALUES, INSERT … SELECT): refuse rather than drop
    # the mails silently; the notifying code is then told at once, in its tests.
    raise RuntimeError(
        "notifications inserted in a form the mail outbox cannot read; "
        "insert them with session.execute(insert(Notification), rows)"
    )


def _enqueue(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Add the outbox rows for these notification rows; returns how many. The ``meeting``
    ones of a transaction that publishes a parent meeting wait for its commit."""
    rows = list(rows)
    if session.info.get(_MEETING):
        session.info.setdefault(_DEFERRED, []).extend(
            dict(r) for r in rows if str(r["kind"]) == "meeting"
        )
        rows = [r for r in rows if str(r["kind"]) != "meeting"]
    return _write(session.connection(), rows)


def _write(conn: Connection, rows: list[Mapping[str, Any]]) -> int:
    config = _config
    if config is None:  # pragma: no cover - listeners exist only after install()
        return 0
    prefs = _preferences(conn, {int(r["user_id"]) for r in rows})
    if not prefs:
        return 0
    out = [
        _outbox_row(config, prefs[int(r["user_id"])], r)
        for r in rows
        if int(r["user_id"]) in prefs and wants(prefs[int(r["user_id"])], str(r["kind"]))
    ]
    if out:
        conn.execute(insert(OutboxMail), out)
    return len(out)


def _preferences(conn: Connection, user_ids: set[int]) -> dict[int, Any]:
    """The opted-in among ``user_ids``, asked in slices (bulk inserts notify thousands)."""
    p, wanted = MailPreference.__table__.c, sorted(user_ids)
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), _SLICE):
        rows = conn.execute(
            select(MailPreference.__table__).where(
                p.user_id.in_(wanted[start : start + _SLICE]), p.enabled.is_(True)
            )
        )
        found.update((row.user_id, row) for row in rows if row.address)
    return found


_SLICE = 1000


def _outbox_row(config: OutboxConfig, pref: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    event_at: datetime = row["created_at"]
    digest = pref.mode == "digest"
    return {
        "user_id": pref.user_id,
        "address": pref.address,
        "kind": row["kind"],
        "text": row["text"],
        "pupil_id": row.get("pupil_id"),
        "event_at": event_at,
        "created_at": event_at,
        "status": "held" if digest else "queued",
        "due_at": next_digest(event_at, pref.digest_hour, config.zone) if digest else event_at,
        "message_id": None if digest else new_message_id(config.domain),
        "digest_id": None,
        "attempts": 0,
        "lease_owner": None,
        "lease_until": None,
        "last_error": "",
        "sent_at": None,
    }


def _on_before_commit(session: Session) -> None:
    if not session.info.get(_ANNOUNCED) and not session.info.get(_DEFERRED):
        return
    session.flush()  # the classes of an announcement to several classes, if still pending
    announced: list[int] = session.info.pop(_ANNOUNCED, [])
    deferred: list[Mapping[str, Any]] = session.info.pop(_DEFERRED, [])
    session.info.pop(_MEETING, None)
    conn = session.connection()
    queued, reached = 0, set()
    for announcement_id in announced:
        count, meeting_reached = _mail_announcement(conn, announcement_id)
        queued += count
        reached |= meeting_reached
    queued += _write(conn, [r for r in deferred if int(r["user_id"]) not in reached])
    if queued:
        session.info[_QUEUED] = True


def _mail_announcement(conn: Connection, announcement_id: int) -> tuple[int, set[int]]:
    """Queue (or hold for the digest) the mail of one announcement to everyone in its
    audience who wants announcements by mail. Returns how many rows, and — for a parent
    meeting — everyone in its audience (their ``meeting`` notifications are not mailed)."""
    config = _config
    a = Announcement.__table__.c
    row = conn.execute(select(Announcement.__table__).where(a.id == announcement_id)).first()
    if config is None or row is None:  # rolled back to a savepoint since the flush
        return 0, set()
    ac = AnnouncementClass.__table__.c
    class_ids = list(conn.scalars(select(ac.class_id).where(ac.announcement_id == announcement_id)))
    members = members_query(row.audience, row.school_id, row.class_id, row.grade, class_ids)
    meeting = row.kind == MEETING_KIND
    reached: set[int] = set(conn.scalars(members)) if meeting else set()
    p = MailPreference.__table__.c
    prefs = list(
        conn.execute(
            select(MailPreference.__table__).where(
                p.user_id.in_(select(members.subquery().c.user_id)),
                p.enabled.is_(True),
                p.announcements.is_(True),
                p.address != "",
            )
        )
    )
    if not prefs:
        return 0, reached
    source = {
        "kind": "announcement_meeting" if meeting else "announcement",
        "text": _announcement_text(conn, row, class_ids),
        "pupil_id": None,
        "created_at": row.created_at,
    }
    conn.execute(insert(OutboxMail), [_outbox_row(config, pref, source) for pref in prefs])
    return len(prefs), reached


def _announcement_text(conn: Connection, row: Any, class_ids: list[int]) -> str:
    """The mail's text: the title on the first line (the subject is made of it), the body,
    then who published it and to whom: «— Завучева Анна, Школа А, 5А»."""
    u, s, c = User.__table__.c, School.__table__.c, SchoolClass.__table__.c
    author = conn.execute(
        select(u.last_name, u.first_name, u.middle_name).where(u.id == row.created_by_id)
    ).first()
    school = conn.scalar(select(s.name).where(s.id == row.school_id)) or ""
    listed = [row.class_id] if row.class_id is not None else class_ids
    classes = list(conn.scalars(select(c.name).where(c.id.in_(listed)).order_by(c.grade, c.name)))
    scope = {
        "staff": ["сотрудникам"],
        "grade": [f"родителям {row.grade}-х классов"],
    }.get(row.audience, classes)
    by = " ".join(part for part in (author or ()) if part)
    signed = ", ".join(part for part in (by, school, *scope) if part)
    return f"{row.title}\n\n{row.body}\n\n— {signed}"


def new_unsubscribe_token() -> str:
    """An unguessable per-person token for one-click unsubscribe links (256 bits)."""
    return secrets.token_urlsafe(32)
