"""The promotions API: segments with counts and members, codes, validate, redeem, history."""

from __future__ import annotations

import csv
import io

import pytest

from ordersight.promotions.models import DiscountCode, Redemption, Segment
from tests import factories
from tests.promotions.conftest import pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyers(catalog, bank):
    """Five customers with 0 to 4 paid orders each (19.90 EUR apiece)."""
    people = [factories.CustomerFactory(name=f"Buyer {n}") for n in range(5)]
    for n, person in enumerate(people):
        for _ in range(n):
            pay(place(customer=person), bank)
    return people


def test_the_issues_example_segment_is_created_and_counted(api, buyers):
    rules = {
        "all": [
            {"field": "spent", "currency": "USD", "op": "gt", "value": "1000000.00"},
            {"field": "orders", "op": "gte", "value": 5},
        ]
    }
    r = api.post("segments", {"name": "Whales", "rules": rules})
    assert r.status_code == 201, r.content
    assert r.json()["member_count"] == 0
    r = api.post(
        "segments", {"name": "Regulars", "rules": {"field": "orders", "op": "gte", "value": 2}}
    )
    segment = r.json()["id"]
    assert api.get(f"segments/{segment}").json()["member_count"] == 3
    count = api.post("segments/count", {"rules": {"field": "orders", "op": "gte", "value": 4}})
    assert count.json() == {"member_count": 1}


def test_members_come_in_keyset_pages_and_as_csv(api, buyers):
    segment = api.post(
        "segments", {"name": "Any buyer", "rules": {"field": "orders", "op": "gte", "value": 1}}
    ).json()["id"]
    first = api.get(f"segments/{segment}/members", limit=3).json()
    second = api.get(f"segments/{segment}/members", limit=3, cursor=first["next_cursor"]).json()
    names = [m["name"] for m in first["items"] + second["items"]]
    assert names == ["Buyer 4", "Buyer 3", "Buyer 2", "Buyer 1"]
    assert second["next_cursor"] is None
    assert first["items"][0]["orders"] == 4 and first["items"][0]["last_order_amount"] == "19.90"
    r = api.get(f"segments/{segment}/members.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert sorted(row["orders"] for row in rows) == ["1", "2", "3", "4"]


def test_members_page_api_and_csv_share_one_list_and_its_sort(api, roles, buyers):
    staff_client = factories.signed_in(roles, "Admin", "alice")
    segment = api.post(
        "segments", {"name": "Two or more", "rules": {"field": "orders", "op": "gte", "value": 2}}
    ).json()["id"]
    other = api.post(
        "segments", {"name": "Everyone", "rules": {"field": "orders", "op": "gte", "value": 0}}
    ).json()["id"]
    newest_first = ["Buyer 4", "Buyer 3", "Buyer 2"]

    def csv_names(response) -> list[str]:
        assert response.status_code == 200, response.content
        text = b"".join(response.streaming_content).decode()
        return [row["name"] for row in csv.DictReader(io.StringIO(text))]

    assert [m["name"] for m in api.get(f"segments/{segment}/members").json()["items"]] == (
        newest_first
    )
    assert [
        m["name"] for m in api.get(f"segments/{segment}/members", sort="id").json()["items"]
    ] == newest_first[::-1]
    export = api.get(f"segments/{segment}/members.csv")
    assert export["Content-Disposition"] == f'attachment; filename="segment-{segment}-members.csv"'
    assert csv_names(export) == newest_first
    assert csv_names(api.get(f"segments/{segment}/members.csv", sort="id")) == newest_first[::-1]
    # The segment is the address's: another one named in the query changes nothing.
    widened = api.get(f"segments/{segment}/members", segment=other).json()["items"]
    assert [m["name"] for m in widened] == newest_first
    page = staff_client.get(f"/promotions/segments/{segment}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert [name for name in newest_first if name in html] == newest_first
    assert html.index("Buyer 4") < html.index("Buyer 3") < html.index("Buyer 2")
    assert "Buyer 1" not in html
    assert (
        csv_names(staff_client.get(f"/promotions/segments/{segment}/members.csv")) == newest_first
    )
    oldest_first = staff_client.get(f"/promotions/segments/{segment}/", {"sort": "id"})
    export_link = f'href="/promotions/segments/{segment}/members.csv?sort=id"'
    assert export_link in oldest_first.content.decode()
    refused = staff_client.get(f"/promotions/segments/{segment}/", {"sort": "email"}).content
    assert b'data-testid="filter-errors"' in refused and b"sort" in refused


def test_a_bad_sort_of_members_is_refused_by_name(api, buyers):
    segment = api.post(
        "segments", {"name": "Any buyer", "rules": {"field": "orders", "op": "gte", "value": 1}}
    ).json()["id"]
    r = api.get(f"segments/{segment}/members", sort="email")
    assert r.status_code == 422 and "sort" in r.content.decode()
    r = api.get(f"segments/{segment}/members.csv", sort="name")
    assert r.status_code == 422 and "sort" in r.content.decode()


def test_a_bad_rule_is_a_422_naming_its_path_and_nothing_is_stored(api, db):
    r = api.post(
        "segments",
        {
            "name": "Bad",
            "rules": {
                "all": [
                    {"field": "orders", "op": "gte", "value": 1},
                    {"field": "spent", "op": "gt", "value": "x"},
                ]
            },
        },
    )
    assert r.status_code == 422
    assert "rules.all[1].currency" in r.json()["error"]["fields"]
    assert not Segment.objects.exists()
    r = api.post("segments/count", {"rules": {"any": [{"field": "orders", "op": "gte"}]}})
    assert r.status_code == 422 and "rules.any[0].value" in r.json()["error"]["fields"]


def _nested(levels: int) -> dict:
    rule: dict = {"field": "orders", "op": "gte", "value": 1}
    for _ in range(levels):
        rule = {"all": [rule]}
    return rule


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": " \x1e "}, "name"),
        ({"rules": None}, "rules"),
        ({"rules": _nested(9)}, "rules" + ".all[0]" * 9),
        (
            {"rules": {"any": [{"field": "orders", "op": "gte", "value": n} for n in range(101)]}},
            "rules.any[100]",
        ),
        ({"rules": {"field": "tag", "op": "in", "value": ["vip", " "]}}, "rules.value"),
    ],
)
def test_a_bad_change_of_a_segment_is_refused_naming_the_field(api, db, body, field):
    segment = api.post("segments", {"name": "Buyers", "rules": _nested(8)}).json()
    r = api.patch(f"segments/{segment['id']}", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert api.get(f"segments/{segment['id']}").json() == segment


def test_a_change_of_a_code_that_does_not_fit_what_it_keeps_is_a_409(api, db):
    r = api.post(
        "discount-codes",
        {"code": "WEEK", "kind": "percent", "percent": "10", "starts_at": "2026-03-02T00:00:00Z"},
    )
    assert r.status_code == 201, r.content
    r = api.patch("discount-codes/WEEK", {"ends_at": "2026-03-01T00:00:00Z"})
    assert r.status_code == 409, r.content
    assert "ends_at" in r.json()["error"]["fields"]
    r = api.patch(
        "discount-codes/WEEK",
        {"starts_at": "2026-03-09T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"},
    )
    assert r.status_code == 422 and "ends_at" in r.json()["error"]["fields"]
    assert api.get("discount-codes/WEEK").json()["ends_at"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("discount-codes", {"code": "X", "kind": "percent"}, "percent"),
        ("discount-codes", {"code": "X", "kind": "percent", "percent": "10.00001"}, "percent"),
        (
            "discount-codes",
            {"code": "X", "kind": "fixed", "amounts": {"JPY": "5.5"}},
            "amounts.JPY",
        ),
        ("discount-codes", {"code": "X", "kind": "free_item", "target": None}, "target"),
        (
            "discount-codes",
            {"code": "X", "kind": "free_item", "starts_at": "1969-12-31T23:59:59Z"},
            "starts_at",
        ),
        (
            "discount-codes",
            {"code": "X", "kind": "free_item", "ends_at": "2099-12-31T23:00:00-01:00"},
            "ends_at",
        ),
        ("discount-codes/bulk", {"kind": "free_item", "count": 0}, "count"),
        ("discount-codes/bulk", {"kind": "free_item", "count": 1, "length": 33}, "length"),
        ("discount-codes/bulk", {"kind": "free_item", "count": 1, "prefix": "A" * 33}, "prefix"),
    ],
)
def test_a_bad_code_is_refused_by_the_api_naming_the_field(api, db, path, body, field):
    r = api.post(path, body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert not DiscountCode.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        "2030-01-01T00:00:00+17:00",  # ISO 8601 allows it; PostgreSQL holds no such offset
        "0001-01-01T00:00:00+01:00",  # before the first moment Python holds in UTC
        "9999-12-31T23:59:59-01:00",  # after the last
        "0001-01-01",
    ],
)
def test_a_segment_rule_takes_any_iso_time(api, buyers, value):
    rule = {"field": "last_order_at", "op": "gt", "value": value}
    r = api.post("segments/count", {"rules": rule})
    assert r.status_code == 200, r.content
    expected = 4 if value.startswith("0001") else 0  # four of the buyers have ordered
    assert r.json() == {"member_count": expected}


def test_a_codes_times_are_kept_in_utc_whatever_offset_they_came_with(api, db):
    # ISO 8601 allows offsets up to 23:59; PostgreSQL holds none beyond 15:59.
    r = api.post(
        "discount-codes",
        {
            "code": "FAR",
            "kind": "free_item",
            "starts_at": "2030-01-01T20:00:00+17:30",
            "ends_at": "2030-01-02T00:00:00-23:59",
        },
    )
    assert r.status_code == 201, r.content
    found = DiscountCode.objects.get(code="FAR")
    assert found.starts_at.isoformat() == "2030-01-01T02:30:00+00:00"
    assert found.ends_at.isoformat() == "2030-01-02T23:59:00+00:00"


def test_validate_answers_the_discount_or_every_reason(api, catalog):
    r = api.post(
        "discount-codes",
        {
            "code": "tee20",
            "kind": "percent",
            "percent": "20",
            "rules": {
                "all": [
                    {"type": "order_total", "currency": "EUR", "min": "30"},
                    {"type": "metadata", "key": "channel", "op": "eq", "value": "app"},
                ]
            },
        },
    )
    assert r.status_code == 201, r.content
    ok = api.post(
        "discount-codes/TEE20/validate",
        {"order": {"lines": [{"sku": "TEE-M", "quantity": 2}], "metadata": {"channel": "app"}}},
    ).json()
    assert (ok["valid"], ok["discount"], ok["total_after"]) == (True, "7.96", "31.84")
    bad = api.post("discount-codes/tee20/validate", {"order": {"lines": [{"sku": "TEE-M"}]}}).json()
    assert bad["valid"] is False and bad["discount"] == "0.00"
    assert bad["reasons"] == [
        "the order total 19.90 EUR is below 30.00",
        "metadata channel must be app (it is missing)",
    ]
    r = api.post("discount-codes/TEE20/validate", {"order": {"lines": [{"sku": "NOPE"}]}})
    assert r.status_code == 422 and "order.lines[0].sku" in r.json()["error"]["fields"]
    assert api.post("discount-codes/NONE/validate", {"order": {"lines": []}}).status_code == 404


def test_redeem_through_the_api_and_see_the_history(api, catalog, customer):
    api.post("discount-codes", {"code": "FIVE", "kind": "fixed", "amounts": {"EUR": "5"}})
    number = api.post("orders", {"lines": [{"sku": "TEE-M"}], "customer_id": customer.pk}).json()[
        "number"
    ]
    r = api.post(f"orders/{number}/discount-code", {"code": "five"})
    assert r.status_code == 201, r.content
    assert r.json()["amount"] == "5.00"
    order = api.get(f"orders/{number}").json()
    assert (order["total"], order["discount_total"], order["coupon_code"]) == (
        "14.90",
        "5.00",
        "FIVE",
    )
    history = api.get("redemptions", code="FIVE").json()["items"]
    assert [(h["order"], h["status"]) for h in history] == [(number, "active")]
    again = api.post(f"orders/{number}/discount-code", {"code": "FIVE"})
    assert again.status_code == 409
    api.post(f"orders/{number}/cancel", {})
    assert api.get("redemptions", code="FIVE").json()["items"][0]["status"] == "rolled_back"
    assert api.get("discount-codes/FIVE").json()["redeemed"] == 0


def test_a_code_that_does_not_apply_is_refused_with_its_reasons(api, catalog):
    api.post(
        "discount-codes", {"code": "USED", "kind": "percent", "percent": "5", "is_active": False}
    )
    number = api.post("orders", {"lines": [{"sku": "TEE-M"}]}).json()["number"]
    r = api.post(f"orders/{number}/discount-code", {"code": "USED"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"]["code"] == "the code is not active"
    assert not Redemption.objects.exists()


def test_bulk_generation_and_the_code_list(api, db):
    r = api.post(
        "discount-codes/bulk", {"kind": "percent", "percent": "10", "count": 25, "prefix": "win-"}
    )
    assert r.status_code == 201, r.content
    assert len(set(r.json()["codes"])) == 25
    listed = api.get("discount-codes", batch=r.json()["batch"], limit=100).json()["items"]
    assert len(listed) == 25 and all(c["code"].startswith("WIN-") for c in listed)
    bad = api.post("discount-codes/bulk", {"kind": "percent", "percent": "10", "count": 100000})
    assert bad.status_code == 422 and "count" in bad.json()["error"]["fields"]
    dupe = api.post(
        "discount-codes", {"code": listed[0]["code"], "kind": "percent", "percent": "1"}
    )
    assert dupe.status_code == 409
    assert DiscountCode.objects.count() == 25


def test_a_codes_times_with_any_iso_offset_are_kept_in_utc(api, db):
    # ISO 8601 allows offsets to 23:59; PostgreSQL refused those beyond 15:59 with a 500,
    # on create and on a change alike (the stateful fuzzing found the change).
    r = api.post(
        "discount-codes",
        {
            "code": "DAWN",
            "kind": "percent",
            "percent": "5",
            "starts_at": "2030-01-01T00:00:00-20:33",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["starts_at"] == "2030-01-01T20:33:00Z"
    r = api.patch("discount-codes/DAWN", {"ends_at": "2030-02-01T00:00:00+23:59"})
    assert r.status_code == 200, r.content
    stored = api.get("discount-codes/DAWN").json()
    assert (stored["starts_at"], stored["ends_at"]) == (
        "2030-01-01T20:33:00Z",
        "2030-01-31T00:01:00Z",
    )
    # A time without a zone is read as UTC, as for an order's creation time.
    api.patch("discount-codes/DAWN", {"starts_at": "2029-06-01T08:00:00"})
    assert api.get("discount-codes/DAWN").json()["starts_at"] == "2029-06-01T08:00:00Z"


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1969-12-31T23:59:59Z"]
)
@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_a_codes_time_outside_the_calendar_is_refused_by_name(api, db, moment, field):
    # The ends of the calendar overflowed on the way to UTC (a 500 on SQLite).
    r = api.post(
        "discount-codes", {"code": "EDGE", "kind": "percent", "percent": "5", field: moment}
    )
    assert r.status_code == 422 and field in r.json()["error"]["fields"], r.content
    assert not DiscountCode.objects.exists()
    api.post("discount-codes", {"code": "EDGE", "kind": "percent", "percent": "5"})
    r = api.patch("discount-codes/EDGE", {field: moment})
    assert r.status_code == 422 and field in r.json()["error"]["fields"], r.content
    assert getattr(DiscountCode.objects.get(), field) is None


@pytest.mark.parametrize(
    ("moment", "members"),
    [
        ("2020-01-01T00:00:00-20:33", 4),
        ("0001-01-01T00:00:00+05:00", 4),
        ("9999-12-31T23:59:59-05:00", 0),
    ],
)
def test_any_iso_time_in_a_segment_rule_counts_its_members(api, buyers, moment, members):
    # PostgreSQL refused offsets beyond 15:59 with a 500, and the ends of the calendar
    # overflowed on the way to UTC.
    rules = {"field": "last_order_at", "op": "gt", "value": moment}
    r = api.post("segments/count", {"rules": rules})
    assert r.status_code == 200, r.content
    assert r.json() == {"member_count": members}
    segment = api.post("segments", {"name": "Since", "rules": rules})
    assert segment.status_code == 201, segment.content
    assert api.get(f"segments/{segment.json()['id']}").json()["member_count"] == members


def test_segments_come_in_keyset_pages_with_their_counts_and_as_csv(api, roles, buyers):
    for name, least in [("Regulars", 2), ("Any buyer", 1), ("Loyal", 4)]:
        r = api.post(
            "segments", {"name": name, "rules": {"field": "orders", "op": "gte", "value": least}}
        )
        assert r.status_code == 201, r.content
    first = api.get("segments", limit=2).json()
    assert [(s["name"], s["member_count"]) for s in first["items"]] == [
        ("Any buyer", 4),
        ("Loyal", 1),
    ]
    rest = api.get("segments", limit=2, cursor=first["next_cursor"]).json()
    assert [s["name"] for s in rest["items"]] == ["Regulars"] and rest["next_cursor"] is None
    assert [s["name"] for s in api.get("segments", q="LOY").json()["items"]] == ["Loyal"]
    newest = api.get("segments", sort="-created_at").json()["items"]
    assert [s["name"] for s in newest] == ["Loyal", "Any buyer", "Regulars"]
    export = api.get("segments/export.csv", sort="-name")
    assert export["Content-Disposition"] == 'attachment; filename="segments.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [row["name"] for row in rows] == ["Regulars", "Loyal", "Any buyer"]
    r = api.get("segments", sort="member_count")
    assert r.status_code == 422 and "sort" in r.content.decode()
    web = factories.signed_in(roles, "Admin", "alice")
    html = web.get("/promotions/segments/", {"q": "e"}).content.decode()  # not "Loyal"
    assert "Any buyer" in html and "Regulars" in html and "Loyal" not in html
    assert 'href="/promotions/segments/export.csv?q=e"' in html
    assert "No segments match" in web.get("/promotions/segments/", {"q": "zz"}).content.decode()
