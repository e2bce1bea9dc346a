"""announcement audiences: the whole school, staff only, the parents of a grade, several classes

An announcement used to reach either a whole school (``class_id`` NULL: its staff, pupils and
parents) or one class. The administration can now also address the school's staff only, the
parents of one grade (all 5th classes) or several classes at once. ``audience`` names which
(``school`` | ``staff`` | ``grade`` | ``class`` | ``classes``); ``grade`` holds the grade of a
``grade`` announcement; ``announcement_classes`` the classes of a ``classes`` one.
``edited_at`` records the last correction of an announcement's text or dates. Existing rows
keep their meaning: with a class they become ``class``, without one ``school``. The rule of
who is in each audience lives in diary_core/announcements.py.

Revision ID: 0010_announcement_audiences
Revises: 0009_timetable_drafts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import diary_core.models.base

revision: str = "0010_announcement_audiences"
down_revision: str | None = "0009_timetable_drafts"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(length=10), nullable=False, server_default="school")
        )
        batch.add_column(sa.Column("grade", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("edited_at", diary_core.models.base.UTCDateTime(), nullable=True)
        )
    op.execute("UPDATE announcements SET audience = 'class' WHERE class_id IS NOT NULL")
    op.create_table(
        "announcement_classes",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_classes_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_announcement_classes_class_id_classes")
        ),
        sa.PrimaryKeyConstraint(
            "announcement_id", "class_id", name=op.f("pk_announcement_classes")
        ),
    )
    op.create_index(op.f("ix_announcement_classes_class_id"), "announcement_classes", ["class_id"])


def downgrade() -> None:
    # The new audiences cannot be expressed in the old schema: an announcement to staff only,
    # to a grade or to several classes would reach the whole school. They go, receipts with them.
    op.execute("DELETE FROM announcements WHERE audience IN ('staff', 'grade', 'classes')")
    op.drop_index(op.f("ix_announcement_classes_class_id"), table_name="announcement_classes")
    op.drop_table("announcement_classes")
    with op.batch_alter_table("announcements") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("grade")
        batch.drop_column("audience")
