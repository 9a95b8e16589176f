"""Helpers of the API, admin and account tests: tokens, another app, fresh reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from lifecycle.auth import create_token
from lifecycle.db import get_db
from lifecycle.models import User
from tests.conftest import bearer, build_app, fresh, sign_in  # noqa: F401  (shared by tests/*)
from tests.querycount import count_queries  # noqa: F401

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


def error_of(response: Any) -> dict[str, Any]:
    """The `error` object of a JSON error response (asserting it is one)."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["message"], body
    return error
