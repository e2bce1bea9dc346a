"""mail: e-mail notification preferences and the transactional outbox of mails

``mail_preferences`` holds each person's opt-in (address, which notifications, instant or a
daily digest at an hour, the one-click unsubscribe token). ``mail_outbox`` holds the mails:
written in the transaction that writes their notification, sent later by the mail worker.
Models: gateway/storage/mail.py.

Revision ID: 0011_mail
Revises: 0010_announcement_audiences
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0011_mail"
down_revision: str | None = "0010_announcement_audiences"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

UTC = diary_core.models.base.UTCDateTime
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mail_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("marks", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.Boolean(), nullable=False),
        sa.Column("announcements", sa.Boolean(), nullable=False),
        sa.Column("timetable", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_preferences")),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_mail_preferences_unsubscribe_token")
        ),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("event_at", UTC(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", UTC(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("digest_id", BIG_ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_outbox_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_mail_outbox_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["mail_outbox.id"], name=op.f("fk_mail_outbox_digest_id_mail_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "due_at"])
    op.create_index("ix_mail_outbox_user", "mail_outbox", ["user_id", "status"])
    op.create_index("ix_mail_outbox_digest", "mail_outbox", ["digest_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_digest", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_user", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("mail_preferences")
