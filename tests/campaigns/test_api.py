"""The campaigns API: setup, bad input, conversions, approval, exports, removed creators."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from ordersight.campaigns import services
from ordersight.campaigns.models import Campaign, Conversion, Creator, CreatorCode, Membership
from tests import factories
from tests.campaigns.conftest import SYSTEM, pay, place

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_a_campaign_is_set_up_through_the_api(api, catalog):
    r = api.post("creators", {"name": "Anna", "handle": "@Anna.Cooks", "payout": {"iban": "X"}})
    assert r.status_code == 201, r.content
    assert r.json()["handle"] == "anna.cooks"
    r = api.post(
        "campaigns",
        {
            "name": "Spring",
            "starts_on": "2026-01-01",
            "commission_kind": "percent",
            "commission_percent": "12.5",
        },
    )
    assert r.status_code == 201, r.content
    campaign = r.json()["id"]
    r = api.post(
        f"campaigns/{campaign}/members",
        {"creator": "anna.cooks", "coupon_codes": ["anna"], "link_codes": ["anna-ig"]},
    )
    assert r.status_code == 201, r.content
    member = r.json()["members"][0]
    assert (member["coupon_codes"], member["link_codes"]) == (["ANNA"], ["ANNA-IG"])
    assert r.json()["commission_percent"] == "12.5"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"commission_kind": "percent"}, "commission_percent"),
        ({"commission_kind": "percent", "commission_percent": "0"}, "commission_percent"),
        ({"commission_kind": "percent", "commission_percent": "101"}, "commission_percent"),
        ({"commission_kind": "fixed"}, "fixed_commissions"),
        ({"commission_kind": "fixed", "fixed_commissions": {"XXX": "1"}}, "fixed_commissions.XXX"),
        ({"commission_kind": "fixed", "fixed_commissions": {"EUR": "-1"}}, "fixed_commissions.EUR"),
        (
            {"commission_kind": "fixed", "fixed_commissions": {"JPY": "1.5"}},
            "fixed_commissions.JPY",
        ),
        (
            {"commission_kind": "percent", "commission_percent": "5", "ends_on": "2025-12-31"},
            "ends_on",
        ),
        ({"commission_kind": "percent", "commission_percent": "5", "name": " "}, "name"),
    ],
)
def test_a_bad_campaign_is_refused_naming_the_field(api, body, field):
    r = api.post("campaigns", {"name": "X", "starts_on": "2026-01-01", **body})
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_on": "2025-12-31"}, "ends_on"),  # Flat starts on 2026-01-01
        ({"starts_on": "2027-01-01"}, "starts_on"),  # Flat ends on 2026-12-31
    ],
)
def test_a_date_that_does_not_fit_the_campaigns_other_date_is_a_conflict(api, world, body, field):
    flat = world["flat"]
    r = api.patch(f"campaigns/{flat.pk}", body)
    assert r.status_code == 409, r.content
    assert field in r.json()["error"]["fields"]
    flat.refresh_from_db()
    assert (flat.starts_on, flat.ends_on) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_on": "2026-06-01", "ends_on": "2026-05-31"}, "ends_on"),
        ({"name": None}, "name"),
        ({"starts_on": None}, "starts_on"),
        ({"commission_kind": None}, "commission_kind"),
        ({"commission_kind": "percent", "commission_percent": "0"}, "commission_percent"),
        ({"commission_kind": "percent", "commission_percent": None}, "commission_percent"),
        ({"commission_kind": "percent"}, "commission_percent"),
        ({"fixed_commissions": {"EUR": "0"}}, "fixed_commissions.EUR"),
    ],
)
def test_a_bad_change_of_a_campaign_is_refused_naming_the_field(api, world, body, field):
    flat = world["flat"]
    r = api.patch(f"campaigns/{flat.pk}", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    flat.refresh_from_db()
    assert (flat.name, flat.commission_kind, flat.ends_on) == ("Flat", "fixed", date(2026, 12, 31))


def test_bad_creators_and_codes_are_refused_and_nothing_changes(api, world):
    assert api.post("creators", {"name": "X", "handle": "no spaces"}).status_code == 422
    r = api.post("creators", {"name": "X", "handle": "anna"})
    assert r.status_code == 409 and "handle" in r.json()["error"]["fields"]
    r = api.post("creators", {"name": "X", "handle": "x", "email": "nope"})
    assert r.json()["error"]["fields"] == {"email": "invalid email"}
    spring = world["spring"].pk
    r = api.post(f"campaigns/{spring}/members", {"creator": "cleo", "coupon_codes": ["BEN"]})
    assert r.status_code == 409 and "coupon_codes" in r.json()["error"]["fields"]
    # The refused code rolled the membership back with it.
    assert not Membership.objects.filter(campaign=spring, creator=world["cleo"]).exists()
    r = api.post(f"campaigns/{spring}/members", {"creator": "cleo", "coupon_codes": ["bad code"]})
    assert r.status_code == 422
    r = api.post(f"campaigns/{spring}/members", {"creator": "nobody"})
    assert r.status_code == 404 and r.json()["error"]["fields"] == {"handle": "not found"}
    assert CreatorCode.objects.count() == 4
    r = api.request("delete", f"campaigns/{spring}/members/cleo")
    assert r.status_code == 409


def test_an_order_placed_with_a_code_is_a_conversion_listed_live(api, world, bank):
    r = api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": 2}], "coupon_code": "anna10"})
    assert r.status_code == 201, r.content
    assert r.json()["coupon_code"] == "ANNA10"
    number = r.json()["number"]
    spring = world["spring"].pk
    [row] = api.get(f"campaigns/{spring}/conversions").json()["items"]
    assert (row["order"], row["creator"], row["status"], row["commission"]) == (
        number,
        "anna",
        "pending",
        "0.00",
    )
    r = api.post(f"orders/{number}/payments/manual", {"payment_system": "bank"})
    assert r.status_code == 201, r.content
    [row] = api.get(f"campaigns/{spring}/conversions").json()["items"]
    assert (row["status"], row["commission"], row["approval"]) == ("paid", "3.98", "approved")


def test_a_bad_code_on_an_order_is_refused_naming_it(api, world):
    r = api.post("orders", {"lines": [{"sku": "TEE-M"}], "referral_code": "no spaces!"})
    assert r.status_code == 422
    assert "referral_code" in r.json()["error"]["fields"]


def test_reject_and_undo_through_the_api(api, world, bank):
    conversion = Conversion.objects.get(order=pay(place(coupon="ANNA10"), bank))
    r = api.post(f"conversions/{conversion.pk}/reject", {"reason": "self-referral"})
    assert r.status_code == 200, r.content
    assert r.json()["approval"] == "rejected"
    assert r.json()["history"][-1]["payload"] == {"reason": "self-referral"}
    anna = api.get("creators/anna").json()
    assert anna["totals"][0]["commission"] == "0.00"
    assert api.post(f"conversions/{conversion.pk}/reject", {}).status_code == 409
    r = api.post(f"conversions/{conversion.pk}/undo")
    assert r.json()["approval"] == "approved"
    assert api.get("creators/anna").json()["totals"][0]["commission"] == "1.99"
    assert api.post("conversions/999999/undo").status_code == 404


def test_the_export_holds_exactly_the_selected_rows(api, world, bank):
    chosen = [Conversion.objects.get(order=place(coupon="ANNA10")) for _ in range(3)]
    place(coupon="BEN")
    ids = f"{chosen[0].pk},{chosen[2].pk}"
    r = api.get(f"campaigns/{world['spring'].pk}/conversions/export.csv", ids=ids)
    assert r.status_code == 200
    rows = _csv(r)
    assert sorted(int(row["conversion_id"]) for row in rows) == [chosen[0].pk, chosen[2].pk]
    assert {row["campaign_name"] for row in rows} == {"Spring"}
    r = api.get(f"campaigns/{world['spring'].pk}/conversions/export.csv", ids="1,x")
    assert r.status_code == 422 and "ids" in r.json()["error"]["fields"]


def test_a_removed_creator_is_hidden_in_the_campaign_and_counted_globally(api, world, bank):
    pay(place(coupon="ANNA10"), bank)
    pay(place(coupon="BEN"), bank)
    spring = world["spring"].pk
    r = api.request("delete", f"campaigns/{spring}/members/ben")
    assert r.status_code == 200, r.content
    assert [m["creator"] for m in r.json()["members"]] == ["anna"]
    assert r.json()["totals"][0]["sales"] == 1
    listed = api.get(f"campaigns/{spring}/conversions").json()["items"]
    assert [row["creator"] for row in listed] == ["anna"]
    generated = api.get("sales-generated", **{"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert generated["totals"][0]["sales"] == 2
    assert "removed" in generated["note"]
    # Their code no longer attributes new orders.
    place(coupon="BEN", at=timezone.now())
    assert Conversion.objects.filter(creator=world["ben"]).count() == 1
    assert len(api.get("conversions").json()["items"]) == 2


def test_the_all_sales_download_has_a_campaign_name_column(api, world, bank):
    pay(place(coupon="ANNA10"), bank)
    pay(place(coupon="CLEO"), bank)
    pay(place(), bank)  # a sale without a creator
    place(coupon="BEN")  # not paid: not a sale
    span = {"from": "2026-03-01", "to": "2026-03-31"}
    rows = _csv(api.get("sales-generated/export.csv", **span))
    assert sorted(row["campaign_name"] for row in rows) == ["Flat", "Spring"]
    store = _csv(api.get("sales-generated/export.csv", scope="store", **span))
    assert sorted(row["campaign_name"] for row in store) == ["", "Flat", "Spring"]
    assert (
        _csv(api.get("sales-generated/export.csv", **{"from": "2026-04-01", "to": "2026-04-30"}))
        == []
    )
    r = api.get("sales-generated/export.csv", **{"from": "2026-03-01"})
    assert r.status_code == 422 and "to" in r.json()["error"]["fields"]


def test_the_all_sales_download_is_one_list_for_the_api_and_the_page(api, roles, world, bank):
    first = pay(place(coupon="ANNA10"), bank)
    second = pay(place(coupon="CLEO"), bank)
    span = {"from": "2026-03-01", "to": "2026-03-31"}
    web = factories.signed_in(roles, "Admin", "alice")
    for scope in ("campaigns", "store"):
        from_api = api.get("sales-generated/export.csv", scope=scope, **span)
        from_page = web.get("/campaigns/sales.csv", {"scope": scope, **span})
        assert from_api["Content-Disposition"] == (
            'attachment; filename="sales-2026-03-01-2026-03-31.csv"'
        )
        assert from_page["Content-Disposition"] == from_api["Content-Disposition"]
        rows = _csv(from_api)
        assert rows == _csv(from_page)
        # Oldest first, as placed.
        assert [row["order_number"] for row in rows] == [str(first.number), str(second.number)]


def test_changing_the_rule_through_the_api_recomputes_commissions(api, world, bank):
    pay(place("TEE-M", 2, coupon="CLEO"), bank)
    r = api.patch(
        f"campaigns/{world['flat'].pk}",
        {"commission_kind": "percent", "commission_percent": "50"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["totals"][0]["commission"] == "19.90"
    assert Creator.objects.get(handle="cleo").commissions.get().commission == Decimal("19.90")


def test_the_detailed_report_breaks_creator_sales_down_by_campaign_and_creator(api, world, bank):
    from ordersight.payments.models import Invoice
    from ordersight.payments.services import refund_invoice
    from tests.campaigns.conftest import SYSTEM

    pay(place("TEE-M", 2, coupon="ANNA10"), bank)  # 39.80 → 3.98
    refunded = pay(place("TEE-L", coupon="ANNA10"), bank)  # 21.50, 11.50 refunded → 1.00
    refund_invoice(
        invoice=Invoice.objects.get(order=refunded), amount=Decimal("11.50"), actor=SYSTEM
    )
    rejected = pay(place(coupon="BEN"), bank)
    pay(place(coupon="CLEO"), bank)  # 5.00 fixed
    pay(place(), bank)  # no creator: not in these breakdowns
    from ordersight.campaigns import services

    services.reject_conversion(conversion=Conversion.objects.get(order=rejected), actor=SYSTEM)
    span = {"from": "2026-03-01", "to": "2026-03-31"}
    report = api.get("reports/sales", group_by="creator", sort="-commission", **span).json()
    rows = [(r["key"], r["orders"], r["net"], r["commission"]) for r in report["rows"]]
    assert rows == [("cleo", 1, "19.90", "5.00"), ("anna", 2, "49.80", "4.98")]
    assert report["totals"][0]["commission"] == "9.98"
    assert report["totals"][0]["orders"] == 3
    by_campaign = api.get("reports/sales", group_by="campaign", **span).json()
    labels = {r["label"]: (r["net"], r["commission"]) for r in by_campaign["rows"]}
    assert labels == {"Spring": ("49.80", "4.98"), "Flat": ("19.90", "5.00")}
    r = api.get("reports/sales.csv", group_by="campaign", **span)
    body = b"".join(r.streaming_content).decode() if r.streaming else r.content.decode()
    header = body.splitlines()[0]
    assert '"commission"' in header and '"net"' in header
    compared = api.get("reports/sales", group_by="creator", compare="true", **span).json()
    assert compared["rows"][0]["previous"] is None


def test_creators_come_in_keyset_pages_searched_sorted_and_as_csv(api, db):
    for name, handle in [("Dora", "dora"), ("Anna", "anna.cooks"), ("Cleo", "cleo"), ("Ben", "b")]:
        assert api.post("creators", {"name": name, "handle": handle}).status_code == 201
    first = api.get("creators", limit=3).json()
    assert [c["name"] for c in first["items"]] == ["Anna", "Ben", "Cleo"]
    rest = api.get("creators", limit=3, cursor=first["next_cursor"]).json()
    assert [c["name"] for c in rest["items"]] == ["Dora"] and rest["next_cursor"] is None
    assert [c["handle"] for c in api.get("creators", q="@Anna").json()["items"]] == ["anna.cooks"]
    assert [c["name"] for c in api.get("creators", q="o").json()["items"]] == [
        "Anna",  # anna.cooks
        "Cleo",
        "Dora",
    ]
    by_handle = api.get("creators", sort="-handle").json()["items"]
    assert [c["handle"] for c in by_handle] == ["dora", "cleo", "b", "anna.cooks"]
    export = api.get("creators/export.csv", sort="-handle")
    assert export["Content-Disposition"] == 'attachment; filename="creators.csv"'
    rows = _csv(export)
    assert [row["handle"] for row in rows] == ["dora", "cleo", "b", "anna.cooks"]
    assert set(rows[0]) == {"id", "name", "handle", "email", "created_at"}  # no payout


def test_a_creator_cannot_take_the_address_of_the_export(api, db):
    r = api.post("creators", {"name": "X", "handle": "Export.CSV"})
    assert r.status_code == 422 and "handle" in r.json()["error"]["fields"]
    assert not Creator.objects.exists()


def test_a_bad_filter_of_creators_is_refused_by_name(api, db):
    r = api.get("creators", sort="payout")
    assert r.status_code == 422 and "sort" in r.content.decode()
    r = api.get("creators", colour="red")
    assert r.status_code == 422 and "colour" in r.json()["error"]["fields"]


def test_campaigns_come_in_keyset_pages_filtered_sorted_and_as_csv(api, world):
    autumn = services.create_campaign(
        name="Autumn",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 9, 30),
        commission_kind="percent",
        commission_percent="12.5",
        actor=SYSTEM,
    )
    first = api.get("campaigns", limit=1).json()
    assert [c["name"] for c in first["items"]] == ["Autumn"]  # the latest to start first
    rest = api.get("campaigns", limit=5, cursor=first["next_cursor"]).json()
    assert sorted(c["name"] for c in rest["items"]) == ["Flat", "Spring"]
    assert rest["next_cursor"] is None
    by_members = api.get("campaigns", sort="-member_count").json()["items"]
    assert [c["name"] for c in by_members] == ["Spring", "Flat", "Autumn"]  # 2, 1, 0 members
    assert [c["name"] for c in api.get("campaigns", q="pri").json()["items"]] == ["Spring"]
    running = api.get("campaigns", running_on="2026-09-15", sort="name").json()["items"]
    assert [c["name"] for c in running] == ["Autumn", "Flat", "Spring"]
    assert api.get("campaigns", running_on="2027-01-02").json()["items"][0]["name"] == "Spring"
    export = api.get("campaigns/export.csv", sort="name")
    assert export["Content-Disposition"] == 'attachment; filename="campaigns.csv"'
    rows = _csv(export)
    assert [row["name"] for row in rows] == ["Autumn", "Flat", "Spring"]
    assert rows[0] == {
        "id": str(autumn.pk),
        "name": "Autumn",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "commission_kind": "percent",
        "commission_percent": "12.5000",
        "members": "0",
    }
    assert rows[1]["commission_percent"] == "" and rows[2]["ends_on"] == ""
    r = api.get("campaigns", running_on="someday")
    assert r.status_code == 422 and "running_on" in r.json()["error"]["fields"]
