"""The screening log of publications: every record looked at, included (a study file) or excluded with a reason.

Curators keep one YAML list each under ``data/screening/``; this module checks them and
counts a PRISMA-style flow (records identified, duplicates between logs removed,
excluded by reason, included) for the About page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from nkdata.issues import Issue
from nkdata.source import study_files

DECISIONS: tuple[str, ...] = ("included", "excluded")
EXCLUSION_REASONS: dict[str, str] = {
    "not_aml": "No AML patients",
    "not_adoptive_nk": "No adoptively transferred NK cells (CIK, T cells, cytokines only...)",
    "preclinical": "Preclinical",
    "review_or_protocol": "Review, protocol or registry record without results",
    "duplicate": "Duplicate report of patients already included",
    "out_of_date_range": "Published before 2005",
    "no_outcome_data": "No outcome data",
    "not_retrievable": "No stored page with the primary report (or its citation) could be read",
    "no_aml_subgroup": "Mixed series whose AML patients could not be identified",
}
_REQUIRED = ("key", "title", "decision", "note")


@dataclass(frozen=True)
class Flow:
    """A PRISMA-style count of the screening."""

    records: int  # entries in all logs
    duplicates: int  # the same key logged by more than one curator
    screened: int
    excluded: dict[str, int]
    included_logged: int
    included: int  # publications in the dataset (study files)


def load_logs(folder: Path) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Every entry of every log (with its file), and the problems found reading them."""
    entries: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            issues.append(Issue(str(path), None, None, None, "yaml_syntax", f"cannot parse YAML: {exc}"))
            continue
        if doc is None:
            continue
        if not isinstance(doc, list):
            issues.append(Issue(str(path), None, None, None, "yaml_structure", "a screening log is a list of entries"))
            continue
        entries.extend(
            {**e, "_file": str(path)} if isinstance(e, dict) else {"_file": str(path), "_bad": e} for e in doc
        )
    return entries, issues


def check_entry(entry: dict[str, Any], study_ids: set[str]) -> list[tuple[str | None, str, str]]:
    """(field, rule, message) for one log entry."""
    if "_bad" in entry:
        return [(None, "yaml_structure", "each entry is a mapping")]
    problems = [(name, "required", f"{name} is required") for name in _REQUIRED if not entry.get(name)]
    decision = entry.get("decision")
    if decision and decision not in DECISIONS:
        problems.append(("decision", "allowed_values", f"{decision!r} is not one of {', '.join(DECISIONS)}"))
    if decision == "excluded" and entry.get("reason") not in EXCLUSION_REASONS:
        problems.append(
            ("reason", "allowed_values", f"{entry.get('reason')!r} is not one of {', '.join(EXCLUSION_REASONS)}")
        )
    if decision == "included" and entry.get("study_id") not in study_ids:
        problems.append(
            ("study_id", "included_study_exists", f"included, but no study file is named {entry.get('study_id')!r}")
        )
    return problems


def validate_screening_folder(folder: Path, source_dir: Path) -> list[Issue]:
    """Problems of the publication screening logs, each naming the log, the entry and the rule."""
    entries, issues = load_logs(folder)
    study_ids = {p.stem for p in study_files(source_dir)}
    for entry in entries:
        for field, rule, message in check_entry(entry, study_ids):
            issues.append(Issue(entry["_file"], str(entry.get("key")), None, field, rule, message))
    return sorted(issues)


def _key(entry: dict[str, Any]) -> str:
    return " ".join(str(entry.get("key") or entry.get("title") or "").lower().split())


def flow(folder: Path, source_dir: Path) -> Flow:
    """The screening counted: duplicates between curators' logs are counted once, included = study files."""
    entries, _ = load_logs(folder)
    entries = [e for e in entries if "_bad" not in e]
    unique: dict[str, dict[str, Any]] = {}
    for entry in entries:
        unique.setdefault(_key(entry), entry)
    excluded: dict[str, int] = {}
    for entry in unique.values():
        if entry.get("decision") == "excluded":
            reason = str(entry.get("reason"))
            excluded[reason] = excluded.get(reason, 0) + 1
    included_logged = sum(1 for e in unique.values() if e.get("decision") == "included")
    included = len(study_files(source_dir))
    return Flow(
        records=len(entries),
        duplicates=len(entries) - len(unique),
        screened=len(unique) + (included - min(included, included_logged)),
        excluded=dict(sorted(excluded.items(), key=lambda kv: -kv[1])),
        included_logged=included_logged,
        included=included,
    )


def flow_table(f: Flow) -> pd.DataFrame:
    """The flow as rows for a table: stage, count."""
    rows = [
        ("Records in the screening logs", f.records),
        ("Logged by more than one curator (counted once)", -f.duplicates),
        ("Publications screened (logged, plus included ones not logged)", f.screened),
    ]
    rows += [(f"Excluded: {EXCLUSION_REASONS.get(reason, reason)}", -n) for reason, n in f.excluded.items()]
    rows.append(("Included publications (study files)", f.included))
    return pd.DataFrame(rows, columns=["Stage", "Records"])


def validate_registry_screening(path: Path, folder: Path | None = None) -> list[Issue]:
    """The registry's screening list (trials looked at and excluded): known reasons, no id also listed as a trial."""
    from nkdata.source import record_files
    from nkdata.vocabulary import REGISTRY_SCREENING_REASONS

    name = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [Issue(name, None, None, None, "yaml_syntax", f"cannot read: {exc}")]
    entries = doc.get("excluded") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return [Issue(name, None, None, "excluded", "yaml_structure", "expected a list under 'excluded'")]
    listed = {p.stem for p in record_files(folder)} if folder else set()
    issues = []
    for entry in entries:
        trial_id = str(entry.get("registry_id")) if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not {"registry_id", "reason", "source_url", "note"} <= set(entry):
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    None,
                    "yaml_structure",
                    "each entry needs registry_id, reason, source_url and note",
                )
            )
            continue
        if entry["reason"] not in REGISTRY_SCREENING_REASONS:
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    "reason",
                    "allowed_values",
                    f"{entry['reason']!r} is not one of {', '.join(REGISTRY_SCREENING_REASONS)}",
                )
            )
        if trial_id and trial_id.lower() in listed:
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    "registry_id",
                    "unique_id",
                    "excluded here but also listed as a registered trial",
                )
            )
    return sorted(issues)
