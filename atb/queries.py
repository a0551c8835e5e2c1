"""Queries built once per process, for the pages polled all day."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.db.models import QuerySet


def built_once(build: Callable[[], QuerySet]) -> Callable[[], QuerySet]:
    """Build a query (its filters, joins and columns) once per process and hand out a copy
    for each use. Building the live queue's queries cost as much as running them, on every
    coordinator's poll. The copy (`.all()`) is what each caller filters and evaluates, so
    the built query never holds results of its own."""
    built = functools.cache(build)

    @functools.wraps(build)
    def copy() -> QuerySet:
        return built().all()

    return copy
