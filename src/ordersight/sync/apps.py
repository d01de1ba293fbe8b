from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "ordersight.sync"
    label = "sync"
    verbose_name = "Store data sync"
