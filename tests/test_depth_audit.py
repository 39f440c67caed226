"""The depth audit (data/audit/depth_audit.yaml) is well formed and benchmarks/depth.py scores it correctly.

A typo'd cohort id or field in the audit would silently count as a missed fact, so each is checked against the
dataset and the data dictionary; the scorer is checked on hand-made rows for each of its three outcomes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from benchmarks import depth
from nkdata import vocabulary as voc
from nkdata.dictionary import FIELDS

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "data" / "audit" / "depth_audit.yaml"


SURVIVAL_FIELD = re.compile(r"^survival:(?P<endpoint>[a-z]+):(?P<landmark>median|\d+(\.\d+)?)$")


@pytest.fixture(scope="module")
def audit() -> dict:
    return yaml.safe_load(AUDIT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cohorts() -> dict[str, str]:
    """cohort_id -> study_id of the built dataset."""
    frame = pd.read_parquet(ROOT / "data" / "trials.parquet", columns=["cohort_id", "study_id"])
    return dict(zip(frame.cohort_id, frame.study_id, strict=True))


def audit_field_problem(field: str) -> str | None:
    """Why an audit field name is not one the dictionary knows (None when it is)."""
    match = SURVIVAL_FIELD.match(field)
    if match:
        return None if match["endpoint"] in voc.ENDPOINTS else f"unknown endpoint {match['endpoint']!r}"
    if field not in {f.name for f in FIELDS}:
        return f"{field!r} is not a dictionary field"
    if depth.kind_of(field) is None:
        return f"{field!r} is not an expansion or safety field"
    return None


def test_the_scorer_field_sets_are_dictionary_fields():
    names = {f.name for f in FIELDS}
    assert depth.EXPANSION_FIELDS <= names
    assert depth.SAFETY_FIELDS <= names


def test_field_check_rejects_typos_and_unknown_endpoints():
    assert audit_field_problem("crs_any") is None
    assert audit_field_problem("survival:os:24") is None
    assert audit_field_problem("survival:efs:median") is None
    assert audit_field_problem("crs_anny")
    assert audit_field_problem("survival:overall:24")
    assert audit_field_problem("survival:os:two-years")
    assert audit_field_problem("n_treated")  # a dictionary field, but not one the audit measures


def test_every_publication_is_a_known_study_listed_once(audit, cohorts):
    ids = [p["study_id"] for p in audit["publications"]]
    assert len(ids) == len(set(ids)), "a publication is listed twice"
    assert set(ids) <= set(cohorts.values())
    assert len(ids) >= 30


def test_every_fact_has_a_known_cohort_of_its_study_a_known_field_a_number_and_a_page_read(audit, cohorts):
    problems = []
    for pub in audit["publications"]:
        facts = pub.get("facts") or []
        if not facts and not pub.get("note"):
            problems.append(f"{pub['study_id']}: no facts and no note saying why")
        for fact in facts:
            where = f"{pub['study_id']} {fact.get('cohort_id')} {fact.get('field')}"
            if cohorts.get(fact["cohort_id"]) != pub["study_id"]:
                problems.append(f"{where}: cohort is not a cohort of this study")
            if why := audit_field_problem(fact["field"]):
                problems.append(f"{where}: {why}")
            if not isinstance(fact.get("value"), int | float) or isinstance(fact.get("value"), bool):
                problems.append(f"{where}: value is not a number")
            if not str(fact.get("page", "")).startswith(("http://", "https://")):
                problems.append(f"{where}: no page")
            elif fact["page"] not in pub["pages"]:
                problems.append(f"{where}: its page is not among the publication's pages read")
            if not fact.get("note"):
                problems.append(f"{where}: no note")
    assert not problems, "\n".join(problems)


def _row(**values) -> dict:
    base = {"cohort_id": "x-1", "crs_any": None, "dlt_count": None, "survival": []}
    return base | values


def test_scorer_counts_captured_different_and_missed():
    facts = [
        depth.Fact("x", "x-1", "crs_any", 3, "https://p"),
        depth.Fact("x", "x-1", "dlt_count", 0, "https://p"),
        depth.Fact("x", "x-1", "survival:os:24", 37, "https://p"),
        depth.Fact("x", "x-1", "survival:lfs:median", 8.5, "https://p"),
        depth.Fact("x", "x-2", "crs_any", 1, "https://p"),  # cohort not in the dataset
    ]
    trials = pd.DataFrame(
        [
            _row(
                crs_any=3.0,
                dlt_count=None,
                survival=[
                    {"endpoint": "os", "landmark_months": 24.0, "estimate_pct": 40.0},
                    {"endpoint": "lfs", "landmark_months": None, "median_months": 8.5},
                ],
            )
        ]
    )
    status = [s for _, s, _ in depth.score(facts, trials)]
    assert status == ["captured", "missed", "different", "captured", "missed"]


def test_a_survival_entry_at_another_landmark_or_endpoint_does_not_capture_the_fact():
    trials = pd.DataFrame([_row(survival=[{"endpoint": "os", "landmark_months": 12.0, "estimate_pct": 37.0}])])
    facts = [
        depth.Fact("x", "x-1", "survival:os:24", 37, "https://p"),
        depth.Fact("x", "x-1", "survival:efs:12", 37, "https://p"),
    ]
    assert [s for _, s, _ in depth.score(facts, trials)] == ["missed", "missed"]


def test_report_shares_per_kind_and_lists_the_missed_fact():
    facts = [
        depth.Fact("x", "x-1", "crs_any", 3, "https://p/crs"),
        depth.Fact("x", "x-1", "dlt_count", 0, "https://p/dlt"),
    ]
    text = depth.report(depth.score(facts, pd.DataFrame([_row(crs_any=3.0)])))
    assert "| safety | 2 | 1 | 0 | 0 | 50% | 50% |" in text
    assert "| overall | 2 | 1 | 0 | 0 | 50% | 50% |" in text
    assert "x-1 `dlt_count` = 0 - https://p/dlt" in text


def test_a_missed_fact_with_a_recorded_reason_is_set_aside_not_hidden():
    facts = [
        depth.Fact("x", "x-1", "crs_any", 3, "https://p/crs"),
        depth.Fact("x", "x-1", "dlt_count", 0, "https://p/dlt", not_added="covers half the cohort"),
    ]
    text = depth.report(depth.score(facts, pd.DataFrame([_row(crs_any=3.0)])))
    assert "| safety | 2 | 1 | 0 | 1 | 50% | 100% |" in text
    assert "**Missed facts** (0)" in text
    assert "not added: covers half the cohort" in text


def test_every_not_added_reason_belongs_to_a_fact_the_dataset_misses(audit):
    facts = depth.load_facts(audit)
    scored = depth.score(facts, pd.read_parquet(ROOT / "data" / "trials.parquet"))
    wrong = [f"{f.cohort_id} {f.field}" for f, status, _ in scored if f.not_added and status != "missed"]
    assert not wrong, f"not_added on a fact the dataset captures: {wrong}"
