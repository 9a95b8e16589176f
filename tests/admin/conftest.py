"""Shared fixtures of the API, admin and account tests: see tests/api/conftest.py."""

from tests.api.conftest import make_app, token_for

__all__ = ["make_app", "token_for"]
