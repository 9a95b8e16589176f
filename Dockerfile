# syntax=docker/dockerfile:1
# Lifecycle production image: gunicorn on :8000. The same image runs the RQ
# workers (`lifecycle worker`), the one scheduler (`lifecycle cron`) and the
# migration step (`lifecycle db upgrade`); see docker-compose.yml.

# --- htmx, pinned by package-lock.json (served from our static files, no CDN) ---
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
# postinstall copies node_modules/htmx.org/dist/htmx.min.js to
# lifecycle/static/vendor/htmx.min.js
RUN npm ci --no-audit --no-fund

# --- build the wheel and install it into a virtualenv ---------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY lifecycle ./lifecycle
COPY jobs ./jobs
COPY templates ./templates
COPY migrations ./migrations
# The vendored htmx is git-ignored and listed as a wheel artifact: it must be in
# place before the wheel is built, or the image serves pages without htmx.
COPY --from=assets /src/lifecycle/static/vendor/ ./lifecycle/static/vendor/
RUN test -s lifecycle/static/vendor/htmx.min.js \
    && /opt/venv/bin/pip install . \
    && /opt/venv/bin/python -c "import importlib.resources as r; assert r.files('lifecycle').joinpath('static/vendor/htmx.min.js').is_file(), 'htmx missing from the wheel'"

# --- runtime: the virtualenv only, no source tree, no build tools ----------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LIFECYCLE_ENV=production \
    WEB_CONCURRENCY=3
RUN useradd --system --create-home --home-dir /home/lifecycle --uid 10001 \
        --user-group --shell /usr/sbin/nologin lifecycle
COPY --from=build /opt/venv /opt/venv
# Flask's instance folder for an installed package (only used without DATABASE_URL).
RUN install -d -o lifecycle -g lifecycle /opt/venv/var/lifecycle-instance
USER lifecycle
WORKDIR /home/lifecycle
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Workers per container come from WEB_CONCURRENCY (gunicorn reads it); each
# worker builds its own app from the environment.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "lifecycle:create_app()"]
