"""Run the web server and the workers side by side until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def uvicorn_command(host: str, port: str, extra: Sequence[str] = ()) -> list[str]:
    """The web server as it runs everywhere, tests included (see ordersight/serving.py)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "ordersight.asgi:application",
        "--host",
        host,
        "--port",
        port,
        # httptools parses HTTP in C (h11, uvicorn's fallback, in Python); the class sets
        # TCP_NODELAY. uvloop where it is installed (Linux and macOS), else asyncio's loop.
        "--http",
        "ordersight.serving:HttpProtocol",
        "--loop",
        "auto",
        # A failure at start (the URLconf loaded in the lifespan, see serving.py) stops the
        # worker instead of being logged as "lifespan unsupported" and passed over.
        "--lifespan",
        "on",
        *extra,
    ]


def worker_commands() -> list[list[str]]:
    """The worker processes: the Huey consumer, and with SALES_FIGURES = "after-commit" the
    one that keeps the sales figures up to date (`keep_figures`)."""
    from django.conf import settings

    commands = [[sys.executable, "-m", "ordersight", "run_huey"]]
    if settings.SALES_FIGURES == "after-commit":
        commands.append([sys.executable, "-m", "ordersight", "keep_figures"])
    return commands


def supervise(commands: Sequence[Sequence[str]], out: TextIO) -> int:
    """Start every command; when one exits or we are told to stop, stop them all.

    Returns 0 when stopped on request, 1 when a process exited by itself with an error.
    """
    processes = [subprocess.Popen(list(command)) for command in commands]

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    # Ctrl-C as well as SIGTERM, whatever was inherited: a process started in the
    # background by a shell without job control begins with SIGINT ignored, and then Python
    # raises no KeyboardInterrupt, so Ctrl-C would leave both processes running.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [" ".join(p.args[2:4]) for p in processes if p.returncode not in (0, None, -15)]
    if failed:
        out.write(f"stopped: {', '.join(failed)} exited with an error\n")
        return 1
    return 0
