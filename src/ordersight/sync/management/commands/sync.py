"""`ordersight sync run CONNECTION [--full] [--feed KIND]`: refresh a store's feeds from the
shell, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordersight.core.errors import Conflict
from ordersight.sync.models import FeedKind, StoreConnection, SyncRun
from ordersight.sync.services import feeds_of, run_feed

BAR = 30


def _bar(run: SyncRun) -> str:
    done, expected = run.received, run.expected
    if not expected:
        return f"{done:,} received"
    filled = min(BAR, BAR * done // expected)
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {done:,} / {expected:,}"


class Command(BaseCommand):
    help = "Store sync: `run CONNECTION` refreshes its feeds (what changed; --full: everything)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run"])
        parser.add_argument("connection", help="The store connection's name")
        parser.add_argument("--full", action="store_true", help="Resync everything")
        parser.add_argument("--feed", choices=FeedKind.values, help="Only this feed")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = StoreConnection.objects.filter(name=options["connection"]).first()
        if connection is None:
            names = ", ".join(StoreConnection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(
                f"No store connection {options['connection']!r} (there are: {names})."
            )
        feeds = feeds_of(connection=connection)
        failed = False
        interactive = self.stdout.isatty()
        for kind in [options["feed"]] if options["feed"] else list(FeedKind.values):

            def progress(run: SyncRun, kind: str = kind) -> None:
                if interactive:
                    self.stdout.write(f"\r{kind:<9} {_bar(run)}", ending="")

            try:
                run = run_feed(feed=feeds[kind], full=options["full"], progress=progress)
            except Conflict as exc:
                self.stdout.write(f"{kind:<9} skipped: {exc.message}")
                continue
            if interactive:
                self.stdout.write("")
            self.stdout.write(
                f"{kind:<9} {run.status}: {run.received:,} received, {run.created:,} created, "
                f"{run.updated:,} updated, {run.skipped:,} skipped, {run.errors:,} errors"
                + (f" — {run.message}" if run.message else "")
            )
            failed = failed or run.status == "failed"
        if failed:
            raise CommandError("A feed failed; see above.")
