"""The conversations of a generated school: the demo parent's answered thread with the demo
teacher, a thread left unanswered past the reply deadline (overdue), a fresh one, an answered
one to an English teacher, a question to the administration, and the class teacher's own
message, each from a script of :mod:`diary_core.demo.names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from random import Random
from typing import TYPE_CHECKING

from diary_core.demo import names
from diary_core.demo.bulk import Writer
from diary_core.demo.calendar import days_before
from diary_core.demo.structure import Built
from diary_core.models import Conversation, ConversationParticipant, Message

if TYPE_CHECKING:
    from diary_core.demo.life import Cast


@dataclass(frozen=True)
class _Said:
    author: int
    at: datetime
    text: str


def _read_by(user: int, said: list[_Said]) -> datetime | None:
    """Everyone has read up to his own last message; an unanswered message stays unread."""
    own = [m.at for m in said if m.author == user]
    return max(own) if own else None


class Conversations:
    """Writes one school's conversations up to ``asof`` (the caller commits), counting its
    messages in ``counts``."""

    def __init__(
        self, w: Writer, b: Built, rng: Random, asof: datetime, cast: Cast, counts: dict[str, int]
    ) -> None:
        self.w, self.b, self.rng, self.asof, self.cast = w, b, rng, asof, cast
        self.plan = b.plan
        self.counts = counts

    def _pick_pupil(self, classes: list[int], avoid: set[int]) -> int | None:
        pool = [
            p
            for ci in classes
            for p in self.plan.classes[ci].pupils
            if p not in avoid and self.b.parents_of.get(p)
        ]
        return self.rng.choice(pool) if pool else None

    async def write(self) -> None:
        """The demo parent's answered thread with the demo teacher; a thread to that teacher
        left unanswered for ten days (overdue); a fresh one to the class teacher; an answered
        one to an English teacher; a question to the administration; and the class teacher's
        own message to the demo parent."""
        b, cast = self.b, self.cast
        teacher = b.teacher_ids[cast.teacher]
        taught = [
            ci
            for ci, cs in enumerate(self.plan.courses)
            if any(c.teacher == cast.teacher for c in cs)
        ]
        primary = [ci for ci, c in enumerate(self.plan.classes) if 2 <= c.grade <= 4]
        avoid = set(self.plan.families[self.plan.pupils[cast.child].family].pupils)
        await self._thread("answered", cast.child, cast.parent, teacher)
        await self._thread("trip", cast.child, cast.parent, b.class_teacher_ids[cast.focus_class])
        if (p := self._pick_pupil(taught, avoid)) is not None:
            await self._thread("overdue", p, b.parents_of[p][0], teacher)
            avoid.add(p)
        if (p := self._pick_pupil([cast.focus_class], avoid)) is not None:
            await self._thread(
                "fresh", p, b.parents_of[p][0], b.class_teacher_ids[cast.focus_class]
            )
            avoid.add(p)
        if (p := self._pick_pupil(primary, avoid)) is not None:
            ci = self.plan.pupils[p].class_index
            english = b.teacher_ids[self.plan.teacher_of(ci, names.ENGLISH)]
            await self._thread("homework", p, b.parents_of[p][0], english)
            avoid.add(p)
        if (p := self._pick_pupil(list(range(len(self.plan.classes))), avoid)) is not None:
            await self._thread("admin", p, b.parents_of[p][0], b.deputy_id, kind="admin_question")

    def _messages(self, key: str, pupil: int, parent: int, staff: int) -> list[_Said]:
        child = self.plan.pupils[pupil].person.first_name
        said = []
        for who, days, hhmm, text in names.THREADS[key][1]:
            hour, minute = (int(x) for x in hhmm.split(":"))
            author = parent if who == "parent" else staff
            said.append(
                _Said(
                    author,
                    days_before(self.asof, days, time(hour, minute)),
                    text.format(child=child),
                )
            )
        return said

    async def _thread(
        self, key: str, pupil: int, parent: int, staff: int, *, kind: str = "direct"
    ) -> None:
        """A conversation from a script: awaiting a reply from the first parent's message
        after the last staff message (a staff answer clears it)."""
        b = self.b
        said = self._messages(key, pupil, parent, staff)
        awaiting: datetime | None = None
        for m in said:
            awaiting = (awaiting or m.at) if m.author == parent else None
        cid = (await self.w.take(Conversation, 1))[0]
        conversation = {
            "id": cid,
            "school_id": b.school_id,
            "topic": names.THREADS[key][0],
            "kind": kind,
            "pupil_id": b.pupil_ids[pupil],
            "created_by_id": said[0].author,
            "created_at": said[0].at,
            "last_message_at": said[-1].at,
            "awaiting_reply_since": awaiting,
        }
        await self.w.insert(Conversation, [conversation])
        members = [parent, *([staff] if kind == "direct" else [b.deputy_id, b.director_id])]
        await self.w.insert(
            ConversationParticipant,
            [
                {"conversation_id": cid, "user_id": u, "last_read_at": _read_by(u, said)}
                for u in members
            ],
        )
        await self.w.insert(
            Message,
            [
                {"conversation_id": cid, "author_id": m.author, "body": m.text, "created_at": m.at}
                for m in said
            ],
        )
        self.counts["messages"] += len(said)
