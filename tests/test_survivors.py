"""Behaviours a mutation test showed unguarded (issues 9 and 22): each test fails on the named realistic bug."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from scipy import stats as scipy_stats

from nkdata import dataset, grade, presentation, rob, safe_text, stats
from nkdata.filterspec import FILTERS, TOGGLES
from nkdata.issues import Issue
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice
from nkdata.validation import validate_records

from .apptest_helpers import run_app, texts


def _all_rows(repo: TrialsRepository) -> pd.DataFrame:
    return repo.cohorts(Slice(include_superseded=True, include_mixed=True, include_co_transplant=True))


@pytest.mark.parametrize("spec", FILTERS, ids=[f.key for f in FILTERS])
def test_every_filter_keeps_only_its_rows(repo: TrialsRepository, spec) -> None:  # noqa: ANN001
    """Bug: a filter ignored in SQL (the donor filter was)."""
    rows = _all_rows(repo)
    values = rows[spec.column].fillna(spec.null_code) if spec.null_code else rows[spec.column]
    code = values.dropna().value_counts().index[-1]  # the rarest value: a filter that does nothing keeps more
    kept = repo.cohorts(Slice(include_superseded=True, **{spec.field: (code,)}))
    assert len(kept) == int((values == code).sum()) < len(rows), spec.key


def test_funnel_counts_each_step_over_the_previous_ones(repo: TrialsRepository) -> None:
    """Bug: a funnel step that skips a condition or applies all of them at once."""
    chosen = Slice(
        years=(2010, 2021),
        sources=("peripheral_blood", "umbilical_cord_blood"),
        donors=("unrelated", "hsct_donor", "haploidentical"),
        include_mixed=False,
    )
    rows = _all_rows(repo)
    masks = [rows["year"].between(2010, 2021)]
    for spec in FILTERS:
        chosen_codes = getattr(chosen, spec.field)
        column = rows[spec.column].fillna(spec.null_code) if spec.null_code else rows[spec.column]
        masks.append(column.isin(chosen_codes) if chosen_codes else pd.Series(True, index=rows.index))
    for toggle in TOGGLES:
        condition = {
            "mixed": rows["aml_only"].astype(bool),
            "transplant": ~(
                rows["co_transplant"].fillna(False).astype(bool) & (rows["setting"] == "relapsed_refractory")
            ),
            "superseded": rows["superseded_by"].isna(),
        }[toggle.key]
        masks.append(condition | getattr(chosen, toggle.field))
    funnel = repo.filter_funnel(chosen)
    passing = pd.Series(True, index=rows.index)
    expected = []
    for mask in masks:
        passing &= mask.astype(bool)
        expected.append(int(passing.sum()))
    assert funnel["cohorts"].tolist() == expected
    assert len(set(expected)) > 2  # the slice narrows at more than one step


def test_i2_is_floored_at_zero_when_q_is_below_its_degrees_of_freedom() -> None:
    """Bug: I² = (Q - df) / Q without the floor goes negative for homogeneous cohorts."""
    r = stats.pool_proportions([4, 5, 4, 5], [10, 10, 10, 10])
    assert 0 < r.q < r.q_df and r.i2 == 0


def test_forest_weights_use_each_subgroups_own_tau2() -> None:
    """Bug: cohort weights computed with tau² = 0 (or the overall tau²) instead of their subgroup's."""
    rates = stats.cohort_rates(
        pd.DataFrame(
            {
                "cohort_id": list("abcdef"),
                "first_author": list("ABCDEF"),
                "year": [2010] * 6,
                "product": ["P"] * 6,
                "grp": ["x", "x", "x", "y", "y", "y"],
                "events": [1, 9, 4, 2, 3, 2],
                "total": [10, 10, 10, 8, 9, 7],
            }
        ),
        "events",
        "total",
    )
    pooled, _ = stats.pool_by_group(rates, "grp", "events", "total")
    rows = stats.forest_rows(pooled, stats.pool_proportions(rates["events"], rates["total"]), "grp", rates)
    x = rows[(rows["kind"] == "cohort") & (rows["group"] == "x")]
    tau2 = float(pooled.set_index("grp").loc["x", "tau2"])
    assert tau2 > 0
    y, v = stats.logit_and_variance([1, 9, 4], [10, 10, 10])
    expected = (1 / (v + tau2)) / (1 / (v + tau2)).sum()
    assert x["weight"].to_numpy() == pytest.approx(expected)
    assert not np.allclose(expected, (1 / v) / (1 / v).sum())  # the test can tell the two apart


def test_overview_interval_follows_the_chosen_ci_method(fixture_parquet: Path, monkeypatch) -> None:  # noqa: ANN001
    """Bug: the headline interval ignores ?ci= (a single-cohort setting shows that cohort's own interval)."""
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))
    for method in ("clopper-pearson", "wilson"):
        low, high = stats.proportion_ci(3, 6, method)  # delta2018-post: the only post-HSCT cohort, 3/6
        text = texts(run_app({"ci": method}))
        assert f"After HSCT: relapse: 50.0%** (95% CI {100 * low:.1f}%-{100 * high:.1f}%)" in text, method


def test_missing_value_reads_not_reported_and_zero_reads_zero() -> None:
    """Bug: a null shown as 0 (or blank) in a table of numbers."""
    table = presentation.not_reported_text(pd.DataFrame({"days": [np.nan, 0.0, 14.0, 10.5]}), ["days"])
    assert table["days"].tolist() == ["not reported", "0", "14", "10.5"]


def test_validation_branches(records: list[dict]) -> None:
    """Bugs: grade >= 3 GVHD allowed above any GVHD; one study_id in two files; AML-only n_aml != n_treated."""
    import copy

    def issues(changes: dict, cohort: str = "alpha2010-rr", extra: list | None = None) -> set[tuple]:
        rows = copy.deepcopy(records)
        next(r for r in rows if r["cohort_id"] == cohort).update(changes)
        return {(i.field, i.rule) for i in validate_records(rows + (extra or []))}

    assert ("gvhd_grade3plus", "safety_le_treated") in issues({"gvhd_any": 0, "gvhd_grade3plus": 1})
    assert ("n_aml", "aml_le_treated") in issues({"n_aml": 5})  # alpha is AML-only with 10 treated
    twin = {
        **copy.deepcopy(next(r for r in records if r["cohort_id"] == "beta2015-cr")),
        "cohort_id": "beta2015-other",
        "_file": "elsewhere/beta2015.yaml",
    }
    assert ("study_id", "unique_id") in issues({}, extra=[twin])


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Bug: writing in place (a crash leaves a half-written dataset) or leaking the temporary file."""
    target = tmp_path / "trials.parquet"
    target.write_bytes(b"previous")
    table = pq.read_table(Path(__file__).parent.parent / "data" / "trials.parquet")

    def broken(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        Path(args[1]).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(dataset.pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        dataset.write_atomically(table, target)
    assert target.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["trials.parquet"]


def test_subgroup_difference_test_by_hand() -> None:
    """Bug: the between-groups Q weights or centres the subgroup estimates wrongly (a mutant `w / y` survived)."""
    rates = pd.DataFrame({"grp": ["x", "x", "y", "y"], "events": [2, 6, 7, 8], "total": [10, 12, 10, 9]})
    pooled, test = stats.pool_by_group(rates, "grp", "events", "total")
    w = 1 / pooled["se"].to_numpy() ** 2
    y = pooled["logit"].to_numpy()
    mu = np.sum(w * y) / np.sum(w)
    assert test.df == 1 and test.q_between == pytest.approx(float(np.sum(w * (y - mu) ** 2)))
    assert test.p == pytest.approx(float(scipy_stats.chi2.sf(test.q_between, 1)))


def test_count_boundaries_are_allowed(records: list[dict]) -> None:
    """Bug: `>` turned into `>=`: every patient at risk relapsing, or all treated evaluable, is valid."""
    import copy

    rows = copy.deepcopy(records)
    beta = next(r for r in rows if r["cohort_id"] == "beta2015-cr")
    beta.update({"relapse_count": 6, "relapse_at_risk": 6, "n_evaluable": 6, "expansion_count": 5})
    assert validate_records(rows) == []


# ===== Re-run for issue 22: the modules added since (docs/mutation-survivors.md, "Re-run 2026-12-07") =====

# ----- nkdata.safe_text: the escaping boundary -----


def test_one_line_drops_control_characters_instead_of_replacing_them() -> None:
    """Bug: NUL, ESC or DEL replaced by a marker or a space instead of dropped (safe_text one_line 5)."""
    assert safe_text.one_line("Kim\x00 et\x1b al\x7f.\r\n2020") == "Kim et al. 2020"


def test_md_text_of_a_missing_value_is_empty() -> None:
    """Bug: a missing label or caption shown as 'None' or a placeholder (md_text 2)."""
    assert safe_text.md_text(None) == ""


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "https://a.org/x) [y](https://evil.example", None, 42],
)
def test_md_link_with_an_unsafe_url_is_only_the_escaped_label(url: object) -> None:
    """Bug: the link written whatever its target (md_link 6 wrote '[label](None)')."""
    assert safe_text.md_link("Kim [2020]", url) == r"Kim \[2020\]"
    assert (
        safe_text.md_link("Kim [2020]", "https://doi.org/10.1000/x.1") == r"[Kim \[2020\]](https://doi.org/10.1000/x.1)"
    )


def test_line_safe_writes_nothing_for_a_missing_value() -> None:
    """Bug: a missing RIS value written as 'None' or 'nan', or a float value crashing the export (line_safe 1,
    4, 5)."""
    assert safe_text.line_safe(None) == ""
    assert safe_text.line_safe(float("nan")) == ""
    assert safe_text.line_safe(2019.0) == "2019.0"
    assert safe_text.line_safe(" Blood\n2020 ") == "Blood 2020"


def test_bibtex_url_keeps_the_url_whole_and_encodes_what_would_end_the_group() -> None:
    """Bug: the URL's own characters percent-encoded (https%3A//...: a dead link) or the URL dropped (bibtex_url
    4, 5)."""
    url = "https://www.example.org/abstract?id=7&lang=en#results"
    assert safe_text.bibtex_url(url) == url
    assert safe_text.bibtex_url("https://a.org/x}\\y{z w") == "https://a.org/x%7D%5Cy%7Bz%20w"
    assert safe_text.bibtex_url("https://a.org/x\n@misc{evil,") == "https://a.org/x%20@misc%7Bevil,"


# ----- nkdata.grade: the certainty rules -----

SOLID = grade.Evidence(k=12, n=400, ci_low=30.0, ci_high=45.0, i2=10.0, pi_low=25.0, pi_high=50.0)


def test_grade_says_floored_only_when_the_downgrades_go_below_very_low() -> None:
    """Bug: 'floored at very low' written for a row that reaches very low exactly (Rating.why 16, 18, 19)."""
    one = grade.rate(replace(SOLID, n=99))  # imprecision -1: low to very low, not floored
    assert one.level == 1 and "floored" not in one.why()
    two = grade.rate(replace(SOLID, n=29))  # imprecision -2: would be below very low
    assert two.level == 1 and "Total -2, floored at very low." in two.why()


def test_risk_of_bias_reasons_give_the_shares_of_patients() -> None:
    """Bug: a wrong percentage or judgement in the reason a reader sees under 'Why' (_pct 1-3, risk_of_bias 22,
    42-47, 50, 64, 79)."""
    high = grade.risk_of_bias(replace(SOLID, n_rob_high=300))
    assert (high.change, high.reason) == (-2, "75% of patients in publications at high risk")
    mixed = grade.risk_of_bias(replace(SOLID, n_rob_high=100, n_rob_some=60, n_rob_none=40))
    assert (mixed.change, mixed.reason) == (
        -1,
        "50% of patients not in low-risk publications (high 25%, some concerns 15%, not yet appraised 10%)",
    )
    low = grade.risk_of_bias(replace(SOLID, n_rob_some=100))
    assert (low.change, low.reason) == (0, "75% of patients in low-risk publications")


def test_a_row_without_patients_is_not_assessable_for_risk_of_bias_and_indirectness() -> None:
    """Bug: dividing by zero patients (a crash), rating such a row (even upgrading it), or treating one patient as
    none (risk_of_bias 1-14, indirectness 1-14)."""
    rating = grade.rate(grade.Evidence(k=1, n=0))
    domains = {d.name: d for d in rating.domains}
    for name in ("Risk of bias", "Indirectness"):
        assert (domains[name].change, domains[name].reason) == (0, "not assessable (no patients)")
    assert "Risk of bias: not assessable (no patients)." in rating.why()
    one = grade.rate(grade.Evidence(k=1, n=1, n_rob_high=1, n_indirect=1, n_mixed=1))
    assert {d.name: d.change for d in one.domains}["Risk of bias"] == -2
    assert {d.name: d.change for d in one.domains}["Indirectness"] == -1


def test_prediction_interval_rule_needs_three_cohorts_and_more_than_fifty_points() -> None:
    """Bug: the prediction-interval rule applied only from k = 4, or already at exactly 50 points (inconsistency
    27, 28, 31)."""

    def change(**values: float) -> int:
        return grade.inconsistency(replace(SOLID, **values)).change

    assert change(k=3, pi_low=10.0, pi_high=60.5) == -1
    assert change(k=2, pi_low=10.0, pi_high=60.5) == 0  # no prediction interval rule below 3 cohorts
    assert change(k=3, pi_low=10.0, pi_high=60.0) == 0  # 50 points is not wider than 50


def test_landmark_rows_are_downgraded_only_for_a_range_wider_than_fifty_points() -> None:
    """Bug: the spread of reported landmark estimates taken as high + low, any spread downgraded, or exactly 50
    points downgraded (inconsistency 35, 36, 39)."""

    def change(low: float, high: float) -> int:
        return grade.inconsistency(grade.Evidence(k=3, n=150, ci_low=low, ci_high=high, pooled=False)).change

    assert change(40.0, 45.0) == 0
    assert change(20.0, 70.0) == 0
    assert change(20.0, 70.5) == -1


def test_indirectness_counts_review_only_cohorts_from_a_quarter_and_names_every_kind() -> None:
    """Bug: any review-only count downgrading (k_review * k for k_review / k), or a reason that drops a kind of
    indirectness (indirectness 19-25, 32, 33, 35, 40, 50)."""
    assert grade.indirectness(replace(SOLID, k_review=2)).change == 0  # 2 of 12 cohorts
    both = grade.indirectness(
        replace(SOLID, n_indirect=200, n_mixed=100, n_co_transplant=50, n_antileukemic=50, k_review=3)
    )
    assert (both.change, both.reason) == (
        -1,
        "50% of patients in cohorts with mixed diagnoses or a transplant with the NK cells or anti-leukemic "
        "lymphodepletion; 3 of 12 cohorts' counts only from a review",
    )


def test_imprecision_limits_are_fewer_than_thirty_and_fewer_than_a_hundred_patients() -> None:
    """Bug: '<=' for the written 'fewer than': 30 patients rated -2, 100 patients -1 (imprecision 28; 6 wrote
    'no pooled interval' for a pooled row)."""
    assert grade.imprecision(replace(SOLID, n=30)).change == -1
    hundred = grade.imprecision(replace(SOLID, n=100))
    assert (hundred.change, hundred.reason) == (0, "100 patients, 95% CI 30-45%")


def test_publication_bias_is_assessed_from_ten_cohorts() -> None:
    """Bug: k = 10 still 'not assessable' although the rule assesses k >= 10 (publication_bias 6, 15, 36, 37)."""
    assert grade.publication_bias(replace(SOLID, k=10)).reason == "not downgraded (no small-study test here)"
    assert grade.publication_bias(replace(SOLID, k=9)).reason == "not assessable (k = 9 < 10)"
    grey = grade.publication_bias(replace(SOLID, k_grey=6))
    assert (grey.change, grey.reason) == (-1, "6 of 12 cohorts are abstracts or company reports")


# ----- nkdata.rob: the appraisal files and the overall rule -----

ROB_FIXTURES = Path(__file__).parent / "fixtures" / "rob"
ROB_STUDIES = frozenset({"alpha2010", "delta2018", "gamma2022"})


def _rob_doc(name: str = "alpha2010") -> dict:
    return yaml.safe_load((ROB_FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


def _rob_issues(folder: Path, name: str, doc: dict) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return rob.load_rob_folder(folder, ROB_STUDIES)[1]


def _where(issue: Issue) -> tuple:
    return Path(issue.file).name, issue.study_id, issue.field, issue.rule


def test_a_broken_appraisal_is_an_issue_and_the_other_files_still_load(tmp_path: Path) -> None:
    """Bug: a broken file ending the folder (break for continue), named without its file or study, or no study
    list accepted (load_appraisal 11-37, load_rob_folder 3, 15)."""
    folder = tmp_path / "rob"
    shutil.copytree(ROB_FIXTURES, folder)
    (folder / "aaa2001.yaml").write_text("items: [unclosed\n", encoding="utf-8")  # sorts first
    (folder / "beta2002.yaml").write_text("- a list\n- not a mapping\n", encoding="utf-8")
    records, issues = rob.load_rob_folder(folder, None)
    assert sorted(r["study_id"] for r in records) == sorted(ROB_STUDIES)
    assert [_where(i) for i in issues] == [
        ("aaa2001.yaml", "aaa2001", None, "yaml_syntax"),
        ("beta2002.yaml", "beta2002", None, "yaml_structure"),
    ]
    assert issues[0].message.startswith("cannot parse YAML: ")
    assert issues[1].message == "the file must hold a mapping"


def test_appraisal_shape_issues_name_the_file_study_and_item(tmp_path: Path) -> None:
    """Bug: a checklist given as a list crashing the load; an item with an extra key (a misspelt 'note') accepted;
    issues of a misnamed file naming the file's stem instead of its study (load_appraisal 38-49, 95-157)."""
    doc = _rob_doc()
    as_list = _rob_issues(tmp_path / "a", "alpha2010", {**doc, "items": list(doc["items"].items())})
    items = [i for i in as_list if i.field == "items"]
    assert [(*_where(i), i.message) for i in items] == [
        ("alpha2010.yaml", "alpha2010", "items", "rob_item_complete", "items must be a mapping of the checklist")
    ]
    extra = {**doc["items"]["q6_demographics"], "notes": "misspelt"}
    odd = {**doc, "colour": "green", "items": {**doc["items"], "q6_demographics": extra, "q11_extra": {}}}
    found = {i.field: i for i in _rob_issues(tmp_path / "b", "alpha2010-rob", odd)}
    assert (*_where(found["q6_demographics"]), found["q6_demographics"].message) == (
        "alpha2010-rob.yaml",
        "alpha2010",
        "q6_demographics",
        "rob_item_complete",
        "give {judgement: ..., note: ...}",
    )
    assert (*_where(found["q11_extra"]), found["q11_extra"].message) == (
        "alpha2010-rob.yaml",
        "alpha2010",
        "q11_extra",
        "rob_item_complete",
        "'q11_extra' is not a checklist item",
    )
    assert (*_where(found["colour"]), found["colour"].message) == (
        "alpha2010-rob.yaml",
        "alpha2010",
        "colour",
        "unknown_field",
        "'colour' is not a key of a risk-of-bias appraisal",
    )
    assert _where(found["study_id"]) == ("alpha2010-rob.yaml", "alpha2010", "study_id", "rob_study_exists")


def test_an_unquoted_appraisal_date_is_read_as_its_iso_text(tmp_path: Path) -> None:
    """Bug: YAML's date object kept, so a correct `appraised_on: 2026-12-03` fails as not a string (load_appraisal
    85, 87, 91, 92)."""
    text = (ROB_FIXTURES / "alpha2010.yaml").read_text(encoding="utf-8").replace('"2026-12-03"', "2026-12-03")
    assert "appraised_on: 2026-12-03\n" in text
    (tmp_path / "alpha2010.yaml").write_text(text, encoding="utf-8")
    records, issues = rob.load_rob_folder(tmp_path, ROB_STUDIES)
    assert issues == [] and records[0]["appraised_on"] == "2026-12-03"


@pytest.mark.parametrize("url", ["www.example.org/paper", "doi:10.1000/x", "ftp://example.org/a"])
def test_a_source_url_that_is_not_http_is_a_format_issue(tmp_path: Path, url: str) -> None:
    """Bug: the source_url format check reading another key (check_appraisal 52-54, 65-68)."""
    issues = _rob_issues(tmp_path, "alpha2010", {**_rob_doc(), "source_url": url})
    assert [_where(i) for i in issues] == [("alpha2010.yaml", "alpha2010", "source_url", "rob_format")]


def test_an_overall_outside_the_vocabulary_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    """Bug: the rule's severity looked up for an unknown overall (KeyError: the build crashes; check_appraisal
    75)."""
    issues = _rob_issues(tmp_path, "alpha2010", {**_rob_doc(), "overall": "moderate"})
    assert [_where(i) for i in issues] == [("alpha2010.yaml", "alpha2010", "overall", "allowed_values")]


def test_a_publication_appraised_twice_is_an_issue(tmp_path: Path) -> None:
    """Bug: the second appraisal of a publication accepted, or its issues not naming file and study
    (load_rob_folder 16-19, 29-59)."""
    folder = tmp_path / "rob"
    shutil.copytree(ROB_FIXTURES, folder)
    shutil.copy(folder / "alpha2010.yaml", folder / "alpha2010b.yaml")
    _, issues = rob.load_rob_folder(folder, ROB_STUDIES)
    assert [(*_where(i), i.message) for i in issues] == [
        (
            "alpha2010b.yaml",
            "alpha2010",
            "study_id",
            "rob_study_exists",
            "study_id 'alpha2010' differs from the file name 'alpha2010b'",
        ),
        ("alpha2010b.yaml", "alpha2010", "study_id", "unique_id", "'alpha2010' is appraised twice"),
    ]


def test_traffic_lights_grey_the_unappraised_and_tell_same_label_publications_apart() -> None:
    """Bug: an unappraised publication or an unknown code coloured, two 'Lee 2016' rows merged, a note lost
    (traffic_light_frame, _unique_labels, _light, publication_label: reached before only by the page tests)."""
    base = {"first_author": "Lee", "year": 2016, "appraised": True, "overall": "low", "overall_note": "fine"}
    base |= {item.key: "yes" for item in rob.JBI_ITEMS}
    frame = pd.DataFrame(
        [
            {**base, "study_id": "lee2016a", "q4_consecutive": "no", "q4_consecutive_note": "gaps", "overall": "high"},
            {**base, "study_id": "lee2016b", "appraised": False},
            {**base, "study_id": "kim2019", "first_author": "Kim", "year": None, "q9_site_info": "bogus"},
        ]
    )
    lights = rob.traffic_light_frame(frame)
    assert len(lights) == 3 * 11  # ten items and the overall judgement each
    rows = {(r["Publication"], r["Item"]): r for r in lights.to_dict("records")}
    assert {p for p, _ in rows} == {"Lee 2016 (lee2016a)", "Lee 2016 (lee2016b)", "Kim"}
    q4 = rows[("Lee 2016 (lee2016a)", "Q4")]
    assert (q4["study_id"], q4["code"], q4["Judgement"], q4["colour"], q4["symbol"], q4["Note"]) == (
        "lee2016a",
        "no",
        "No (high risk)",
        "#c62828",
        "−",
        "gaps",
    )
    assert q4["Question"] == rob.ITEMS_BY_KEY["q4_consecutive"].question
    overall = rows[("Lee 2016 (lee2016a)", "Overall")]
    assert (overall["study_id"], overall["Question"], overall["Judgement"], overall["Note"]) == (
        "lee2016a",
        "Overall risk of bias",
        "High risk of bias",
        "fine",
    )
    assert {r["code"] for (p, _), r in rows.items() if p == "Lee 2016 (lee2016b)"} == {"not_appraised"}
    assert rows[("Kim", "Q9")]["code"] == "not_appraised"  # an unknown code is greyed, never coloured
    assert (rows[("Kim", "Q1")]["Judgement"], rows[("Kim", "Q1")]["Note"]) == ("Yes (low risk)", "")
    assert list(rob.traffic_light_frame(frame.iloc[:0]).columns) == list(lights.columns)  # an empty slice too


def test_missing_appraisals_name_the_file_to_write_and_the_table_is_sorted_by_study(tmp_path: Path) -> None:
    """Bug: a coverage warning without the file a curator should create; appraisal rows in input order, so the
    same appraisals could give different bytes (coverage_issues 8, 15, 19, 20; records_to_table 7)."""
    records, issues = rob.load_rob_folder(ROB_FIXTURES, ROB_STUDIES)
    assert issues == []
    missing = rob.coverage_issues(records, [*ROB_STUDIES, "beta2015"], tmp_path)
    assert [(i.file, i.study_id, i.rule, i.message) for i in missing] == [
        (str(tmp_path / "beta2015.yaml"), "beta2015", "rob_coverage", "this publication has no risk-of-bias appraisal")
    ]
    table = rob.records_to_table(list(reversed(records)))
    assert table.column("study_id").to_pylist() == sorted(ROB_STUDIES)
    assert table == rob.records_to_table(records)
