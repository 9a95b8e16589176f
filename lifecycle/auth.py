"""Sign-in and its sessions, password hashing, roles, and API bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, flash, g, make_response, redirect, request, url_for
from flask_login import LoginManager, current_user
from sqlmodel import Session, col, delete, select, update

from lifecycle.db import get_session, set_actor
from lifecycle.enums import Role
from lifecycle.models import ApiToken, LoginSession, User, utcnow
from lifecycle.sqlfuncs import rowcount
from lifecycle.web.errors import AppError, Forbidden
from lifecycle.web.htmx import is_htmx, posted_from

F = TypeVar("F", bound=Callable[..., Any])

_hasher = PasswordHasher()
# Verifying against this keeps a failed login for an unknown e-mail as slow as a real one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "lc_"  # noqa: S105  (a public prefix, not a secret)
# How long a sign-in lasts at most, whatever its cookie says (a copied cookie does not
# expire on its own): "keep me signed in" for the remember cookie's life, otherwise a
# working day, so a browser closed on a shared lab computer leaves nothing usable.
LOGIN_LIFETIME = timedelta(days=365)
SESSION_LIFETIME = timedelta(hours=12)

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.is_active


# --- sign-ins ------------------------------------------------------------------------


def start_login_session(session: Session, *, user: User, remember: bool) -> None:
    """Record a new sign-in of `user`; `login_user(user)` then stores its key.

    The browser's cookies carry only the key; the row holds its digest.
    """
    assert user.id is not None
    now = utcnow()
    key = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            key_hash=token_digest(key),
            remember=remember,
            created_at=now,
        )
    )
    user._login_key = key


def end_login_session(session: Session, *, user: User) -> None:
    """End the sign-in this request was made with (signing out)."""
    if user._login_key is not None:
        session.execute(
            delete(LoginSession).where(
                col(LoginSession.key_hash) == token_digest(user._login_key)
            )
        )
        user._login_key = None


def end_login_sessions(session: Session, *, user: User) -> int:
    """End every sign-in of `user`, in every browser; how many there were."""
    result = session.execute(
        delete(LoginSession)
        .where(col(LoginSession.user_id) == user.id)
        .execution_options(preserve_rowcount=True)
    )
    user._login_key = None
    return rowcount(result)


def login_remembered(session: Session, *, user: User) -> bool:
    """Whether this request's sign-in was made with "keep me signed in"."""
    if user._login_key is None:
        return False
    remembered = session.exec(
        select(LoginSession.remember).where(
            col(LoginSession.key_hash) == token_digest(user._login_key)
        )
    ).first()
    return bool(remembered)


def revoke_credentials(session: Session, *, user: User) -> None:
    """Everything that signs in as `user` stops working, for good: sign-ins, API tokens
    and the calendar feed address. (For a deactivation: reactivating brings none back.)
    """
    end_login_sessions(session, user=user)
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    # A plain UPDATE: the ORM audit hook would list the digest's change.
    session.execute(
        update(User)
        .where(col(User.id) == user.id)
        .values(calendar_token_hash=None)
        .execution_options(synchronize_session="evaluate")
    )


def _live(now: datetime) -> sa.ColumnElement[bool]:
    """A sign-in still within its lifetime (see LOGIN_LIFETIME, SESSION_LIFETIME)."""
    return sa.or_(
        col(LoginSession.created_at) > now - SESSION_LIFETIME,
        sa.and_(
            col(LoginSession.remember).is_(True),
            col(LoginSession.created_at) > now - LOGIN_LIFETIME,
        ),
    )


def forget_ended_sign_ins(session: Session) -> int:
    """Delete the sign-ins past their lifetime (refused anyway): the daily sweep."""
    result = session.execute(
        delete(LoginSession)
        .where(~_live(utcnow()))
        .execution_options(preserve_rowcount=True)
    )
    return rowcount(result)


def user_for_login_key(session: Session, key: str) -> User | None:
    """The active user of a live sign-in with this key, or None."""
    if not key or len(key) > 100:
        return None
    user = session.exec(
        select(User)
        .join(LoginSession, col(LoginSession.user_id) == User.id)
        .where(
            col(LoginSession.key_hash) == token_digest(key),
            _live(utcnow()),
            col(User.is_active).is_(True),
        )
    ).first()
    if user is not None:
        user._login_key = key
    return user


class Unauthorized(AppError):
    status = 401


def get_user() -> User:
    """The signed-in user or API token owner for this request."""
    user = g.get("api_user") or current_user
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized("Please sign in.")
    return cast(User, user)


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Allow a view only to the given roles (401 if anonymous, 403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = get_user()
            if Role(user.role) not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session, *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its digest is stored."""
    secret = new_token_secret()
    assert user.id is not None
    token = ApiToken(
        user_id=user.id,
        name=name.strip() or "API token",
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=token_digest(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, secret: str) -> User | None:
    token = session.exec(
        select(ApiToken).where(col(ApiToken.token_hash) == token_digest(secret))
    ).first()
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    # Avoid a write per API call: touch last_used_at at most once a minute.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
    return user


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    view.public = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    app.config["REMEMBER_COOKIE_DURATION"] = LOGIN_LIFETIME
    login_manager.init_app(app)

    @app.before_request
    def _require_login() -> Any:
        # Pages need a session; the API authenticates its own way (bearer tokens).
        if request.endpoint is None or request.path.startswith("/api/"):
            return None
        view = app.view_functions.get(request.endpoint)
        if request.endpoint == "static" or getattr(view, "public", False):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None

    @login_manager.user_loader  # type: ignore[untyped-decorator]
    def _load(key: str) -> User | None:
        session = get_session()
        user = user_for_login_key(session, key)
        if user is not None:
            set_actor(session, user_id=user.id, label=user.email)
        return user

    @login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
    def _unauthorized() -> Any:
        if request.path.startswith("/api/"):
            raise Unauthorized("Send an API token: Authorization: Bearer <token>.")
        flash(login_manager.login_message, "info")
        target = url_for("accounts.login", next=_return_path())
        if is_htmx():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)


def _return_path() -> str:
    """Where to go after signing in: the page asked for, or for a form posted from a page
    left open (a POST cannot be replayed by a redirect) the page it was posted from."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    return posted_from("/")


def is_district_it(user: User) -> bool:
    """District IT staff are the ones who change a district's inventory and schools."""
    return Role(user.role) is Role.DISTRICT_IT


def require_district_it(user: User, what: str) -> None:
    if not is_district_it(user):
        raise Forbidden(f"Only district IT staff can change {what}.")
