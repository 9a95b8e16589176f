"""Sign-in, passwords and personal API tokens."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.auth import (
    create_token,
    hash_password,
    password_problem,
    verify_password,
)
from lifecycle.db import set_actor
from lifecycle.models import ApiToken, User, utcnow
from lifecycle.web.errors import NotFound, ValidationFailed


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    user = session.exec(
        select(User).where(col(User.email) == email.strip().lower())
    ).first()
    if not verify_password(user, password):
        return None
    assert user is not None
    user.last_login_at = utcnow()
    set_actor(session, user_id=user.id, label=user.email)
    assert user.id is not None
    audit.record(
        session,
        action="sign_in",
        entity_type="user",
        entity_id=user.id,
        district_id=user.district_id,
        summary=user.email,
    )
    return user


def change_password(
    session: Session, *, user: User, current: str, new: str, confirm: str
) -> None:
    errors: dict[str, str] = {}
    if not verify_password(user, current):
        errors["current_password"] = "is not your current password"  # noqa: S105
    problem = password_problem(new)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "does not match the new password"  # noqa: S105
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)


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
