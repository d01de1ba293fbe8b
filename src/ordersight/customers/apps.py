from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "ordersight.customers"
    label = "customers"
    verbose_name = "Customers"
