"""Engine and per-request session; hooks that run after a commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from lifecycle import sqlfuncs

EXTENSION_KEY = "lifecycle.db"


class AppSession(Session):
    """The one session class: carries the acting user and post-commit callbacks."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            dbapi_conn.create_function(
                sqlfuncs.SQLITE_POWER, 2, sqlfuncs.sqlite_compounded, deterministic=True
            )

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql+psycopg:"):
        cache_long_statements()
    return sa.create_engine(url, **kwargs)


def cache_long_statements() -> None:
    """Let psycopg keep the parse of long statements with many parameters.

    psycopg converts a query's placeholders anew on every execution when it is longer
    than 4 kB or has more than 50 parameters (its `_queries` module; a guard against
    one-off ORM batches). The scan's statements are that long, are built once
    (`sqlfuncs.built_once`) and run for every district; re-parsing them cost more than
    a third of the scan's Python time. The cache stays an LRU of 128 statements.
    A psycopg without these private settings is left as it is (slower, still right).
    """
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - another psycopg layout
        return
    for name, at_least in (
        ("MAX_CACHED_STATEMENT_LENGTH", 64 * 1024),
        ("MAX_CACHED_STATEMENT_PARAMS", 500),
    ):
        if isinstance(getattr(_queries, name, None), int):
            setattr(_queries, name, max(getattr(_queries, name), at_least))


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.factory = sessionmaker(
            bind=self.engine, class_=AppSession, expire_on_commit=False
        )

    def session(self) -> AppSession:
        return self.factory()

    @contextmanager
    def scope(
        self, *, actor_id: int | None = None, actor_label: str = ""
    ) -> Iterator[AppSession]:
        """A session for work outside a request (jobs, CLI); commits on success."""
        session = self.session()
        session.info["actor_id"] = actor_id
        session.info["actor_label"] = actor_label
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask, url: str) -> Database:
    database = Database(url)
    app.extensions[EXTENSION_KEY] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: AppSession | None = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def get_db(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions[EXTENSION_KEY]
    return db


def get_session() -> AppSession:
    """The request's session; a handler commits it once."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    session: AppSession = g.db_session
    return session


def set_actor(session: Session, *, user_id: int | None, label: str) -> None:
    """Who the audit trail names for what this session writes."""
    session.info["actor_id"] = user_id
    session.info["actor_label"] = label


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run callback once the session's current transaction has committed."""
    session.info.setdefault("after_commit", []).append(callback)


# Bookkeeping columns that change without anyone editing the record.
UNVERSIONED = frozenset({"updated_at", "last_login_at", "version"})


@event.listens_for(AppSession, "before_flush")
def _bump_versions(session: Session, _ctx: Any, _instances: Any) -> None:
    """Every edit of a versioned record moves its version on (optimistic locking)."""
    from sqlalchemy import inspect

    from lifecycle.models.base import Versioned

    for obj in session.dirty:
        if not isinstance(obj, Versioned):
            continue
        state = inspect(obj)
        if state.attrs["version"].history.has_changes():
            continue
        edited = any(
            attr.history.has_changes()
            for attr in state.attrs
            if attr.key not in UNVERSIONED
        )
        if edited:
            obj.version += 1


@event.listens_for(AppSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(AppSession, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop("after_commit", None)
