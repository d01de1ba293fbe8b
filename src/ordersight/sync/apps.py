from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "ordersight.sync"
    label = "sync"
    verbose_name = "Store data sync"

    def ready(self) -> None:
        from ordersight.sync import checks  # noqa: F401  (registers the deployment checks)
