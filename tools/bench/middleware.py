from __future__ import annotations

from django.db import connection


class QueryCountHeaderMiddleware:
    """The number of database queries a response ran, in X-Query-Count, for the figures."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response["X-Query-Count"] = str(queries)
        return response
