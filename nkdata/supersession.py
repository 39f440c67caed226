"""Field-level supersession: a later report of the same patients replaces the earlier one field by field.

A long-term update often repeats survival but not the relapse count of the first
report; dropping the earlier row whole would lose that number. So, at build time,
each primary cohort takes every group of fields it leaves empty from the newest
earlier report that has it (groups and their rules are in the data dictionary), and
every earlier time-to-event entry it does not repeat. The superseded rows stay as
they were read; ``inherited_from`` says which report each inherited value came from.

Each outcome takes the most complete report of the trial (the Cochrane rule): the
newest report that gives it. When that report treated a different number of
patients than the primary one, its counts cannot be moved over (they would sit on
the wrong denominator), so its own row enters the analyses of that outcome instead:
``outcome_report_for`` on that row names the outcomes, ``outcomes_elsewhere`` on the
primary row names them too, so the patients are counted once.
"""

from __future__ import annotations

import json
from typing import Any

from nkdata.dictionary import RATE_EVENTS, inherit_groups
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


def _most_complete(primary: Record, earlier: list[Record], names: tuple[str, ...], same_n: bool) -> Record | None:
    """The newest earlier report giving the group, or None; a same-n group moves only from a report that treated
    as many patients as the primary one (else :func:`own_denominator_reports` lets that report's row speak)."""
    for report in earlier:
        if not _empty(report, names):
            if same_n and report.get("n_treated") != primary.get("n_treated"):
                return None
            return report
    return None


def own_denominator_reports(resolved: Record, earlier: list[Record]) -> dict[str, str]:
    """outcome field -> cohort_id of the earlier report whose own row enters the analyses of that outcome: for
    each outcome count the (already completed) primary report still lacks, the newest earlier report giving it."""
    out: dict[str, str] = {}
    for name in RATE_EVENTS:
        if resolved.get(name) is None:
            report = next((r for r in earlier if r.get(name) is not None), None)
            if report is not None:
                out[name] = report["cohort_id"]
    return out


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
        chosen = _most_complete(out, earlier, names, any(f.same_n for f in fields))
        for report in [chosen] if chosen is not None else []:
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
    elsewhere = own_denominator_reports(out, earlier)
    sources.update(elsewhere)
    out["outcomes_elsewhere"] = sorted(elsewhere)
    out["inherited_from"] = json.dumps(sources, sort_keys=True) if sources else None
    return out


def resolve(records: list[Record]) -> list[Record]:
    """Every record, primary ones completed from the reports they supersede, and each superseded report marked
    with the outcomes it is the most complete report of (``outcome_report_for``)."""
    earlier_of = predecessors(records)
    resolved = [inherit(r, earlier_of[r["cohort_id"]]) if r["cohort_id"] in earlier_of else r for r in records]
    speaks_for: dict[str, list[str]] = {}
    for record in resolved:
        sources = json.loads(record["inherited_from"]) if record.get("inherited_from") else {}
        for name in record.get("outcomes_elsewhere") or []:
            speaks_for.setdefault(sources[name], []).append(name)
    return [
        {**r, "outcome_report_for": sorted(speaks_for[r["cohort_id"]])} if r["cohort_id"] in speaks_for else r
        for r in resolved
    ]
