"""Configuration from the environment.

With nothing set, Lifecycle runs on the embedded default: a SQLite file in the
instance folder and an in-process job worker on fakeredis.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105
ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and at most {high}"
        raise ConfigError(f"{name} must be at least {low}{upper}, got {value}")
    return value


@dataclass
class Settings:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str | None = None
    redis_url: str | None = None
    embedded_worker: bool = True
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # With a directory, mail is written there as .eml files instead of sent over SMTP
    # (the demo, when no SMTP server is configured).
    mail_dir: str | None = None
    mail_from: str = "lifecycle@localhost"
    base_url: str = "http://127.0.0.1:5000"
    login_rate_limit: str = "10 per minute;50 per hour"
    page_size: int = 50
    trusted_proxies: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get("LIFECYCLE_ENV", "development").strip().lower()
        if env not in ENVIRONMENTS:
            raise ConfigError(
                f"LIFECYCLE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}"
            )
        redis_url = os.environ.get("REDIS_URL") or None
        return cls(
            env=env,
            secret_key=os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
            database_url=os.environ.get("DATABASE_URL") or None,
            redis_url=redis_url,
            embedded_worker=_bool(
                os.environ.get("LIFECYCLE_EMBEDDED_WORKER"), redis_url is None
            ),
            smtp_host=os.environ.get("LIFECYCLE_SMTP_HOST", "localhost"),
            smtp_port=_int("LIFECYCLE_SMTP_PORT", 1025, low=1, high=65535),
            smtp_user=os.environ.get("LIFECYCLE_SMTP_USER") or None,
            smtp_password=os.environ.get("LIFECYCLE_SMTP_PASSWORD") or None,
            smtp_starttls=_bool(os.environ.get("LIFECYCLE_SMTP_STARTTLS"), False),
            mail_dir=os.environ.get("LIFECYCLE_MAIL_DIR") or None,
            mail_from=os.environ.get("LIFECYCLE_MAIL_FROM", "lifecycle@localhost"),
            base_url=os.environ.get("LIFECYCLE_BASE_URL", "http://127.0.0.1:5000"),
            login_rate_limit=os.environ.get(
                "LIFECYCLE_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"
            ),
            page_size=_int("LIFECYCLE_PAGE_SIZE", 50, low=1, high=500),
            trusted_proxies=_int("LIFECYCLE_TRUSTED_PROXIES", 0),
        )

    def check(self) -> None:
        """Refuse configurations that are unsafe outside development and tests."""
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is not set: refusing to start in production with the "
                "built-in development secret. Set SECRET_KEY to a long random value."
            )
        if self.env == "production" and len(self.secret_key) < 32:
            raise ConfigError(
                "SECRET_KEY must be at least 32 characters in production."
            )

    def sqlalchemy_url(self, instance_path: str) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(instance_path) / 'lifecycle.db'}"

    def flask_config(self) -> dict[str, Any]:
        production = self.env == "production"
        return {
            "SECRET_KEY": self.secret_key,
            "TESTING": self.env == "test",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": production,
            "PREFERRED_URL_SCHEME": "https" if production else "http",
            "WTF_CSRF_TIME_LIMIT": None,
            "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        }


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres URLs (as Heroku-style providers hand out)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
