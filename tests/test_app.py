"""Every page under AppTest: renders, shows the fixture's numbers for a linked slice, handles empty and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from nkdata.dictionary import FIELDS
from nkdata.stats import pool_proportions, proportion_ci

from .apptest_helpers import chart_rows, run_app, texts

PAGES = ["pages/overview.py", "pages/outcomes.py", "pages/persistence.py", "pages/relapse.py",
         "pages/safety.py", "pages/studies.py", "pages/about.py"]


@pytest.fixture(autouse=True)
def _fixture_dataset(fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))


@pytest.mark.parametrize("page", PAGES)
def test_default_slice_renders(page: str) -> None:
    at = run_app(page=page)
    assert not at.error
    assert at.title[0].value


def test_overview_kpis_for_linked_slice() -> None:
    at = run_app({"source": "cell_line"})
    metrics = {m.label: m.value for m in at.metric}
    # gamma2022-low (0/3) and gamma2022-high (2/4); gamma2021-rr is superseded.
    assert metrics == {"Publications": "1", "Cohorts": "2", "Patients treated": "7", "CR among evaluable": "29%"}
    low, high = proportion_ci(2, 7)
    assert f"2 of 7 patients (95% CI {100 * low:.0f}%-{100 * high:.0f}%" in texts(at)
    per_year = chart_rows(at)[0]
    assert {(r["year"], r["nk_source"], r["cohorts"]) for r in per_year} == {(2022, "cell_line", 2)}


def test_outcomes_forest_matches_stats_for_linked_slice() -> None:
    at = run_app({"source": "peripheral_blood", "years": ["2010", "2018"], "pool": "DL", "denom": "evaluable"},
                 page="pages/outcomes.py")
    forest = chart_rows(at)[0]
    cohorts = sorted((r["label"], r["estimate"]) for r in forest if r.get("kind") == "cohort")
    assert [label for label, _ in cohorts] == ["Alpha 2010 - Haplo NK + IL-2 (2/8)", "Delta 2018 - CIML NK (3/6)"]
    expected = pool_proportions([2, 3], [8, 6], "DL")
    overall = next(r for r in forest if r.get("kind") == "overall")
    assert overall["estimate"] == pytest.approx(expected.estimate)
    assert overall["ci_low"] == pytest.approx(expected.ci_low)
    assert f"Overall pooled CR: {100 * expected.estimate:.1f}%" in texts(at)
    # the link's analysis choices show in the controls
    assert at.selectbox(key="w_pool").value == "DL"
    assert at.radio(key="w_denom").value == "evaluable"


def test_outcomes_treated_denominator_is_default() -> None:
    at = run_app({"source": "peripheral_blood"}, page="pages/outcomes.py")
    overall = next(r for r in chart_rows(at)[0] if r.get("kind") == "overall")
    assert overall["estimate"] == pytest.approx(pool_proportions([2, 3], [10, 6], "REML").estimate)


def test_superseded_reports_never_pooled() -> None:
    at = run_app({"source": "cell_line", "superseded": "1"}, page="pages/outcomes.py")
    forest = chart_rows(at)[0]
    assert sorted(r["cohort_id"] for r in forest if r.get("kind") == "cohort") == ["gamma2022-high", "gamma2022-low"]
    assert {m.label: m.value for m in run_app({"source": "cell_line", "superseded": "1"}).metric}["Cohorts"] == "3"


def test_mixed_cohorts_can_be_left_out() -> None:
    at = run_app({"source": "peripheral_blood", "mixed": "0"})
    assert {m.label: m.value for m in at.metric}["Cohorts"] == "1"


def test_persistence_page_numbers() -> None:
    at = run_app(page="pages/persistence.py")
    strip = chart_rows(at)[0]
    assert sorted(r["max_persistence_days"] for r in strip) == [14, 28, 60]
    assert "Shows 3 of 5 cohorts; 2 did not report persistence" in texts(at)


def test_relapse_page_numbers() -> None:
    at = run_app(page="pages/relapse.py")
    forest = chart_rows(at)[0]
    assert sorted((r["events"], r["total"]) for r in forest if r.get("kind") == "cohort") == [(1, 3), (2, 6)]
    overall = pool_proportions([2, 1], [6, 3])
    assert f"Overall pooled relapse: {100 * overall.estimate:.1f}%" in texts(at)


def test_safety_shows_not_reported_apart_from_zero() -> None:
    at = run_app({"source": ["peripheral_blood", "umbilical_cord_blood"]}, page="pages/safety.py")
    rows = chart_rows(at)[0]
    crs_pb = {r["Status"]: r["Patients"] for r in rows if r["NK source"] == "Peripheral blood" and r["Outcome"] == "CRS (any grade)"}
    assert crs_pb == {"With event": 0, "Reported without event": 10, "Not reported": 6}
    ucb = {r["Status"]: r["Patients"] for r in rows if r["NK source"] == "Umbilical cord blood" and r["Outcome"] == "GVHD (any grade)"}
    assert ucb == {"With event": 0, "Reported without event": 0, "Not reported": 6}


def test_studies_table_and_card() -> None:
    at = run_app({"superseded": "1"}, page="pages/studies.py")
    table = at.dataframe[0].value
    assert len(table) == 6 and "gamma2021-rr" in set(table["Cohort"])
    assert table.set_index("Cohort").loc["alpha2010-rr", "DOI"] == "https://doi.org/10.1000/fixture.alpha"
    at.text_input(key="w_search").input("cord blood").run()
    assert list(at.dataframe[0].value["Cohort"]) == ["beta2015-cr"]
    at.session_state["studies_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}  # select the row
    at.run()
    assert [s.value for s in at.subheader][0] == "Beta 2015: UCB NK"
    card = at.dataframe[1].value.set_index("Field")
    assert card.loc["cr_count", "Value"] == "Not reported" and card.loc["relapse_count", "Value"] == "2"


def test_about_renders_the_dictionary() -> None:
    at = run_app(page="pages/about.py")
    dictionary = next(df.value for df in at.dataframe if "Field" in df.value.columns)
    assert list(dictionary["Field"]) == [f.name for f in FIELDS]


@pytest.mark.parametrize("page", PAGES[:-1])
def test_empty_slice_shows_empty_state(page: str) -> None:
    at = run_app({"source": "ipsc"}, page=page)
    assert "No cohorts in this slice" in texts(at)
    assert not at.error


def test_garbage_link_shows_notice_and_keeps_the_rest() -> None:
    at = run_app({"source": ["cell_line", "'; DROP TABLE trials; --"], "years": ["abc", "x"], "utm": "mail",
                  "pool": "magic"}, page="pages/outcomes.py")
    notice = " ".join(w.value for w in at.warning)
    assert "could not be used" in notice and "DROP" in notice and "utm" in notice and "pool" in notice
    assert at.multiselect(key="w_source").value == ["cell_line"]
    assert at.selectbox(key="w_pool").value == "REML"


def test_slice_survives_page_switch() -> None:
    at = run_app({"source": "cell_line", "years": ["2012", "2022"]}, page="pages/outcomes.py")
    at.switch_page("pages/persistence.py").run()
    assert at.multiselect(key="w_source").value == ["cell_line"]
    assert at.slider(key="w_years").value == (2012, 2022)


def test_changing_a_filter_updates_the_view() -> None:
    at = run_app()
    at.multiselect(key="w_source").select("umbilical_cord_blood").run()
    assert {m.label: m.value for m in at.metric}["Cohorts"] == "1"
    share = [c.value for c in at.code]
    assert any("source=umbilical_cord_blood" in s for s in share)


@pytest.mark.parametrize(("content", "expected"), [
    (None, "file not found"),
    (b"", "file is empty"),
    (b"not a parquet file at all", "not a readable Parquet file"),
])
def test_bad_dataset_file_shows_error_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            content: bytes | None, expected: str) -> None:
    path = tmp_path / "trials.parquet"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    for page in (None, "pages/safety.py"):
        at = run_app(page=page)
        assert len(at.error) == 1 and expected in at.error[0].value and "How to fix it" in at.error[0].value
