from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "ordersight.reports"
    label = "reports"
    verbose_name = "Sales reports"
