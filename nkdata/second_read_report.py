"""``python -m nkdata compare-reads``: the agreement of the blind second reads, per study and overall."""

from __future__ import annotations

import sys
from pathlib import Path

from nkdata.issues import Issue
from nkdata.second_read import Comparison, check_second_reads, tally
from nkdata.source import load_folder


def validate_second_reads(source_dir: Path, second_reads_dir: Path) -> list[Issue]:
    """The second-read issues of a source folder: format, unknown names, unresolved disagreements."""
    records, _ = load_folder(source_dir)  # the study files' own issues are reported by their own check
    return check_second_reads(records, second_reads_dir)[2]


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def report_lines(comparisons: list[Comparison]) -> list[str]:
    """Counts per study and overall, then every disagreement, resolution, missed fact and unconfirmed value.

    missed: only the second read has the number; unconfirmed: the first read has it, the second read
    looked for it and listed it under not_found (for survival, the number of first-read entries).
    """
    head = f"{'study':<24} {'compared':>8} {'agreed':>7} {'disagreed':>9} {'resolved':>8} {'missed':>7}"
    lines = [head + f" {'unconfirmed':>11}"]
    studies = sorted({c.study_id for c in comparisons})
    for study in studies + ["overall"]:
        t = tally(comparisons if study == "overall" else [c for c in comparisons if c.study_id == study])
        row = f"{study:<24} {t.compared:>8} {t.agreed:>7} {t.disagreed:>9} {t.resolved:>8} {t.missed:>7}"
        lines.append(row + f" {t.unconfirmed:>11}")
    for status in ("disagreed", "resolved", "missed", "unconfirmed"):
        chosen = [c for c in comparisons if c.status == status]
        if not chosen:
            continue
        lines.append("")
        lines.append(f"{status} ({len(chosen)}):")
        for c in chosen:
            line = f"  {c.cohort_id} {c.field}: first {_fmt(c.first_read)}, second {_fmt(c.second_read)}"
            if c.resolution is not None:
                line += f" -> {_fmt(c.resolution.resolved_value)} ({c.resolution.note})"
            lines.append(line)
    return lines


def print_report(source_dir: Path, second_reads_dir: Path) -> int:
    """Print the report; exit status 1 when a second read has problems (listed on stderr)."""
    records, _ = load_folder(source_dir)
    _, comparisons, issues = check_second_reads(records, second_reads_dir)
    print("\n".join(report_lines(comparisons)))
    if issues:
        print(f"\n{len(issues)} problem(s):", file=sys.stderr)
        for issue in issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    return 0
