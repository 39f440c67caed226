"""The whole app under AppTest (entry script, sidebar, link contract) on the fictional fixture dataset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import PAGES as ENTRY_PAGES
from nkdata.dictionary import FIELDS
from nkdata.slices import Analysis
from nkdata.stats import pool_proportions
from nkdata.vocabulary import NK_SOURCES

from .apptest_helpers import chart_rows, run_app, texts

PAGES = [f"pages/{p.module}.py" for p in ENTRY_PAGES]


@pytest.fixture(autouse=True)
def _fixture_dataset(fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_default_slice_renders(page: str) -> None:
    at = run_app(page=page)
    assert not at.error
    assert at.title[0].value


def test_overview_counts_for_linked_slice() -> None:
    at = run_app({"source": "cell_line"})
    # gamma2022-low (0/3) and gamma2022-high (2/4); gamma2021-rr is superseded.
    assert _metrics(at) == {
        "Trials": "1",  # no trial_id in the fixture: the one publication counts as its own trial
        "Publications": "1",
        "Cohorts": "2",
        "Patients treated": "7",
        "Mixed-diagnosis cohorts": "0",
    }
    expected = pool_proportions([0, 2], [3, 4], Analysis().pool, test=Analysis().test)  # the default model
    assert f"Relapsed/refractory: {100 * expected.estimate:.1f}%" in texts(at)
    per_year = chart_rows(at)[0]
    assert {(r["year"], r["nk_source"], r["cohorts"]) for r in per_year} == {(2022, "cell_line", 2)}


def test_overview_headline_equals_the_remission_page() -> None:
    """Both read the same analysis: CR pooled per setting with the view's choices."""
    link = {"source": "peripheral_blood", "pool": "DL", "denom": "evaluable"}
    headline = re.findall(r"\*\*([^*]+): ([\d.]+)%\*\* \(95% CI ([\d.]+)%-([\d.]+)%\)", texts(run_app(link)))
    table = run_app(link, page="pages/outcomes.py").dataframe[0].value
    from_outcomes = {
        (g, f"{e:.1f}", f"{lo:.1f}", f"{hi:.1f}")
        for g, e, lo, hi in zip(table["Group"], table["Estimate %"], table["CI low %"], table["CI high %"], strict=True)
    }
    assert headline and set(headline) == from_outcomes


def test_outcomes_default_pools_within_settings_only() -> None:
    at = run_app({"source": "peripheral_blood"}, page="pages/outcomes.py")
    forest = chart_rows(at)[0]
    assert "overall" not in {r["kind"] for r in forest}  # no across-settings diamond unless asked for
    assert "pooled" not in {r["kind"] for r in forest}  # each setting has one cohort: shown as itself
    assert {r["Group"] for r in forest if r["kind"] == "cohort"} == {"Relapsed/refractory", "After HSCT: relapse"}


def test_outcomes_forest_matches_stats_for_linked_slice() -> None:
    at = run_app(
        {
            "source": "peripheral_blood",
            "years": ["2010", "2018"],
            "pool": "DL",
            "denom": "evaluable",
            "group": "nk_source",
            "overall": "1",
        },
        page="pages/outcomes.py",
    )
    forest = chart_rows(at)[0]
    cohorts = sorted(r["display"] for r in forest if r.get("kind") == "cohort")
    assert cohorts == ["Alpha 2010 - Haplo NK + IL-2 (2/8)", "Delta 2018 - CIML NK (3/6)"]
    expected = pool_proportions([2, 3], [8, 6], "DL")
    pooled = next(r for r in forest if r.get("kind") == "pooled")
    assert pooled["estimate"] == pytest.approx(expected.estimate)
    assert f"Across groups: {100 * expected.estimate:.1f}%" not in texts(at)  # one group: nothing across groups
    assert at.selectbox(key="w_pool").value == "DL"
    assert at.selectbox(key="w_denom").value == "evaluable"
    assert "pool across" in " ".join(w.value for w in at.warning).lower() or at.warning  # grouping warns


def test_fixed_effect_and_leave_one_out_are_shown() -> None:
    at = run_app(
        {"source": ["peripheral_blood", "cell_line"], "group": "nk_source", "overall": "1"}, page="pages/outcomes.py"
    )
    assert not any("Fixed effect %" in df.value.columns for df in at.dataframe)  # built only when opened
    at.session_state["open_sensitivity"] = True
    at.run()
    models = next(df.value for df in at.dataframe if "Fixed effect %" in df.value.columns)
    fixed = pool_proportions([2, 3, 0, 2], [10, 6, 3, 4], "FE")
    row = models.set_index("Group").loc["All groups"]
    assert row["Fixed effect %"].startswith(f"{100 * fixed.estimate:.1f} (")
    loo = next(df.value for df in at.dataframe if "Left out" in df.value.columns)
    assert set(loo["Group"]) == {"All groups"} and len(loo) == 4  # only the 4-cohort pool has >= 3 cohorts
    without_alpha = pool_proportions([3, 0, 2], [6, 3, 4])
    alpha = loo.set_index("Left out").loc["Alpha 2010 - Haplo NK + IL-2"]
    assert alpha["Estimate without it %"] == pytest.approx(100 * without_alpha.estimate)


def test_sensitivity_exclusion_leaves_out_grey_literature() -> None:
    base = run_app({"superseded": "1"}, page="pages/outcomes.py")
    grey = run_app({"superseded": "1", "exclude": "grey"}, page="pages/outcomes.py")
    assert "1 cohort(s) left out by the sensitivity choice" not in texts(base)
    kinds = [r["cohort_id"] for r in chart_rows(grey)[0] if r["kind"] == "cohort"]
    assert "gamma2021-rr" not in kinds  # superseded, and an abstract: never pooled either way


def test_superseded_reports_never_pooled() -> None:
    at = run_app({"source": "cell_line", "superseded": "1"}, page="pages/outcomes.py")
    forest = chart_rows(at)[0]
    assert sorted(r["cohort_id"] for r in forest if r.get("kind") == "cohort") == ["gamma2022-high", "gamma2022-low"]
    assert _metrics(run_app({"source": "cell_line", "superseded": "1"}))["Cohorts"] == "3"


def test_mixed_and_combined_transplant_cohorts_are_sensitivity_choices() -> None:
    """Peripheral-blood fixture cohorts: alpha and delta (AML-only), epsilon2019-mixed (AML + ALL) and
    epsilon2019-hct (R/R, transplant with the NK cells): the default leaves out the last two, each link key
    brings its own one back."""
    assert _metrics(run_app({"source": "peripheral_blood"}))["Cohorts"] == "2"
    assert _metrics(run_app({"source": "peripheral_blood", "mixed": "1"}))["Cohorts"] == "3"
    assert _metrics(run_app({"source": "peripheral_blood", "transplant": "1"}))["Cohorts"] == "3"
    assert _metrics(run_app({"source": "peripheral_blood", "mixed": "1", "transplant": "1"}))["Cohorts"] == "4"


def test_persistence_page_numbers() -> None:
    at = run_app(page="pages/persistence.py")
    forest, strip = chart_rows(at)[:2]
    assert sorted((r["events"], r["total"]) for r in forest if r["kind"] == "cohort") == [(3, 5)]
    # alpha 14 d, beta 28 d, delta 60 d, gamma2022-high 14 d carried over from its interim report (a lower bound)
    assert sorted(r["max_persistence_days"] for r in strip) == [14, 14, 28, 60]
    bounds = {r["cohort_id"]: r["bound"] for r in strip}
    assert bounds["gamma2022-high"].startswith("at least") and bounds["alpha2010-rr"] == "longest detection"


def test_relapse_page_numbers() -> None:
    at = run_app(page="pages/relapse.py")
    forest = chart_rows(at)[0]
    assert sorted((r["events"], r["total"]) for r in forest if r.get("kind") == "cohort") == [(1, 2), (1, 3), (2, 6)]
    # crude counts over different follow-up are described, never pooled: no diamond, totals and ranges instead
    assert not {r.get("kind") for r in forest} & {"pooled", "overall"}
    table = next(df.value for df in at.dataframe if "Relapsed" in df.value.columns)
    assert table["Relapsed"].sum() == 4 and table["Patients at risk"].sum() == 11


def test_survival_page_lists_every_entry_with_its_report() -> None:
    at = run_app({"endpoint": "os", "landmark": "24"}, page="pages/survival.py")
    table = [df.value for df in at.dataframe if "Read in" in df.value.columns][-1]  # the list of every entry
    assert set(table["Read in"]) >= {"gamma2021-rr (earlier report)", "beta2015-cr", "gamma2022-high"}
    assert "not reached" in set(table["Median (months)"])


def test_safety_shows_not_reported_apart_from_zero() -> None:
    at = run_app({"source": ["peripheral_blood", "umbilical_cord_blood"]}, page="pages/safety.py")
    matrix = at.dataframe[0].value.set_index("Outcome")
    assert matrix.loc["CRS (any grade)", "Peripheral blood"] == "0/10 (0%; 0-31)"  # delta2018's 6 do not count
    assert matrix.loc["CRS (any grade)", "Umbilical cord blood"] == "not reported"
    assert matrix.loc["Acute GVHD (any grade)", "Umbilical cord blood"] == "0/6 (0%; 0-46)"
    rows = {(r["Outcome"], r["Group"]): r for r in chart_rows(at)[0]}
    assert rows[("CRS (any grade)", "Peripheral blood")]["label"] == "0/10"  # a zero is drawn, with its interval
    assert ("CRS (any grade)", "Umbilical cord blood") not in rows  # not reported is not drawn as zero


def test_summary_of_findings_equals_the_outcome_pages() -> None:
    sof = run_app(page="pages/evidence.py").dataframe[0].value
    cr = sof[(sof["Outcome"] == "Complete remission (of treated)") & (sof["Setting"] == "Relapsed/refractory")]
    pooled = run_app(page="pages/outcomes.py").dataframe[0].value.set_index("Group").loc["Relapsed/refractory"]
    assert float(cr["Estimate %"].iloc[0]) == pytest.approx(pooled["Estimate %"], abs=0.05)
    assert cr["k"].iloc[0] == pooled["Cohorts (k)"] == 3


def test_studies_search_and_card_are_in_the_link() -> None:
    at = run_app({"superseded": "1"}, page="pages/studies.py")
    table = at.dataframe[0].value
    assert len(table) == 6 and "gamma2021-rr" in set(table["Cohort"])
    assert table.set_index("Cohort").loc["alpha2010-rr", "DOI"] == "https://doi.org/10.1000/fixture.alpha"
    at.text_input(key="w_search").input("cord blood").run()
    assert list(at.dataframe[0].value["Cohort"]) == ["beta2015-cr"]
    assert any("q=cord+blood" in c.value for c in at.code)
    at.session_state["studies_table_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert any("cohort=beta2015-cr" in c.value for c in at.code)
    dialog = _card(at)
    assert "Beta 2015" in dialog.proto.dialog.title and dialog.proto.dialog.is_open
    card = " ".join(m.value for m in dialog.get("markdown")).replace("\\", "")  # the escaping removed
    assert "**Relapsed**: 2 patients of 6 (33%)" in card
    assert "**MRD negative**: 3 patients of 6 (50%)  \n  *Definition:* Patients with measurable" in card
    assert "*Source:* fixture" in card and "mrd_neg_count" not in card
    captions = " ".join(c.value for c in dialog.get("caption"))
    assert "Not reported: Complete remission" in captions and "cr_count" not in captions
    assert card.index("Publication link") < card.index("Page read")  # the canonical link first
    closed = next(b for b in at.button if b.key == "close_card").click().run()
    assert not closed.get("dialog") or not closed.get("dialog")[0].proto.dialog.is_open
    assert not any("cohort=" in c.value for c in closed.code)  # the link forgets the closed card
    assert "studies_table_1" in closed.session_state and "studies_table_0" not in closed.session_state


def _card(at: AppTest) -> Any:
    dialogs = at.get("dialog")
    assert dialogs, "no cohort card is open"
    return dialogs[0]


def test_cohort_and_search_links_round_trip() -> None:
    at = run_app({"cohort": "delta2018-post", "q": "CIML"}, page="pages/studies.py")
    assert at.text_input(key="w_search").value == "CIML"
    assert list(at.dataframe[0].value["Cohort"]) == ["delta2018-post"]
    assert "Delta 2018" in _card(at).proto.dialog.title
    share = " ".join(c.value for c in at.code)
    assert "cohort=delta2018-post" in share and "q=CIML" in share


def test_facet_counts_equal_what_the_option_gives() -> None:
    at = run_app({"superseded": "1"})
    options = at.multiselect(key="w_sources").options
    codes = {label: code for code, label in NK_SOURCES.items()}
    assert len(options) == len(NK_SOURCES)
    for option in options:
        count = int(re.search(r"\((\d+)\)$", option).group(1))
        code = codes[option.rsplit(" (", 1)[0]]
        shown = _metrics(run_app({"superseded": "1", "source": code})).get("Cohorts", "0")
        assert shown == str(count), option


def test_about_renders_the_dictionary_and_the_screening_flow() -> None:
    at = run_app(page="pages/about.py")
    dictionary = next(df.value for df in at.dataframe if "Column (Parquet name)" in df.value.columns)
    assert list(dictionary["Column (Parquet name)"]) == [f.name for f in FIELDS]
    assert dictionary.set_index("Column (Parquet name)").loc["n_treated", "Label"] == "Treated (patients)"
    flow = at.get("graphviz_chart")[0].proto.spec
    assert "Publications included: " in flow and "Publications screened: " in flow


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p not in ("pages/about.py", "pages/pipeline.py", "pages/whatsnew.py")]
)
def test_empty_slice_shows_empty_state(page: str) -> None:
    at = run_app({"source": "ipsc"}, page=page)
    assert "No " in texts(at)
    assert not at.error


def test_garbage_link_shows_one_short_notice_per_parameter() -> None:
    at = run_app(
        {"source": ["cell_line", "'; DROP TABLE trials; --"], "years": ["abc", "x"], "utm": "mail", "pool": "magic"},
        page="pages/outcomes.py",
    )
    notice = " ".join(w.value for w in at.warning)
    assert "ignored" in notice and "DROP" in notice and "utm" in notice and "pool" in notice
    assert at.multiselect(key="w_sources").value == ["cell_line"]
    assert at.selectbox(key="w_pool").value == Analysis().pool


def test_a_thousand_unknown_keys_give_a_short_notice() -> None:
    at = run_app({f"k{i}": "1" for i in range(1000)})
    notice = " ".join(w.value for w in at.warning)
    assert "1000 unknown" in notice and len(notice.splitlines()) < 10


def test_changing_a_filter_updates_the_view_and_the_count_line() -> None:
    at = run_app()
    at.multiselect(key="w_sources").select("umbilical_cord_blood").run()
    assert _metrics(at)["Cohorts"] == "1"
    assert "**1 cohorts · 6 patients** in this view" in " ".join(m.value for m in at.sidebar.markdown)
    assert any("source=umbilical_cord_blood" in c.value for c in at.code)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        (b"", "file is empty"),
        (b"not a parquet file at all", "not a readable Parquet file"),
    ],
)
def test_bad_dataset_file_shows_error_panel_without_server_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "trials.parquet"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    for page in (None, "pages/safety.py"):
        at = run_app(page=page)
        assert len(at.error) == 1 and expected in at.error[0].value and "How to fix it" in at.error[0].value
        assert str(tmp_path) not in at.error[0].value


def test_broken_registry_affects_only_the_pipeline_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "registry.parquet"
    broken.write_bytes(b"garbage")
    monkeypatch.setenv("NK_REGISTRY_PATH", str(broken))
    pipeline = run_app(page="pages/pipeline.py")
    assert len(pipeline.error) == 1 and "not a readable Parquet file" in pipeline.error[0].value
    overview = run_app()
    assert not overview.error and _metrics(overview)["Cohorts"] == "5"


def _sidebar_filter_keys(at) -> set[str]:  # noqa: ANN001
    return {m.key for m in at.sidebar.multiselect}


def test_more_filters_are_drawn_only_when_their_box_is_open() -> None:
    # Closed, the box's four multiselects are not sent to the browser (docs/decisions.md, "Time to first chart").
    at = run_app()
    assert _sidebar_filter_keys(at) == {"w_sources", "w_product_classes", "w_products", "w_settings"}
    at.session_state["more_filters"] = True
    at.run()
    assert {"w_car_targets", "w_populations", "w_donors", "w_pubtypes"} <= _sidebar_filter_keys(at)


def test_a_link_with_a_more_filter_opens_the_box_and_the_filter_survives_closing_it() -> None:
    at = run_app({"population": "pediatric"})
    assert at.multiselect(key="w_populations").value == ["pediatric"]
    pediatric = _metrics(at)["Cohorts"]
    assert int(pediatric) < int(_metrics(run_app())["Cohorts"])
    at.session_state["more_filters"] = False  # the visitor folds the box away
    at.run()
    assert "w_populations" not in _sidebar_filter_keys(at)
    assert _metrics(at)["Cohorts"] == pediatric
    at.run()  # Streamlit forgets an undrawn widget's value after a run; the view still holds it
    assert _metrics(at)["Cohorts"] == pediatric
    assert "1 more filter(s) in use" in " ".join(c.value for c in at.sidebar.caption)
    assert any("population=pediatric" in c.value for c in at.code)


@pytest.mark.parametrize("page", ["pages/outcomes.py", "pages/survival.py", "pages/safety.py", "pages/studies.py"])
def test_download_files_are_built_only_when_the_box_is_opened(page: str) -> None:
    at = run_app({"superseded": "1"}, page=page)
    assert not at.get("download_button")
    at.session_state["open_downloads"] = True
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("CSV" in label for label in labels) and any("JSON" in label for label in labels)


@pytest.mark.parametrize(
    ("link", "label"),
    [({}, "Wald on t(k-1)"), ({"pool": "REML", "test": "knha"}, "Knapp-Hartung on t(k-1)"), ({"test": "z"}, "z (")],
)
def test_remission_table_names_the_interval_the_link_chose(link: dict[str, str], label: str) -> None:
    at = run_app(link, page="pages/outcomes.py")
    table = next(df.value for df in at.dataframe if "CI" in df.value.columns)
    multi = table[table["Cohorts (k)"] > 1]
    assert len(multi) and all(c.startswith(label) for c in multi["CI"])
    expected = "Knapp-Hartung" if link.get("test") == "knha" else "t(k-1) 95% CI below 10" if not link else "z 95% CI"
    assert expected in texts(at)
