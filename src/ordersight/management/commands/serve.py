"""`ordersight serve`: the production server, from the environment alone.

Migrates, collects static files, checks the deployment settings, then runs N uvicorn
workers and the Huey consumer until SIGTERM. Refuses to run with DEBUG on.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ordersight.management.processes import supervise, uvicorn_command, worker_commands


class Command(BaseCommand):
    help = "Run ordersight in production: migrate, collect static files, web workers, worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", 2)),
            help="uvicorn worker processes (WEB_CONCURRENCY)",
        )
        parser.add_argument("--no-worker", action="store_true", help="run no Huey consumer")
        parser.add_argument("--no-migrate", action="store_true", help="skip migrations")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError(
                "ordersight serve is the production server: set DEBUG=0 and SECRET_KEY "
                "(use `ordersight demo` for the embedded demo)."
            )
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if connection.vendor == "sqlite" and options["workers"] > 1:
            # Live updates travel inside one process on SQLite (core/live.py), and SQLite
            # has one writer at a time anyway: more web processes would only split pages
            # from the changes they should show.
            raise CommandError(
                "SQLite serves one web worker (--workers 1); set DATABASE_URL to PostgreSQL "
                "for more."
            )
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        # Errors stop the start; warnings are printed for the operator to read.
        call_command("check", deploy=True)
        extra = ["--workers", str(options["workers"]), "--log-level", "info", "--no-server-header"]
        forwarded = os.environ.get("FORWARDED_ALLOW_IPS")
        if forwarded:
            # Trust X-Forwarded-For/-Proto only from the proxy's addresses.
            extra += ["--proxy-headers", "--forwarded-allow-ips", forwarded]
        commands = [uvicorn_command(options["host"], options["port"], extra)]
        if not options["no_worker"]:
            commands += worker_commands()
        worker = "" if options["no_worker"] else " and the worker"
        self.stdout.write(
            f"ordersight serving on http://{options['host']}:{options['port']} with "
            f"{options['workers']} web worker(s){worker}."
        )
        raise SystemExit(supervise(commands, self.stderr))
