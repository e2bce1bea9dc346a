"""What every use case gets: the unit of work (a session), who acts, and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.clock import Clock, SystemClock
from diary_core.policy import Action, Actor, Target, require


@dataclass
class Ctx:
    """Use cases add to ``session`` and flush; the caller commits once (all or nothing)."""

    session: AsyncSession
    actor: Actor
    clock: Clock = field(default_factory=SystemClock)

    def now(self) -> datetime:
        return self.clock.now()

    def require(self, action: Action, target: Target) -> None:
        require(self.actor, action, target)
