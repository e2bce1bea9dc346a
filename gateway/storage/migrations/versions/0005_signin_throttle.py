"""sign-in throttle counters: one row per throttled key, reserved atomically before a check

A password check first takes a slot in its login's and its address's counter with one
statement each (``INSERT ... ON CONFLICT DO UPDATE ... WHERE count < limit RETURNING``), so
a burst of concurrent attempts cannot all pass a count read before any of them is recorded.
``sign_in_events`` stays the login history. Model: gateway/storage/signin.py
(``SignInCounter``); logic: gateway/throttle.py.

Revision ID: 0005_signin_throttle
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0005_signin_throttle"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_counters",
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("window_start", diary_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_counters")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_counters")
