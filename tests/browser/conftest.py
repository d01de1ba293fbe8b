"""A real server and a real browser: uvicorn on its own database, Debian's chromium.

The server runs in a subprocess with demo data (SQLite file, or a throwaway PostgreSQL
database when the suite runs on PostgreSQL). A missing browser fails the tests; it never
skips them. Each test leaves a screenshot under test-output/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from ordersight.management.processes import uvicorn_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
VIEWER_PASSWORD = "viewer-password-42"

SETUP_USERS = f"""
from django.contrib.auth.models import Group
from django.contrib.auth import get_user_model
from ordersight.accounts.services import create_api_key
user, _ = get_user_model().objects.get_or_create(username="vera")
user.set_password("{VIEWER_PASSWORD}")
user.save()
user.groups.add(Group.objects.get(name="Viewer"))
print("TOKEN=" + create_api_key(name="browser tests", scopes="read,write")[1])
"""


@dataclass
class Server:
    url: str
    owner_password: str
    token: str
    # The folder file:// feeds may be read from (SYNC_FILE_ROOT), where the server has one.
    feeds: Path | None = None

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/api/v1/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # local server
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_database(env: dict[str, str]) -> tuple[str | None, str | None]:
    """On PostgreSQL runs, a throwaway database for the server; returns (url, name)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None, None
    import psycopg

    base, _ = url.rsplit("/", 1)
    name = f"ordersight_browser_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}", name


def _drop_postgres_database(name: str) -> None:
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _prepare(data_dir: Path) -> dict[str, str]:
    """Demo data, the owner and a viewer in a fresh data directory (and PostgreSQL database
    on PostgreSQL runs); the environment a server for it runs with."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "ORDERSIGHT_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "ordersight.settings",
            "DEBUG": "1",
        }
    )
    db_url, db_name = _postgres_database(env)
    if db_url:
        env["DATABASE_URL"] = db_url
        env["TEST_DB_NAME"] = db_name or ""
    run = [sys.executable, "-m", "ordersight"]
    subprocess.run(
        [*run, "demo", "--no-serve", "--orders", "80"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = subprocess.run(
        [*run, "shell", "-c", SETUP_USERS],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    env["TEST_TOKEN"] = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
    return env


def _start(
    data_dir: Path, env: dict[str, str], command: list[str], url: str
) -> tuple[subprocess.Popen, IO[str]]:
    """Start `command` and wait until its sign-in page answers; returns (process, log)."""
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - kept open while it runs
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=2):
                return process, log
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError((data_dir / "server.log").read_text()) from None
            time.sleep(0.3)


def _uvicorn(port: int) -> list[str]:
    return uvicorn_command("127.0.0.1", str(port), ["--log-level", "warning"])


def _run_server(
    data_dir: Path, env: dict[str, str], command: list[str], url: str
) -> Iterator[Server]:
    """Start `command`, wait until it answers, yield it, and stop it (and its database)."""
    process, log = _start(data_dir, env, command, url)
    password = (data_dir / "demo-login.txt").read_text().strip()
    try:
        feeds = Path(env["SYNC_FILE_ROOT"]) if env.get("SYNC_FILE_ROOT") else None
        yield Server(url=url, owner_password=password, token=env["TEST_TOKEN"], feeds=feeds)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        if env.get("TEST_DB_NAME"):
            _drop_postgres_database(env["TEST_DB_NAME"])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as the demo runs it: uvicorn with DEBUG on. No worker runs beside it, so
    queued tasks (a feed's Refresh) run in the request instead."""
    data_dir = tmp_path_factory.mktemp("browser-server")
    env = _prepare(data_dir)
    env["HUEY_IMMEDIATE"] = "1"
    # The demo put its own store's feed files there already (demo-store/).
    (data_dir / "feeds").mkdir(exist_ok=True)
    env["SYNC_FILE_ROOT"] = str(data_dir / "feeds")
    port = _free_port()
    yield from _run_server(data_dir, env, _uvicorn(port), f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def unavailable_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app whose database is away: its PostgreSQL address has nothing listening, so a
    page that reads the database answers the styled 503. Yields the server's URL."""
    data_dir = tmp_path_factory.mktemp("unavailable-server")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "ORDERSIGHT_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "ordersight.settings",
            "DEBUG": "1",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_free_port()}/away",
            "DB_POOL_TIMEOUT": "1",
            "DB_CONNECT_TIMEOUT": "1",
        }
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process, log = _start(data_dir, env, _uvicorn(port), url)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app through the production path: `ordersight serve` with DEBUG off, two web
    workers and the Huey consumer. Plain HTTP on 127.0.0.1, so the HTTPS redirect and
    secure cookies are turned off the way an operator behind a local proxy would."""
    data_dir = tmp_path_factory.mktemp("production-server")
    env = _prepare(data_dir)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    port = _free_port()
    # Several web workers need PostgreSQL (live updates cross processes by NOTIFY).
    workers = "2" if "DATABASE_URL" in env else "1"
    command = [
        sys.executable,
        "-m",
        "ordersight",
        "serve",
        "--port",
        str(port),
        "--workers",
        workers,
    ]
    yield from _run_server(data_dir, env, command, f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
            "(apt-get install chromium)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("/", "_")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


def sign_in(
    page,
    server: Server,
    username: str = "owner",
    password: str | None = None,
    then: str | None = "/orders/",
) -> None:
    """Sign in, then open `then` (All Orders by default; None stays on the landing page)."""
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or server.owner_password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    if then is not None:
        page.goto(f"{server.url}{then}")


@pytest.fixture(scope="session", autouse=True)
def _clean_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
