"""Reads for customers."""

from typing import Any

from django.db.models import CharField, Func, Q, QuerySet
from django.utils.translation import gettext as _

from ordersight.core.csv_stream import IsoTimestamp, as_text, neutralised
from ordersight.core.errors import NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.validation import SEARCH_PART_MIN, is_id
from ordersight.customers.filters import CustomerFilterSet
from ordersight.customers.models import Customer


class TagList(Func):
    """A customer's tag names, sorted and joined by spaces, as one text cell."""

    output_field = CharField()
    _FROM = (
        "FROM customers_tag t JOIN customers_customer_tags ct ON ct.tag_id = t.id "
        "WHERE ct.customer_id = customers_customer.id"
    )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return (
            f"(SELECT group_concat(name, ' ') FROM (SELECT t.name {self._FROM} ORDER BY t.name))",
            [],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return f"(SELECT string_agg(t.name, ' ' ORDER BY t.name) {self._FROM})", []


def _base() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related("tags", "external_ids")


CUSTOMER_LIST = ListSpec(
    name="customers",
    filterset=CustomerFilterSet,
    base=_base,
    sorts={"id": "id", "created_at": "created_at", "name": "name", "email": "email"},
    default_sort="-id",
    columns=(
        ("id", "id"),
        ("created_at", IsoTimestamp("created_at")),
        ("name", neutralised("name")),
        ("email", neutralised("email")),
        ("phone", neutralised("phone")),
        ("tags", neutralised(TagList())),
        ("metadata", as_text("metadata")),
    ),
    filename="customers.csv",
)


def get_customer(*, customer_id: int) -> Customer:
    customers = Customer.objects.prefetch_related("tags", "external_ids")
    customer = customers.filter(pk=customer_id).first() if is_id(customer_id) else None
    if customer is None:
        raise NotFound(
            _("No customer {customer_id}.").format(customer_id=customer_id),
            fields={"customer_id": _("not found")},
        )
    return customer


def find_customers(*, term: str, limit: int) -> list[Customer]:
    """Customers whose name or e-mail holds the search text (three characters or more),
    read through the trigram indexes on PostgreSQL; a shorter text matches no one."""
    term = term.strip()
    if len(term) < SEARCH_PART_MIN:
        return []
    rows = Customer.objects.filter(Q(name__icontains=term) | Q(email__icontains=term))
    return list(rows.order_by("name", "id")[:limit])
