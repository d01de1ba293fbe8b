from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "ordersight.subscriptions"
    label = "subscriptions"
    verbose_name = "Recurring orders"
