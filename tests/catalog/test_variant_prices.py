"""What pricing reads of a SKU (`variant_prices`): the same price and name as the models say."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersight.catalog.selectors import variant_prices
from tests.factories import OfferFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_a_variant_reads_as_its_model_says():
    mug = OfferFactory(name="Mug", unit_price=Decimal("9.90"), allow_quantity=True)
    own_price = VariantFactory(offer=mug, sku="MUG-XL", name="XL", unit_price=Decimal("12.50"))
    offer_price = VariantFactory(offer=mug, sku="MUG", name="")
    retired = VariantFactory(offer=mug, sku="MUG-OLD", is_active=False)

    found = variant_prices(skus={"MUG-XL", "MUG", "MUG-OLD", "NO-SUCH"})

    assert set(found) == {"MUG-XL", "MUG", "MUG-OLD"}
    for variant in (own_price, offer_price, retired):
        row = found[variant.sku]
        assert (row.variant_id, row.name, row.price) == (
            variant.pk,
            variant.display_name,
            variant.price,
        )
        assert (row.offer_id, row.offer_number, row.currency) == (mug.pk, mug.number, "EUR")
        assert row.category_number == mug.category.number
        assert row.allow_quantity is True
    assert (found["MUG-XL"].name, found["MUG-XL"].price) == ("Mug — XL", Decimal("12.50"))
    assert (found["MUG"].name, found["MUG"].price) == ("Mug", Decimal("9.90"))
    assert [found[sku].on_sale for sku in ("MUG-XL", "MUG", "MUG-OLD")] == [True, True, False]


def test_a_variant_of_a_withdrawn_offer_is_not_on_sale():
    VariantFactory(offer=OfferFactory(is_active=False), sku="GONE")
    assert variant_prices(skus={"GONE"})["GONE"].on_sale is False
