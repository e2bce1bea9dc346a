"""Alembic environment: runs on the connection the caller hands in (gateway.storage.schema).

The target is every table the database holds: the domain's (diary_core.models) and the
gateway's own (gateway.storage), each with its own ``MetaData``; their revision files are
one chain, read from both packages' ``versions`` folders.
"""

from alembic import context

from diary_core.models import Base
from gateway.storage import GatewayBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `ediary db upgrade` (gateway.storage.schema)")

context.configure(
    connection=connection,
    target_metadata=[Base.metadata, GatewayBase.metadata],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    compare_server_default=True,
)
with context.begin_transaction():
    context.run_migrations()
