"""Lifecycle: IT asset and service-contract lifecycle manager for K-12 districts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lifecycle.config import Settings
from lifecycle.web.routing import IdConverter

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A top-level folder (templates, migrations) in a checkout, or its copy in the wheel."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / name).exists():
        return root / name
    return PACKAGE_DIR / name


def create_app(settings: Settings | None = None, **config: Any) -> Flask:
    """Build the application: configuration, database, jobs, security, blueprints."""
    from lifecycle import (
        audit,  # noqa: F401  (importing registers the audit flush hooks)
        auth,
        db,
    )
    from lifecycle.accounts.views import bp as accounts_bp
    from lifecycle.admin.views import bp as admin_bp
    from lifecycle.agreements.contracts.views import bp as contracts_bp
    from lifecycle.agreements.licenses.views import bp as licenses_bp
    from lifecycle.api import bp as api_bp
    from lifecycle.budget.views import bp as budget_bp
    from lifecycle.catalog.manage.views import bp as catalog_manage_bp
    from lifecycle.catalog.views import bp as catalog_bp
    from lifecycle.home.views import bp as home_bp
    from lifecycle.imports import jobs as _import_jobs  # noqa: F401  (registers the job)
    from lifecycle.imports.views import bp as imports_bp
    from lifecycle.inventory.views import bp as devices_bp
    from lifecycle.notices.views import bp as notifications_bp
    from lifecycle.org.districts.views import bp as districts_bp
    from lifecycle.org.policy.views import bp as policy_bp
    from lifecycle.org.schools.views import bp as schools_bp
    from lifecycle.org.vendors.views import bp as vendors_bp
    from lifecycle.pipeline.views import bp as pipeline_bp
    from lifecycle.renewals.views import bp as renewals_bp
    from lifecycle.rounds import jobs as _round_jobs  # noqa: F401  (the opening job)
    from lifecycle.rounds.views import bp as rounds_bp
    from lifecycle.scan import jobs as _scan_jobs  # noqa: F401  (registers the scan job)
    from lifecycle.web import errors, htmx, security, templating
    from lifecycle.work import queue as background

    settings = settings or Settings.from_env()
    settings.check()
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        instance_path=config.pop("INSTANCE_PATH", None),
    )
    # before any route: every <int:...> then matches only an id a row can have
    app.url_map.converters["int"] = IdConverter
    if settings.trusted_proxies:
        # Behind a reverse proxy: take the client address and scheme from its headers,
        # so the login rate limit counts people, not the proxy.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config.update(settings.flask_config())
    app.config.update(config)
    app.extensions["lifecycle.settings"] = settings

    db.init_app(app, settings.sqlalchemy_url(app.instance_path))
    background.init_app(app, settings.redis_url)
    htmx.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    security.init_app(app, settings)
    templating.init_app(app)

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(licenses_bp)
    app.register_blueprint(contracts_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(vendors_bp)
    app.register_blueprint(districts_bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(catalog_manage_bp)
    app.register_blueprint(renewals_bp)
    app.register_blueprint(budget_bp)
    app.register_blueprint(pipeline_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(imports_bp)
    return app


def get_settings(app: Flask | None = None) -> Settings:
    from flask import current_app

    settings: Settings = (app or current_app).extensions["lifecycle.settings"]
    return settings
