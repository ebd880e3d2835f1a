"""Text statements with named parameters, run on a plain asyncpg connection.

A statement is written once, as SQLAlchemy ``text()`` with ``:name`` parameters (the form
the rest of a repository reads), and compiled once, at import, by SQLAlchemy's own asyncpg
dialect into the ``$1, $2...`` form asyncpg prepares. Hot write paths then skip the ORM
session's per-statement work (its greenlet hop, its connection bookkeeping, the result
wrapping): asyncpg caches the prepared statement per connection.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class PlainStatement:
    """``sql`` with positional parameters, and the names they stand for, in order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: TextClause) -> "PlainStatement":
        compiled = statement.compile(dialect=_DIALECT)
        return cls(compiled.string, tuple(compiled.positiontup or ()))

    def arguments(self, values: Mapping[str, object]) -> list[object]:
        """``values`` in the statement's order (a missing name raises ``KeyError``)."""
        return [values[name] for name in self.names]
