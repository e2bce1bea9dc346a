"""lesson history: every change of a lesson's topic or homework, with who and when

Marks have their history in ``change_log``; a lesson's topic and homework had only the
lesson's own ``updated_at``/``updated_by_id``, so an earlier text and its author were lost
on the next save (docs/regulation.md, clause 1.4: every record carries who changed it and when). One
row per change, old and new text of both fields. Model:
diary_core/models/lesson_history.py (``LessonHistoryEntry``); written by
diary_core/lessons.py.

Revision ID: 0007_lesson_history
Revises: 0006_audit_truncate
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0007_lesson_history"
down_revision: str | None = "0006_audit_truncate"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lesson_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("old_topic", sa.Text(), nullable=False),
        sa.Column("new_topic", sa.Text(), nullable=False),
        sa.Column("old_homework", sa.Text(), nullable=False),
        sa.Column("new_homework", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", diary_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_lesson_history_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_history_lesson_id_lessons")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_lesson_history_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_history")),
    )
    op.create_index("ix_lesson_history_lesson", "lesson_history", ["lesson_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_lesson_history_lesson", table_name="lesson_history")
    op.drop_table("lesson_history")
