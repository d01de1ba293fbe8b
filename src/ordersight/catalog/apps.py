from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "ordersight.catalog"
    label = "catalog"
    verbose_name = "Catalog"
