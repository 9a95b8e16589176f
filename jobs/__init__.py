"""RQ entry points. Thin: each gets the Flask app and calls into the lifecycle package."""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def get_app() -> Flask:
    """The running app (embedded worker, tests) or one built from the environment (rq worker)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    if _app is None:
        from lifecycle import create_app

        _app = create_app()
    return _app
