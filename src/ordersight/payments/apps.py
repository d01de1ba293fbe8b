from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "ordersight.payments"
    label = "payments"
    verbose_name = "Payments"
