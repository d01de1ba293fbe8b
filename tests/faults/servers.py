"""Private PostgreSQL and Redis servers on free ports, to kill, pause and restart in tests.

Each runs in a process group of its own, so a signal reaches the server and all its children
(PostgreSQL's backends included) at once. PostgreSQL refuses to run as root: under root the
cluster belongs to the `postgres` user that Debian's PostgreSQL packages create.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, within: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {within} s")


class _Server:
    """A server process in its own process group: start, pause, resume, kill, restart."""

    port: int
    process: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_user(self) -> str | None:
        return None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._command(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=self._popen_user(),
        )
        wait_for_port(self.port, within=30, process=self.process)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)
        for pid in _children(self.process.pid):
            # PostgreSQL's backends each start a session of their own, outside the group.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """Die at once, as in a crash: no shutdown, every child too."""
        self._signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.kill()


class PrivatePostgres(_Server):
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        # Under root the data directory must be the postgres user's, outside root's own
        # (unreadable to others) temporary directories.
        self.dir = Path(tempfile.mkdtemp(prefix="ordersight-pg-"))
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.data = self.dir / "data"
        self.log = open(root / "postgres.log", "ab")  # noqa: SIM115 - closed in stop()
        subprocess.run(
            [
                *(_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"),
                *("-E", "UTF8", "--no-sync", "--no-instructions"),
            ],
            check=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            user=self.user,
            cwd=self.dir,
        )

    def _popen_user(self) -> str | None:
        return self.user

    def _command(self) -> list[str]:
        return [
            _binary("postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            # A killed server loses nothing the kernel already holds; this only skips the
            # flushes to disk that no test needs.
            "-c",
            "fsync=off",
            "-c",
            "max_connections=50",
        ]

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def remove(self) -> None:
        self.stop()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis(_Server):
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.log = open(root / "redis.log", "ab")  # noqa: SIM115 - closed in remove()

    def _command(self) -> list[str]:
        return [
            _binary("redis-server"),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def remove(self) -> None:
        self.stop()
        self.log.close()


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid ...": the name may hold spaces, so split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _binary(name: str) -> str:
    # Debian keeps the server's programs beside its version, off the PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), *map(str, _debian_pg_bins())])
    found = shutil.which(name, path=path)
    if not found:
        raise RuntimeError(f"{name} is not installed")
    return found


def _debian_pg_bins() -> list[Path]:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
