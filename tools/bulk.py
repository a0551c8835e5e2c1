"""Filling tables fast for benchmarks and scale tests: INSERT ... SELECT over
generate_series, so PostgreSQL makes the rows without a round trip per row."""

from __future__ import annotations

from django.db import connection, models


def insert_select(model, expressions: dict[str, str], *, source: str, skip_conflicts: bool = False) -> str:
    """INSERT ... SELECT <expressions> FROM <source>: every column given, or its empty value.

    `source` is the SQL after FROM, e.g. "generate_series(1, 1000) AS n". With
    `skip_conflicts`, a row that a unique constraint refuses is left out (ON CONFLICT DO
    NOTHING) rather than failing the whole insert.
    """
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in expressions:
            values.append(expressions[field.name])
        elif field.null:
            values.append("NULL")
        elif isinstance(field, models.BooleanField):
            values.append("false")
        elif isinstance(field, models.JSONField):
            values.append("'{}'")
        else:
            values.append("''")
    unknown = set(expressions) - {field.name for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    on_conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
        f"{on_conflict}"
    )


def insert_series(model, count: int, expressions: dict[str, str]) -> str:
    """INSERT ... SELECT FROM generate_series(1, count) AS n."""
    return insert_select(model, expressions, source=f"generate_series(1, {count}) AS n")
