"""The PRISMA 2020 flow: its counts add up, the DOT diagram holds every box and reason, excluded records list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nkdata import prisma, screening
from nkdata.paths import REGISTRY_SCREENING, SCREENING_DIR, SOURCE_DIR
from nkdata.vocabulary import REGISTRY_SCREENING_REASONS as SCREENING_REASONS

from .apptest_helpers import run_app


def _log(tmp_path: Path) -> Path:
    folder = tmp_path / "screening"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(
        "- {key: A1, title: One, decision: excluded, reason: preclinical, note: mice}\n"
        "- {key: A2, title: Two, decision: excluded, reason: not_retrievable, note: no page}\n"
        '- {key: A3, title: Three, decision: excluded, reason: not_aml, note: "ALL \\"only\\""}\n',
        encoding="utf-8",
    )
    (folder / "b.yaml").write_text(
        "- {key: a1, title: One again, decision: excluded, reason: preclinical, note: also mice}\n", encoding="utf-8"
    )
    return folder


def test_counts_and_diagram_add_up(tmp_path: Path) -> None:
    studies = tmp_path / "studies"
    studies.mkdir()
    for name in ("s1", "s2"):
        (studies / f"{name}.yaml").write_text("study_id: x\n", encoding="utf-8")
    flow = screening.flow(_log(tmp_path), studies)
    registry = [{"registry_id": "NCT1", "reason": "not_aml"}, {"registry_id": "NCT2", "reason": "not_aml"}]
    c = prisma.counts(flow, registry, 5, SCREENING_REASONS, cohorts=3, primary_cohorts=2)
    # 4 logged records, one logged twice (case-insensitive key); 2 study files no log names are screened too
    assert (c.identified, c.duplicates, c.screened, c.not_retrieved, c.assessed) == (6, 1, 5, 1, 4)
    assert c.excluded == {"Preclinical": 1, "No AML patients": 1} and c.included == 2
    assert c.assessed - sum(c.excluded.values()) == c.included  # every assessed publication is accounted for
    assert (c.registry_screened, c.registry_included, c.registry_excluded) == (7, 5, {"No AML patients": 2})
    dot = prisma.prisma_dot(c)
    assert dot.startswith("digraph prisma {") and dot.rstrip().endswith("}")
    for text in (
        "Publications identified",
        ": 6",
        "Duplicates removed",
        "Publications screened: 5",
        "Reports not retrieved",
        "Publications assessed for eligibility: 4",
        "Publications excluded: 2",
        "Preclinical: 1",
        "Publications included: 2",
        "Cohorts: 3 (2 primary reports)",
        "Registered trials included: 5",
        "Trials excluded: 2",
    ):
        assert text in dot, text
    assert re.search(r"screened -> not_retrieved", dot) and "assessed -> included" in dot
    records = prisma.excluded_records(screening.load_logs(_log(tmp_path / "again"))[0], registry, SCREENING_REASONS)
    assert list(records["Record"]) == ["A1", "A2", "A3", "NCT1", "NCT2"]  # the duplicate key listed once
    assert list(prisma.search_records(records, "MICE one")["Record"]) == ["A1"]
    assert len(prisma.search_records(records, "no aml")) == 3


def test_dot_labels_escape_quotes() -> None:
    c = prisma.PrismaCounts(1, 0, 1, 0, {'Said "no"': 1}, 0)
    assert 'Said \\"no\\": 1' in prisma.prisma_dot(c)


def test_the_bundled_flow_is_consistent() -> None:
    flow = screening.flow(SCREENING_DIR, SOURCE_DIR)
    registry = prisma.registry_log(REGISTRY_SCREENING)
    c = prisma.counts(flow, registry, 43, SCREENING_REASONS)
    assert c.assessed - sum(c.excluded.values()) == c.included == flow.included
    assert c.identified == c.screened + c.duplicates


@pytest.fixture()
def _fixture_dataset(fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))


@pytest.mark.usefixtures("_fixture_dataset")
def test_about_draws_the_diagram_and_lists_excluded_records() -> None:
    at = run_app(page="pages/about.py")
    charts = at.get("graphviz_chart")
    assert len(charts) == 1 and "Publications included" in charts[0].proto.spec
    records = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert len(records) > 10 and records["Reason"].str.len().min() > 0
    at.text_input(key="w_excluded_search").input("preclinical").run()
    found = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert 0 < len(found) < len(records) and "Preclinical" in set(found["Reason"])
