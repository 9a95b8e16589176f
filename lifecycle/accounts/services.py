"""Sign-in and out, passwords and personal API tokens."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.accounts.passwords import password_problem
from lifecycle.auth import (
    create_token,
    end_login_session,
    end_login_sessions,
    hash_password,
    start_login_session,
    verify_password,
)
from lifecycle.db import set_actor
from lifecycle.models import ApiToken, User, utcnow
from lifecycle.web.errors import NotFound, ValidationFailed


def authenticate(
    session: Session, *, email: str, password: str, remember: bool = False
) -> User | None:
    """The user whose e-mail and password these are, signed in; None if they don't match."""
    user = session.exec(
        select(User).where(col(User.email) == email.strip().lower())
    ).first()
    if not verify_password(user, password):
        return None
    assert user is not None
    user.last_login_at = utcnow()
    set_actor(session, user_id=user.id, label=user.email)
    start_login_session(session, user=user, remember=remember)
    _audit(session, user, "sign_in")
    return user


def sign_out(session: Session, *, user: User) -> None:
    """End this browser's sign-in: its cookies, and every copy of them, stop working."""
    end_login_session(session, user=user)
    _audit(session, user, "sign_out")


def sign_out_everywhere(session: Session, *, user: User) -> int:
    """End every sign-in of `user` (API tokens are revoked one by one); how many."""
    ended = end_login_sessions(session, user=user)
    _audit(session, user, "sign_out_everywhere", changes={"sessions_ended": ended})
    return ended


def _audit(
    session: Session, user: User, action: str, changes: dict[str, int] | None = None
) -> None:
    assert user.id is not None
    audit.record(
        session,
        action=action,
        entity_type="user",
        entity_id=user.id,
        district_id=user.district_id,
        changes=dict(changes or {}),
        summary=user.email,
    )


def set_password(session: Session, *, user: User, password: str) -> None:
    """The one way a password is set: checked by the rule, hashed, and every sign-in
    of the person ended (a view may then start one for the browser at hand)."""
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed({"password": problem})
    _store_password(session, user, password)


def _store_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    if user.id is not None:
        end_login_sessions(session, user=user)


def change_password(
    session: Session, *, user: User, current: str, new: str, confirm: str
) -> None:
    """Change one's own password; every sign-in ends, this one too (see the view)."""
    errors: dict[str, str] = {}
    if not verify_password(user, current):
        errors["current_password"] = "is not your current password"  # noqa: S105
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "does not match the new password"  # noqa: S105
    if errors:
        raise ValidationFailed(errors)
    _store_password(session, user, new)


def issue_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "is required (say what the token is for)"})
    if len(name) > 80:
        raise ValidationFailed({"name": "must be at most 80 characters"})
    return create_token(session, user=user, name=name)


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken)
            .where(col(ApiToken.user_id) == user.id)
            .order_by(col(ApiToken.created_at).desc())
        ).all()
    )


def revoke_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
