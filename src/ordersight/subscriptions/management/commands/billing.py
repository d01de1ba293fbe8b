"""`ordersight billing run [--at ISO-TIME]`: one billing pass, e.g. to catch up after an outage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ordersight.core.heap import settle_for_batches
from ordersight.subscriptions.billing import billing_pass


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at: {text!r} is not an ISO time (e.g. 2026-03-01T09:00)") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Recurring billing: `run` charges every due payment and retry as of a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run"])
        parser.add_argument(
            "--at",
            type=_moment,
            default=None,
            help="Run as of this time (ISO 8601, UTC when no zone is given); default now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        at = options["at"] or timezone.now()
        settle_for_batches()
        report = billing_pass(at=at)
        for outcome in report.outcomes:
            self.stdout.write(outcome.describe())
        self.stdout.write(f"Billing pass as of {at.isoformat()}: {report.summary()}.")
