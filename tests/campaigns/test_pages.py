"""The campaign pages: home with sales generated and the download, the Performance tab,
approval actions, members, creators, and the report's campaign and creator breakdowns."""

from __future__ import annotations

import csv
import io
import re

import pytest

from ordersight.campaigns import services
from ordersight.campaigns.models import Conversion, Membership
from ordersight.core.actors import Actor
from tests import factories
from tests.campaigns.conftest import JOINED, pay, place

pytestmark = pytest.mark.django_db
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


@pytest.fixture
def sales(world, bank):
    anna = pay(place("TEE-M", 2, coupon="ANNA10"), bank)
    ben = pay(place(coupon="BEN"), bank)
    cleo = pay(place(coupon="CLEO"), bank)
    return {"anna": anna, "ben": ben, "cleo": cleo}


def _row_of(html: str, marker: str) -> str:
    return re.search(rf"<tr[^>]*{re.escape(marker)}.*?</tr>", html, re.S).group(0)


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_home_shows_total_sales_generated_and_why_it_can_differ(admin, sales):
    html = admin.get(f"/campaigns/?{MARCH}").content.decode()
    assert 'data-testid="generated-EUR"' in html
    assert "79.60" in html  # 39.80 + 19.90 + 19.90
    assert "current members" in html  # the note on removed creators
    assert "Spring" in html and "Flat" in html


def test_the_download_lists_every_creator_sale_with_the_campaign_name(admin, sales):
    rows = _rows(admin.get(f"/campaigns/sales.csv?{MARCH}"))
    assert sorted(r["campaign_name"] for r in rows) == ["Flat", "Spring", "Spring"]
    bad = admin.get("/campaigns/sales.csv?from=2026-03-31&to=2026-03-01")
    assert bad.status_code == 422 and b"to:" in bad.content


def test_the_performance_tab_lists_orders_with_live_status_and_approval(admin, world, sales):
    html = admin.get(f"/campaigns/{world['spring'].pk}/").content.decode()
    assert f'data-order="{sales["anna"].number}"' in html
    assert f'data-order="{sales["cleo"].number}"' not in html  # another campaign
    assert 'data-testid="reject"' in html
    assert 'data-testid="commission-anna-EUR">€3.98' in html


def test_reject_then_undo_from_the_page(admin, world, sales):
    conversion = Conversion.objects.get(order=sales["anna"])
    page = f"/campaigns/{world['spring'].pk}/"
    response = admin.post(f"/conversions/{conversion.pk}/reject/", {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    html = admin.get(page).content.decode()
    assert 'data-testid="commission-anna-EUR">€0.00' in html
    assert 'data-testid="undo"' in html
    admin.post(f"/conversions/{conversion.pk}/undo/", {"next": page})
    assert 'data-testid="commission-anna-EUR">€3.98' in admin.get(page).content.decode()


def test_the_export_button_sends_exactly_the_ticked_rows(admin, world, sales):
    extra = Conversion.objects.get(order=place(coupon="ANNA10"))
    chosen = Conversion.objects.get(order=sales["ben"])
    response = admin.get(f"/campaigns/{world['spring'].pk}/orders.csv?ids={chosen.pk}")
    rows = _rows(response)
    assert [int(r["conversion_id"]) for r in rows] == [chosen.pk]
    assert rows[0]["campaign_name"] == "Spring" and extra.pk != chosen.pk


def test_a_removed_creator_leaves_the_tab_and_stays_in_the_total(admin, world, sales):
    page = f"/campaigns/{world['spring'].pk}/"
    admin.post(f"/campaigns/{world['spring'].pk}/members/", {"creator": "ben", "remove": "1"})
    assert Membership.objects.get(creator=world["ben"]).removed_at is not None
    html = admin.get(page).content.decode()
    assert f'data-order="{sales["ben"].number}"' not in html
    assert 'data-testid="removed-note"' in admin.get(f"{page}?tab=members").content.decode()
    assert "79.60" in admin.get(f"/campaigns/?{MARCH}").content.decode()


def test_the_creators_tab_is_read_when_opened(admin, world, sales):
    page = f"/campaigns/{world['spring'].pk}/"
    admin.post(f"/campaigns/{world['spring'].pk}/members/", {"creator": "ben", "remove": "1"})
    opened = admin.get(page).content.decode()
    assert 'data-testid="member-list"' not in opened and 'data-testid="members-loading"' in opened
    assert 'data-testid="creator-commissions"' in opened  # the Performance tab is whole
    tab = admin.get(f"{page}?partial=members", headers={"HX-Request": "true"})
    html = tab.content.decode()
    assert "<html" not in html and 'data-testid="member-list"' in html
    assert "@anna" in html and 'data-testid="removed-note"' in html and "@ben" in html
    assert 'data-testid="add-member"' in html
    linked = admin.get(f"{page}?tab=members").content.decode()
    assert 'data-testid="member-list"' in linked and 'data-testid="members-loading"' not in linked


def test_members_and_creators_are_added_from_the_pages(admin, world):
    response = admin.post("/creators/new/", {"name": "Dora", "handle": "dora"})
    assert response.status_code == 302
    admin.post(
        f"/campaigns/{world['spring'].pk}/members/",
        {"creator": "dora", "coupon_codes": "DORA5, dora6", "link_codes": "dora-tt"},
    )
    codes = set(Membership.objects.get(creator__handle="dora").codes.values_list("code", flat=True))
    assert codes == {"DORA5", "DORA6", "DORA-TT"}
    # A taken code is refused with the reason, and nothing is added.
    response = admin.post(
        f"/campaigns/{world['spring'].pk}/members/", {"creator": "cleo", "coupon_codes": "DORA5"}
    )
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("DORA5 is taken" in m for m in messages)
    assert not Membership.objects.filter(campaign=world["spring"], creator=world["cleo"]).exists()


def test_a_campaign_is_created_from_the_home_page_and_bad_input_is_named(admin, db):
    response = admin.post(
        "/campaigns/new/",
        {
            "name": "Summer",
            "starts_on": "2026-06-01",
            "commission_kind": "percent",
            "commission_percent": "150",
        },
        follow=True,
    )
    assert (
        "commission_percent" in response.content.decode()
        or "at most 100" in response.content.decode()
    )
    response = admin.post(
        "/campaigns/new/",
        {
            "name": "Summer",
            "starts_on": "2026-06-01",
            "commission_kind": "fixed",
            "fixed_amount": "4.50",
            "fixed_currency": "eur",
        },
    )
    assert response.status_code == 302


def test_the_creator_page_shows_commission_per_campaign_and_conversions(admin, world, sales):
    html = admin.get(f"/creators/{world['anna'].pk}/").content.decode()
    assert 'data-testid="creator-commission-EUR">€3.98' in html
    assert str(sales["anna"].number) in html


def test_the_order_detail_names_the_creator_it_came_through(admin, world, sales):
    html = admin.get(f"/orders/{sales['anna'].number}/").content.decode()
    assert 'data-testid="order-codes"' in html and "Anna" in html and "Spring" in html


@pytest.mark.parametrize("group_by", ["campaign", "creator"])
def test_the_report_by_campaign_and_creator_shows_commission_and_links(admin, sales, group_by):
    html = admin.get(f"/sales/report/?{MARCH}&group_by={group_by}").content.decode()
    assert 'data-testid="row-commission"' in html
    assert "Total, creators&#x27; approved sales" in html or "creators' approved" in html
    target = "/campaigns/" if group_by == "campaign" else "/creators/"
    assert f'href="{target}' in html


def test_a_viewer_sees_campaigns_but_cannot_reject(roles, world, sales):
    viewer = factories.signed_in(roles, "Viewer", "vic")
    html = viewer.get(f"/campaigns/{world['spring'].pk}/").content.decode()
    assert 'data-testid="conversion-status"' in html and 'data-testid="reject"' not in html
    conversion = Conversion.objects.get(order=sales["anna"])
    assert viewer.post(f"/conversions/{conversion.pk}/reject/").status_code == 403


def test_the_dashboard_shows_sales_by_creators(admin, sales):
    html = admin.get(f"/?{MARCH}").content.decode()
    assert "Sales by creators (net)" in html
    assert 'href="/campaigns/?from=2026-03-01&amp;to=2026-03-31"' in html
    assert "79.60" in html


@pytest.mark.parametrize(
    ("typed", "field", "error"),
    [
        ("from=2026-03-31&to=2026-03-01", "to", "on or after from"),
        ("from=2026-02-31&to=2026-03-01", "from", "use YYYY-MM-DD"),
    ],
)
def test_a_refused_range_keeps_what_was_typed_with_the_error_beside_it(
    admin, db, typed, field, error
):
    html = admin.get(f"/campaigns/?{typed}").content.decode()
    start, end = (part.split("=")[1] for part in typed.split("&"))
    assert '<option value="" selected>Custom range</option>' in html
    assert f'id="f-from" name="from" value="{start}"' in html
    assert f'id="f-to" name="to" value="{end}"' in html
    beside = re.search(
        rf'class="([^"]*)" type="date" id="f-{field}"[^>]*>\s*'
        r'<div class="invalid-feedback">([^<]*)',
        html,
    )
    assert "is-invalid" in beside.group(1) and error in beside.group(2)


def test_reject_every_matching_conversion_in_bulk_then_undo_the_ticked_one(admin, world, sales):
    page = f"/campaigns/{world['spring'].pk}/"
    ben = Conversion.objects.get(order=sales["ben"])
    response = admin.post(
        f"{page}bulk/", {"action": "reject", "scope": "matching", "query": "", "next": page}
    )
    assert response.status_code == 302 and response["Location"] == page
    # Anna's and Ben's: Cleo's sale is another campaign's.
    assert set(
        Conversion.objects.filter(campaign=world["spring"]).values_list("approval", flat=True)
    ) == {"rejected"}
    assert Conversion.objects.get(order=sales["cleo"]).approval == "approved"
    html = admin.get(page).content.decode()
    assert "2 conversions rejected." in html
    assert 'data-testid="commission-anna-EUR">€0.00' in html
    admin.post(f"{page}bulk/", {"action": "undo", "ids": [ben.pk], "next": page})
    assert Conversion.objects.get(pk=ben.pk).approval == "approved"
    # Undo on an approved conversion is refused by the service and said so.
    admin.post(f"{page}bulk/", {"action": "undo", "ids": [ben.pk], "next": page})
    html = admin.get(page).content.decode()
    assert "0 conversions approved again; 1 refused: Order" in html


def test_a_viewer_cannot_reject_in_bulk_but_may_export_the_ticked(roles, world, sales):
    viewer = factories.signed_in(roles, "Viewer", "vic")
    page = f"/campaigns/{world['spring'].pk}/"
    ben = Conversion.objects.get(order=sales["ben"])
    refused = viewer.post(f"{page}bulk/", {"action": "reject", "ids": [ben.pk]})
    assert refused.status_code == 403
    assert Conversion.objects.get(pk=ben.pk).approval == "approved"
    rows = _rows(viewer.post(f"{page}bulk/", {"action": "export", "ids": [ben.pk]}))
    assert [int(r["conversion_id"]) for r in rows] == [ben.pk]


def test_a_campaign_row_escapes_the_creator_and_offers_reject_or_undo(roles, world, bank):
    system = Actor.system()
    creator = services.create_creator(
        name='<script>alert("x")</script>', handle="hostile", actor=system
    )
    services.add_member(
        campaign=world["spring"], creator=creator, coupon_codes=["HOSTILE"], actor=system, at=JOINED
    )
    order = pay(place(coupon="HOSTILE"), bank)
    conversion = Conversion.objects.get(order=order)
    page = f"/campaigns/{world['spring'].pk}/"
    admin = factories.signed_in(roles, "Admin", "ada")

    row = _row_of(admin.get(page).content.decode(), f'data-conversion="{conversion.pk}"')
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert 'data-testid="reject"' in row and 'name="csrfmiddlewaretoken"' in row
    assert f'name="next" value="{page}"' in row

    admin.post(f"/conversions/{conversion.pk}/reject/", {"next": page})
    row = _row_of(admin.get(page).content.decode(), f'data-conversion="{conversion.pk}"')
    assert 'data-testid="undo"' in row and 'data-testid="reject"' not in row
    assert "text-decoration-line-through" in row and 'data-approval="rejected"' in row


def test_the_creators_tab_searches_sorts_and_exports_what_it_shows(admin, world):
    html = admin.get("/creators/", {"q": "ann"}).content.decode()
    assert "@anna" in html and "@ben" not in html
    everyone = admin.get("/creators/", {"sort": "-name"}).content.decode()
    assert everyone.index("@cleo") < everyone.index("@ben") < everyone.index("@anna")
    assert 'href="/creators/export.csv?sort=-name"' in everyone
    export = admin.get("/creators/export.csv", {"q": "ann"})
    body = b"".join(export.streaming_content).decode()
    assert "anna" in body and "ben" not in body
    nobody = admin.get("/creators/", {"q": "zzz"}).content.decode()
    assert "No creators match" in nobody


def test_the_campaigns_tab_lists_searches_and_exports_campaigns(admin, world):
    html = admin.get("/campaigns/", {"sort": "name"}).content.decode()
    table = html[html.index('data-testid="campaigns"') :]
    assert table.index(">Flat<") < table.index(">Spring<")
    assert 'href="/campaigns/export.csv?sort=name"' in html
    # The period of the sales card stays when the list is searched.
    searched = admin.get("/campaigns/", {"q": "spr", "range": "90d"}).content.decode()
    table = searched[searched.index('data-testid="campaigns"') :]
    assert ">Spring<" in table and ">Flat<" not in table
    assert 'name="range" value="90d"' in searched  # kept by the list's filter form
    # ... but the period is the sales card's: no filter chip, not in the list's export.
    assert "no filter named" not in searched and 'data-testid="filters-active">1<' in searched
    assert 'href="/campaigns/export.csv?q=spr"' in searched
    period_form = searched[searched.index('data-testid="range-form"') :]
    assert (
        '<input type="hidden" name="q" value="spr">' in period_form[: period_form.index("</form>")]
    )
    export = admin.get("/campaigns/export.csv", {"q": "spr"})
    body = b"".join(export.streaming_content).decode()
    assert "Spring" in body and "Flat" not in body
