"""calendar feeds: private timetable subscription addresses and the revisions of their events

``calendar_feeds`` holds one row per subscription address an account was given: the SHA-256
of its token (the token itself is never stored), when it was made and when it was revoked, the
ETag of what it served last and since when (its Last-Modified); an account has at most one
live address (a partial unique index). ``calendar_event_versions``
keeps, per event UID, a fingerprint of what the event last looked like, its SEQUENCE and the
moment it last changed (its DTSTAMP), so every render of a feed agrees and a changed lesson
gets a higher SEQUENCE; ``day`` lets the rows of days no feed shows any more go.
Models: gateway/storage/calendar.py; docs/calendar.md.

Revision ID: 0012_calendar_feeds
Revises: 0011_mail
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0012_calendar_feeds"
down_revision: str | None = "0011_mail"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", diary_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", diary_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("content_etag", sa.String(length=64), nullable=True),
        sa.Column("content_changed_at", diary_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_user_id"), "calendar_feeds", ["user_id"])
    op.create_index(
        "uq_calendar_feeds_live",
        "calendar_feeds",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "calendar_event_versions",
        sa.Column("uid", sa.String(length=300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("changed_at", diary_core.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_calendar_event_versions")),
    )
    op.create_index(op.f("ix_calendar_event_versions_day"), "calendar_event_versions", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_event_versions_day"), table_name="calendar_event_versions")
    op.drop_table("calendar_event_versions")
    op.drop_index("uq_calendar_feeds_live", table_name="calendar_feeds")
    op.drop_index(op.f("ix_calendar_feeds_user_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
