"""What every write of a pupil's journal entries (a mark, attendance, a period mark) shares:
the pupil it names, checked for the actor; the pupil's write lock; who and when it records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select, update

from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import Pupil, Subject
from diary_core.policy import Action, PupilTarget

_PUPIL_LOCKS = "diary_core.journal_writes.pupil_locks"  # session.info: (transaction, ids locked)


async def lock_pupils(ctx: Ctx, pupil_ids: Iterable[int], *, class_id: int | None = None) -> None:
    """Serialise writers of these pupils' journal entries until the caller's transaction ends,
    so that what a writer checks (a cell as his page showed it, a mark's version) is still
    true when he writes. A lock on the pupil covers entries that do not exist yet (an empty
    cell has no row to lock).

    PostgreSQL: ``SELECT … FOR UPDATE`` on the pupils' rows, in id order, so that two writers
    of several pupils never deadlock; reads after it see what the previous holder committed.
    SQLite: a no-op write takes the database's one write lock before anything is read (its
    reads before a transaction's first write run outside it). With ``class_id``, only the
    pupils of that class are locked (the ids may come from a form).

    Every journal write (a mark, attendance, a period mark) takes its pupil's lock; a pupil
    already locked in the transaction is not locked again."""
    held: tuple[object, set[int]] | None = ctx.session.info.get(_PUPIL_LOCKS)
    transaction = ctx.session.sync_session.get_transaction()
    if held is None or held[0] is not transaction:
        held = (transaction, set())
    ids = sorted(set(pupil_ids) - held[1])
    if not ids:
        return
    which: list[ColumnElement[bool]] = [Pupil.id.in_(ids)]
    if class_id is not None:
        which.append(Pupil.class_id == class_id)
    if ctx.session.get_bind().dialect.name == "postgresql":
        ids = list(
            await ctx.session.scalars(
                select(Pupil.id).where(*which).order_by(Pupil.id).with_for_update()
            )
        )
    else:  # the database's write lock: every pupil is held
        await ctx.session.execute(
            update(Pupil)
            .where(*which)
            .values(class_id=Pupil.class_id)
            .execution_options(synchronize_session=False)
        )
    if held[0] is None:  # the lock's statement began the transaction
        held = (ctx.session.sync_session.get_transaction(), held[1])
    held[1].update(ids)
    ctx.session.info[_PUPIL_LOCKS] = held


async def pupil(ctx: Ctx, pupil_id: int) -> Pupil:
    found = await ctx.session.get(Pupil, pupil_id)
    if found is None:
        raise NotFound("обучающийся не найден")
    return found


async def pupil_to_write(ctx: Ctx, pupil_id: int) -> Pupil:
    """The pupil a write names, if the actor may know of him: another family's (another
    class's) pupil is "not found", like a missing one, not "forbidden, but he exists".
    Whoever may write a pupil's marks reads them, so this refuses no writer."""
    found = await pupil(ctx, pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(found.school_id, found.class_id, found.id))
    return found


async def subject_of_school(ctx: Ctx, subject_id: int, school_id: int) -> Subject:
    subject = await ctx.session.get(Subject, subject_id)
    if subject is None or subject.school_id != school_id:
        raise NotFound("предмет не найден")
    return subject


def actor_id(ctx: Ctx) -> int | None:
    """The user to record as author; the operator's command line is recorded as nobody."""
    return None if ctx.actor.system else ctx.actor.user_id


def stamps(ctx: Ctx) -> dict[str, Any]:
    """Who and when, for a new row (every write records both: docs/architecture.md)."""
    now, who = ctx.now(), actor_id(ctx)
    return {"created_at": now, "updated_at": now, "created_by_id": who, "updated_by_id": who}
