"""CSRF, security headers and login rate limiting."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from lifecycle.config import Settings

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

# Only our own scripts and styles; htmx is configured (meta htmx-config) not to inject
# inline styles or evaluate strings, so no 'unsafe-inline' or 'unsafe-eval' is needed.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask, settings: Settings) -> None:
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    app.config["RATELIMIT_KEY_PREFIX"] = "lifecycle-limits"
    # With Redis down, count in memory rather than failing every login and API call.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    limiter.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if settings.env == "production":
            headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # Every answer but our static files holds someone's data: a page, JSON, a CSV
        # export, the calendar feed (its address is the credential; once revoked, no
        # cache may go on serving it). None may be kept by a browser or a proxy.
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response
