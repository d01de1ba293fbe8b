"""Customers API: create, get, list with filters, update; bad input named by field."""

from __future__ import annotations

import pytest

from ordersight.customers.models import Customer


def _create(api, **body):
    body.setdefault("name", "Grace Hopper")
    return api.post("customers", body)


def test_create_and_get_customer_with_tags_metadata_and_external_ids(api, db):
    r = _create(
        api,
        email="Grace@Navy.mil",
        phone="+1 555",
        tags=["B2B", "vip"],
        metadata={"tier": "gold"},
        external_ids={"shopify": "7001"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["email"] == "grace@navy.mil"
    assert body["tags"] == ["b2b", "vip"]
    assert body["external_ids"] == {"shopify": "7001"}
    assert api.get(f"customers/{body['id']}").json() == body


def test_list_filters(api, db):
    a = _create(api, name="Ann", tags=["b2b"], external_ids={"shopify": "1"}).json()
    b = _create(api, name="Ben", email="ben@x.io").json()

    def ids(**params):
        return [c["id"] for c in api.get("customers", **params).json()["items"]]

    assert ids() == [b["id"], a["id"]]
    assert ids(tag="B2B") == [a["id"]]
    assert ids(q="x.io") == [b["id"]]
    assert ids(external_id="1") == [a["id"]]
    assert ids(email="BEN@x.io") == [b["id"]]


def test_update_only_sent_fields(api, db):
    c = _create(api, email="g@h.io", tags=["a"]).json()
    r = api.patch(f"customers/{c['id']}", {"name": "Grace B. Hopper", "tags": ["b"]})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["email"], r.json()["tags"]) == (
        "Grace B. Hopper",
        "g@h.io",
        ["b"],
    )


def test_external_id_of_another_customer_is_a_conflict(api, db):
    _create(api, external_ids={"shopify": "1"})
    r = _create(api, name="Other", external_ids={"shopify": "1"})
    assert r.status_code == 409
    assert "external_ids.shopify" in r.json()["error"]["fields"]
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"metadata": [1]}, "metadata"),
        ({"tags": ["x" * 65]}, "tags[0]"),
        ({"nmae": "typo"}, "nmae"),
        # The address validator takes up to 320 characters; the column holds 254.
        ({"email": f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 60}.io"}, "email"),
        ({"external_ids": {"shopify": ""}}, "external_ids.shopify"),
        ({"external_ids": {"shopify": "7" * 256}}, "external_ids.shopify"),
        ({"external_ids": {" ": "7001"}}, "external_ids. "),
        ({"external_ids": {"s" * 41: "7001"}}, f"external_ids.{'s' * 41}"),
    ],
)
def test_bad_input_is_named_and_nothing_stored(api, db, body, field):
    r = _create(api, **body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert Customer.objects.count() == 0


def test_bad_update_keeps_the_stored_customer(api, db):
    c = _create(api, email="g@h.io").json()
    r = api.patch(f"customers/{c['id']}", {"email": "nope", "name": "Changed"})
    assert r.status_code == 422
    assert Customer.objects.get().name == "Grace Hopper"


def test_a_bad_external_id_in_an_update_keeps_the_stored_customer(api, db):
    c = _create(api, external_ids={"shopify": "1"}).json()
    r = api.patch(f"customers/{c['id']}", {"name": "Changed", "external_ids": {"feed": " "}})
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"] == {"external_ids.feed": "an id of 1 to 255 characters"}
    assert api.get(f"customers/{c['id']}").json() == c


def test_unknown_customer_is_404(api, db):
    assert api.get("customers/12345").status_code == 404
