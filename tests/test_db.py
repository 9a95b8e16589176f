"""Engine set-up."""

from __future__ import annotations

from psycopg import _queries as queries

from lifecycle.db import cache_long_statements, make_engine


def test_psycopg_keeps_the_parse_of_the_scans_long_statements(monkeypatch):
    monkeypatch.setattr(queries, "MAX_CACHED_STATEMENT_LENGTH", 4096)
    monkeypatch.setattr(queries, "MAX_CACHED_STATEMENT_PARAMS", 50)
    make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # connects lazily
    assert queries.MAX_CACHED_STATEMENT_LENGTH >= 64 * 1024
    assert queries.MAX_CACHED_STATEMENT_PARAMS >= 500
    cache_long_statements()  # again: never lowers them
    assert queries.MAX_CACHED_STATEMENT_LENGTH >= 64 * 1024
