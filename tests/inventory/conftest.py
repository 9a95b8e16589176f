"""Inventory pages are tested as production serves them: each request in its own app
context and session (no app context held around the test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lifecycle.db import get_db
from tests.api.conftest import token_for  # noqa: F401  (a fixture the API tests use)
from tests.conftest import build_app, sign_in
from tests.factories import World


@pytest.fixture
def app(database_url: str, redis_url: str | None, tmp_path: Path) -> Iterator[Flask]:
    app = build_app(database_url, redis_url, tmp_path)
    yield app
    get_db(app).dispose()


@pytest.fixture
def it(client: FlaskClient, world: World) -> FlaskClient:
    """A client signed in as district A's IT director."""
    return sign_in(client, world.a.it)
