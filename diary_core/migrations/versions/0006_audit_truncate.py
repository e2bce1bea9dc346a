"""audit log: TRUNCATE refused too (PostgreSQL)

0001 refuses UPDATE and DELETE on ``audit_events`` with a row-level trigger, but TRUNCATE
fires no row triggers, so one statement could still empty the log. A statement-level
``BEFORE TRUNCATE`` trigger refuses it as well, including a ``TRUNCATE ... CASCADE`` from a
table the log references (users, pupils, schools): PostgreSQL fires the truncate triggers of
every table a cascade reaches. SQLite has no TRUNCATE (its ``DELETE FROM`` without a WHERE is
already refused by 0001's triggers): nothing changes there.

Emptying the log deliberately (a test database between tests) is an operator's act: as a
superuser, ``SET LOCAL session_replication_role = replica`` for that transaction, which
skips ordinary triggers.

Revision ID: 0006_audit_truncate
Revises: 0005_signin_throttle
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_audit_truncate"
down_revision: str | None = "0005_signin_throttle"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TRIGGER = "audit_events_no_truncate"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # ediary_append_only() (0001) raises 'append-only table <name>' whatever the event.
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION ediary_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON audit_events")
