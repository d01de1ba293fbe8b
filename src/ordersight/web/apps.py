from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ordersight.web"
    label = "web"
    verbose_name = "Staff web app"
