"""Keyset pagination over any ordering: every row once, in order, for any page size."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordersight.core.errors import Invalid
from ordersight.core.keyset import paginate
from ordersight.orders.models import Order
from tests import factories


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=25),
    size=st.integers(min_value=1, max_value=7),
    ordering=st.sampled_from([("-created_at", "-id"), ("created_at", "id"), ("-total", "-id")]),
)
def test_pages_cover_every_row_once_in_order(minutes, size, ordering):
    Order.objects.all().delete()
    base = timezone.now()
    for m in minutes:
        factories.OrderFactory(created_at=base + timedelta(minutes=m))
    expected = list(Order.objects.order_by(*ordering).values_list("pk", flat=True))
    seen, cursor = [], None
    while True:
        page = paginate(Order.objects.all(), ordering=ordering, cursor=cursor, limit=size)
        seen += [o.pk for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


@pytest.mark.django_db
def test_limit_bounds():
    with pytest.raises(Invalid):
        paginate(Order.objects.all(), ordering=("-id",), limit=501)


@pytest.mark.django_db
def test_tampered_cursor_is_invalid():
    with pytest.raises(Invalid) as err:
        paginate(Order.objects.all(), ordering=("-id",), cursor="eyJvIjpbIi1pZCJdLCJ2IjpbImEiXX0")
    assert "cursor" in err.value.fields
