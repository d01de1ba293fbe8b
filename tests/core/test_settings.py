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
