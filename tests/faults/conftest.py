"""The production app under uvicorn against a private PostgreSQL and Redis, and a load on it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection

import psycopg
import pytest

from ordersight.management.processes import uvicorn_command
from tests.faults.servers import PrivatePostgres, PrivateRedis, free_port, wait_for_port

# The app's bounds in these tests: small, so an outage is over quickly.
POOL_TIMEOUT = 2
CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 2
REDIS_TIMEOUT = 1
# The longest a request may take while the database or Redis is away: a connection from the
# pool, then a silent server given up on (statement timeout + 2 s), with room for a loaded
# machine. Longer is a hang.
BOUND = POOL_TIMEOUT + STATEMENT_TIMEOUT + 2 + 3

_INHERITED_OUT = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "DJANGO_SETTINGS_MODULE",
)


@dataclass
class App:
    base_port: int
    env: dict[str, str]
    token: str
    session: str
    db_url: str
    process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ordersight", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def rows(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(sql).fetchall()


@dataclass
class Answer:
    kind: str
    status: int
    content_type: str
    body: bytes
    started: float
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_json(self) -> bool:
        return self.content_type.startswith("application/json")


def request(
    app: App, kind: str, method: str, path: str, body: dict | None = None, **headers: str
) -> Answer:
    connection = HTTPConnection("127.0.0.1", app.base_port, timeout=60)
    started = time.monotonic()
    try:
        payload = json.dumps(body).encode() if body is not None else None
        send_headers = {"Content-Type": "application/json", **headers} if payload else headers
        connection.request(method, path, body=payload, headers=send_headers)
        response = connection.getresponse()
        content = response.read()
        return Answer(
            kind,
            response.status,
            response.getheader("Content-Type", ""),
            content,
            started,
            time.monotonic() - started,
            {k.lower(): v for k, v in response.getheaders()},
        )
    finally:
        connection.close()


def api(app: App, method: str, path: str, body: dict | None = None) -> Answer:
    headers = {"Authorization": f"Bearer {app.token}"}
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return request(app, "api", method, f"/api/v1/{path}", body, **headers)


def page(app: App, path: str) -> Answer:
    return request(app, "page", "GET", path, Cookie=f"sessionid={app.session}")


def one_round(app: App) -> list[Answer]:
    """What a client and a person do: place an order, invoice it, list orders, open a page."""
    answers = []
    created = api(
        app,
        "POST",
        "orders",
        {"currency": "EUR", "lines": [{"name": "Mug", "unit_price": "9.50", "quantity": 2}]},
    )
    answers.append(created)
    if created.status == 201:
        number = json.loads(created.body)["number"]
        answers.append(api(app, "POST", f"orders/{number}/invoices", {}))
    answers.append(api(app, "GET", "orders?limit=5"))
    answers.append(page(app, "/orders/"))
    return answers


class Load:
    """Clients sending rounds until stopped, every answer kept."""

    def __init__(self, app: App, clients: int = 4) -> None:
        self.app = app
        self.answers: list[Answer] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answers = one_round(self.app)
            except BaseException as exc:  # a dropped connection or a client timeout: a hang
                with self._lock:
                    self.errors.append(exc)
                time.sleep(0.2)
                continue
            with self._lock:
                self.answers.extend(answers)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


def _wait_for_http(port: int, process: subprocess.Popen) -> None:
    wait_for_port(port, within=60, process=process)


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    root = tmp_path_factory.mktemp("faults")
    postgres = PrivatePostgres(root)
    redis = PrivateRedis(root)
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        postgres.remove()
        redis.remove()


@pytest.fixture(scope="module")
def app(servers: tuple[PrivatePostgres, PrivateRedis], tmp_path_factory) -> Iterator[App]:
    postgres, redis = servers
    root = tmp_path_factory.mktemp("app")
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE ordersight")
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_OUT}
    env.update(
        DATABASE_URL=postgres.url("ordersight"),
        REDIS_URL=redis.url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        ALLOWED_HOSTS="127.0.0.1",
        ORDERSIGHT_DATA_DIR=str(root),
        DB_POOL_TIMEOUT=str(POOL_TIMEOUT),
        DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        DB_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
        REDIS_TIMEOUT=str(REDIS_TIMEOUT),
        # Counted (so Redis is asked on every API call) but never reached.
        API_RATE_LIMIT_PER_KEY="1000000",
        API_RATE_LIMIT_PER_ADDRESS="1000000",
    )
    app = App(free_port(), env, "", "", postgres.url("ordersight"))
    app.manage("migrate", "--verbosity", "0")
    app.token = app.manage("apikey", "create", "--name", "faults", "--scopes", "read,write")
    app.token = app.token.strip().splitlines()[-1]
    app.session = app.manage("shell", "-c", _SIGNED_IN_SESSION).strip().splitlines()[-1]
    log = open(root / "uvicorn.log", "ab")  # noqa: SIM115 - closed below
    app.process = subprocess.Popen(
        uvicorn_command("127.0.0.1", str(app.base_port), ["--no-access-log"]),
        env=app.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_http(app.base_port, app.process)
        yield app
    finally:
        app.process.terminate()
        try:
            app.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.process.kill()
        log.close()


_SIGNED_IN_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_superuser("faults", "faults@example.com", "not-used-9x!")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""
