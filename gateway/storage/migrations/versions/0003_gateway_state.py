"""gateway state: browser sessions, ESIA login transactions, sign-in events

The gateway is stateless between requests: whatever it must remember lives here, so any
number of instances serve one district (docs/architecture.md, Storage). Models:
gateway/storage/sessions.py and gateway/storage/signin.py.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

UTC = diary_core.models.base.UTCDateTime
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("acting_role", sa.String(20), nullable=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("last_seen_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "login_transactions",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("protocol", sa.String(4), nullable=False),
        sa.Column("next_path", sa.String(500), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("used_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_login_transactions")),
    )
    op.create_index(op.f("ix_login_transactions_expires_at"), "login_transactions", ["expires_at"])
    op.create_table(
        "sign_in_events",
        sa.Column("id", BIG, nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sign_in_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_events")),
    )
    op.create_index("ix_sign_in_events_login_at", "sign_in_events", ["login", "at"])
    op.create_index("ix_sign_in_events_ip_at", "sign_in_events", ["ip", "at"])
    op.create_index("ix_sign_in_events_at", "sign_in_events", ["at"])
    op.create_index("ix_sign_in_events_user", "sign_in_events", ["user_id", "at"])


def downgrade() -> None:
    op.drop_table("sign_in_events")
    op.drop_table("login_transactions")
    op.drop_table("web_sessions")
