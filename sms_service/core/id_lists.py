"""`column IN <a list of ids or texts>` as one bound parameter: the same SQL text for any list.

An expanding IN renders one placeholder per id: every batch size is new SQL text to SQLAlchemy
and to psycopg (which then parses and converts the statement again; a fifth of the
dispatcher's database CPU on PostgreSQL). Here the list is one parameter: an integer array
on PostgreSQL (`id = ANY(:ids)`, an index lookup per element) and a JSON array on SQLite
(`id IN (SELECT value FROM json_each(:ids))`, rowid lookups).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, TypeDecorator, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeEngine

# The kinds of value a list holds.
_Item = type[Integer] | type[String]


class _ValueList(TypeDecorator[list[Any]]):
    """A list of `item`s (ints or texts): an ARRAY on PostgreSQL, JSON text elsewhere."""

    impl = String
    cache_ok = True

    def __init__(self, item: _Item) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(self.item))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value)


class InIds(ColumnElement[bool]):
    """`column` is one of the ids bound to the parameter `name` (see the module docstring)."""

    inherit_cache = True
    # Not Boolean: SQLite would render "<this> = 1", which no index serves.
    type = NullType()  # type: ignore[assignment]

    def __init__(
        self,
        column: ColumnElement[Any],
        name: str,
        values: list[Any] | None,
        item: _Item,
    ) -> None:
        self.column = column
        self.ids = bindparam(name, values, type_=_ValueList(item))

    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it from the class)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]


def in_ids(column: ColumnElement[int], name: str, ids: list[int] | None = None) -> InIds:
    """`column IN (:name)`, `:name` a list of ints given at execution (or `ids`)."""
    return InIds(column, name, ids, Integer)


def in_texts(column: ColumnElement[str], name: str, texts: list[str] | None = None) -> InIds:
    """`column IN (:name)`, `:name` a list of texts given at execution (or `texts`)."""
    return InIds(column, name, texts, String)


@compiles(InIds)
def _default(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.ids, **kw)}))"


@compiles(InIds, "postgresql")
def _postgresql(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY({compiler.process(element.ids, **kw)})"
