from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ordersight.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from ordersight.core import lookups

        lookups.register()
