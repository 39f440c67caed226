"""Blind second reads (``data/second_reads/*.yaml``): load, validate, compare with the first read.

A second curator re-reads each publication without seeing the study YAML and writes
what the pages show, per cohort. The comparison is field by field against the
study file's own values (before supersession: an inherited value belongs to the
earlier report, not to this publication). Numbers are compared exactly; survival
entries are matched by endpoint and landmark (or by endpoint and median). Every
disagreement needs a ``resolutions`` entry saying which value the page supports;
an unresolved one is a validation error naming study, cohort, field and rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nkdata import vocabulary as voc
from nkdata.dictionary import FIELDS_BY_NAME, SURVIVAL_FIELDS_BY_NAME
from nkdata.issues import Issue
from nkdata.source import Record

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
READ_KEYS = frozenset({"study_id", "reader", "read_on", "pages_read", "cohorts", "resolutions"})
COHORT_KEYS = frozenset({"cohort_id", "values", "notes", "not_found"})
RESOLUTION_KEYS = frozenset({"cohort_id", "field", "first_read", "second_read", "resolved_value", "note"})
# Numeric subfields of a survival entry that are compared; labels and flags are carried, not compared.
SURVIVAL_NUMBERS = ("estimate_pct", "ci_low_pct", "ci_high_pct", "n_analysed", "median_months", "comparator_pct")
NUMERIC_DTYPES = ("integer", "number")

RULES: dict[str, str] = {
    "second_read_format": "A second-read file has study_id, reader, read_on (YYYY-MM-DD), pages_read and cohorts.",
    "second_read_unknown_field": "Values, not_found and survival keys of a second read are fields of the dictionary.",
    "second_read_unknown_study": "A second read names a study that has a study file.",
    "second_read_unknown_cohort": "A second read names cohorts of that study.",
    "second_read_disagreement": "Each number on which the two reads differ has a resolution with a note.",
    "resolution_stale": "A resolution quotes the first and second read values that the files hold now.",
}


@dataclass(frozen=True)
class Resolution:
    """How one disagreement was settled: the value the page supports, and why."""

    cohort_id: str
    field: str
    first_read: Any
    second_read: Any
    resolved_value: Any
    note: str


@dataclass
class SecondRead:
    """One publication read a second time: who, when, and the values per cohort."""

    study_id: str
    reader: str
    read_on: str
    file: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # cohort_id -> field -> value
    not_found: dict[str, list[str]] = field(default_factory=dict)  # cohort_id -> fields no page showed
    resolutions: dict[tuple[str, str], Resolution] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """One number of the second read set against the first read."""

    study_id: str
    cohort_id: str
    field: str  # a dictionary field, or survival[<endpoint>@<landmark>m|median].<subfield>
    first_read: Any
    second_read: Any
    # agreed | disagreed | resolved | missed (only the second read has it) |
    # unconfirmed (the first read has it, the second read looked and listed it under not_found)
    status: str
    resolution: Resolution | None = None


def _issue(file: str, study: str | None, cohort: str | None, fld: str | None, rule: str, msg: str) -> Issue:
    return Issue(file, study, cohort, fld, rule, msg)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_number(a: Any, b: Any) -> bool:
    """Exact equality for counts; for decimals, equal up to float representation."""
    if not (_is_number(a) and _is_number(b)):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def survival_key(entry: dict[str, Any]) -> str:
    """survival[os@24m] for a landmark entry, survival[os@median] for a median-only entry."""
    landmark = entry.get("landmark_months")
    if _is_number(landmark):
        return f"survival[{entry.get('endpoint')}@{float(landmark):g}m]"
    return f"survival[{entry.get('endpoint')}@median]"


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    """The comparable numbers of one cohort's values: plain numeric fields and survival subfields."""
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if name == "survival":
            for entry in value or []:
                if not isinstance(entry, dict):
                    continue
                key = survival_key(entry)
                for sub in SURVIVAL_NUMBERS:
                    if entry.get(sub) is not None:
                        flat[f"{key}.{sub}"] = entry[sub]
            continue
        spec = FIELDS_BY_NAME.get(name)
        if spec is not None and spec.dtype in NUMERIC_DTYPES and value is not None:
            flat[name] = value
    return flat


def _check_values(values: Any, file: str, study: str, cohort: str) -> list[Issue]:
    issues: list[Issue] = []
    if not isinstance(values, dict):
        return [_issue(file, study, cohort, "values", "second_read_format", "'values' must be a mapping")]
    for name, value in values.items():
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            issues.append(
                _issue(
                    file, study, cohort, str(name), "second_read_unknown_field", f"{name!r} is not a dictionary field"
                )
            )
            continue
        if spec.dtype in NUMERIC_DTYPES and not _is_number(value):
            issues.append(_issue(file, study, cohort, name, "second_read_format", f"{name} must be a number"))
        if name == "survival":
            issues += _check_survival(value, file, study, cohort)
    return issues


def _check_survival(entries: Any, file: str, study: str, cohort: str) -> list[Issue]:
    if not isinstance(entries, list):
        return [_issue(file, study, cohort, "survival", "second_read_format", "survival must be a list of entries")]
    issues: list[Issue] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("endpoint") not in voc.ENDPOINTS:
            issues.append(
                _issue(file, study, cohort, "survival", "second_read_format", f"entry {entry!r} needs a known endpoint")
            )
            continue
        for key in entry:
            sub = SURVIVAL_FIELDS_BY_NAME.get(key)
            if sub is None or sub.derived:
                issues.append(
                    _issue(
                        file,
                        study,
                        cohort,
                        "survival",
                        "second_read_unknown_field",
                        f"{key!r} is not a survival subfield",
                    )
                )
        key = survival_key(entry)
        if key in seen:
            issues.append(_issue(file, study, cohort, key, "second_read_format", "two entries for one endpoint/time"))
        seen.add(key)
    return issues


def load_second_read(path: Path) -> tuple[SecondRead | None, list[Issue]]:
    """One second-read file, checked for its format; None when it cannot be used at all."""
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [_issue(file, path.stem, None, None, "second_read_format", f"cannot parse YAML: {exc}")]
    if not isinstance(doc, dict):
        return None, [_issue(file, path.stem, None, None, "second_read_format", "the file must hold a mapping")]
    study = str(doc.get("study_id"))
    issues: list[Issue] = []
    if study != path.stem:
        issues.append(_issue(file, study, None, "study_id", "second_read_format", f"study_id must be {path.stem}"))
    for key in doc:
        if key not in READ_KEYS:
            issues.append(_issue(file, study, None, str(key), "second_read_unknown_field", f"unknown key {key!r}"))
    if not isinstance(doc.get("reader"), str) or not doc["reader"].strip():
        issues.append(_issue(file, study, None, "reader", "second_read_format", "reader is required"))
    if not DATE_RE.match(str(doc.get("read_on", ""))):
        issues.append(_issue(file, study, None, "read_on", "second_read_format", "read_on must be YYYY-MM-DD"))
    if not isinstance(doc.get("pages_read"), list) or not doc["pages_read"]:
        issues.append(_issue(file, study, None, "pages_read", "second_read_format", "pages_read lists the pages"))
    read = SecondRead(study, str(doc.get("reader", "")).strip(), str(doc.get("read_on", "")), file)
    cohorts = doc.get("cohorts")
    if not isinstance(cohorts, list) or not cohorts:
        issues.append(_issue(file, study, None, "cohorts", "second_read_format", "cohorts must be a non-empty list"))
        return read, issues
    for cohort in cohorts:
        if not isinstance(cohort, dict) or not isinstance(cohort.get("cohort_id"), str):
            issues.append(_issue(file, study, None, "cohorts", "second_read_format", "each cohort needs a cohort_id"))
            continue
        cid = cohort["cohort_id"]
        for key in cohort:
            if key not in COHORT_KEYS:
                issues.append(_issue(file, study, cid, str(key), "second_read_unknown_field", f"unknown key {key!r}"))
        values = cohort.get("values") or {}
        issues += _check_values(values, file, study, cid)
        for name in cohort.get("not_found") or []:
            if name not in FIELDS_BY_NAME:
                issues.append(
                    _issue(file, study, cid, str(name), "second_read_unknown_field", f"not_found names {name!r}")
                )
        read.values[cid] = values if isinstance(values, dict) else {}
        read.not_found[cid] = [str(n) for n in cohort.get("not_found") or [] if n in FIELDS_BY_NAME]
    for raw in doc.get("resolutions") or []:
        if not isinstance(raw, dict) or set(raw) != RESOLUTION_KEYS or not str(raw.get("note") or "").strip():
            issues.append(
                _issue(
                    file,
                    study,
                    None,
                    "resolutions",
                    "second_read_format",
                    f"a resolution has exactly {sorted(RESOLUTION_KEYS)} and a note",
                )
            )
            continue
        res = Resolution(**raw)
        read.resolutions[(res.cohort_id, res.field)] = res
    return read, issues


def load_second_reads(folder: Path) -> tuple[dict[str, SecondRead], list[Issue]]:
    """Every second read of a folder (none when the folder does not exist)."""
    reads: dict[str, SecondRead] = {}
    issues: list[Issue] = []
    if not folder.is_dir():
        return reads, issues
    for path in sorted(folder.glob("*.yaml")):
        read, found = load_second_read(path)
        issues += found
        if read is not None:
            reads[read.study_id] = read
    return reads, issues


def compare(records: list[Record], reads: dict[str, SecondRead]) -> tuple[list[Comparison], list[Issue]]:
    """Every number of every second read against the first read, and the problems found."""
    by_cohort = {r.get("cohort_id"): r for r in records}
    studies = {r.get("study_id") for r in records}
    comparisons: list[Comparison] = []
    issues: list[Issue] = []
    for study, read in sorted(reads.items()):
        if study not in studies:
            issues.append(
                _issue(read.file, study, None, None, "second_read_unknown_study", "no study file for this second read")
            )
            continue
        used: set[tuple[str, str]] = set()
        for cid, values in sorted(read.values.items()):
            record = by_cohort.get(cid)
            if record is None or record.get("study_id") != study:
                issues.append(
                    _issue(read.file, study, cid, None, "second_read_unknown_cohort", "not a cohort of the study")
                )
                continue
            first = _flatten({k: record.get(k) for k in values})
            for name, second_value in sorted(_flatten(values).items()):
                first_value = first.get(name)
                res = read.resolutions.get((cid, name))
                if first_value is None:
                    status = "missed"
                elif same_number(first_value, second_value):
                    status = "agreed"
                elif res is not None:
                    status = "resolved"
                    used.add((cid, name))
                    if not (same_number(res.first_read, first_value) and same_number(res.second_read, second_value)):
                        issues.append(
                            _issue(
                                read.file,
                                study,
                                cid,
                                name,
                                "resolution_stale",
                                f"resolution quotes {res.first_read!r} vs {res.second_read!r}; "
                                f"the reads now hold {first_value!r} vs {second_value!r}",
                            )
                        )
                else:
                    status = "disagreed"
                    issues.append(
                        _issue(
                            read.file,
                            study,
                            cid,
                            name,
                            "second_read_disagreement",
                            f"first read {first_value!r}, second read {second_value!r}: add a resolution",
                        )
                    )
                kept = res if status == "resolved" else None
                comparisons.append(Comparison(study, cid, name, first_value, second_value, status, kept))
            for name in read.not_found.get(cid, []):
                first_value = record.get(name)
                if name not in values and first_value not in (None, [], ""):
                    shown = len(first_value) if isinstance(first_value, list) else first_value
                    comparisons.append(Comparison(study, cid, name, shown, None, "unconfirmed"))
        for key, res in sorted(read.resolutions.items()):
            if key not in used:
                issues.append(
                    _issue(
                        read.file,
                        study,
                        res.cohort_id,
                        res.field,
                        "resolution_stale",
                        "resolution for a number on which the reads no longer disagree",
                    )
                )
    return comparisons, issues


@dataclass(frozen=True)
class Tally:
    """Counts of one study, one cohort or the whole comparison."""

    compared: int
    agreed: int
    disagreed: int
    resolved: int
    missed: int
    unconfirmed: int = 0


def tally(comparisons: list[Comparison]) -> Tally:
    """Compared = numbers both reads have; missed = only the second read has them; unconfirmed = only the first."""
    statuses = ("agreed", "disagreed", "resolved", "missed", "unconfirmed")
    count = {s: sum(1 for c in comparisons if c.status == s) for s in statuses}
    both = count["agreed"] + count["disagreed"] + count["resolved"]
    return Tally(both, count["agreed"], count["disagreed"], count["resolved"], count["missed"], count["unconfirmed"])


def _resolution_kind(res: Resolution) -> str:
    if same_number(res.resolved_value, res.first_read):
        return "first read kept"
    if same_number(res.resolved_value, res.second_read):
        return "second read adopted"
    return "another value adopted"


def verification_text(comparisons: list[Comparison]) -> str:
    """The short agreement summary stored in ``verification`` for one cohort."""
    t = tally(comparisons)
    if t.compared == 0:
        parts = ["no number read by both readers"]
    else:
        parts = [f"{t.agreed} of {t.compared} numbers agreed"]
    resolved = [c for c in comparisons if c.status == "resolved" and c.resolution is not None]
    if resolved:
        detail = ", ".join(f"{c.field}: {_resolution_kind(c.resolution)}" for c in resolved)  # type: ignore[arg-type]
        parts.append(f"{len(resolved)} resolved ({detail}, see note)")
    if t.disagreed:
        parts.append(f"{t.disagreed} unresolved")
    if t.missed:
        parts.append(f"{t.missed} more only in the second read")
    if t.unconfirmed:
        parts.append(f"{t.unconfirmed} not found by the second read")
    return "; ".join(parts)


def apply_verification(records: list[Record], reads: dict[str, SecondRead], comparisons: list[Comparison]) -> None:
    """Fill verified_by, verified_on and verification of every cohort that has a second read."""
    by_cohort: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_cohort.setdefault(c.cohort_id, []).append(c)
    for record in records:
        read = reads.get(record.get("study_id"))  # type: ignore[arg-type]
        cid = record.get("cohort_id")
        if read is None or cid not in read.values:
            continue
        record["verified_by"] = read.reader
        record["verified_on"] = read.read_on
        record["verification"] = verification_text(by_cohort.get(cid, []))  # type: ignore[arg-type]


def check_second_reads(
    records: list[Record], folder: Path
) -> tuple[dict[str, SecondRead], list[Comparison], list[Issue]]:
    """Load, validate and compare a folder of second reads against the first-read records."""
    reads, issues = load_second_reads(folder)
    comparisons, found = compare(records, reads)
    return reads, comparisons, sorted(issues + found)
