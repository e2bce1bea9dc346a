"""The gateway's declarative base: its own ``MetaData``, apart from the domain's.

The gateway's tables follow the domain's naming convention and column types (UTC datetimes,
64-bit keys). A foreign key to a domain table names that table's column object
(``ForeignKey(User.__table__.c.id)``), not a string: SQLAlchemy resolves a string only within
one ``MetaData``, a column object across them.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from diary_core.models.base import NAMING


class GatewayBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
