from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "ordersight.orders"
    label = "orders"
    verbose_name = "Orders"
