"""Issue 20: safety as rates, the slice as chips, leaving out chosen cohorts, the readable cohort card, and tables
a visitor reads without "None", "nan" or a column's code name."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from nkdata import analysis, card, chips
from nkdata.repository import TrialsRepository
from nkdata.safety import ALL_GROUPS, rate_matrix, safety_rates
from nkdata.slices import Analysis, Slice, View, Vocabulary, parse_query_params, to_query_params

from .apptest_helpers import run_app

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@pytest.fixture(autouse=True)
def _fixture_dataset(fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))


def _rate(rates: pd.DataFrame, outcome: str, group: str) -> pd.Series:
    return rates[(rates["outcome"] == outcome) & (rates["Group"] == group)].iloc[0]


def test_safety_rates_count_patients_with_exact_intervals(repo: TrialsRepository) -> None:
    by_source = safety_rates(repo, Slice(), "nk_source", Analysis())
    blood = _rate(by_source, "crs_any", "Peripheral blood")  # alpha2010-rr: 0 of 10
    assert (blood["events"], blood["patients"], blood["cohorts"]) == (0, 10, 1)
    assert blood["ci_low"] == 0 and blood["ci_high"] == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9)
    line = _rate(by_source, "crs_any", "NK cell line")  # gamma2022 low and high dose: 1/3 + 2/4
    assert (line["events"], line["patients"], line["cohorts"]) == (3, 7, 2)
    total = _rate(by_source, "crs_any", ALL_GROUPS)
    assert (total["events"], total["patients"]) == (3, 17)
    assert total["cohorts_not_reported"] == 2  # beta2015 and delta2018 say nothing about CRS: never a denominator
    by_car = safety_rates(repo, Slice(), "car_target", Analysis())
    assert _rate(by_car, "crs_any", "CD33")["patients"] == 7 and _rate(by_car, "crs_any", "No CAR")["patients"] == 10
    matrix = rate_matrix(by_source).set_index("Outcome")
    assert matrix.loc["CRS (any grade)", "Peripheral blood"] == "0/10 (0%; 0-31)"
    assert matrix.loc["CRS (any grade)", "Umbilical cord blood"] == "not reported"
    assert list(matrix.columns)[-1] == ALL_GROUPS


def test_safety_totals_are_the_summary_of_findings(repo: TrialsRepository) -> None:
    """The 'All cohorts' row is the k and N the Summary of findings pools (summed over its settings)."""
    rates = safety_rates(repo, Slice(include_superseded=True), "product_class", Analysis(exclude=("grey",)))
    sof = analysis.summary_of_findings(repo, Slice(include_superseded=True), Analysis(exclude=("grey",)))
    for label, events, _ in analysis.SOF_RATES[4:]:
        rows = sof[sof["Outcome"] == label]
        total = _rate(rates, events, ALL_GROUPS) if (rates["outcome"] == events).any() else None
        assert (0 if total is None else total["patients"]) == int(rows["N"].sum()), label
        assert (0 if total is None else total["cohorts"]) == int(rows["k"].sum()), label


def test_leave_out_is_in_the_link_and_leaves_the_cohort_out(repo: TrialsRepository) -> None:
    vocab = Vocabulary({}, (2010, 2022))
    known = {"alpha2010-rr", "beta2015-cr"}.__contains__
    view, notices = parse_query_params({"leave_out": ["alpha2010-rr", "nope", "alpha2010-rr"]}, vocab, known)
    assert view.analysis.leave_out == ("alpha2010-rr",) and len(notices) == 1 and "nope" in notices[0]
    assert to_query_params(view, vocab.year_bounds) == {"leave_out": ["alpha2010-rr"]}
    rates = safety_rates(repo, Slice(), "nk_source", view.analysis)
    total = _rate(rates, "crs_any", ALL_GROUPS)
    assert (total["events"], total["patients"], total["cohorts_left_out"]) == (3, 7, 1)
    kept = analysis.cr_analysis(repo, Slice(), Analysis())
    left = analysis.cr_analysis(repo, Slice(), Analysis(leave_out=("alpha2010-rr",)))
    assert left.cohorts_shown == kept.cohorts_shown - 1 and left.cohorts_excluded == 1
    assert "alpha2010-rr" not in set(left.forest["cohort_id"].dropna())
    assert "alpha2010-rr" in analysis.exclusion_note(left_choices := Analysis(leave_out=("alpha2010-rr",)))
    assert left_choices.sql_exclude == ("cohort:alpha2010-rr",)


def test_chips_state_the_slice_and_remove_one_choice_each() -> None:
    view = View(
        Slice(years=(2016, 2020), product_classes=("memory_like",), include_mixed=True),
        Analysis(exclude=("grey",), leave_out=("alpha2010-rr",)),
    )
    shown = chips.view_chips(view, (2010, 2022), {"alpha2010-rr": "Alpha 2010 (Haplo NK)"})
    text = [c.text for c in shown]
    assert text == [
        "Memory-like (CIML)",
        "2016-2020",
        "with mixed-diagnosis cohorts",
        "without abstracts and company reports",
        "without Alpha 2010 (Haplo NK)",
    ]
    described = chips.describe_view(view, (2010, 2022))
    assert described.startswith("Memory-like (CIML) · 2016-2020 · with mixed-diagnosis cohorts")
    assert chips.without(view, shown[0]).slice.product_classes == ()
    assert chips.without(view, shown[1]).slice.years is None
    assert chips.without(view, shown[2]).slice.include_mixed is False
    assert chips.without(view, shown[3]).analysis.exclude == ()
    assert chips.without(view, shown[4]).analysis.leave_out == ()
    assert chips.view_chips(View(Slice(years=(2010, 2022))), (2010, 2022)) == []  # the whole span is no choice
    assert chips.describe_view(View(), (2010, 2022)) == chips.ALL_COHORTS


def test_the_card_reads_in_words(repo: TrialsRepository) -> None:
    rows = repo.found_cohorts(Slice(include_superseded=True), "")
    for cohort_id in rows["cohort_id"]:
        sections = card.cohort_sections(repo.cohort(cohort_id))
        assert [s.title for s in sections] == ["Population and product", "Outcomes", "Safety", "Provenance"]
        for section in sections:
            shown = " ".join(section.rows[["Item", "Value"]].astype(str).stack()) + " ".join(section.not_reported)
            assert not SNAKE.search(shown), (cohort_id, section.title, SNAKE.search(shown))
            assert not re.search(r"\b(None|nan|True|False)\b", shown), (cohort_id, section.title)
        assert sections[-1].rows["Item"].iloc[0] == "Publication link"  # the canonical link first
    beta = {s.title: s for s in card.cohort_sections(repo.cohort("beta2015-cr"))}
    outcomes = beta["Outcomes"].rows.set_index("Item")
    assert outcomes.loc["In vivo expansion", "Value"] == "3 patients of 5 (60%)"  # over those evaluated
    assert outcomes.loc["In vivo expansion", "Definition"].startswith("As the paper defines it")
    assert "Complete remission" in beta["Outcomes"].not_reported
    assert beta["Safety"].rows.set_index("Item").loc["Acute GVHD, any grade", "Value"] == "0 patients of 6 (0%)"
    assert card.readable("cr_count over n_treated, read in review_table") == (
        "Complete remission over Treated, read in a review's table"
    )


def test_safety_page_shows_rates_with_denominators() -> None:
    at = run_app(page="pages/safety.py")
    matrix = at.dataframe[0].value.set_index("Outcome")
    assert matrix.loc["CRS (any grade)", "Peripheral blood"] == "0/10 (0%; 0-31)"
    assert matrix.loc["CRS (any grade)", "All cohorts"] == "3/17 (18%; 4-43)"
    at.segmented_control(key="w_safety_by").set_value("car_target").run()
    assert "CD33" in at.dataframe[0].value.columns


# About documents the file format itself: these columns hold the Parquet's own names, types and rule codes.
FORMAT_COLUMNS = ("Column (Parquet name)", "Key (Parquet name)", "Type (Parquet)", "Rule (code)", "Allowed values")
PAGES = ["overview", "outcomes", "survival", "persistence", "relapse", "safety", "evidence", "studies", "about"]


@pytest.mark.parametrize("page", PAGES)
def test_no_none_nan_or_code_names_in_visitor_tables(page: str) -> None:
    """Every table a visitor sees, on every page (with superseded reports, so every fixture row shows)."""
    at = run_app({"superseded": "1"}, page=f"pages/{page}.py")
    for frame in at.dataframe:
        table = frame.value.drop(columns=[c for c in frame.value.columns if str(c) in FORMAT_COLUMNS])
        headers = " ".join(str(c) for c in table.columns)
        assert not SNAKE.search(headers), (page, SNAKE.search(headers))
        cells = [str(c) for c in table.to_numpy().ravel()]
        bad = [c for c in cells if c.strip() in ("None", "nan", "NaN", "<NA>", "NaT") or SNAKE.fullmatch(c.strip())]
        assert not bad, (page, list(table.columns), bad[:5])


def test_downloads_use_labels_and_rounded_values(repo: TrialsRepository) -> None:
    """CSV/JSON headers are the dictionary's labels, proportions percentages as shown (no 16-decimal values)."""
    from nkdata import presentation

    result = analysis.cr_analysis(repo, Slice(), Analysis())
    rows = result.forest[result.forest["kind"] != "header"]
    table = presentation.reader_export(presentation.export_frame(rows))
    assert {"Estimate %", "95% CI low %", "Disease setting", "Year"} <= set(table.columns)
    assert not [c for c in table.columns if SNAKE.search(str(c))]
    csv = table.to_csv(index=False)
    assert not re.search(r"\d\.\d{3,}", csv)  # at most the one decimal the page shows
    alpha = table[table["Cohort"] == "alpha2010-rr"].iloc[0]
    assert alpha["Estimate %"] == 20.0 and str(alpha["Year"]) == "2010"  # 2/10, a whole year
    studies = presentation.reader_export(presentation.export_frame(repo.found_cohorts(Slice(), "")))
    assert "NK source" in studies.columns and "nk_source" not in studies.columns
    assert set(studies["NK source"]) <= {"Peripheral blood", "Umbilical cord blood", "NK cell line"}
    assert "Treated (patients)" in studies.columns


def test_the_heatmap_never_shows_a_false_zero_patient_count(repo: TrialsRepository) -> None:
    from nkdata import charts

    matrix = repo.source_by_setting(Slice(include_superseded=True))
    matrix.loc[0, ["patients", "cohorts_n_not_reported"]] = [0, matrix.loc[0, "cohorts"]]  # a cell without any n
    rows = charts.source_setting_matrix(matrix).data.to_dict("records")
    assert rows[0]["cell_text"] == f"{matrix.loc[0, 'cohorts']} (n not reported)"
    assert not [r for r in rows[1:] if r["cell_text"].endswith("(0)")]


def test_fitted_widths_fit_the_page() -> None:
    from nkapp.components import CONTENT_WIDTH, MIN_COLUMN, fitted_widths

    wide = pd.DataFrame({f"Column {i}": ["a fairly long piece of text " * 3] for i in range(8)})
    widths = fitted_widths(wide)
    assert sum(widths.values()) <= CONTENT_WIDTH and min(widths.values()) >= MIN_COLUMN
    narrow = fitted_widths(pd.DataFrame({"k": [1, 2], "Estimate %": [10.5, 20.0]}))
    assert sum(narrow.values()) < CONTENT_WIDTH / 2  # short columns are not stretched


def test_remission_pooled_table_fits_1440_px_with_its_short_headers() -> None:
    """The pooled table scrolled sideways at 1440 px: floats were measured by their full repr and the
    columns at the minimum width were shrunk with the rest, so the total stayed above the page."""
    from nkapp.components import _POOLED_HEADERS, CONTENT_WIDTH, fitted_widths
    from nkdata import presentation

    from .page_harness import cohort

    repo = TrialsRepository.from_records(
        [cohort(cohort_id=f"stub2020-c{i}", study_id=f"stub{i}", cr_count=i, n_treated=12 + i) for i in range(6)]
    )
    table = analysis.pooled_table(analysis.cr_analysis(repo, Slice(), Analysis()))
    assert {"Estimate %", "Confidence flags", "0/all-event cohorts (+0.5)"} <= set(table.columns)
    shown = presentation.not_applicable_text(table, ["PI low %", "PI high %", "I² %"])
    labels = {c: short for c, (short, _) in _POOLED_HEADERS.items()}
    widths = fitted_widths(shown, labels=labels)
    assert sum(widths.values()) <= CONTENT_WIDTH
    assert widths["Estimate %"] < 80  # "31.8", not "31.803335..."
    assert widths["Group"] > 48  # columns with text keep more than the minimum
    long_flags = shown.assign(**{"Confidence flags": "Wide 95% CI: 84 points; only 1 cohort (fewer than 3) " * 3})
    unshrunk = fitted_widths(long_flags, content_width=10_000, labels=labels)
    fitted = fitted_widths(long_flags, labels=labels)
    assert sum(unshrunk.values()) > CONTENT_WIDTH >= sum(fitted.values())  # shrunk to fit, not cut at the right


def test_the_card_names_the_risk_of_bias_in_words() -> None:
    """The card is where a reader checks one cohort: its publication's overall appraisal belongs there."""
    appraised = {s.title: s for s in card.cohort_sections({"cohort_id": "a2020-x", "rob_overall": "some_concerns"})}
    rows = appraised["Provenance"].rows.set_index("Item")
    assert rows.loc["Risk of bias (overall)", "Value"] == "Some concerns"
    missing = {s.title: s for s in card.cohort_sections({"cohort_id": "a2020-x", "rob_overall": None})}
    assert missing["Provenance"].rows.set_index("Item").loc["Risk of bias (overall)", "Value"] == "not yet appraised"


def test_summary_of_findings_stacks_its_rows_on_phones() -> None:
    """At 390 px the six-column Markdown table became one-word lines: below 640 px each row is a block whose
    cells are led by their headers (checked in Chromium at 390 px; here: the style names every header)."""
    from nkapp.components import _css_string

    at = run_app(page="pages/evidence.py")
    styles = [e.proto.body for e in at.get("html") if "@media (max-width: 640px)" in e.proto.body]
    assert len(styles) == 1
    for header in ("Setting", "Cohorts / patients", "Estimate (95% CI)", "Certainty", "Why"):
        assert f'content: "{header}: "' in styles[0]
    assert _css_string('x"; } body { display: none') == "x\\22 \\3b  \\7d  body \\7b  display\\3a  none"
