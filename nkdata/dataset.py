"""Build the Parquet from the text source, and read any Parquet back for validation.

The Parquet is a build product: same YAML in, same bytes out (rows sorted by
cohort_id, a fixed Arrow schema, release metadata from ``data/release.yaml``
rather than a clock). A failed build never touches the previous file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from nkdata import rob
from nkdata.issues import DatasetError, Issue, errors_only
from nkdata.second_read import apply_verification, check_second_reads
from nkdata.source import Record, load_folder, load_study_file, notes_from_json
from nkdata.supersession import resolve
from nkdata.tablespec import TRIALS, TableSpec
from nkdata.validation import validate_records

RELEASE_METADATA_KEY = b"nkdata.release"


def load_release(path: Path) -> dict[str, Any]:
    """Release facts (version, date, licence) that the app shows and the build embeds."""
    if not path.exists():
        return {}
    value = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return value if isinstance(value, dict) else {}


def records_to_table(
    records: list[Record], release: dict[str, Any] | None = None, spec: TableSpec = TRIALS
) -> pa.Table:
    """The Arrow table of validated records, sorted by the dataset's key, in its dictionary's schema."""
    ordered = sorted(records, key=lambda r: r[spec.key])
    columns = {f.name: [r.get(f.name) for r in ordered] for f in spec.fields}
    schema = spec.schema
    if release:
        schema = schema.with_metadata({RELEASE_METADATA_KEY: json.dumps(release, sort_keys=True, default=str)})
    return pa.table(columns, schema=schema)


ROB_PARQUET_NAME = "rob.parquet"


def rob_folder_of(source_dir: Path) -> Path:
    """The risk-of-bias appraisals beside a study folder (data/studies -> data/rob)."""
    return Path(source_dir).parent / "rob"


def build(
    source_dir: Path,
    out_path: Path,
    release_path: Path | None = None,
    second_reads_dir: Path | None = None,
    rob_dir: Path | None = None,
) -> pa.Table:
    """Validate the source (and the risk-of-bias appraisals beside it) and write the Parquet atomically, with
    ``rob.parquet`` beside it; raise DatasetError on any issue (a missing appraisal is a warning for now).

    With ``second_reads_dir`` each cohort's verified_by/verified_on/verification come from its blind
    second read, and an unresolved disagreement between the two reads fails the build.
    """
    records, issues = load_folder(source_dir)
    if second_reads_dir is not None:
        reads, comparisons, read_issues = check_second_reads(records, second_reads_dir)
        issues += read_issues
        apply_verification(records, reads, comparisons)
    issues += validate_records(records)
    study_ids = {str(r["study_id"]) for r in records if r.get("study_id")}
    folder = rob_folder_of(source_dir) if rob_dir is None else Path(rob_dir)
    appraisals, rob_issues = rob.load_rob_folder(folder, study_ids)
    issues += rob_issues
    if rob.COVERAGE_IS_ERROR:
        issues += rob.coverage_issues(appraisals, study_ids, folder)
    issues = errors_only(issues)  # warnings are listed by validate, not fatal
    if issues:
        raise DatasetError(issues, hint="The previous Parquet was left untouched.")
    overall = rob.overall_by_study(appraisals)
    resolved = [{**r, "rob_overall": overall.get(str(r["study_id"]))} for r in resolve(records)]
    table = records_to_table(resolved, load_release(release_path) if release_path else None)
    write_atomically(rob.records_to_table(appraisals), Path(out_path).with_name(ROB_PARQUET_NAME))
    write_atomically(table, out_path)
    return table


def write_atomically(table: pa.Table, out_path: Path) -> None:
    """Write to a temporary file beside the target, then rename over it."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".trials-", suffix=".parquet", dir=out_path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp_name, compression="zstd", write_statistics=True)
        os.replace(tmp_name, out_path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _type_compatible(dtype: str, arrow_type: pa.DataType) -> bool:
    """Lenient on width (a user's int32 is fine), strict on kind."""
    if pa.types.is_null(arrow_type):
        return True  # an all-null column written by pandas
    if dtype == "integer":
        return pa.types.is_integer(arrow_type)
    if dtype == "number":
        return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
    if dtype == "string":
        return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    if dtype == "boolean":
        return pa.types.is_boolean(arrow_type)
    if dtype == "endpoint_list":
        return (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)) and (
            pa.types.is_struct(arrow_type.value_type) or pa.types.is_null(arrow_type.value_type)
        )
    if dtype == "status_list":
        return (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)) and (
            pa.types.is_struct(arrow_type.value_type) or pa.types.is_null(arrow_type.value_type)
        )
    if dtype == "string_list":
        return (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)) and (
            pa.types.is_string(arrow_type.value_type)
            or pa.types.is_large_string(arrow_type.value_type)
            or pa.types.is_null(arrow_type.value_type)
        )
    return False


def schema_issues(schema: pa.Schema, file_name: str, spec: TableSpec = TRIALS) -> list[Issue]:
    """Missing required columns and columns of the wrong kind (other missing columns read as null)."""
    issues: list[Issue] = []
    names = set(schema.names)
    for name in spec.required:
        if name not in names:
            issues.append(Issue(file_name, None, None, name, "required_column", f"required column {name!r} is missing"))
    for name in schema.names:
        field = spec.by_name.get(name)
        if field is not None and not _type_compatible(field.dtype, schema.field(name).type):
            issues.append(
                Issue(
                    file_name,
                    None,
                    None,
                    name,
                    "column_type",
                    f"column {name!r} is {schema.field(name).type}, expected {field.dtype}",
                )
            )
    return issues


def open_parquet_schema(path: Path) -> pa.Schema:
    """The file's schema, or a DatasetError that says what is wrong with the file itself."""
    name = str(path)
    if not path.exists():
        raise DatasetError(
            [Issue(name, None, None, None, "file_exists", "file not found")],
            hint="Build it with `python -m nkdata build`, or fix NK_TRIALS_PATH.",
        )
    if path.is_dir():
        raise DatasetError([Issue(name, None, None, None, "file_exists", "is a folder, not a Parquet file")])
    if path.stat().st_size == 0:
        raise DatasetError([Issue(name, None, None, None, "parquet_readable", "file is empty")])
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(
            [
                Issue(
                    name,
                    None,
                    None,
                    None,
                    "parquet_readable",
                    f"not a readable Parquet file ({exc.__class__.__name__}: {exc})",
                )
            ]
        ) from exc


def read_parquet_records(path: Path, spec: TableSpec = TRIALS) -> list[Record]:
    """All rows as records for the validation rules; raises DatasetError if unreadable."""
    schema = open_parquet_schema(path)
    problems = schema_issues(schema, str(path), spec)
    if problems:
        raise DatasetError(problems)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(
            [
                Issue(
                    str(path),
                    None,
                    None,
                    None,
                    "parquet_readable",
                    f"data pages cannot be read ({exc.__class__.__name__}: {exc})",
                )
            ]
        ) from exc
    records = table.to_pylist()
    for record in records:
        for name in spec.columns:
            record.setdefault(name, None)
        record["_file"] = str(path)
        record["_notes"] = notes_from_json(record.get("field_notes"))
    return records


def validate_path(path: Path) -> list[Issue]:
    """Issues of a source folder (YAML) or a Parquet file."""
    if path.is_dir():
        records, issues = load_folder(path)
        study_ids = {str(r["study_id"]) for r in records if r.get("study_id")}
        appraisals, rob_issues = rob.load_rob_folder(rob_folder_of(path), study_ids)
        coverage = rob.coverage_issues(appraisals, study_ids, rob_folder_of(path)) if rob.COVERAGE_IS_ERROR else []
        return sorted(issues + validate_records(records) + rob_issues + coverage)
    if path.suffix == ".yaml":  # one study file: its own rules (ids across files need the folder)
        records, issues = load_study_file(path)
        return sorted(issues + validate_records(records, whole_dataset=False))
    try:
        records = read_parquet_records(path)
    except DatasetError as exc:
        return exc.issues
    return validate_records(records)


def release_of(path: Path) -> dict[str, Any]:
    """Release metadata embedded in a built Parquet (empty for a user's own file)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return {}
    raw = metadata.get(RELEASE_METADATA_KEY)
    return json.loads(raw) if raw else {}


def rob_warnings(source_dir: Path) -> list[Issue]:
    """Publications of a study folder without a risk-of-bias appraisal (listed, not failing, until
    ``rob.COVERAGE_IS_ERROR`` is switched on)."""
    records, _ = load_folder(source_dir)
    study_ids = {str(r["study_id"]) for r in records if r.get("study_id")}
    appraisals, _ = rob.load_rob_folder(rob_folder_of(source_dir), study_ids)
    return [] if rob.COVERAGE_IS_ERROR else rob.coverage_issues(appraisals, study_ids, rob_folder_of(source_dir))
