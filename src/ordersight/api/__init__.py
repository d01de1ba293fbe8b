"""The HTTP API: one NinjaAPI at /api, each app's router under /api/v1, docs at /api/docs."""

from ninja import NinjaAPI

from ordersight.api.accounts import router as accounts_router
from ordersight.api.campaigns import router as campaigns_router
from ordersight.api.catalog import router as catalog_router
from ordersight.api.customers import router as customers_router
from ordersight.api.lists import JsonRenderer
from ordersight.api.orders import router as orders_router
from ordersight.api.payment_systems import router as payment_systems_router
from ordersight.api.payments import router as payments_router
from ordersight.api.promotions import router as promotions_router
from ordersight.api.reports import router as reports_router
from ordersight.api.subscriptions import router as subscriptions_router
from ordersight.api.sync import router as sync_router
from ordersight.http.api_errors import install_error_handlers

api = NinjaAPI(
    title="ordersight API",
    version="1",
    description=(
        "Orders, customers and catalog. Authenticate with `Authorization: Bearer <API key>` "
        "(read or write scope) or a signed-in session. Send `Idempotency-Key` on POSTs to "
        "make retries safe. Money is a string in the currency's minor units. Text may not "
        "contain the NUL character (U+0000)."
    ),
    docs_url="/docs",
    urls_namespace="api",
    renderer=JsonRenderer(),
)
install_error_handlers(api)
api.add_router("/v1", orders_router)
api.add_router("/v1", customers_router)
api.add_router("/v1", catalog_router)
api.add_router("/v1", payments_router)
api.add_router("/v1", payment_systems_router)
api.add_router("/v1", reports_router)
api.add_router("/v1", subscriptions_router)
api.add_router("/v1", campaigns_router)
api.add_router("/v1", promotions_router)
api.add_router("/v1", sync_router)
api.add_router("/v1", accounts_router)
