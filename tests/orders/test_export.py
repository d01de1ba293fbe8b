"""CSV export of orders: same filters as the list, streamed, formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from ordersight.core.bidi import replace_bidi_controls
from ordersight.core.csv_stream import needs_neutralising, neutralised
from ordersight.orders.models import Order
from ordersight.orders.selectors import ORDER_EXPORT_COLUMNS
from tests import factories


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_every_column_and_money_in_minor_units(api, catalog, customer):
    api.post(
        "orders",
        {
            "customer_id": customer.pk,
            "metadata": {"k": "v"},
            "lines": [{"sku": "TEE-M", "quantity": 2}, {"sku": "TEE-L"}],
        },
    )
    api.post("orders", {"currency": "JPY", "lines": [{"name": "Tea", "unit_price": "4500"}]})
    rows = _csv(api.get("orders/export.csv"))
    assert list(rows[0]) == list(ORDER_EXPORT_COLUMNS)
    jpy, eur = rows
    assert (jpy["currency"], jpy["total"]) == ("JPY", "4500")
    assert (eur["subtotal"], eur["total"], eur["line_count"]) == ("61.30", "61.30", "2")
    assert (eur["sku"], eur["offer_number"], eur["category_number"]) == ("TEE-M", "101", "10")
    assert eur["customer_email"] == "ada@example.com"
    assert eur["created_at"].endswith("Z") and "T" in eur["created_at"]
    assert '"k"' in eur["metadata"]


def test_export_uses_the_list_filters(api, catalog):
    keep = factories.OrderFactory(status="completed")
    factories.OrderFactory(status="open")
    rows = _csv(api.get("orders/export.csv", status="completed"))
    assert [int(r["number"]) for r in rows] == [keep.number]


def test_cells_that_start_a_formula_are_neutralised(api, catalog):
    evil = factories.CustomerFactory(name='=HYPERLINK("http://x")', email="@a.b")
    factories.OrderFactory(customer=evil, notes="+1+1", external_id="-2")
    factories.OrderFactory(notes="plain")
    rows = _csv(api.get("orders/export.csv"))
    by_notes = {r["notes"]: r for r in rows}
    row = by_notes["'+1+1"]
    assert row["customer_name"].startswith("'=")
    assert row["customer_email"] == "'@a.b"
    assert row["external_id"] == "'-2"
    assert "plain" in by_notes


def test_formula_in_a_line_name_is_neutralised(api, db):
    api.post("orders", {"currency": "EUR", "lines": [{"name": "=cmd|x", "unit_price": "1.00"}]})
    assert _csv(api.get("orders/export.csv"))[0]["item"] == "'=cmd|x"


def test_export_streams_in_chunks(api, db):
    for _ in range(60):
        factories.OrderFactory(notes="n" * 2000)
    response = api.get("orders/export.csv")
    chunks = list(response.streaming_content)
    assert len(chunks) > 2  # header, then bounded chunks rather than one body in memory
    assert max(len(c) for c in chunks) < 200_000


def test_viewer_session_can_export(client, roles, db):
    viewer = factories.UserFactory(username="vera")
    viewer.groups.add(roles["Viewer"])
    client.force_login(viewer)
    factories.OrderFactory()
    assert len(_csv(client.get("/api/v1/orders/export.csv"))) == 1


def test_export_sql_survives_query_logging(api, catalog):
    # Query logging (DEBUG, debug toolbars) re-formats the SQL with its parameters.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.post("orders", {"lines": [{"sku": "TEE-M"}]})
    with CaptureQueriesContext(connection):
        rows = _csv(api.get("orders/export.csv"))
    assert rows[0]["total"] == "19.90" and rows[0]["created_at"].endswith("Z")


HOSTILE = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\tx",
    "\rx",
    " =cmd|' /C calc'!A0",
    '\n=HYPERLINK("http://x")',
    "\u00a0=1+1",
    "\u3000+1",
    "\uff1d1+1",
    "\uff20SUM(A1)",
    "  \t @x",
]
HARMLESS = ["a=b", "it's fine", "", "   ", "1-2", "x\r=1"]


@pytest.mark.parametrize("notes", HOSTILE + HARMLESS)
def test_neutralisation_by_the_first_non_blank_character(db, notes):
    order = factories.OrderFactory(notes=notes)
    safe = Order.objects.annotate(safe=neutralised("notes")).get(pk=order.pk).safe
    expected = "'" + notes if needs_neutralising(notes) else notes
    assert safe == expected
    assert needs_neutralising(notes) == (notes in HOSTILE)


def test_hostile_cells_stay_in_their_row_and_column(api, db):
    cells = [*HOSTILE, "line one\rline two", 'quote " inside', "comma, inside"]
    for i, notes in enumerate(cells):
        factories.OrderFactory(notes=notes, external_id=f"x{i}")
    body = b"".join(api.get("orders/export.csv").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    header, data = rows[0], rows[1:]
    assert len(data) == len(cells)
    notes_at = header.index("notes")
    exported = {row[header.index("external_id")]: row[notes_at] for row in data}
    for i, notes in enumerate(cells):
        cell = exported[f"x{i}"]
        assert cell == ("'" + notes if needs_neutralising(notes) else notes)
        assert not needs_neutralising(cell)
        assert all(len(row) == len(header) for row in data)


def test_every_field_is_quoted_so_a_bare_cr_cannot_split_a_row(api, db):
    factories.OrderFactory(notes="a\rb")
    body = b"".join(api.get("orders/export.csv").streaming_content).decode()
    lines = body.split("\n")
    assert lines[0].startswith('"number","created_at"')
    assert lines[1].startswith('"') and '"a\rb"' in lines[1]


BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize("control", BIDI)
def test_bidi_controls_are_replaced_in_export_cells_as_python_replaces_them(db, control):
    notes = f"=pay{control}fdp.exe{control}"
    order = factories.OrderFactory(notes=notes)
    safe = Order.objects.annotate(safe=neutralised("notes")).get(pk=order.pk).safe
    assert safe == "'" + replace_bidi_controls(notes) == "'=pay\ufffdfdp.exe\ufffd"
    # Direction marks are text in their own right and stay.
    marked = factories.OrderFactory(notes="\u05e9\u05e8\u05d4\u200f")
    assert Order.objects.annotate(safe=neutralised("notes")).get(pk=marked.pk).safe == marked.notes


def test_a_stored_bidi_control_is_neutralised_in_every_export_path(api, admin_client, db):
    # Stored before input refused it: the exports must not hand it to a spreadsheet.
    customer = factories.CustomerFactory(name="Eve\u202egpj.exe", email="eve@example.com")
    factories.OrderFactory(customer=customer, notes="invoice\u202efdp.exe", lead_item="Tee\u2067")
    for response in (
        api.get("orders/export.csv"),
        admin_client.get("/orders/export.csv"),
        api.get("customers/export.csv"),
        admin_client.get("/customers/export.csv"),
    ):
        body = b"".join(response.streaming_content).decode()
        assert not any(control in body for control in BIDI)
        assert "Eve\ufffdgpj.exe" in body
