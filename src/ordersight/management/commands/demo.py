"""`ordersight demo`: migrate, load demo data, print the login, run web server and worker."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from ordersight.accounts.roles import OWNER
from ordersight.demo import MANAGERS, ORDER_COUNT, feed_folder, load_demo_data
from ordersight.management.processes import supervise, uvicorn_command, worker_commands

OWNER_USERNAME = "owner"
DEMO_QUOTE_URL = "https://shop.example/account/quotes/{external_id}"


def ensure_owner() -> tuple[str, str]:
    """The demo owner's login; the password is made once and kept in the data directory."""
    login_file = settings.DATA_DIR / "demo-login.txt"
    User = get_user_model()
    user = User.objects.filter(username=OWNER_USERNAME).first()
    password = login_file.read_text().strip() if login_file.exists() else ""
    if user is None or not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser(OWNER_USERNAME, "owner@example.com", password)
        else:
            user.set_password(password)
            user.save()
        login_file.write_text(password + "\n")
        login_file.chmod(0o600)
    user.groups.add(Group.objects.get(name=OWNER))
    return OWNER_USERNAME, password


def ensure_manager_logins(password: str) -> list[str]:
    """The demo's sales managers sign in with the owner's password, so the Sales manager
    role can be tried, and the users page shows them as people who have signed up, not as
    invitations nobody answered."""
    managers = get_user_model().objects.filter(username__in=[m[0] for m in MANAGERS])
    for manager in managers:
        if not manager.check_password(password):
            manager.set_password(password)
            manager.save(update_fields=["password"])
    return sorted(manager.username for manager in managers)


class Command(BaseCommand):
    help = "Prepare the embedded demo and run the web server and the worker until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare only")
        parser.add_argument(
            "--orders",
            type=int,
            default=ORDER_COUNT,
            help="how many demo orders to load (first run only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo's quotes link to an example storefront (the web process inherits this).
        os.environ.setdefault("STOREFRONT_QUOTE_URL", DEMO_QUOTE_URL)
        # The demo store's feeds are files: the web server (Refresh) and the worker (every
        # hour) read them below this folder unless the operator named another.
        os.environ.setdefault("SYNC_FILE_ROOT", str(feed_folder().parent))
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        summary = load_demo_data(order_count=options["orders"])
        self.stdout.write(
            "Demo data already loaded."
            if summary.skipped
            else f"Loaded demo data: {summary.created} orders."
        )
        username, password = ensure_owner()
        managers = ensure_manager_logins(password)
        base = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nordersight is ready at {base}\n"
                f"  sign in:  {base}/login/  user {username}  password {password}\n"
                f"  sales managers {', '.join(managers)} sign in with the same password\n"
                f"  API docs: {base}/api/docs\n"
            )
        )
        if options["no_serve"]:
            return
        self._serve(options["host"], options["port"])

    def _serve(self, host: str, port: str) -> None:
        self.stdout.write("Web server and worker running; Ctrl-C stops both.")
        commands = [uvicorn_command(host, port, ["--log-level", "warning"]), *worker_commands()]
        supervise(commands, self.stderr)
