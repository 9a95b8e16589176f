"""The page shell: page vs fragment, errors by who asked, config safety, health."""

from __future__ import annotations

import pytest

from lifecycle.config import ConfigError, Settings, normalize_database_url
from tests.conftest import htmx, login


def test_pages_and_fragments_both_vary_on_hx_request(client, world):
    login(client, world.admin.email)
    page = client.get("/admin/users")
    fragment = client.get("/admin/users", headers=htmx())
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="results"' in fragment.get_data(as_text=True)
    for response in (page, fragment):
        assert "HX-Request" in response.headers["Vary"]


def test_a_boosted_request_gets_the_whole_page(client, world):
    login(client, world.admin.email)
    boosted = client.get("/admin/users", headers=htmx(**{"HX-Boosted": "true"}))
    assert "<html" in boosted.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    fragment = client.get("/admin/users", headers=htmx())
    assert fragment.status_code == 401 and "/login" in fragment.headers["HX-Redirect"]


def test_not_found_is_a_page_a_fragment_or_json(client, world):
    login(client, world.a.it.email)
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
    fragment = client.get("/no/such/page", headers=htmx())
    assert fragment.status_code == 404 and "<html" not in fragment.get_data(
        as_text=True
    )
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_an_unexpected_error_is_a_friendly_500(app, world):
    @app.get("/explode")
    def explode() -> str:
        raise RuntimeError("kaboom")

    client = app.test_client()
    login(client, world.a.it.email)
    response = client.get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "kaboom" not in body


def test_role_pages_refuse_other_roles(client, world):
    login(client, world.a.it.email)
    response = client.get("/admin/activity")
    assert response.status_code == 403 and "Not allowed" in response.get_data(
        as_text=True
    )


def test_production_refuses_the_default_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings(env="production").check()
    with pytest.raises(ConfigError):
        Settings(env="production", secret_key="short").check()
    Settings(env="production", secret_key="x" * 40).check()
    Settings(env="development").check()


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("LIFECYCLE_ENV", "staging")
    with pytest.raises(ConfigError, match="LIFECYCLE_ENV"):
        Settings.from_env()
    monkeypatch.setenv("LIFECYCLE_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("LIFECYCLE_SMTP_PORT", "2525")
    settings = Settings.from_env()
    assert settings.redis_url == "redis://cache:6379/0" and not settings.embedded_worker
    assert settings.smtp_port == 2525
    monkeypatch.setenv("LIFECYCLE_SMTP_PORT", "twenty")
    with pytest.raises(ConfigError, match="LIFECYCLE_SMTP_PORT"):
        Settings.from_env()
    monkeypatch.setenv("LIFECYCLE_SMTP_PORT", "2525")
    monkeypatch.setenv("LIFECYCLE_PAGE_SIZE", "25")
    assert Settings.from_env().page_size == 25
    for bad in ("0", "5000"):
        monkeypatch.setenv("LIFECYCLE_PAGE_SIZE", bad)
        with pytest.raises(ConfigError, match="LIFECYCLE_PAGE_SIZE must be at least 1"):
            Settings.from_env()


def test_embedded_default_is_sqlite_in_the_instance_folder(tmp_path):
    assert (
        Settings().sqlalchemy_url(str(tmp_path))
        == f"sqlite:///{tmp_path / 'lifecycle.db'}"
    )
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_healthz_reports_database_and_redis(app, client, monkeypatch):
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
    }
    monkeypatch.setattr("lifecycle.home.views.redis_ok", lambda: False)
    degraded = client.get("/healthz")
    assert degraded.status_code == 200 and degraded.get_json()["redis"] == "down"


def test_htmx_is_served_from_our_static_files(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]


def test_each_request_has_its_own_context(app, client, world):
    """A signed-in user in one client never leaks into another client's requests."""
    login(client, world.a.it.email)
    assert client.get("/").status_code == 200
    assert app.test_client().get("/").status_code == 302


def test_a_state_has_one_badge_colour_on_every_page(app):
    """The tone of a state is decided once (web/templating.TONES), for every page."""
    from lifecycle.enums import AgreementStatus, DeviceStatus, JobState, ObligationState
    from lifecycle.web.templating import badge, tone

    assert tone(DeviceStatus.IN_SERVICE) == tone("in_service") == "good"
    assert tone(ObligationState.LAPSED) == tone(AgreementStatus.LAPSED) == "bad"
    assert tone(ObligationState.NOTIFIED) == "warn"
    assert tone(JobState.FAILED) == "bad"
    assert tone(DeviceStatus.RETIRED) == tone(ObligationState.RETIRED) == ""
    assert str(badge(ObligationState.ACKNOWLEDGED)) == (
        '<span class="badge good">Acknowledged</span>'
    )
    assert str(badge("upcoming", testid="state")) == (
        '<span class="badge" data-testid="state">Upcoming</span>'
    )
    assert "&lt;b&gt;" in str(badge("done", text="<b>"))
