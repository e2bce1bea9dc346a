"""What every use case gets: the unit of work (a session), who acts, and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.clock import Clock, SystemClock
from diary_core.policy import Action, Actor, Target, require


@dataclass
class Ctx:
    """Use cases add to ``session`` and flush; the caller commits once (all or nothing)."""

    session: AsyncSession
    actor: Actor
    clock: Clock = field(default_factory=SystemClock)
    #: The school's zone (``[server] timezone``): calendar dates are the school's dates.
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """Today's date at the school."""
        return self.clock.now().astimezone(self.zone).date()

    def require(self, action: Action, target: Target) -> None:
        require(self.actor, action, target)
