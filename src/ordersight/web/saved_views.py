"""Staff pages' saved views: save the list as it is filtered, rename, share, delete.

Each view is a tab above its list (web/_saved_views.html); these are the forms behind it.
Anyone signed in may save views of a list they can open; only a view's owner changes it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ordersight.core.errors import Invalid, NotFound
from ordersight.web import selectors, services
from ordersight.web.access import run_service
from ordersight.web.models import SavedList, SavedView

# Each list's page, by the list name a view keeps.
LIST_PAGES = {
    SavedList.ORDERS: "web:orders",
    SavedList.RECURRING: "web:recurring",
    SavedList.PAYMENTS: "web:payments",
    SavedList.CUSTOMERS: "web:customers",
    SavedList.DISCOUNT_CODES: "web:discount_codes",
    SavedList.REDEMPTIONS: "web:redemptions",
}


# The saved list of each ListSpec, by the spec's name.
SPEC_LISTS = {
    "orders": SavedList.ORDERS,
    "recurring orders": SavedList.RECURRING,
    "payments": SavedList.PAYMENTS,
    "customers": SavedList.CUSTOMERS,
    "discount codes": SavedList.DISCOUNT_CODES,
    "redemptions": SavedList.REDEMPTIONS,
}


def view_url(view: SavedView) -> str:
    return f"{reverse(LIST_PAGES[view.list_name])}?{view.link}"


def views_context(request: HttpRequest, list_name: str) -> dict[str, Any]:
    """The tabs of a list's saved views, the one open (`view` in the URL, if this person
    may see it), and whether the filters were changed since it was opened."""
    views = list(selectors.visible_views(user=request.user, list_name=list_name))
    raw = request.GET.get("view", "")
    current = next((v for v in views if str(v.pk) == raw), None)
    shown = QueryDict(request.GET.urlencode(), mutable=True)
    for name in services.NOT_KEPT:
        shown.pop(name, None)
    try:
        query = services.clean_query(query=shown.urlencode())
    except Invalid:
        # Filters too long to keep as a view (a link made by hand): the page still shows
        # them; Save view offers to keep none of them rather than failing the page.
        query = ""
    return {
        "saved_views": views,
        "saved_list": list_name,
        "current_view": current,
        "view_modified": current is not None and query != current.query,
        "current_query": query,
    }


def _visible_view(request: HttpRequest, view_id: int) -> SavedView:
    return selectors.get_view(user=request.user, view_id=view_id)


def _list_page(list_name: str) -> str:
    return reverse(LIST_PAGES.get(list_name, "web:orders"))


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    list_name = request.POST.get("list", "")
    view = run_service(
        request,
        lambda: services.save_view(
            owner=request.user,
            list_name=list_name,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            shared=request.POST.get("shared") == "on",
        ),
        failed=_("View not saved: {why}"),
    )
    if view is None:
        query = request.POST.get("query", "")
        return redirect(f"{_list_page(list_name)}?{query}")
    if view.shared:
        messages.success(request, _("View “{name}” saved and shared.").format(name=view.name))
    else:
        messages.success(request, _("View “{name}” saved.").format(name=view.name))
    return redirect(view_url(view))


@login_required
@require_POST
def change_view(request: HttpRequest, view_id: int, action: str) -> HttpResponse:
    """Rename, update with the filters shown now, share, make private or delete a view (its
    owner only)."""
    try:
        view = _visible_view(request, view_id)
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("web:orders")
    if action == "rename":
        done = run_service(
            request,
            lambda: services.rename_view(
                view=view, name=request.POST.get("name", ""), user=request.user
            ),
            failed=_("View not renamed: {why}"),
        )
        if done is not None:
            messages.success(request, _("View renamed to “{name}”.").format(name=done.name))
    elif action == "update":
        done = run_service(
            request,
            lambda: services.update_view(
                view=view, query=request.POST.get("query", ""), user=request.user
            ),
            failed=_("View not updated: {why}"),
        )
        if done is not None:
            messages.success(
                request, _("View “{name}” now keeps these filters.").format(name=done.name)
            )
    elif action in ("share", "unshare"):
        done = run_service(
            request,
            lambda: services.share_view(view=view, shared=action == "share", user=request.user),
        )
        if done is not None:
            if done.shared:
                text = _("View “{name}” is shared with everyone.")
            else:
                text = _("View “{name}” is now private.")
            messages.success(request, text.format(name=done.name))
    elif action == "delete":
        page = _list_page(view.list_name)
        if run_service(request, lambda: services.delete_view(view=view, user=request.user) or True):
            messages.success(request, _("View “{name}” deleted.").format(name=view.name))
        return redirect(page)
    else:
        messages.error(request, _("Unknown action {action}.").format(action=repr(action)))
    return redirect(view_url(view))
