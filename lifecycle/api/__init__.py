"""The JSON API, /api/v1 (docs/architecture.md#the-json-api): bearer tokens, JSON errors, cursor pages."""

from __future__ import annotations

from flask import current_app, g, request

from lifecycle.api import (  # noqa: F401  (importing registers the operations)
    agreements,
    budget,
    catalog,
    devices,
    imports,
    notifications,
    obligations,
    openapi,
    pipeline,
    resources,
    rounds,
    scans,
)
from lifecycle.api.frame import bp
from lifecycle.auth import Unauthorized, user_for_token
from lifecycle.db import get_session, set_actor
from lifecycle.web.security import csrf, limiter

csrf.exempt(bp)


def _api_key() -> str:
    header = request.headers.get("Authorization", "")
    return header[-16:] if header else (request.remote_addr or "anonymous")


limiter.limit("1200 per minute", key_func=_api_key)(bp)


@bp.before_request
def _authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "public", False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API token: Authorization: Bearer <token>.")
    session = get_session()
    user = user_for_token(session, secret.strip())
    if user is None:
        raise Unauthorized("The API token is unknown, expired or revoked.")
    if session.dirty:
        # user_for_token touched last_used_at (at most once a minute): keep it even
        # when the request itself writes nothing (GETs never commit).
        session.commit()
    set_actor(session, user_id=user.id, label=user.email)
    g.api_user = user


__all__ = ["bp"]
