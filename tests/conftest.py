"""Fixtures: a fresh app and database per test, on SQLite or PostgreSQL, fakeredis or Redis.

Backends come from the environment so the same suite runs everywhere:
  LIFECYCLE_TEST_DATABASE_URL  a PostgreSQL server URL; each run creates (and drops) its own database
  LIFECYCLE_TEST_REDIS_URL     a Redis server URL; each run claims a free db number and flushes it
With neither set, tests use a SQLite file per test and fakeredis. With CI=true a configured
service that cannot be reached fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlmodel import Session, SQLModel

from lifecycle import create_app
from lifecycle.auth import start_login_session
from lifecycle.config import Settings
from lifecycle.db import get_db
from lifecycle.models import User

from . import factories

CI = os.environ.get("CI", "").lower() == "true"
PG_SERVER_URL = os.environ.get("LIFECYCLE_TEST_DATABASE_URL", "")
REDIS_SERVER_URL = os.environ.get("LIFECYCLE_TEST_REDIS_URL", "")


def pytest_report_header() -> list[str]:
    return [
        f"lifecycle database: {'PostgreSQL ' + PG_SERVER_URL if PG_SERVER_URL else 'SQLite (file per test)'}",
        f"lifecycle redis: {'Redis ' + REDIS_SERVER_URL if REDIS_SERVER_URL else 'fakeredis'}",
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the ``real_redis`` fixture share Redis with worker processes: mark them
    so a run on fakeredis can deselect them (``-m "not redis_server"``)."""
    for item in items:
        if "real_redis" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis_server)


# --- database ----------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return str(sa.engine.make_url(url).set(database=name))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A PostgreSQL database of this test run (one per xdist worker), dropped at the end."""
    if not PG_SERVER_URL:
        yield None
        return
    from lifecycle.config import normalize_database_url

    server = normalize_database_url(PG_SERVER_URL)
    name = f"lifecycle_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _with_database(server, name)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    import lifecycle.models  # noqa: F401

    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(pg_url: str | None, tmp_path: Path) -> str:
    if pg_url:
        _truncate_all(pg_url)
        return pg_url
    return f"sqlite:///{tmp_path / 'test.db'}"


# --- redis -------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str | None]:
    """A Redis db number of this test run, claimed atomically so parallel runs never share."""
    if not REDIS_SERVER_URL:
        yield None
        return
    base = redis.Redis.from_url(REDIS_SERVER_URL, db=0)
    try:
        base.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"LIFECYCLE_TEST_REDIS_URL={REDIS_SERVER_URL} is not reachable: {exc}"
        )
    token = uuid.uuid4().hex
    claimed = None
    for number in range(1, 16):
        if base.set(f"lifecycle-test-claim:{number}", token, nx=True, ex=6 * 3600):
            claimed = number
            break
    if claimed is None:
        pytest.fail("no free Redis db number (1–15) for this test run")
    url = urlsplit(REDIS_SERVER_URL)._replace(path=f"/{claimed}").geturl()
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()
    if base.get(f"lifecycle-test-claim:{claimed}") == token.encode():
        base.delete(f"lifecycle-test-claim:{claimed}")


# --- app ---------------------------------------------------------------------


def make_settings(
    database_url: str, redis_url: str | None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": "test-secret-key-that-is-long-enough-1234567890",
        "database_url": database_url,
        "redis_url": redis_url,
        "embedded_worker": False,
        "smtp_host": "127.0.0.1",
        "smtp_port": 1,
        "mail_from": "lifecycle@test.example",
    }
    values.update(overrides)
    return Settings(**values)


class RequestIsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh app context, as in production.

    The `app` fixture keeps an app context pushed for convenience; Flask would reuse it for
    test-client requests, sharing `g` (the db session, the signed-in user) between requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        outer = _cv_app.get(None)
        if outer is None or outer.app is not self.application:
            return super().open(*args, **kwargs)
        outer.pop()
        try:
            return super().open(*args, **kwargs)
        finally:
            outer.push()


def build_app(
    database_url: str, redis_url: str | None, tmp_path: Path, **config: Any
) -> Flask:
    settings_overrides = config.pop("settings", {})
    app = create_app(
        make_settings(database_url, redis_url, **settings_overrides),
        INSTANCE_PATH=str(tmp_path / "instance"),
        WTF_CSRF_ENABLED=config.pop("WTF_CSRF_ENABLED", False),
        **config,
    )
    app.test_client_class = RequestIsolatedClient
    if database_url.startswith("sqlite"):
        SQLModel.metadata.create_all(get_db(app).engine)
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()
    return app


@pytest.fixture
def app(database_url: str, redis_url: str | None, tmp_path: Path) -> Iterator[Flask]:
    app = build_app(database_url, redis_url, tmp_path)
    with app.app_context():
        yield app
    get_db(app).dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking data; commit what the app must see."""
    session = get_db(app).session()
    session.info["actor_label"] = "test"
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- people and places -------------------------------------------------------


@pytest.fixture
def world(db: Session) -> factories.World:
    """A cooperative with two districts, each with a school and one user per district role."""
    return factories.make_world(db)


def login(
    client: FlaskClient,
    email: str,
    password: str = factories.PASSWORD,
    *,
    remember: bool = False,
) -> None:
    data = {"email": email, "password": password} | (
        {"remember": "1"} if remember else {}
    )
    response = client.post("/login", data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """A signed-in browser session for `user` without the (slow, argon2) login form.

    For tests whose subject is not signing in; tests/accounts cover the real login.
    The sign-in is recorded as the login records it, on the session that loaded `user`
    (committed, with whatever the test arranged on it).
    """
    db = Session.object_session(user) or get_db(client.application).session()
    start_login_session(db, user=user, remember=False)
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def fresh(db: Session) -> Session:
    """End the test session's transaction and forget loaded rows, to see app writes."""
    db.rollback()
    db.expire_all()
    return db


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def htmx(**extra: str) -> dict[str, str]:
    return {"HX-Request": "true", **extra}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
