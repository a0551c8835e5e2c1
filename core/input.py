"""Guards every door applies to what arrives, before any view reads it.

PostgreSQL cannot store a NUL character, so a NUL in a query string, a form or a JSON
document reaching a query is a server error; no field of the portal takes one, so the
request is refused whole with a 400 that says why (the pages' forms also refuse it beside
the field, as Django's CharField does). JSON is parsed with a bound on its depth: a deeply
nested document would exhaust the parser's recursion.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL = "\x00"
API_PREFIXES = ("/api/", "/fhir/")
# The deepest JSON document any operation takes is a FHIR Bundle (about ten levels).
MAX_JSON_DEPTH = 64


def _has_nul(values) -> bool:
    return any(NUL in key or any(NUL in value for value in values.getlist(key)) for key in values)


class RefuseNulCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        carries_nul = NUL in request.path or _has_nul(request.GET)
        if (
            not carries_nul
            and request.method == "POST"
            and request.content_type
            in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
        ):
            carries_nul = _has_nul(request.POST)
        if carries_nul:
            return refused_nul(request)
        return self.get_response(request)


MESSAGE = "The request contains a NUL character, which no field accepts. Nothing was saved."


def refused_nul(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": MESSAGE}, status=400)
    return render(request, "400.html", {"message": MESSAGE}, status=400)


def _depth_and_nul(value, path: str, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    if isinstance(value, str):
        if NUL in value:
            raise ParseError(f"{path or 'The body'}: a NUL character, which no field accepts.")
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                raise ParseError("A field name contains a NUL character.")
            _depth_and_nul(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _depth_and_nul(item, f"{path}[{index}]", depth + 1)


class BoundedJSONParser(JSONParser):
    """JSON, refused with a 400 naming the field when a string carries a NUL or the
    document is nested beyond any operation's shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.") from None
        _depth_and_nul(data, "")
        return data


def is_id(text: str) -> bool:
    """Eighteen ASCII digits at most: `str.isdigit` also says yes to '²' and '９', which int()
    then refuses or reads as another number."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def posted_ids(values: list[str]) -> list[int]:
    """The record ids a form's ticked boxes sent; anything else is not one of them."""
    return [int(value) for value in values if is_id(value)]
