"""factory_boy factories for the domain's tables."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from ordersight.catalog.models import Category, Offer, Variant
from ordersight.customers.models import Customer
from ordersight.orders.models import Order, OrderLine


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Manager{n}")
    password = factory.django.Password("correct horse battery")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    number = factory.Sequence(lambda n: 500 + n)
    name = factory.Sequence(lambda n: f"Category {n}")


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    number = factory.Sequence(lambda n: 5000 + n)
    name = factory.Sequence(lambda n: f"Offer {n}")
    category = factory.SubFactory(CategoryFactory)
    currency = "EUR"
    unit_price = Decimal("10.00")


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    offer = factory.SubFactory(OfferFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order with one free line; totals consistent with that line."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: 900000 + n)
    customer = factory.SubFactory(CustomerFactory)
    currency = "EUR"
    subtotal = Decimal("10.00")
    total = Decimal("10.00")
    created_at = factory.LazyFunction(timezone.now)
    # The summary of the one line made below, as the order services would write it.
    line_count = 1
    lead_item = "Item"
    lead_unit_price = factory.SelfAttribute("subtotal")
    lead_quantity = 1

    @factory.post_generation
    def line(self, create, extracted, **kwargs):
        if create:
            OrderLine.objects.create(
                order=self,
                position=1,
                name="Item",
                unit_price=self.subtotal,
                quantity=1,
                total=self.subtotal,
            )


def signed_in(roles: dict, role: str | None, username: str) -> Client:
    """A test client signed in as a new user with `role` ("Owner" is the superuser)."""
    user = UserFactory(username=username)
    if role == "Owner":
        user.is_superuser = True
        user.save()
    elif role:
        user.groups.add(roles[role])
    client = Client()
    client.force_login(user)
    client.user = user
    return client
