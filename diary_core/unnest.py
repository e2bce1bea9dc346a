"""Many rows in one statement with one parameter per column (PostgreSQL's ``unnest``): a
group of writes sent as a single INSERT … SELECT, whatever the number of rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine


def unnest(columns: dict[str, TypeEngine[Any]], ordinality: str = "n") -> TableValuedAlias:
    """Rows sent as one array parameter per column (PostgreSQL's ``unnest``): the parameters
    and the columns are named by ``columns``' keys, each an array of its type; the column
    ``ordinality`` numbers the rows from 1 in the order they were sent."""
    arrays = [bindparam(name, type_=ARRAY(type_)) for name, type_ in columns.items()]
    rows = func.unnest(*arrays).table_valued(*columns, with_ordinality=ordinality)
    return rows.render_derived(name="rows")  # AS rows(a, b, …, n): the columns by name
