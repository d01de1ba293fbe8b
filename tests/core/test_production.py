"""Production settings and the `serve` command: nothing fails open."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys


def _ordersight(*args: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT")
    }
    return subprocess.run(
        [sys.executable, "-m", "ordersight", *args],
        env={**base, "ORDERSIGHT_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    key = secrets.token_urlsafe(50)
    result = _ordersight("check", "--deploy", tmp_path=tmp_path, DEBUG="0", SECRET_KEY=key)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stderr


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _ordersight("serve", "--no-migrate", tmp_path=tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_serve_refuses_to_run_with_debug_on(tmp_path):
    result = _ordersight("serve", tmp_path=tmp_path, DEBUG="1")
    assert result.returncode != 0
    assert "set DEBUG=0" in result.stderr


def test_serve_on_sqlite_refuses_several_workers(tmp_path):
    result = _ordersight(
        "serve", "--workers", "3", tmp_path=tmp_path, DEBUG="0", SECRET_KEY="k" * 60
    )
    assert result.returncode != 0
    assert "one web worker" in result.stderr


def test_production_settings_redirect_to_https_and_send_hsts(tmp_path):
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
    )
    env = {
        **os.environ,
        "ORDERSIGHT_DATA_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "k" * 60,
        "DJANGO_SETTINGS_MODULE": "ordersight.settings",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[true, 31536000, true, ["HTTP_X_FORWARDED_PROTO", "https"]]'


def test_check_deploy_warns_when_sync_may_reach_private_networks_or_files(tmp_path):
    key = secrets.token_urlsafe(50)
    result = _ordersight(
        "check",
        "--deploy",
        tmp_path=tmp_path,
        DEBUG="0",
        SECRET_KEY=key,
        SYNC_ALLOW_PRIVATE_NETWORKS="1",
        SYNC_FILE_ROOT=str(tmp_path / "feeds"),
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "ordersight.sync.W001" in output and "ordersight.sync.W002" in output
