"""Field-level supersession: a later report of the same patients replaces the earlier one field by field.

A long-term update often repeats survival but not the relapse count of the first
report; dropping the earlier row whole would lose that number. So, at build time,
each primary cohort takes every group of fields it leaves empty from the newest
earlier report that has it (groups and their rules are in the data dictionary), and
every earlier time-to-event entry it does not repeat. The superseded rows stay as
they were read; ``inherited_from`` says which report each inherited value came from.
"""

from __future__ import annotations

import json
from typing import Any

from nkdata.dictionary import inherit_groups
from nkdata.source import Record, notes_to_json

INHERITED_NOTE_PREFIX = "[from {cohort_id}] "


def predecessors(records: list[Record]) -> dict[str, list[Record]]:
    """For each cohort, the reports it supersedes (directly or through a chain), newest first."""
    by_id = {r["cohort_id"]: r for r in records}
    out: dict[str, list[Record]] = {}
    for record in records:
        target, seen = record.get("superseded_by"), {record["cohort_id"]}
        final = None
        while isinstance(target, str) and target in by_id and target not in seen:
            seen.add(target)
            final = target
            target = by_id[target].get("superseded_by")
        if final is not None:
            out.setdefault(final, []).append(record)
    for earlier in out.values():
        earlier.sort(key=lambda r: (r.get("year") or 0, r["cohort_id"]), reverse=True)
    return out


def _empty(record: Record, names: tuple[str, ...]) -> bool:
    return all(record.get(n) is None for n in names)


def _entry_key(entry: dict[str, Any]) -> tuple[Any, Any]:
    return entry.get("endpoint"), entry.get("landmark_months")


def inherit(primary: Record, earlier: list[Record]) -> Record:
    """``primary`` with the empty field groups and missing survival entries of ``earlier`` filled in."""
    out = dict(primary)
    notes = dict(primary.get("_notes") or {})
    sources: dict[str, str] = {}
    from_review = list(out.get("from_review") or [])
    converted = list(out.get("converted_from_percent") or [])
    for _group, fields in inherit_groups().items():
        names = tuple(f.name for f in fields)
        if not _empty(out, names):
            continue
        same_n = any(f.same_n for f in fields)
        for report in earlier:
            if _empty(report, names) or same_n and report.get("n_treated") != out.get("n_treated"):
                continue
            prefix = INHERITED_NOTE_PREFIX.format(cohort_id=report["cohort_id"])
            for name in names:
                if report.get(name) is None:
                    continue
                out[name] = report[name]
                sources[name] = report["cohort_id"]
                if name in (report.get("_notes") or {}):
                    notes[name] = prefix + str(report["_notes"][name])
                if name in (report.get("from_review") or []) and name not in from_review:
                    from_review.append(name)
                if name in (report.get("converted_from_percent") or []) and name not in converted:
                    converted.append(name)
            break
    entries = list(out.get("survival") or [])
    have = {_entry_key(e) for e in entries if isinstance(e, dict)}
    for report in earlier:
        for entry in report.get("survival") or []:
            if isinstance(entry, dict) and _entry_key(entry) not in have:
                entries.append(entry)
                have.add(_entry_key(entry))
                sources.setdefault("survival", report["cohort_id"])
    out["survival"] = entries
    out["from_review"] = from_review
    out["converted_from_percent"] = converted
    out["_notes"] = notes
    out["field_notes"] = notes_to_json(notes)
    out["inherited_from"] = json.dumps(sources, sort_keys=True) if sources else None
    return out


def resolve(records: list[Record]) -> list[Record]:
    """Every record, primary ones completed from the reports they supersede."""
    earlier_of = predecessors(records)
    return [inherit(r, earlier_of[r["cohort_id"]]) if r["cohort_id"] in earlier_of else r for r in records]
