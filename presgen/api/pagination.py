"""Page-number pagination for every API list: ?page=N&page_size=M (at most 100).

A page or page size that is not a positive whole number is a 400 with a field
error; a page past the last one is a 404. The response is
{"count", "next", "previous", "results"}.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw) if len(raw) <= 18 else 0
    except ValueError:
        value = 0
    if value < 1:
        raise ValidationError({name: [f"{name} must be a whole number from 1."]})
    return value


class ApiPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int(request, self.page_size_query_param)
        return min(requested or self.page_size, self.max_page_size)

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        number = _positive_int(request, self.page_query_param) or 1
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                f"There is no page {number}: the last page is {paginator.num_pages}."
            ) from None
        return list(self.page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {DEFAULT_PAGE_SIZE} unless given, at most "
                    f"{MAX_PAGE_SIZE} (larger values are capped)."
                )
        return parameters
