"""The published data: a Frictionless Data Package generated from the data dictionaries, with CSV copies.

Open-data portals, the ``frictionless`` validator and R/Python loaders read ``datapackage.json``; it is
written from the same dictionaries the build uses (never kept by hand), into ``static/`` where the served
app publishes it at ``/app/static/<name>`` together with the Parquet files, BibTeX/RIS and CITATION.cff.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import yaml

from nkdata import exports, screening
from nkdata.dictionary import FIELDS, Field
from nkdata.paths import DATA_DIR, REPO_ROOT
from nkdata.registry_dictionary import REGISTRY_FIELDS
from nkdata.safe_text import csv_safe
from nkdata.vocabulary import REGISTRY_SCREENING_REASONS

STATIC_DIR = REPO_ROOT / "static"
PACKAGE_NAME = "nk-aml-evidence"
_TABLE_SCHEMA_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "string_list": "array",
    "endpoint_list": "array",
    "status_list": "array",
}
# Citation fields of a publication: one row per study_id in the publications table.
PUBLICATION_COLUMNS: tuple[str, ...] = (
    "study_id",
    "trial_id",
    "publication_role",
    "first_author",
    "year",
    "title",
    "journal",
    "doi",
    "pmid",
    "pmcid",
    "citation_detail",
    "publication_type",
    "nct_ids",
    "source_url",
    "read_at",
)
SCREENING_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("log", "string", "Which screening log: 'publications' (data/screening/) or 'registry' (registry_screening.yaml)."),
    ("key", "string", "The record looked at: a PMID, DOI, title key or registry id."),
    ("title", "string", "Title of the record, when logged."),
    ("decision", "string", "included or excluded."),
    ("reason", "string", "Code of the exclusion reason (see the enum)."),
    ("study_id", "string", "The publication file an included record became."),
    ("url", "string", "The page looked at."),
    ("note", "string", "The screener's reason in their own words."),
)


@dataclass(frozen=True)
class Table:
    """One published table: its name, rows, the dictionary fields describing its columns, and keys."""

    name: str
    title: str
    description: str
    frame: pd.DataFrame
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict[str, Any], ...] = ()
    parquet: str | None = None


def schema_field(f: Field) -> dict[str, Any]:
    """A Table Schema field descriptor from a dictionary field: type, description, unit, codes, required."""
    out: dict[str, Any] = {"name": f.name, "type": _TABLE_SCHEMA_TYPES[f.dtype], "description": f.description}
    if f.unit:
        out["unit"] = f.unit
        out["description"] = f"{f.description} Unit: {f.unit}."
    constraints: dict[str, Any] = {}
    if f.required:
        constraints["required"] = True
    if f.allowed:
        constraints["enum"] = list(f.allowed)
    if constraints:
        out["constraints"] = constraints
    return out


def _cell(value: Any) -> Any:
    """CSV cell: lists and structs as JSON (Table Schema 'array'), text formula-safe, missing empty."""
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, list | tuple | dict) or hasattr(value, "tolist"):
        raw = value.tolist() if hasattr(value, "tolist") else value
        return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, str):
        return csv_safe(value)
    return value


def to_csv(frame: pd.DataFrame, columns: Iterable[str]) -> str:
    """Deterministic CSV of the listed columns (integers stay integers; empty cell = not reported)."""
    cols = list(columns)
    values = {c: [_cell(v) for v in frame[c]] if c in frame else [None] * len(frame) for c in cols}
    out = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in values.items()}, columns=cols)
    return out.to_csv(index=False, lineterminator="\n")


def _publications(cohorts: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in PUBLICATION_COLUMNS if c in cohorts]
    return cohorts.sort_values("cohort_id").drop_duplicates("study_id")[cols].sort_values("study_id")


def _screening_rows(screening_dir: Path, registry_screening: Path) -> pd.DataFrame:
    entries, _ = screening.load_logs(screening_dir)
    rows = [
        {"log": "publications", **{c: e.get(c) for c, _, _ in SCREENING_COLUMNS if c != "log"}}
        for e in entries
        if "_bad" not in e
    ]
    doc = yaml.safe_load(registry_screening.read_text(encoding="utf-8")) if registry_screening.exists() else {}
    for e in (doc or {}).get("excluded", []) or []:
        rows.append(
            {
                "log": "registry",
                "key": e.get("registry_id"),
                "title": e.get("title"),
                "decision": "excluded",
                "reason": e.get("reason"),
                "study_id": None,
                "url": e.get("source_url"),
                "note": e.get("note"),
            }
        )
    frame = pd.DataFrame(rows, columns=[c for c, _, _ in SCREENING_COLUMNS])
    return frame.astype(object).where(frame.notna(), None)


def _screening_fields() -> tuple[Field, ...]:
    reasons = tuple(dict.fromkeys([*screening.EXCLUSION_REASONS, *REGISTRY_SCREENING_REASONS]))
    out = []
    for name, dtype, description in SCREENING_COLUMNS:
        allowed = {"log": ("publications", "registry"), "decision": screening.DECISIONS, "reason": reasons}.get(name)
        out.append(Field(name, dtype, "screening", description, allowed=allowed, required=name in ("log", "key")))
    return tuple(out)


def _object_frame(path: Path) -> pd.DataFrame:
    """Rows as Python values (an integer column with nulls stays integers, not floats)."""
    table = pq.read_table(path)
    return pd.DataFrame(table.to_pylist(), columns=table.column_names, dtype=object)


def tables(trials_path: Path, registry_path: Path, data_dir: Path = DATA_DIR) -> list[Table]:
    """Every published table, read from the built Parquet files and the screening logs."""
    cohorts = _object_frame(trials_path)
    registry = _object_frame(registry_path)
    by_name = {f.name: f for f in FIELDS}
    pub_fields = tuple(
        Field(
            by_name[c].name,
            by_name[c].dtype,
            "publication",
            by_name[c].description,
            by_name[c].unit,
            by_name[c].allowed,
            required=c == "study_id" or by_name[c].required,
        )
        for c in PUBLICATION_COLUMNS
        if c in by_name
    )
    return [
        Table(
            "publications",
            "Publications",
            "One row per included publication: its citation, identifiers, canonical link and the page read.",
            _publications(cohorts),
            pub_fields,
            ("study_id",),
        ),
        Table(
            "trials",
            "Published cohorts",
            "One row per cohort of a publication: population, NK-cell product, outcomes, safety and where each "
            "number was read (field_notes). Empty = not reported; 0 = reported zero.",
            cohorts.sort_values("cohort_id"),
            FIELDS,
            ("cohort_id",),
            (
                {"fields": ["study_id"], "reference": {"resource": "publications", "fields": ["study_id"]}},
                {"fields": ["superseded_by"], "reference": {"resource": "trials", "fields": ["cohort_id"]}},
            ),
            parquet="trials.parquet",
        ),
        Table(
            "registry",
            "Registered trials",
            "One row per registered NK-cell trial enrolling AML patients: phase, status on a date, sponsor, "
            "product and the cohorts that publish its results.",
            registry.sort_values("registry_id"),
            tuple(REGISTRY_FIELDS),
            ("registry_id",),
            parquet="registry.parquet",
        ),
        Table(
            "screening",
            "Screening log",
            "Every record looked at for the publications and the registry, included or excluded with a reason.",
            _screening_rows(data_dir / "screening", data_dir / "registry_screening.yaml"),
            _screening_fields(),
            (),
        ),
    ]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def descriptor(published: list[Table], files: dict[str, bytes], release: dict[str, Any]) -> dict[str, Any]:
    """The datapackage.json content for the published tables and their CSV bytes."""
    resources = []
    for t in published:
        csv_name = f"{t.name}.csv"
        schema: dict[str, Any] = {"fields": [schema_field(f) for f in t.fields], "missingValues": [""]}
        if t.primary_key:
            schema["primaryKey"] = list(t.primary_key)
        if t.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": fk["fields"], "reference": {**fk["reference"], "resource": fk["reference"]["resource"]}}
                for fk in t.foreign_keys
            ]
        resource: dict[str, Any] = {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "path": csv_name,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": len(files[csv_name]),
            "hash": f"sha256:{_sha256(files[csv_name])}",
            "schema": schema,
        }
        if t.parquet:
            resource["parquet"] = t.parquet  # the same table with nested types kept, for DuckDB/arrow readers
        resources.append(resource)
    return {
        "name": PACKAGE_NAME,
        "title": "NK-AML Evidence Dashboard: adoptive NK-cell therapy trials in acute myeloid leukemia",
        "description": "Curated cohorts of published NK-cell therapy trials in AML, every number traceable to the "
        "page it was read from, with the registered trials and the screening log. Lists and time-to-event entries "
        "are JSON arrays in the CSV; the Parquet files keep them as nested types.",
        "version": str(release.get("version", "")),
        "created": f"{release['date']}T00:00:00Z" if release.get("date") else None,
        "keywords": ["natural killer cells", "acute myeloid leukemia", "adoptive cell therapy", "CAR-NK"],
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "title": "Creative Commons Attribution 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
            }
        ],
        "sources": [
            {
                "title": "Publications and registry records read on stored pages; see each row's source_url, "
                "read_at and field_notes"
            }
        ],
        "contributors": [{"title": "The NK-AML Evidence Dashboard contributors", "role": "author"}],
        "resources": resources,
    }


def publish(
    trials_path: Path,
    registry_path: Path,
    release: dict[str, Any],
    out_dir: Path = STATIC_DIR,
    data_dir: Path = DATA_DIR,
    citation_file: Path = REPO_ROOT / "CITATION.cff",
) -> list[Path]:
    """Write every published file into ``out_dir`` (deterministic: same data, same bytes)."""
    published = tables(trials_path, registry_path, data_dir)
    files: dict[str, bytes] = {}
    for t in published:
        files[f"{t.name}.csv"] = to_csv(t.frame, [f.name for f in t.fields]).encode("utf-8")
    cohorts = next(t.frame for t in published if t.name == "trials")
    files["studies.bib"] = exports.to_bibtex(pd.DataFrame(cohorts)).encode("utf-8")
    files["studies.ris"] = exports.to_ris(pd.DataFrame(cohorts)).encode("utf-8")
    files["datapackage.json"] = (
        json.dumps(descriptor(published, files, release), indent=2, ensure_ascii=False) + "\n"
    ).encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(files.items()):
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    for source, name in (
        (trials_path, "trials.parquet"),
        (registry_path, "registry.parquet"),
        (citation_file, "CITATION.cff"),
    ):
        shutil.copyfile(source, out_dir / name)
        written.append(out_dir / name)
    return written


PUBLISHED_FILES: tuple[str, ...] = (
    "datapackage.json",
    "publications.csv",
    "trials.csv",
    "trials.parquet",
    "registry.csv",
    "registry.parquet",
    "screening.csv",
    "studies.bib",
    "studies.ris",
    "CITATION.cff",
)
