"""Count the SQL statements an app runs: for query-count tests of list pages (STYLE.md).

    with count_queries(app) as queries:
        client.get("/devices")
    assert len(queries) == expected, queries.report()

Statements are counted on the app's engine with SQLAlchemy's `before_cursor_execute`
event, so lazy loads, counts and option lookups all show up. The list page of 3 rows and
of 60 rows must cost the same number of statements: a loop that queries per row fails.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask

from lifecycle.db import get_db

# Statements of the transaction machinery, not of the page (SQLite's SAVEPOINTs, the
# PRAGMAs a new connection runs).
NOISE = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|PRAGMA)\b", re.IGNORECASE)


class Queries(list[str]):
    """The statements run inside the block, in order."""

    def report(self) -> str:
        lines = [f"{len(self)} statements:"]
        lines += [f"  {i}. {' '.join(s.split())[:200]}" for i, s in enumerate(self, 1)]
        return "\n".join(lines)

    def matching(self, pattern: str) -> list[str]:
        """The statements whose text matches `pattern` (a case-insensitive regex)."""
        found = re.compile(pattern, re.IGNORECASE)
        return [s for s in self if found.search(s)]


@contextmanager
def count_queries(
    app: Flask | sa.Engine, *, this_thread_only: bool = False
) -> Iterator[Queries]:
    """Collect the statements run on the app's engine while the block runs.

    With `this_thread_only`, statements of other threads (a live server, a job worker)
    are left out.
    """
    engine = app if isinstance(app, sa.Engine) else get_db(app).engine
    queries = Queries()
    thread = threading.get_ident()

    def listener(
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if this_thread_only and threading.get_ident() != thread:
            return
        if not NOISE.match(statement):
            queries.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield queries
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
