"""One description per dataset: its dictionary, key, YAML folder, Parquet file and DuckDB view.

The trials (``data/studies`` -> ``data/trials.parquet``) and the registered trials (``data/registry`` ->
``data/registry.parquet``) are two instances of the same stack: the schema check, the code check run
when a file is opened, the build's Arrow schema and the SQL view are all derived from a ``TableSpec``,
so a rule written once serves both and cannot drift between copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import pyarrow as pa

from nkdata import paths
from nkdata.dictionary import FIELDS, SURVIVAL_FIELDS, Field, arrow_schema
from nkdata.registry_dictionary import REGISTRY_FIELDS

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "string_list": "VARCHAR[]",
    "status_list": "STRUCT(status VARCHAR, as_of VARCHAR, source_url VARCHAR)[]",
}


def duckdb_type(f: Field) -> str:
    """The SQL type of a dictionary field (a column a user's file lacks is read as a null of this type)."""
    if f.dtype == "endpoint_list":
        subtypes = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}
        return "STRUCT(" + ", ".join(f'"{s.name}" {subtypes[s.dtype]}' for s in SURVIVAL_FIELDS) + ")[]"
    return _DUCKDB_TYPES[f.dtype]


@dataclass(frozen=True)
class TableSpec:
    """A dataset of the stack. ``key`` is its row id; ``key_role`` says where an issue names it (a cohort of the
    trials, a 'study' of the registry, i.e. the trial), so messages read the same for both."""

    name: str  # the DuckDB view the named queries read
    fields: tuple[Field, ...]
    key: str
    key_role: Literal["cohort", "study"]
    folder: Path
    parquet: Path
    hint: str  # how to rebuild the file, shown with every error about it

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def noted(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.needs_note)

    @property
    def coded(self) -> tuple[Field, ...]:
        """Fields holding one code of a vocabulary: checked from the dictionary whenever a file is opened."""
        return tuple(f for f in self.fields if f.allowed)

    @property
    def list_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.dtype.endswith("_list"))

    @property
    def derived(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.derived)

    @cached_property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.fields)

    def where(self, key_value: str | None) -> tuple[str | None, str | None]:
        """(study_id, cohort_id) of an Issue about the row with this key."""
        return (key_value, None) if self.key_role == "study" else (None, key_value)


TRIALS = TableSpec(
    "trials",
    FIELDS,
    "cohort_id",
    "cohort",
    paths.SOURCE_DIR,
    paths.DEFAULT_TRIALS_PATH,
    "Rebuild it with `python -m nkdata build`.",
)
REGISTRY = TableSpec(
    "registry",
    REGISTRY_FIELDS,
    "registry_id",
    "study",
    paths.REGISTRY_DIR,
    paths.DEFAULT_REGISTRY_PATH,
    "Rebuild it with `python -m nkdata build` (data/registry -> data/registry.parquet).",
)
