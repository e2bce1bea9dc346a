"""timetable drafts: a correction is a draft beside the published timetable of its date

Editing a published timetable used to turn it back into a draft, so families saw no lessons
at all until it was published again. Now a published timetable is never edited in place: a
correction is a draft from its own date, and from one date a class may have one published
timetable and one draft. The unique (class, date) becomes two partial unique indexes, one
over published timetables and one over drafts. Model: diary_core/models/timetable.py;
logic: diary_core/timetable.py.

Revision ID: 0009_timetable_drafts
Revises: 0008_calendar_dates
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_timetable_drafts"
down_revision: str | None = "0008_calendar_dates"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

PUBLISHED = sa.text("published_at IS NOT NULL")
DRAFT = sa.text("published_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("timetables") as batch:
        batch.drop_constraint("uq_timetables_class_id_valid_from", type_="unique")
    for name, where in (("uq_timetables_published", PUBLISHED), ("uq_timetables_draft", DRAFT)):
        op.create_index(
            name,
            "timetables",
            ["class_id", "valid_from"],
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    # A draft beside a published timetable of the same date cannot survive the old rule:
    # the draft (work not yet shown to anyone) goes.
    op.execute(
        "DELETE FROM timetable_slots WHERE timetable_id IN (SELECT d.id FROM timetables d "
        "JOIN timetables p ON p.class_id = d.class_id AND p.valid_from = d.valid_from "
        "WHERE d.published_at IS NULL AND p.published_at IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM timetables WHERE published_at IS NULL AND EXISTS (SELECT 1 FROM "
        "timetables p WHERE p.class_id = timetables.class_id "
        "AND p.valid_from = timetables.valid_from AND p.published_at IS NOT NULL)"
    )
    op.drop_index("uq_timetables_draft", table_name="timetables")
    op.drop_index("uq_timetables_published", table_name="timetables")
    with op.batch_alter_table("timetables") as batch:
        batch.create_unique_constraint(
            "uq_timetables_class_id_valid_from", ["class_id", "valid_from"]
        )
