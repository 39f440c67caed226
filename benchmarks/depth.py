"""Depth of the evidence base: share of the audited survival, expansion and safety facts the dataset captures.

    python benchmarks/depth.py                       # data/audit/depth_audit.yaml against data/trials.parquet
    python benchmarks/depth.py --trials OTHER.parquet --audit OTHER.yaml

The audit (a blind read of stored pages) lists findable facts; a fact is captured when its cohort's field is
non-null, or, for ``survival:<endpoint>:<landmark months|median>``, when the cohort's survival list has an entry
with that endpoint and landmark (or a median). A captured value that differs from the audit's is counted apart
("captured, different value"): it needs a look at the page, never an automatic change. A missed fact whose
audit entry carries ``not_added`` (a coding rule, an ambiguity, or an audit misreading found on re-reading the
page) is listed with that reason, and the share of the facts left once those are set aside is printed beside
the raw share.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIT = ROOT / "data" / "audit" / "depth_audit.yaml"
DEFAULT_TRIALS = ROOT / "data" / "trials.parquet"

EXPANSION_FIELDS = frozenset(
    {
        "expansion_count",
        "expansion_evaluated",
        "peak_count",
        "peak_day",
        "median_persistence_days",
        "max_persistence_days",
    }
)
SAFETY_FIELDS = frozenset(
    {
        "crs_any",
        "crs_grade3plus",
        "icans_any",
        "gvhd_any",
        "agvhd_any",
        "agvhd_grade2plus",
        "gvhd_grade3plus",
        "cgvhd_any",
        "dlt_count",
        "treatment_related_deaths",
    }
)
KINDS = ("time-to-event", "expansion", "safety")
TOLERANCE = 0.051  # an audit value read as "65.1" and a stored 65.1 (or 37 vs 37.0) are the same number


@dataclass(frozen=True)
class Fact:
    """One audited fact: where the page says it and what it says."""

    study_id: str
    cohort_id: str
    field: str
    value: float
    page: str
    not_added: str | None = None

    @property
    def kind(self) -> str:
        if self.field.startswith("survival:"):
            return "time-to-event"
        return "expansion" if self.field in EXPANSION_FIELDS else "safety"


def kind_of(field: str) -> str | None:
    """The kind of an audit field name, or None when it is none of the audited fields."""
    if field.startswith("survival:"):
        return "time-to-event"
    if field in EXPANSION_FIELDS:
        return "expansion"
    if field in SAFETY_FIELDS:
        return "safety"
    return None


def load_facts(audit: dict[str, Any]) -> list[Fact]:
    """Every fact of the audit file, in file order."""
    out = []
    for pub in audit["publications"]:
        for f in pub.get("facts") or []:
            out.append(
                Fact(pub["study_id"], f["cohort_id"], f["field"], float(f["value"]), f["page"], f.get("not_added"))
            )
    return out


def stored_value(row: pd.Series, field: str) -> float | None:
    """The dataset's value for an audit field of one cohort row (None when not captured)."""
    if not field.startswith("survival:"):
        value = row.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return float(value)
    _, endpoint, landmark = field.split(":")
    entries = row.get("survival")
    for entry in [] if entries is None else list(entries):
        if entry.get("endpoint") != endpoint:
            continue
        if landmark == "median":
            if entry.get("median_months") is not None:
                return float(entry["median_months"])
            if entry.get("median_not_reached"):
                return math.inf
        elif entry.get("landmark_months") is not None and float(entry["landmark_months"]) == float(landmark):
            estimate = entry.get("estimate_pct")
            return math.nan if estimate is None else float(estimate)
    return None


def score(facts: list[Fact], trials: pd.DataFrame) -> list[tuple[Fact, str, float | None]]:
    """(fact, status, stored value) with status 'captured', 'different' or 'missed'."""
    rows = {r["cohort_id"]: r for _, r in trials.iterrows()}
    out = []
    for fact in facts:
        row = rows.get(fact.cohort_id)
        stored = None if row is None else stored_value(row, fact.field)
        if stored is None:
            status = "missed"
        elif math.isnan(stored) or abs(stored - fact.value) > TOLERANCE:
            status = "different"
        else:
            status = "captured"
        out.append((fact, status, stored))
    return out


def report(scored: list[tuple[Fact, str, float | None]]) -> str:
    """Markdown: per kind and overall the facts found, captured (any value) and the shares; then the lists."""
    lines = [
        "| kind | facts found | captured | of which different value | missed, not added (reason in audit) "
        "| share captured | share of the rest |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in (*KINDS, "overall"):
        sel = [s for s in scored if kind == "overall" or s[0].kind == kind]
        captured = sum(1 for s in sel if s[1] != "missed")
        different = sum(1 for s in sel if s[1] == "different")
        set_aside = sum(1 for s in sel if s[1] == "missed" and s[0].not_added)
        share = f"{100 * captured / len(sel):.0f}%" if sel else "-"
        rest = len(sel) - set_aside
        share_rest = f"{100 * captured / rest:.0f}%" if rest else "-"
        lines.append(f"| {kind} | {len(sel)} | {captured} | {different} | {set_aside} | {share} | {share_rest} |")
    groups = (
        ("Missed facts", lambda s: s[1] == "missed" and not s[0].not_added),
        ("Missed, not added", lambda s: s[1] == "missed" and bool(s[0].not_added)),
        ("Captured, different value (look at the page)", lambda s: s[1] == "different"),
    )
    for title, keep in groups:
        sel = [s for s in scored if keep(s)]
        lines += ["", f"**{title}** ({len(sel)})", ""]
        for fact, _, stored in sel:
            extra = "" if stored is None else f" (dataset: {stored:g})"
            reason = f" - not added: {fact.not_added}" if fact.not_added else ""
            lines.append(f"- {fact.cohort_id} `{fact.field}` = {fact.value:g}{extra} - {fact.page}{reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=Path, default=DEFAULT_AUDIT)
    parser.add_argument("--trials", type=Path, default=DEFAULT_TRIALS)
    args = parser.parse_args(argv)
    audit = yaml.safe_load(args.audit.read_text(encoding="utf-8"))
    scored = score(load_facts(audit), pd.read_parquet(args.trials))
    print(f"Depth audit of {len(audit['publications'])} publications ({args.audit.name}) against {args.trials}\n")
    print(report(scored))


if __name__ == "__main__":
    sys.exit(main())
