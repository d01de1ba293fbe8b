"""On PostgreSQL, the offer pickers' search for part of an offer's name reads a trigram
index instead of every offer: a catalog may hold tens of thousands."""

from __future__ import annotations

import pytest
from django.db import connection

from ordersight.catalog.models import Offer
from ordersight.catalog.selectors import find_offers, find_variants

pytestmark = pytest.mark.postgres_only


def test_an_offer_name_search_can_read_the_trigram_index(db):
    offers = Offer.objects.filter(name__icontains="espres").order_by()
    sql, params = offers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "offer_name_trgm" in plan, plan


def test_the_index_finds_what_a_scan_finds(catalog):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert [o.number for o in find_offers(term="COURS", limit=5)] == [201]
        assert [v.sku for v in find_variants(term="ee", limit=5, for_sale=True)] == []
        assert [v.sku for v in find_variants(term="tee", limit=5, for_sale=True)] == [
            "TEE-L",
            "TEE-M",
        ]
