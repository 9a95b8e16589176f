"""Administration: users, districts, cooperative settings, the activity log."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time

from sqlmodel import Session, col, select

from lifecycle.accounts.services import set_password
from lifecycle.audit import AUDITED
from lifecycle.auth import end_login_sessions, revoke_credentials
from lifecycle.enums import Role
from lifecycle.models import (
    AuditEvent,
    Cooperative,
    District,
    User,
    UserCreate,
    UserUpdate,
)
from lifecycle.models.base import utcnow
from lifecycle.org import services as org_services
from lifecycle.web.errors import NotFound, ValidationFailed
from lifecycle.web.listing import contains
from lifecycle.web.paging import Page, id_page
from lifecycle.web.records import claim_version


def _district_role_rules(role: Role, district_id: int | None, session: Session) -> None:
    if role.is_district:
        if district_id is None:
            raise ValidationFailed({"district_id": "is required for a district role"})
        if session.get(District, district_id) is None:
            raise ValidationFailed({"district_id": "is not a member district"})
    elif district_id is not None:
        raise ValidationFailed(
            {"district_id": "must be empty for a cooperative or admin role"}
        )


AUDITED_TYPES = tuple(AUDITED.values())


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(session: Session, *, data: UserCreate) -> User:
    _district_role_rules(Role(data.role), data.district_id, session)
    if session.exec(select(User).where(col(User.email) == data.email)).first():
        raise ValidationFailed({"email": "is already used by another account"})
    user = User(
        email=data.email,
        name=data.name.strip(),
        role=data.role,
        district_id=data.district_id,
    )
    set_password(session, user=user, password=data.password)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, *, user: User, data: UserUpdate, actor: User) -> User:
    claim_version(session, user, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    role = Role(changes.get("role", user.role))
    district_id = changes.get("district_id", user.district_id)
    if not role.is_district:
        district_id = None
        changes["district_id"] = None
    _district_role_rules(role, district_id, session)
    if user.id == actor.id and (
        role is not Role.ADMIN or changes.get("is_active") is False
    ):
        raise ValidationFailed(
            {"role": "you cannot remove your own administrator access"}
        )
    before = (user.role, user.district_id, user.is_active)
    for key, value in changes.items():
        setattr(user, key, value)
    if before[2] and not user.is_active:
        # Leaving for good, as a rule: reactivating must not bring back a browser's
        # sign-in, a token or a calendar address from before.
        revoke_credentials(session, user=user)
    elif (user.role, user.district_id) != before[:2]:
        # What a sign-in may do was granted to the old role; sign in again as the new.
        end_login_sessions(session, user=user)
    return user


def reset_password(session: Session, *, user: User) -> str:
    """A new random first password; every sign-in of the person ends."""
    password = temporary_password()
    set_password(session, user=user, password=password)
    return password


def list_users(
    session: Session, *, q: str = "", role: str = ""
) -> list[tuple[User, str | None]]:
    stmt = select(User, District.name).outerjoin(
        District, col(District.id) == User.district_id
    )
    if q:
        like = contains(q.lower())
        stmt = stmt.where(
            col(User.email).ilike(like, escape="\\")
            | col(User.name).ilike(like, escape="\\")
        )
    if role:
        stmt = stmt.where(col(User.role) == role)
    stmt = stmt.order_by(col(User.name))
    return [(u, d) for u, d in session.exec(stmt).all()]


def get_user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def districts(session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(col(District.name))).all())


def update_cooperative(
    session: Session, *, name: str, thresholds: list[int]
) -> Cooperative:
    coop = org_services.cooperative(session)
    if not name.strip():
        raise ValidationFailed({"name": "is required"})
    coop.name = name.strip()[:200]
    coop.default_reminder_thresholds = thresholds
    coop.updated_at = utcnow()
    return coop


def activity(
    session: Session,
    *,
    cursor: str | None,
    entity_type: str = "",
    actor: str = "",
    district_id: int | None = None,
    since: date | None = None,
    limit: int = 50,
) -> Page[AuditEvent]:
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(col(AuditEvent.entity_type) == entity_type)
    if actor:
        stmt = stmt.where(
            col(AuditEvent.actor_label).ilike(contains(actor.lower()), escape="\\")
        )
    if district_id is not None:
        stmt = stmt.where(col(AuditEvent.district_id) == district_id)
    if since is not None:
        start = datetime.combine(since, time.min).replace(tzinfo=utcnow().tzinfo)
        stmt = stmt.where(col(AuditEvent.at) >= start)
    return id_page(
        session, stmt, col(AuditEvent.id), limit=limit, cursor=cursor, descending=True
    )
