"""`ordersight seed_demo`: load the deterministic demo data set (once)."""

from typing import Any

from django.core.management.base import BaseCommand

from ordersight.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo data set; running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        summary = load_demo_data()
        if summary.skipped:
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(f"Loaded demo data: {summary.created} orders.")
