from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "ordersight.promotions"
    label = "promotions"
    verbose_name = "Discount codes and segments"
