"""Loading the named SQL queries of ``queries.sql``.

A few queries hold placeholders (``{slice_where}``, ``{slice_flags}``, ``{funnel_steps}``,
``{coded_values}``) that are filled from the filter table and the data dictionary: code
constants, never user input, which stays in bound parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from nkdata import vocabulary as voc
from nkdata.dictionary import GREY_PUBLICATION_TYPES, RATE_EVENTS, RATE_TOTALS, SAFETY_COUNT_FIELDS
from nkdata.filterspec import FILTERS, FILTERS_BY_FIELD, REGISTRY_FILTERS, registry_sql_conditions, sql_conditions
from nkdata.tablespec import REGISTRY, TRIALS, TableSpec

QUERIES_FILE = Path(__file__).with_name("queries.sql")
_NAME_RE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _coded_values_sql(spec: TableSpec) -> str:
    """One SELECT per coded or required field of a dataset's dictionary, as (field, value, key) rows: every value
    of a coded field (few distinct ones), only the missing values of a required free-text field (titles, ids and
    authors are nearly all distinct: grouping them made opening a 10^6-cohort file take 13 s and 790 MB)."""
    parts = []
    for f in spec.fields:
        if (f.allowed or f.required) and f.dtype in ("string", "integer", "boolean") and _IDENT_RE.match(f.name):
            missing_only = "" if f.allowed else f" WHERE {f.name} IS NULL"
            parts.append(
                f"SELECT '{f.name}' AS field, CAST({f.name} AS VARCHAR) AS value, {spec.key} AS key "
                f"FROM {spec.name}{missing_only}"
            )
    return "\nUNION ALL ".join(parts)


def coded_values_query(spec: TableSpec) -> str:
    """The name of the query listing a dataset's coded values (generated from its dictionary)."""
    return "coded_values" if spec is TRIALS else f"{spec.name}_coded_values"


def _filter_options_sql() -> str:
    parts = []
    for f in FILTERS:
        parent = FILTERS_BY_FIELD[f.parent].column if f.parent else "NULL"
        parts.append(
            f"SELECT '{f.field}' AS field, {f.sql_value()} AS code, {parent} AS parent, count(*) AS cohorts "
            f"FROM trials WHERE {f.column} IS NOT NULL{' OR true' if f.null_code else ''} GROUP BY ALL"
        )
    return "\nUNION ALL ".join(parts)


def _facet_counts_sql(conditions: list[str]) -> str:
    """Per filter: its values' counts under every other condition of the slice (years and toggles included)."""
    parts = []
    for index, f in enumerate(FILTERS, start=1):  # condition 0 is the years
        others = " AND ".join(c for i, c in enumerate(conditions) if i != index)
        parts.append(
            f"SELECT '{f.field}' AS field, {f.sql_value()} AS code, count(*) AS cohorts, "
            f"coalesce(sum(n_treated), 0)::BIGINT AS patients "
            f"FROM (SELECT $slice AS s), trials WHERE {others} GROUP BY ALL"
        )
    return "\nUNION ALL ".join(parts)


def _registry_facet_counts_sql(conditions: list[str]) -> str:
    """Per page filter of the registry: its values' trial counts under every other condition of the slice."""
    parts = []
    for index, f in enumerate(REGISTRY_FILTERS, start=1):  # condition 0 is the start years
        others = " AND ".join(c for i, c in enumerate(conditions) if i != index)
        parts.append(
            f"SELECT '{f.field}' AS field, {f.sql_value()} AS code, count(*) AS trials "
            f"FROM (SELECT $slice AS s), registry WHERE {others} GROUP BY ALL"
        )
    return "\nUNION ALL ".join(parts)


def _sql_list(codes: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(f"'{c}'" for c in codes) + ")"


def _case(parameter: str, columns: tuple[str, ...]) -> str:
    """CASE choosing one of ``columns`` by name (an unknown name is refused in Python before it gets here)."""
    return f"CASE {parameter} " + " ".join(f"WHEN '{c}' THEN {c}" for c in columns) + " END"


def _safety_unnest() -> str:
    return "[" + ", ".join(f"{{'outcome': '{c}', 'events': {c}}}" for c in SAFETY_COUNT_FIELDS) + "]"


def templates() -> dict[str, str]:
    """The placeholder values: generated from the filter table and the data dictionary."""
    conditions = sql_conditions()
    return {
        "{slice_where}": "\n  AND ".join(conditions),
        "{slice_flags}": "[" + ",\n    ".join(conditions) + "]",
        "{funnel_steps}": str(len(conditions)),
        "{coded_values}": _coded_values_sql(TRIALS),
        "{registry_coded_values}": _coded_values_sql(REGISTRY),
        "{registry_where}": "\n  AND ".join(registry_sql_conditions()),
        "{registry_facet_counts}": _registry_facet_counts_sql(registry_sql_conditions()),
        "{recruiting_statuses}": _sql_list(voc.RECRUITING_STATUSES),
        "{events_case}": _case("events", RATE_EVENTS),
        "{totals_case}": _case("totals", RATE_TOTALS),
        "{grey_types}": _sql_list(GREY_PUBLICATION_TYPES),
        "{safety_outcomes}": _safety_unnest(),
        "{filter_options}": _filter_options_sql(),
        "{facet_counts}": _facet_counts_sql(conditions),
    }


@lru_cache(maxsize=1)
def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """name -> SQL text with placeholders filled, in file order."""
    text = path.read_text(encoding="utf-8")
    for placeholder, value in templates().items():
        text = text.replace(placeholder, value)
    matches = list(_NAME_RE.finditer(text))
    queries: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        queries[match.group(1)] = text[match.end() : end].strip()
    return queries


def parameter_names(sql: str) -> frozenset[str]:
    """The $names a query binds; DuckDB rejects values for names a query does not use."""
    return frozenset(_PARAM_RE.findall(sql))
