"""The reports' migrations on an install that already holds orders."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ordersight.reports.models import ReportedOrder, SalesRollup
from tests.reports.conftest import raw_figures, stored_figures

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("reports", "0003_customer_sales_index")


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_an_install_whose_sales_came_before_the_reports_gets_them_counted(march):
    expected = raw_figures()
    assert expected and stored_figures() == expected
    # As an install from before the reports app: sales, no kept sales, no rollups.
    ReportedOrder.objects.all().delete()
    SalesRollup.objects.all().delete()
    _migrate(BEFORE)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("reports")[0]
    _migrate(latest)
    assert stored_figures() == expected
