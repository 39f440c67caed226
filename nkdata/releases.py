"""Dated releases of the dataset and what changed between two of them.

A living review is only citable when a returning reader can see what changed since the version they
cited. Each release is one file ``data/releases/<version>.yaml`` (version, date, literature-search date,
the git revision or content hash of its Parquet, and the changelog against the release before it); the
``diff`` compares two datasets given as Parquet files or as git revisions of the repository.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from nkdata.dictionary import FIELDS, FIELDS_BY_NAME
from nkdata.paths import REPO_ROOT

VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# Fields whose changes a reader cares about: numbers, codes and flags (free text is summarised, not listed).
_COMPARED_KINDS = ("integer", "number", "boolean")
_TRIALS_IN_REPO = "data/trials.parquet"
_REGISTRY_IN_REPO = "data/registry.parquet"
_REGISTRY_COMPARED = ("phase", "status", "status_as_of", "enrollment", "start_year", "completion_year", "sponsor")


class ReleaseError(ValueError):
    """A release that cannot be made or a dataset that cannot be read, with the reason in words."""


def parse_version(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a semantic version; raises ReleaseError otherwise."""
    match = VERSION_RE.match(str(text).strip())
    if not match:
        raise ReleaseError(f"{text!r} is not a version of the form X.Y.Z")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


@dataclass(frozen=True)
class Snapshot:
    """One dataset to compare: its published cohorts and registered trials, and where they came from."""

    label: str
    cohorts: list[dict[str, Any]]
    trials: list[dict[str, Any]]


def _git_blob(revision: str, path: str, repo: Path) -> bytes | None:
    """The bytes of ``path`` at ``revision``, None when that revision has no such file."""
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{revision}:{path}"], capture_output=True, check=False, timeout=60
    )
    return result.stdout if result.returncode == 0 else None


def _rows(data: bytes | Path | None) -> list[dict[str, Any]]:
    """Rows of a Parquet file or of its bytes. Bytes go through a temporary file: pyarrow 26 reading a Parquet
    from an in-memory buffer aborts the interpreter at exit about one time in three (docs/decisions.md)."""
    if data is None:
        return []
    if isinstance(data, bytes):
        with tempfile.TemporaryDirectory(prefix="nk-release-") as folder:
            path = Path(folder) / "snapshot.parquet"
            path.write_bytes(data)
            return _rows(path)
    try:
        return pq.read_table(data).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise ReleaseError(f"cannot read a dataset ({exc.__class__.__name__}: {exc})") from exc


def load_snapshot(spec: str, repo: Path = REPO_ROOT) -> Snapshot:
    """A Parquet file (its registry beside it as ``registry.parquet`` when present) or a git revision."""
    path = Path(spec)
    if path.suffix == ".parquet" and path.is_file():
        registry = path.with_name("registry.parquet")
        return Snapshot(str(path), _rows(path), _rows(registry) if registry.is_file() and registry != path else [])
    trials = _git_blob(spec, _TRIALS_IN_REPO, repo)
    if trials is None:
        raise ReleaseError(f"{spec!r} is neither a Parquet file nor a git revision holding {_TRIALS_IN_REPO}")
    return Snapshot(f"git {spec}", _rows(trials), _rows(_git_blob(spec, _REGISTRY_IN_REPO, repo)))


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return True
    return old == new


def _note(row: dict[str, Any], name: str) -> str | None:
    try:
        notes = json.loads(row.get("field_notes") or "{}")
    except (TypeError, ValueError):
        return None
    value = notes.get(name) if isinstance(notes, dict) else None
    return str(value) if value else None


def _survival_key(entry: dict[str, Any]) -> str:
    landmark = entry.get("landmark_months")
    where = f"{landmark:g} months" if isinstance(landmark, int | float) else "median"
    return f"{entry.get('endpoint')} at {where}"


def _survival_values(row: dict[str, Any]) -> dict[str, tuple[Any, str | None]]:
    """Each time-to-event result of a cohort: (estimate or median, its note), keyed by endpoint and landmark."""
    out: dict[str, tuple[Any, str | None]] = {}
    for entry in row.get("survival") or []:
        value = entry.get("estimate_pct") if entry.get("landmark_months") is not None else entry.get("median_months")
        out[_survival_key(entry)] = (value, entry.get("note"))
    return out


@dataclass
class Changelog:
    """What a newer dataset adds, removes and changes against an older one."""

    old: str
    new: str
    added_publications: list[dict[str, Any]] = field(default_factory=list)
    removed_publications: list[dict[str, Any]] = field(default_factory=list)
    added_cohorts: list[str] = field(default_factory=list)
    removed_cohorts: list[str] = field(default_factory=list)
    added_trials: list[str] = field(default_factory=list)
    removed_trials: list[str] = field(default_factory=list)
    changed_values: list[dict[str, Any]] = field(default_factory=list)
    changed_trials: list[dict[str, Any]] = field(default_factory=list)
    notes_edited: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "compared": {"old": self.old, "new": self.new},
            "added_publications": self.added_publications,
            "removed_publications": self.removed_publications,
            "added_cohorts": self.added_cohorts,
            "removed_cohorts": self.removed_cohorts,
            "added_trials": self.added_trials,
            "removed_trials": self.removed_trials,
            "changed_values": self.changed_values,
            "changed_trials": self.changed_trials,
            "notes_edited": self.notes_edited,
        }

    def counts(self) -> dict[str, int]:
        return {
            "publications added": len(self.added_publications),
            "publications removed": len(self.removed_publications),
            "cohorts added": len(self.added_cohorts),
            "cohorts removed": len(self.removed_cohorts),
            "registered trials added": len(self.added_trials),
            "registered trials removed": len(self.removed_trials),
            "numbers changed": len(self.changed_values),
            "registry facts changed": len(self.changed_trials),
        }


def _publications(cohorts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in cohorts:
        out.setdefault(
            str(row["study_id"]),
            {
                "study_id": row["study_id"],
                "citation": f"{row.get('first_author')} {row.get('year')}. {row.get('title')}",
                "source_url": row.get("source_url"),
            },
        )
    return out


def _compared_fields() -> list[str]:
    return [f.name for f in FIELDS if f.dtype in _COMPARED_KINDS or (f.dtype == "string" and f.allowed)]


def _cohort_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for name in _compared_fields():
        before, after = old.get(name), new.get(name)
        if not _same(before, after):
            changes.append(
                {
                    "cohort_id": new["cohort_id"],
                    "field": name,
                    "old": before,
                    "new": after,
                    "source": _note(new, name) or _note(old, name),
                    "source_url": new.get("source_url"),
                }
            )
    before_s, after_s = _survival_values(old), _survival_values(new)
    for key in sorted(set(before_s) | set(after_s)):
        (before, old_note), (after, new_note) = before_s.get(key, (None, None)), after_s.get(key, (None, None))
        if not _same(before, after):
            changes.append(
                {
                    "cohort_id": new["cohort_id"],
                    "field": f"survival: {key}",
                    "old": before,
                    "new": after,
                    "source": new_note or old_note,
                    "source_url": new.get("source_url"),
                }
            )
    return changes


def diff(old: Snapshot, new: Snapshot) -> Changelog:
    """Every added and removed publication, cohort and registered trial, and every changed number."""
    log = Changelog(old.label, new.label)
    old_pubs, new_pubs = _publications(old.cohorts), _publications(new.cohorts)
    log.added_publications = [new_pubs[k] for k in sorted(set(new_pubs) - set(old_pubs))]
    log.removed_publications = [old_pubs[k] for k in sorted(set(old_pubs) - set(new_pubs))]
    old_c = {str(r["cohort_id"]): r for r in old.cohorts}
    new_c = {str(r["cohort_id"]): r for r in new.cohorts}
    log.added_cohorts = sorted(set(new_c) - set(old_c))
    log.removed_cohorts = sorted(set(old_c) - set(new_c))
    for cohort_id in sorted(set(old_c) & set(new_c)):
        log.changed_values.extend(_cohort_changes(old_c[cohort_id], new_c[cohort_id]))
        if old_c[cohort_id].get("extraction_note") != new_c[cohort_id].get("extraction_note"):
            log.notes_edited += 1
    old_t = {str(r["registry_id"]): r for r in old.trials}
    new_t = {str(r["registry_id"]): r for r in new.trials}
    log.added_trials = sorted(set(new_t) - set(old_t))
    log.removed_trials = sorted(set(old_t) - set(new_t))
    for trial_id in sorted(set(old_t) & set(new_t)):
        for name in _REGISTRY_COMPARED:
            before, after = old_t[trial_id].get(name), new_t[trial_id].get(name)
            if not _same(before, after):
                log.changed_trials.append({"registry_id": trial_id, "field": name, "old": before, "new": after})
    return log


def _show(value: Any) -> str:
    return "not reported" if value is None else str(value)


def changelog_text(log: Changelog) -> str:
    """The changelog as plain text for the terminal (one line per change)."""
    lines = [f"Changes from {log.old} to {log.new}"]
    lines += [f"  {name}: {count}" for name, count in log.counts().items()]
    for title, sign, items in (
        ("Publications added", "+", log.added_publications),
        ("Publications removed", "-", log.removed_publications),
    ):
        if items:
            lines.append(f"{title}:")
            lines += [f"  {sign} {p['study_id']}: {p['citation']}" for p in items]
    for title, ids in (
        ("Cohorts added", log.added_cohorts),
        ("Cohorts removed", log.removed_cohorts),
        ("Registered trials added", log.added_trials),
        ("Registered trials removed", log.removed_trials),
    ):
        if ids:
            lines.append(f"{title}: {', '.join(ids)}")
    if log.changed_values:
        lines.append("Numbers changed (old -> new, source):")
        for c in log.changed_values:
            label = FIELDS_BY_NAME[c["field"]].name if c["field"] in FIELDS_BY_NAME else c["field"]
            source = f" [{c['source']}]" if c["source"] else ""
            lines.append(f"  {c['cohort_id']} {label}: {_show(c['old'])} -> {_show(c['new'])}{source}")
    if log.changed_trials:
        lines.append("Registry facts changed (old -> new):")
        lines += [
            f"  {c['registry_id']} {c['field']}: {_show(c['old'])} -> {_show(c['new'])}" for c in log.changed_trials
        ]
    if log.notes_edited:
        lines.append(f"Extraction notes edited in {log.notes_edited} cohort(s).")
    return "\n".join(lines)


def blob_ids(repo: Path = REPO_ROOT) -> dict[str, str]:
    """Git object ids of the built Parquet files: a later release finds this one's data by them, exactly."""
    out = {}
    for path in (_TRIALS_IN_REPO, _REGISTRY_IN_REPO):
        result = subprocess.run(
            ["git", "-C", str(repo), "hash-object", path], capture_output=True, text=True, check=False, timeout=60
        )
        if result.returncode == 0:
            out[path] = result.stdout.strip()
    return out


def _git_object(object_id: str, repo: Path) -> bytes | None:
    result = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", object_id], capture_output=True, check=False, timeout=60
    )
    return result.stdout if result.returncode == 0 else None


def previous_snapshot(release: dict[str, Any], repo: Path = REPO_ROOT) -> Snapshot:
    """The data of a stored release: by its Parquet object ids, else by its git revision."""
    label = f"release {release.get('version')}"
    blobs = release.get("data") or {}
    if blobs.get(_TRIALS_IN_REPO):
        trials = _git_object(blobs[_TRIALS_IN_REPO], repo)
        if trials is not None:
            registry = _git_object(blobs.get(_REGISTRY_IN_REPO, ""), repo) if blobs.get(_REGISTRY_IN_REPO) else None
            return Snapshot(label, _rows(trials), _rows(registry))
    if release.get("revision"):
        snap = load_snapshot(str(release["revision"]), repo)
        return Snapshot(label, snap.cohorts, snap.trials)
    raise ReleaseError(f"{label} names neither Parquet object ids nor a git revision that this repository holds")


# ----- The release history kept in the repository ------------------------------------------------


def release_files(folder: Path) -> list[Path]:
    """Release files sorted from oldest to newest version."""
    files = [p for p in folder.glob("*.yaml") if VERSION_RE.match(p.stem)]
    return sorted(files, key=lambda p: parse_version(p.stem))


def load_releases(folder: Path) -> list[dict[str, Any]]:
    """Every release, newest first, as stored (version, date, searched, revision, summary, changes)."""
    out = []
    for path in reversed(release_files(folder)):
        value = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(value, dict):
            out.append(value)
    return out


def _plain(value: Any) -> Any:
    """YAML-safe values (numpy and Arrow scalars as Python ones)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def release_record(
    version: str, date: str, searched: str, log: Changelog, data: dict[str, str], revision: str | None = None
) -> dict[str, Any]:
    """The content of ``data/releases/<version>.yaml``."""
    return _plain(
        {
            "version": version,
            "date": date,
            "searched": searched,
            "revision": revision,
            "data": data,
            "summary": log.counts(),
            "changes": log.as_dict(),
        }
    )


def write_release(folder: Path, record: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['version']}.yaml"
    header = "# Generated by `python -m nkdata release`; the changelog is against the release before it.\n"
    path.write_text(header + yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    return path


def check_new_version(version: str, folder: Path) -> None:
    """Refuse a version that does not increase on the latest release."""
    new = parse_version(version)
    files = release_files(folder)
    if files and new <= parse_version(files[-1].stem):
        raise ReleaseError(f"version {version} does not increase on the latest release {files[-1].stem}")


def update_citation_file(path: Path, version: str, date: str) -> None:
    """Set version and date-released in CITATION.cff, keeping every other line as written."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^version: .*$", f'version: "{version}"', text)
    text = re.sub(r"(?m)^date-released: .*$", f'date-released: "{date}"', text)
    path.write_text(text, encoding="utf-8")


def update_release_file(path: Path, version: str, date: str, searched: str) -> None:
    """Set version, date and searched in data/release.yaml, keeping its comments."""
    text = path.read_text(encoding="utf-8")
    for key, value in (("version", version), ("date", date), ("searched", searched)):
        text = re.sub(rf"(?m)^{key}: .*$", f'{key}: "{value}"', text)
    path.write_text(text, encoding="utf-8")


def update_zenodo_file(path: Path, version: str, date: str) -> None:
    """Version and publication date in .zenodo.json, the metadata an archive reads for a release's DOI."""
    value = json.loads(path.read_text(encoding="utf-8"))
    value["version"], value["publication_date"] = version, date
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ----- Tables of one release for the What's new page ---------------------------------------------


def _field_label(name: str) -> str:
    """A readable field name (the dictionary's name in words; time-to-event results by endpoint)."""
    if name.startswith("survival: "):
        return "Time-to-event: " + name.removeprefix("survival: ")
    from nkdata.dictionary import field_label

    return field_label(name)


def _code_labels() -> dict[str, dict[str, str]]:
    """For each coded field, its vocabulary (the dict of ``nkdata.vocabulary`` whose codes are the field's)."""
    from nkdata import vocabulary

    vocabularies = [
        v
        for v in vars(vocabulary).values()
        if isinstance(v, dict) and v and all(isinstance(k, str) and isinstance(t, str) for k, t in v.items())
    ]
    out = {}
    for f in FIELDS:
        if f.allowed:
            out[f.name] = next((v for v in vocabularies if set(f.allowed) <= set(v)), {})
    return out


def _value_text(value: Any, field: str = "") -> str:
    """A value as a reader reads it: codes as their labels, missing as 'not reported'."""
    if value is None:
        return "not reported"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    labels = _code_labels().get(field, {})
    return labels.get(str(value), str(value).replace("_", " "))


def changed_values_frame(record: dict[str, Any]) -> pd.DataFrame:
    """Every changed number of a release: cohort, field, before, after and where the new value was read."""

    rows = [
        {
            "Cohort": c["cohort_id"],
            "Field": _field_label(c["field"]),
            "Before": _value_text(c["old"], c["field"]),
            "After": _value_text(c["new"], c["field"]),
            "Where it was read": c.get("source") or "see the cohort's notes",
            "Source": c.get("source_url"),
        }
        for c in (record.get("changes") or {}).get("changed_values", [])
    ]
    return pd.DataFrame(rows, columns=["Cohort", "Field", "Before", "After", "Where it was read", "Source"])


def publications_frame(record: dict[str, Any], which: str = "added_publications") -> pd.DataFrame:
    """Publications a release added (or removed), with their canonical link."""

    rows = [
        {"Publication": p.get("citation"), "Study": p.get("study_id"), "Source": p.get("source_url")}
        for p in (record.get("changes") or {}).get(which, [])
    ]
    return pd.DataFrame(rows, columns=["Publication", "Study", "Source"])
