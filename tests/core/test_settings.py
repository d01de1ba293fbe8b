"""Settings come from the environment: database, Huey backend, secrets and hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

PROBE = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"engine": settings.DATABASES["default"]["ENGINE"],
                  "huey": settings.HUEY["huey_class"], "debug": settings.DEBUG,
                  "hosts": settings.ALLOWED_HOSTS}))
"""


def _settings_with(**env: str) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_the_embedded_demo(tmp_path):
    s = _settings_with(ORDERSIGHT_DATA_DIR=str(tmp_path))
    assert s["engine"].endswith("sqlite3") and s["huey"] == "huey.SqliteHuey"
    assert s["debug"] is True and "127.0.0.1" in s["hosts"]


def test_environment_switches_to_postgres_and_redis(tmp_path):
    s = _settings_with(
        ORDERSIGHT_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DEBUG="false",
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="shop.example.com,api.example.com",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["huey"] == "huey.RedisHuey"
    assert s["debug"] is False
    assert s["hosts"] == ["shop.example.com", "api.example.com"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    base = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**base, "DEBUG": "0", "ORDERSIGHT_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_redis_backed_queue_runs_a_task_on_the_real_server():
    from huey import RedisHuey

    huey = RedisHuey(name=f"ordersight-test-{uuid.uuid4().hex}", url="redis://127.0.0.1:6379/0")

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    try:
        result = add(2, 3)
        task = huey.dequeue()
        huey.execute(task)
        assert result.get() == 5
    finally:
        huey.storage.flush_all()


def test_demo_database_file_uses_wal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ORDERSIGHT_DATA_DIR"] = str(tmp_path)
    probe = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "DJANGO_SETTINGS_MODULE": "ordersight.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "wal"


BOUNDS_PROBE = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
import json, django
from django.conf import settings
django.setup()
options = settings.DATABASES["default"]["OPTIONS"]
redis_pool = settings.HUEY["connection_pool"]
print(json.dumps({
    "pool_timeout": options["pool"]["timeout"],
    "wait_limit": options["pool"]["connection_class"].wait_limit,
    "connect_timeout": options.get("connect_timeout"),
    "options": options.get("options"),
    "cache": settings.CACHES["default"]["OPTIONS"],
    "huey": [redis_pool.connection_kwargs.get("socket_connect_timeout"),
             redis_pool.connection_kwargs.get("socket_timeout")],
}))
"""


def _bounds_with(tmp_path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "REDIS_"))}
    base.pop("DATABASE_URL", None)
    env = {
        "ORDERSIGHT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", BOUNDS_PROBE], env={**base, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_wait_on_postgres_and_redis_is_bounded_by_default(tmp_path):
    s = _bounds_with(tmp_path)
    # Well under a proxy's usual 60 s, so a stopped database is a 503, not a gateway timeout.
    assert s["pool_timeout"] == 5
    assert s["connect_timeout"] == 5
    assert s["options"] == "-c statement_timeout=15000"
    assert s["wait_limit"] == 17  # the server's own timeout, then 2 s more
    assert s["cache"]["socket_connect_timeout"] == 2 and s["cache"]["socket_timeout"] == 2
    assert s["huey"] == [2, 3]  # the worker's blocking read waits 1 s on the server


def test_the_bounds_come_from_the_environment_and_0_lifts_them(tmp_path):
    s = _bounds_with(
        tmp_path,
        DB_POOL_TIMEOUT="3",
        DB_CONNECT_TIMEOUT="0",
        DB_STATEMENT_TIMEOUT="0",
        REDIS_TIMEOUT="0.5",
    )
    assert s["pool_timeout"] == 3
    assert s["connect_timeout"] is None and s["options"] is None and s["wait_limit"] is None
    assert s["cache"]["socket_connect_timeout"] == 0.5 and s["cache"]["socket_timeout"] == 0.5
