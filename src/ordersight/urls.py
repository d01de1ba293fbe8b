"""URL map: the staff app, the admin, and the API (with its docs)."""

from django.contrib import admin
from django.urls import include, path

from ordersight.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("ordersight.web.urls")),
]

handler403 = "ordersight.web.views.forbidden"
handler500 = "ordersight.web.views.server_error"
