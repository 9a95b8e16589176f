"""Sign in and out, the profile page: password and personal API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from lifecycle.accounts import services
from lifecycle.auth import get_user, login_remembered, public, start_login_session
from lifecycle.db import get_session
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.htmx import redirect_to, render
from lifecycle.web.security import limiter

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    from lifecycle import get_settings

    return get_settings().login_rate_limit


def _signed_in_key() -> str:
    """Count a password change per person, not per address: whoever holds a session
    may not guess its password faster than the login allows, and a district's staff
    behind one address do not share a count."""
    user_id = getattr(current_user, "id", None)
    return f"user:{user_id}" if user_id is not None else get_remote_address()


def _login_account() -> str:
    """Count login attempts per account too: guesses at one person's password from many
    addresses are slowed down as well."""
    return "login:" + request.form.get("email", "").strip().lower()


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot redirect elsewhere."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        # browsers read a backslash as "/" and drop tabs and newlines (/<TAB>/evil)
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account)
@public
def login() -> Response:
    next_url = request.values.get("next", "")
    if request.method == "GET" and current_user.is_authenticated:
        return redirect_to(_safe_next(next_url))
    if request.method == "GET":
        return render("accounts/login.html", next=next_url, email="", error=None)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    remember = bool(request.form.get("remember"))
    session = get_session()
    user = services.authenticate(
        session, email=email, password=password, remember=remember
    )
    if user is None:
        return render(
            "accounts/login.html",
            status=401,
            next=next_url,
            email=email,
            error="That e-mail and password do not match an active account.",
        )
    session.commit()
    login_user(user, remember=remember)
    return redirect_to(_safe_next(next_url))


@bp.post("/logout")
@public
def logout() -> Response:
    if current_user.is_authenticated:
        session = get_session()
        services.sign_out(session, user=get_user())
        session.commit()
    logout_user()
    flash("You are signed out.", "success")
    return redirect_to(url_for("accounts.login"))


@bp.post("/profile/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    session = get_session()
    services.sign_out_everywhere(session, user=get_user())
    session.commit()
    logout_user()
    flash(
        "You are signed out everywhere: every browser must sign in again. "
        "Your API tokens still work until you revoke them.",
        "success",
    )
    return redirect_to(url_for("accounts.login"))


def _profile(
    *,
    status: int = 200,
    block: str | None = None,
    errors: dict[str, str] | None = None,
    token_errors: dict[str, str] | None = None,
    new_secret: str | None = None,
) -> Response:
    user = get_user()
    tokens = services.list_tokens(get_session(), user=user)
    return render(
        "accounts/profile.html",
        block,
        status=status,
        user=user,
        tokens=tokens,
        errors=errors or {},
        token_errors=token_errors or {},
        new_secret=new_secret,
    )


@bp.get("/profile")
def profile() -> Response:
    get_user()
    return _profile()


@bp.post("/profile/password")
@limiter.limit(_login_limit, methods=["POST"], key_func=_signed_in_key)
def change_password() -> Response:
    user = get_user()
    session = get_session()
    remember = login_remembered(session, user=user)
    try:
        services.change_password(
            session,
            user=user,
            current=request.form.get("current_password", ""),
            new=request.form.get("new_password", ""),
            confirm=request.form.get("confirm_password", ""),
        )
    except ValidationFailed as exc:
        return _profile(status=422, errors=exc.fields)
    # Every sign-in ended with the old password; this browser carries on under a new
    # one (and a remember cookie, if it had one, is renewed with its key).
    start_login_session(session, user=user, remember=remember)
    session.commit()
    login_user(user, remember=remember)
    flash("Your password is changed; you were signed out everywhere else.", "success")
    return redirect_to(url_for("accounts.profile"))


@bp.post("/profile/tokens")
def create_token() -> Response:
    user = get_user()
    session = get_session()
    try:
        _token, secret = services.issue_token(
            session, user=user, name=request.form.get("name", "")
        )
    except ValidationFailed as exc:
        return _profile(status=422, block="tokens", token_errors=exc.fields)
    session.commit()
    return _profile(block="tokens", new_secret=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    user = get_user()
    session = get_session()
    token = services.revoke_token(session, user=user, token_id=token_id)
    session.commit()
    flash(f"Token “{token.name}” is revoked; it no longer works.", "success")
    return redirect_to(url_for("accounts.profile"))
