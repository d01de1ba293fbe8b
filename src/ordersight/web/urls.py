"""Staff app URLs: every page a person uses, under one namespace."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from ordersight.web import accounts as account_views
from ordersight.web import campaigns as campaign_views
from ordersight.web import customers as customer_views
from ordersight.web import orders as order_views
from ordersight.web import payments as payment_views
from ordersight.web import promotions as promotion_views
from ordersight.web import reports as report_views
from ordersight.web import saved_views, suggestions, views
from ordersight.web import search as search_views
from ordersight.web import subscriptions as recurring_views
from ordersight.web import sync as sync_views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Django's auth views name their templates under registration/, where the admin's own
    # (admin-styled, with no way back to the staff app) would be found first: each names
    # the staff app's template.
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="web/password_change.html",
            success_url=reverse_lazy("web:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="web/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="web/password_set.html",
            success_url=reverse_lazy("web:password_set_done"),
        ),
        name="password_set",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="web/password_set_done.html"),
        name="password_set_done",
    ),
    path("live/", views.live_events, name="live"),
    path("views/", saved_views.save_view, name="save_view"),
    path("views/<int:view_id>/<str:action>/", saved_views.change_view, name="change_view"),
    path("search/", search_views.search, name="search"),
    path("suggest/<slug:kind>/", suggestions.suggestions, name="suggestions"),
    path("sales/report/", report_views.sales_report, name="sales_report"),
    path("sales/report.csv", report_views.export_sales_report, name="sales_report_export"),
    path("sales/history/", report_views.sales_history, name="sales_history"),
    path("orders/", order_views.all_orders, name="orders"),
    path("orders/new/", order_views.new_order, name="new_order"),
    path("orders/bulk/", order_views.bulk_orders, name="orders_bulk"),
    path("orders/recurring/", recurring_views.recurring_orders, name="recurring"),
    path(
        "orders/recurring/export.csv",
        recurring_views.export_recurring_orders,
        name="recurring_export",
    ),
    path(
        "orders/recurring/settings/",
        recurring_views.recurring_settings,
        name="recurring_settings",
    ),
    path(
        "orders/recurring/<int:number>/orders/",
        recurring_views.recurring_children,
        name="recurring_children",
    ),
    path(
        "orders/recurring/<int:number>/payment-method/",
        recurring_views.replace_payment_method,
        name="recurring_payment_method",
    ),
    path(
        "orders/recurring/<int:number>/<str:action>/",
        recurring_views.recurring_action,
        name="recurring_action",
    ),
    path("orders/export.csv", order_views.export_orders, name="orders_export"),
    path("orders/<int:number>/", order_views.order_detail, name="order"),
    path("orders/<int:number>/invoices/", order_views.order_invoices, name="order_invoices"),
    path("orders/<int:number>/part/<str:part>/", order_views.order_live_part, name="order_part"),
    path("orders/<int:number>/metadata/", order_views.order_metadata, name="order_metadata"),
    path(
        "orders/<int:number>/attribution/", order_views.order_attribution, name="order_attribution"
    ),
    path("orders/<int:number>/invoice/", order_views.issue_invoices, name="order_issue_invoices"),
    path(
        "orders/<int:number>/manual-payment/",
        order_views.record_manual_payment,
        name="order_manual_payment",
    ),
    path("orders/<int:number>/mark-paid/", order_views.mark_paid, name="order_mark_paid"),
    path(
        "orders/<int:number>/discount-code/",
        promotion_views.redeem_on_order,
        name="order_redeem",
    ),
    path("orders/<int:number>/<str:action>/", order_views.order_action, name="order_action"),
    path("payments/", payment_views.payments, name="payments"),
    path("payments/export.csv", payment_views.export_payments, name="payments_export"),
    path("invoices/<int:number>/refund/", payment_views.refund, name="invoice_refund"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/users/", account_views.users, name="users"),
    path("settings/users/invite/", account_views.invite_user, name="invite_user"),
    path(
        "settings/users/<int:user_id>/<str:action>/",
        account_views.user_action,
        name="user_action",
    ),
    path("settings/api-keys/", account_views.api_keys, name="api_keys"),
    path("settings/api-keys/new/", account_views.new_api_key, name="new_api_key"),
    path(
        "settings/api-keys/<str:prefix>/revoke/",
        account_views.revoke_api_key,
        name="revoke_api_key",
    ),
    path("settings/recurring-payments/", recurring_views.retry_settings, name="retry_settings"),
    path("settings/payment-systems/", payment_views.payment_systems, name="payment_systems"),
    path(
        "settings/payment-systems/new/",
        payment_views.new_payment_system,
        name="new_payment_system",
    ),
    path(
        "settings/payment-systems/<str:code>/",
        payment_views.payment_system,
        name="payment_system",
    ),
    path(
        "settings/payment-systems/<str:code>/edit/",
        payment_views.edit_payment_system,
        name="edit_payment_system",
    ),
    path(
        "settings/payment-systems/<str:code>/fee-rules/",
        payment_views.set_fee_rule,
        name="set_fee_rule",
    ),
    path(
        "settings/payment-systems/<str:code>/fee-rules/<str:currency>/remove/",
        payment_views.remove_fee_rule,
        name="remove_fee_rule",
    ),
    path("campaigns/", campaign_views.campaigns_home, name="campaigns"),
    path("campaigns/export.csv", campaign_views.export_campaigns, name="campaigns_export"),
    path("campaigns/new/", campaign_views.new_campaign, name="new_campaign"),
    path("campaigns/sales.csv", campaign_views.download_sales, name="campaign_sales_download"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign, name="campaign"),
    path(
        "campaigns/<int:campaign_id>/orders.csv",
        campaign_views.export_campaign_orders,
        name="campaign_export",
    ),
    path(
        "campaigns/<int:campaign_id>/bulk/",
        campaign_views.bulk_conversions,
        name="campaign_bulk",
    ),
    path(
        "campaigns/<int:campaign_id>/members/",
        campaign_views.campaign_members,
        name="campaign_members",
    ),
    path(
        "conversions/<int:conversion_id>/<str:action>/",
        campaign_views.conversion_approval,
        name="conversion_approval",
    ),
    path("creators/", campaign_views.creators, name="creators"),
    path("creators/export.csv", campaign_views.export_creators, name="creators_export"),
    path("creators/new/", campaign_views.new_creator, name="new_creator"),
    path("creators/<int:creator_id>/", campaign_views.creator, name="creator"),
    path("promotions/codes/", promotion_views.discount_codes, name="discount_codes"),
    path(
        "promotions/code-actions/",
        promotion_views.bulk_discount_codes,
        name="discount_codes_bulk",
    ),
    path(
        "promotions/codes/export.csv",
        promotion_views.export_discount_codes,
        name="discount_codes_export",
    ),
    path("promotions/codes/new/", promotion_views.new_discount_code, name="new_discount_code"),
    path("promotions/codes/<str:code>/", promotion_views.discount_code, name="discount_code"),
    path(
        "promotions/codes/<str:code>/edit/",
        promotion_views.edit_discount_code,
        name="edit_discount_code",
    ),
    path("promotions/redemptions/", promotion_views.redemptions, name="redemptions"),
    path(
        "promotions/redemptions/export.csv",
        promotion_views.export_redemptions,
        name="redemptions_export",
    ),
    path("promotions/segments/", promotion_views.segments, name="segments"),
    path("promotions/segments/export.csv", promotion_views.export_segments, name="segments_export"),
    path("promotions/segments/count/", promotion_views.count_segment, name="count_segment"),
    path("promotions/segments/new/", promotion_views.new_segment, name="new_segment"),
    path("promotions/segments/<int:segment_id>/", promotion_views.segment, name="segment"),
    path(
        "promotions/segments/<int:segment_id>/edit/",
        promotion_views.edit_segment,
        name="edit_segment",
    ),
    path(
        "promotions/segments/<int:segment_id>/members.csv",
        promotion_views.export_segment,
        name="segment_export",
    ),
    path("sync/", sync_views.data_sync, name="sync"),
    path("sync/runs/<int:run_id>/", sync_views.sync_run, name="sync_run"),
    path("sync/connections/new/", sync_views.new_connection, name="sync_new_connection"),
    path("sync/connections/<str:name>/", sync_views.connection_detail, name="sync_connection"),
    path(
        "sync/connections/<str:name>/edit/",
        sync_views.edit_connection,
        name="sync_connection_edit",
    ),
    path(
        "sync/connections/<str:name>/test/",
        sync_views.test_connection,
        name="sync_connection_test",
    ),
    path("sync/<str:name>/lookup/", sync_views.lookup, name="sync_lookup"),
    path("sync/<str:name>/<str:kind>/refresh/", sync_views.refresh, name="sync_refresh"),
    path("customers/", customer_views.customers, name="customers"),
    path("customers/export.csv", customer_views.export_customers, name="customers_export"),
    path("customers/<int:customer_id>/", customer_views.customer_card, name="customer"),
    path(
        "customers/<int:customer_id>/sales-plan/",
        customer_views.add_sales_plan_entry,
        name="customer_sales_plan",
    ),
]
