from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "ordersight.campaigns"
    label = "campaigns"
    verbose_name = "Creator campaigns"
