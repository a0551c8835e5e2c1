"""Every URL pattern of the project, with a concrete path to request for each."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


CANDIDATES = ["1", "x", "atb", "ATB-2026-000001"]


def _group_sample(group_regex: str) -> str:
    """The first alternative of a plain choice, else a candidate the group accepts."""
    first = group_regex.split("|")[0]
    if re.fullmatch(r"[\w/-]+", first):
        return first
    return next(c for c in CANDIDATES if re.fullmatch(group_regex, c))


def _sample(pattern) -> str:
    text = str(pattern)
    if text.startswith("^") or text.endswith("$"):  # a regex pattern
        text = text.lstrip("^").rstrip("$").replace("\\Z", "")
        text = re.sub(r"\(\?P<\w+>((?:[^()]|\([^()]*\))*)\)", lambda m: _group_sample(m.group(1)), text)
        return text.replace("\\", "")
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER[m.group(1) or "str"], text)


def walk(
    resolver: URLResolver | None = None, prefix: str = "/", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """Yield (name, path) for every pattern; unnamed patterns get their route as name."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        path = prefix + _sample(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, path, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else f"{namespace}<{entry.pattern}>"
            yield name, path
