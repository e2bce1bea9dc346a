"""calendar dates: an announcement's inclusive last day ends at the school's midnight

"Показывать до 17.12 (включительно)" was stored as 18.12 00:00 UTC, so in Moscow the
announcement stayed visible until 03:00 of the 18th and was shown as "до 18.12". Its
``expires_at`` is now the school's local midnight after the last day (17.12 21:00 UTC for
Moscow); see ``diary_core.announcements.end_of_day``. The old code wrote every expiry as a
UTC midnight (the class announcement form and timetable changes posted as announcements),
so a stored UTC midnight means "through the day before it": it becomes the local midnight
of the same date. Other instants are left as they are.

The school's zone comes from the ``timezone`` attribute of the Alembic config
(``gateway.storage.schema.upgrade``, given ``[server] timezone``), Europe/Moscow by default.

Revision ID: 0008_calendar_dates
Revises: 0007_lesson_history
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

import diary_core.models.base

revision: str = "0008_calendar_dates"
down_revision: str | None = "0007_lesson_history"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

announcements = sa.table(
    "announcements",
    sa.column("id", sa.Integer()),
    sa.column("expires_at", diary_core.models.base.UTCDateTime()),
)


def _zone() -> tzinfo:
    return ZoneInfo(context.config.attributes.get("timezone") or "Europe/Moscow")


def _local_midnight(day: datetime, zone: tzinfo) -> datetime:
    return datetime.combine(day.date(), time(0), tzinfo=zone).astimezone(UTC)


def _rewrite(convert: "dict[int, datetime]") -> None:
    bind = op.get_bind()
    for row_id, value in convert.items():
        bind.execute(
            announcements.update().where(announcements.c.id == row_id).values(expires_at=value)
        )


def _expiries() -> list[tuple[int, datetime]]:
    rows = op.get_bind().execute(
        sa.select(announcements.c.id, announcements.c.expires_at).where(
            announcements.c.expires_at.is_not(None)
        )
    )
    return [(r.id, r.expires_at) for r in rows]


def upgrade() -> None:
    zone = _zone()
    _rewrite(
        {
            row_id: _local_midnight(at, zone)
            for row_id, at in _expiries()
            if at.astimezone(UTC).time() == time(0)
        }
    )


def downgrade() -> None:
    zone = _zone()
    old = {}
    for row_id, at in _expiries():
        local = at.astimezone(zone)
        if local.time() == time(0):
            old[row_id] = datetime.combine(local.date(), time(0), tzinfo=UTC)
    _rewrite(old)
