"""progress reads: a covering index for a pupil's marks; signed documents compressed with lz4

PostgreSQL only (SQLite has neither INCLUDE nor a choice of compression: nothing changes
there):

- ``ix_marks_pupil_date`` becomes ``(pupil_id, date) INCLUDE (id, subject_id, work_type_id,
  weight, value, numeric, counts)``: every column the progress documents read of a mark
  (:func:`diary_core.progress._parts`), so a pupil's marks are an index-only scan, a few
  index pages instead of one heap page per mark (a pupil's marks are written over the year
  among everyone's). Index-only scans need the table's visibility map, which (auto)vacuum
  keeps. The new index is built before the old one is dropped, so reads keep an index;
  writes to marks wait while it is built (about 1.5 s for a million marks).
- ``portal_documents.body`` is compressed with lz4 where the server has it (PostgreSQL 14 and
  newer, built with lz4): storing a signed document costs about half the CPU of pglz. Only
  newly stored documents are affected; either method is read back alike. A server without
  lz4 keeps the default.

``portal_documents`` is the gateway's table (gateway/storage/portal.py), ``marks`` the
domain's: this revision touches both, so it stays in the domain's folder.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

MARK_FIELDS = ["id", "subject_id", "work_type_id", "weight", "value", "numeric", "counts"]


def _set_body_compression(method: str) -> None:
    """``SET COMPRESSION`` (PostgreSQL 14+) as dynamic SQL, so that an older server neither
    parses nor runs it; a server built without lz4 refuses lz4 (feature_not_supported) and
    the column keeps the server's default. ``default`` is the column's setting before 0004."""
    op.execute(
        f"""
        DO $$
        BEGIN
            IF current_setting('server_version_num')::int >= 140000 THEN
                EXECUTE 'ALTER TABLE portal_documents ALTER COLUMN body SET COMPRESSION {method}';
            END IF;
        EXCEPTION WHEN feature_not_supported THEN
            NULL;
        END
        $$
        """
    )


def _replace_marks_index(include: list[str]) -> None:
    """``ix_marks_pupil_date`` on (pupil_id, date) with ``include``: the new index is built
    under another name, then takes the old one's place."""
    op.create_index(
        "ix_marks_pupil_date_new", "marks", ["pupil_id", "date"], postgresql_include=include
    )
    op.drop_index("ix_marks_pupil_date", table_name="marks")
    op.execute("ALTER INDEX ix_marks_pupil_date_new RENAME TO ix_marks_pupil_date")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace_marks_index(MARK_FIELDS)
    _set_body_compression("lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_body_compression("default")
    _replace_marks_index([])
