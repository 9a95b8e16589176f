"""Helpers of the API, admin and account tests: tokens, another app, fresh reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlmodel import Session

from lifecycle.auth import create_token
from lifecycle.db import get_db
from lifecycle.models import User
from tests.conftest import bearer, build_app

TokenFor = Callable[..., dict[str, str]]


@pytest.fixture
def make_app(
    database_url: str, redis_url: str | None, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """Another app on the test's database, built with `build_app`'s options."""
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = build_app(database_url, redis_url, tmp_path, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        get_db(app).dispose()


@pytest.fixture
def token_for(db: Session) -> TokenFor:
    """`token_for(user)` → Authorization headers with a fresh token of that user."""

    def make(user: User, *, expires_at: datetime | None = None) -> dict[str, str]:
        _token, secret = create_token(
            db, user=user, name="test script", expires_at=expires_at
        )
        db.commit()
        return bearer(secret)

    return make


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app runs inside the block."""
    statements: list[str] = []

    def _record(*args: Any) -> None:
        statements.append(args[2])

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def sign_in(client: FlaskClient, user: User) -> None:
    """Start a signed-in browser session for `user` without the (slow, argon2) login.

    For tests whose subject is not signing in; tests/accounts cover the real login.
    """
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def fresh(db: Session) -> Session:
    """End the test session's transaction and forget loaded rows, to see app writes."""
    db.rollback()
    db.expire_all()
    return db


def error_of(response: Any) -> dict[str, Any]:
    """The `error` object of a JSON error response (asserting it is one)."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["message"], body
    return error
