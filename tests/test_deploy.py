"""Deployment files say what they mean: compose topology, the image's app, README.

docker-compose.yml is never run here (no Docker engine in CI); `docker-compose config`
validates and renders it, and the rendered file is checked for the rules of docs/operations.md#processes.
Without docker-compose these tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lifecycle import cli

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CI = os.environ.get("CI", "").lower() == "true"
REQUIRED = {"SECRET_KEY": "x" * 40, "POSTGRES_PASSWORD": "compose-test-password"}
APP_SERVICES = ("web", "worker", "scheduler")
# The README's two commands for a fresh machine; .ci/run runs the test command from
# README.md itself, so changing either is a deliberate change of this contract.
DEMO_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && npm ci"
    " && .venv/bin/lifecycle demo"
)
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && npm ci"
    " && .venv/bin/pytest"
)
FIRST_SCREEN_LINES = 40


# --- docker-compose ------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_exe() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        message = (
            "docker-compose is not installed (Debian: apt-get install docker-compose)"
        )
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    return exe


def run_compose(
    exe: str, tmp_path: Path, *args: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f docker-compose.yml ARGS` with only VARIABLES set (no .env)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **variables}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def yaml_to_json(exe: str, text: str) -> str:
    """docker-compose 1.x is Python with PyYAML: its interpreter parses YAML for us."""
    with open(exe, "rb") as handle:
        first = handle.readline().decode(errors="replace")
    if not (first.startswith("#!") and "python" in first):
        pytest.fail(f"{exe} is not a Python script; cannot parse its YAML")
    interpreter = shlex.split(first[2:].strip())
    result = subprocess.run(
        [
            *interpreter,
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def rendered(compose_exe: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The compose file as docker-compose renders it (anchors merged, variables set)."""
    tmp = tmp_path_factory.mktemp("compose")
    result = run_compose(compose_exe, tmp, "config", **REQUIRED)
    assert result.returncode == 0, result.stderr
    return json.loads(yaml_to_json(compose_exe, result.stdout))


def test_compose_file_is_valid_with_the_required_variables(compose_exe, tmp_path):
    result = run_compose(compose_exe, tmp_path, "config", "-q", **REQUIRED)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_to_run_without_a_required_variable(
    compose_exe, tmp_path, missing
):
    variables = {k: v for k, v in REQUIRED.items() if k != missing}
    result = run_compose(compose_exe, tmp_path, "config", "-q", **variables)
    assert result.returncode != 0
    # The error ends with the `${VAR:?message}` message, which names the variable.
    last_line = result.stderr.strip().splitlines()[-1]
    assert re.search(rf"set {missing}\b[^'\"{{}}]*$", last_line), result.stderr


def test_scheduler_runs_exactly_one_replica(rendered):
    deploy = rendered["services"]["scheduler"].get("deploy", {})
    assert deploy.get("replicas") == 1
    assert deploy.get("placement", {}).get("max_replicas_per_node", 1) == 1
    assert "scale" not in rendered["services"]["scheduler"]


def test_app_processes_start_only_after_the_migration_succeeded(rendered):
    services = rendered["services"]
    assert services["migrate"]["command"] == ["lifecycle", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check(rendered):
    for name, service in rendered["services"].items():
        if service.get("restart") == "no":
            continue
        check = service.get("healthcheck", {})
        test = check.get("test") or []
        assert test and test[0] in ("CMD", "CMD-SHELL"), (name, check)
        assert not check.get("disable"), name
    assert "/healthz" in " ".join(rendered["services"]["web"]["healthcheck"]["test"])


def test_app_services_run_the_commands_of_the_cli(rendered):
    services = rendered["services"]
    assert services["worker"]["command"] == ["lifecycle", "worker"]
    assert services["scheduler"]["command"] == ["lifecycle", "cron"]
    assert "command" not in services["web"]  # the image's gunicorn
    assert {"worker", "cron", "db"} <= set(cli.main.commands)


def test_app_services_share_one_production_environment(rendered):
    services = rendered["services"]
    app = ["migrate", *APP_SERVICES]
    environments = [services[name]["environment"] for name in app]
    for name, env in zip(app, environments, strict=True):
        assert env["LIFECYCLE_ENV"] == "production", name
        assert env["SECRET_KEY"] == REQUIRED["SECRET_KEY"], name
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["LIFECYCLE_SMTP_HOST"] == "mailpit", name
        assert str(env["LIFECYCLE_SMTP_PORT"]) == "1025", name
    assert REQUIRED["POSTGRES_PASSWORD"] in environments[0]["DATABASE_URL"]
    # Every LIFECYCLE_ variable the compose file sets is one the app reads.
    known = set(config_variables())
    for env in environments:
        unknown = {k for k in env if k.startswith("LIFECYCLE_")} - known
        assert not unknown, unknown


# --- Dockerfile ----------------------------------------------------------------


def dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    commands = re.findall(r"^CMD (\[.*\])\s*$", text, flags=re.MULTILINE)
    assert commands, "Dockerfile has no exec-form CMD"
    cmd: list[str] = json.loads(commands[-1])
    return cmd


def test_dockerfile_runs_gunicorn_on_the_app_factory_as_a_non_root_user():
    cmd = dockerfile_cmd()
    assert cmd[0] == "gunicorn"
    assert "lifecycle:create_app()" in cmd
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^EXPOSE 8000\b", text, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*/healthz", text, flags=re.MULTILINE | re.DOTALL)


def test_gunicorn_target_of_the_image_builds_the_app(monkeypatch, tmp_path):
    """gunicorn's own loader resolves the Dockerfile's target; /healthz answers."""
    from gunicorn.util import import_app

    target = next(arg for arg in dockerfile_cmd() if arg.startswith("lifecycle:"))
    monkeypatch.setenv("LIFECYCLE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = import_app(target)
    assert isinstance(app, Flask)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


# --- README --------------------------------------------------------------------


def config_variables() -> list[str]:
    source = (ROOT / "lifecycle" / "config.py").read_text()
    return sorted(
        set(
            re.findall(
                r"""(?:environ\.get|_int)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source
            )
        )
    )


def test_readme_opens_with_the_two_commands():
    first_screen = (ROOT / "README.md").read_text().splitlines()[:FIRST_SCREEN_LINES]
    assert DEMO_COMMAND in first_screen
    assert TEST_COMMAND in first_screen


def test_demo_command_serves_the_demo_and_prints_where(tmp_path):
    """`lifecycle demo` (the README demo command ends with it) seeds, then serves."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIFECYCLE_")
        and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}", PYTHONUNBUFFERED="1")
    script = Path(sys.executable).with_name("lifecycle")
    command = (
        [str(script)] if script.exists() else [sys.executable, "-m", "lifecycle.cli"]
    )
    demo = subprocess.Popen(
        [*command, "demo", "--port", str(port), "--devices", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    status = None
    try:
        deadline = time.monotonic() + 120
        while status is None and demo.poll() is None and time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
            except OSError:
                time.sleep(0.25)
    finally:
        demo.terminate()
        output = demo.communicate(timeout=30)[0]
    assert status == 200, output[-2000:]
    assert f"http://127.0.0.1:{port}/" in output
    assert "Demo logins" in output


def test_ci_runs_the_readme_test_command():
    for name, expected in (("demo", DEMO_COMMAND), ("test", TEST_COMMAND)):
        result = subprocess.run(
            ["bash", str(ROOT / ".ci" / "run"), "--print-command", name],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected + "\n"


def test_readme_documents_every_setting_and_command():
    readme = (ROOT / "README.md").read_text()
    variables = config_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "LIFECYCLE_ENV"} <= set(
        variables
    )
    undocumented = [name for name in variables if f"`{name}`" not in readme]
    assert not undocumented, f"README.md does not document {undocumented}"
    # Only our commands: invoking the group also loads plugins' (Flask-Limiter's).
    commands = [
        name
        for name, command in cli.main.commands.items()
        if name != "db" and getattr(command.callback, "__module__", "") == cli.__name__
    ]
    undocumented = [name for name in commands if f"`lifecycle {name}" not in readme]
    assert not undocumented, f"README.md does not document {undocumented}"
    db_line = next(x for x in readme.splitlines() if x.startswith("| `lifecycle db "))
    undocumented = [
        name
        for name in cli.db.commands
        if f"`lifecycle db {name}" not in db_line and f"`{name}" not in db_line
    ]
    assert not undocumented, (
        f"README.md does not document `lifecycle db` {undocumented}"
    )
