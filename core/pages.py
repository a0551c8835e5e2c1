"""What every list page does with a page of rows (the pages' twin of `core.api_lists`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import HttpRequest

from core.audit import record_patients_listed
from core.models import Patient


def audited_page(
    request: HttpRequest,
    rows,
    *,
    per_page: int,
    patients_of: Callable[[list], Iterable[Patient | int]],
    detail: str,
    unless_listed_within: timedelta | None = None,
) -> tuple[Page, str]:
    """The requested page, the patients it shows recorded in the audit trail, and the
    query string without `page` for the pagination links. A page that refreshes itself
    passes `unless_listed_within` (`record_patients_listed`)."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    with transaction.atomic():
        record_patients_listed(
            request=request,
            patients=patients_of(page.object_list),
            detail=detail,
            unless_listed_within=unless_listed_within,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
