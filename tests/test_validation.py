"""Every validation rule rejects a bad row with a message naming study, field and rule."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nkdata.source import load_study_file
from nkdata.validation import RULES, validate_records

from .conftest import FIXTURE_STUDIES


def _find(records: list[dict], cohort_id: str) -> dict:
    return next(r for r in records if r["cohort_id"] == cohort_id)


def test_fixture_is_valid(records: list[dict]) -> None:
    assert validate_records(records) == []


BAD_VALUES = [
    # (cohort, changes, field, rule)
    ("alpha2010-rr", {"n_treated": None}, "cr_count", "counts_need_n"),
    ("alpha2010-rr", {"product": "  "}, "product", "required"),
    ("alpha2010-rr", {"cr_count": 2.5}, "cr_count", "type"),
    ("alpha2010-rr", {"cr_count": True}, "cr_count", "type"),
    ("alpha2010-rr", {"pmid": 1000001}, "pmid", "type"),
    ("alpha2010-rr", {"nk_source": "bone_marrow"}, "nk_source", "allowed_values"),
    ("alpha2010-rr", {"setting": "relapsed"}, "setting", "allowed_values"),
    ("alpha2010-rr", {"phase": "4"}, "phase", "allowed_values"),
    ("alpha2010-rr", {"crs_any": -1}, "crs_any", "non_negative"),
    ("alpha2010-rr", {"max_persistence_days": -3.0}, "max_persistence_days", "non_negative"),
    ("alpha2010-rr", {"n_evaluable": 11}, "n_evaluable", "evaluable_le_treated"),
    ("alpha2010-rr", {"cr_count": 9}, "cr_count", "count_le_evaluable"),
    ("alpha2010-rr", {"orr_count": 9}, "orr_count", "count_le_evaluable"),
    ("alpha2010-rr", {"mrd_neg_count": 9}, "mrd_neg_count", "count_le_evaluable"),
    ("alpha2010-rr", {"n_evaluable": None, "cr_count": 11, "orr_count": None}, "cr_count", "count_le_evaluable"),
    ("alpha2010-rr", {"orr_count": 1}, "cr_count", "cr_le_orr"),
    ("beta2015-cr", {"relapse_count": 7}, "relapse_count", "relapse_le_at_risk"),
    ("beta2015-cr", {"relapse_at_risk": 7, "relapse_count": 1}, "relapse_at_risk", "relapse_le_at_risk"),
    ("alpha2010-rr", {"treatment_related_deaths": 11}, "treatment_related_deaths", "safety_le_treated"),
    ("gamma2022-high", {"crs_grade3plus": 3}, "crs_grade3plus", "safety_le_treated"),
    ("delta2018-post", {"n_aml": 7}, "n_aml", "aml_le_treated"),
    ("alpha2010-rr", {"pmcid": "4567"}, "pmcid", "pmcid_format"),
    ("alpha2010-rr", {"trial_id": "CYNK 001"}, "trial_id", "trial_id_format"),
    ("alpha2010-rr", {"read_at": "ftp://mirror.example/x"}, "read_at", "url_format"),
    # hostile values that would break out of a Markdown link (issue 22): rejected, never rendered
    ("alpha2010-rr", {"doi": "10.1182/x)[Verify](https://evil.example/doi"}, "doi", "doi_format"),
    ("alpha2010-rr", {"doi": "10.1182/blood 2020"}, "doi", "doi_format"),
    ("alpha2010-rr", {"doi": '10.1182/x"onclick="y'}, "doi", "doi_format"),
    ("alpha2010-rr", {"pmid": "123)[x](https://evil.example"}, "pmid", "pmid_format"),
    ("alpha2010-rr", {"source_url": "https://ok.example/a)[Sign in](https://evil.example"}, "source_url", "url_format"),
    ("alpha2010-rr", {"source_url": "https://ok.example/a b"}, "source_url", "url_format"),
    ("alpha2010-rr", {"source_url": 'https://ok.example/"><img src=x>'}, "source_url", "url_format"),
    ("alpha2010-rr", {"read_at": "https://ok.example/<script>"}, "read_at", "url_format"),
    ("alpha2010-rr", {"source_url": "javascript:alert(1)"}, "source_url", "url_format"),
    ("alpha2010-rr", {"title": '=HYPERLINK("https://evil.example","x")'}, "title", "formula_like_text"),
    ("alpha2010-rr", {"extraction_note": "@SUM(1+1)"}, "extraction_note", "formula_like_text"),
    ("alpha2010-rr", {"publication_role": "reanalysis"}, "publication_role", "allowed_values"),
    ("alpha2010-rr", {"co_transplant": "yes"}, "co_transplant", "type"),
    # outcome model v2: time-to-event entries, expansion, persistence, GVHD grades, conversions
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "landmark_months": 24, "note": "x"}]},
        "survival",
        "survival_has_result",
    ),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "estimate_pct": 40.0, "note": "x"}]},
        "survival",
        "survival_has_result",
    ),
    ("alpha2010-rr", {"survival": [{"endpoint": "os", "note": "x"}]}, "survival", "survival_has_result"),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "landmark_months": 0, "estimate_pct": 40.0, "note": "x"}]},
        "survival",
        "landmark_positive",
    ),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "landmark_months": 12, "estimate_pct": 140.0, "note": "x"}]},
        "survival",
        "percent_range",
    ),
    (
        "alpha2010-rr",
        {
            "survival": [
                {
                    "endpoint": "os",
                    "landmark_months": 12,
                    "estimate_pct": 40.0,
                    "ci_low_pct": 45.0,
                    "ci_high_pct": 60.0,
                    "note": "x",
                }
            ]
        },
        "survival",
        "ci_contains_estimate",
    ),
    (
        "alpha2010-rr",
        {
            "survival": [
                {"endpoint": "os", "landmark_months": 12, "estimate_pct": 40.0, "ci_low_pct": 30.0, "note": "x"}
            ]
        },
        "survival",
        "ci_contains_estimate",
    ),
    (
        "alpha2010-rr",
        {
            "survival": [
                {"endpoint": "os", "landmark_months": 24, "estimate_pct": 40.0, "note": "abstract"},
                {"endpoint": "os", "landmark_months": 24, "estimate_pct": 40.0, "note": "abstract"},
            ]
        },
        "survival",
        "survival_unique",
    ),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "landmark_months": 12, "estimate_pct": 40.0, "n_analysed": 11, "note": "x"}]},
        "survival",
        "analysed_le_treated",
    ),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "overall", "median_months": 5.0, "note": "x"}]},
        "survival",
        "survival_entry",
    ),
    ("alpha2010-rr", {"survival": [{"endpoint": "os", "median_months": 5.0}]}, "survival", "survival_entry"),
    (
        "alpha2010-rr",
        {"survival": [{"endpoint": "os", "median_months": 5.0, "note": "x", "p_value": 0.04}]},
        "survival",
        "survival_entry",
    ),
    ("alpha2010-rr", {"survival": ["os 24 months 40%"]}, "survival", "survival_entry"),
    ("alpha2010-rr", {"expansion_count": 5, "expansion_evaluated": 4}, "expansion_count", "expansion_le_evaluated"),
    ("alpha2010-rr", {"expansion_evaluated": 11}, "expansion_evaluated", "expansion_le_evaluated"),
    (
        "alpha2010-rr",
        {"median_persistence_days": 30.0, "max_persistence_days": 20.0},
        "median_persistence_days",
        "persistence_order",
    ),
    (
        "alpha2010-rr",
        {"max_persistence_days": None, "persistence_lower_bound": True},
        "persistence_lower_bound",
        "lower_bound_needs_duration",
    ),
    ("alpha2010-rr", {"peak_count": 100.0, "peak_unit": None}, "peak_unit", "peak_needs_unit"),
    ("delta2018-post", {"agvhd_any": 1, "agvhd_grade2plus": 2}, "agvhd_grade2plus", "safety_le_treated"),
    ("delta2018-post", {"gvhd_any": 1, "cgvhd_any": 2}, "cgvhd_any", "safety_le_treated"),
    ("alpha2010-rr", {"dlt_count": 11}, "dlt_count", "safety_le_treated"),
    ("alpha2010-rr", {"converted_from_percent": ["cr_definition"]}, "converted_from_percent", "converted_names_count"),
    ("alpha2010-rr", {"year": 1999}, "year", "year_range"),
    ("alpha2010-rr", {"year": 2031}, "year", "year_range"),
    ("alpha2010-rr", {"doi": "https://doi.org/10.1000/x"}, "doi", "doi_format"),
    ("alpha2010-rr", {"pmid": "PMID123"}, "pmid", "pmid_format"),
    ("alpha2010-rr", {"nct_ids": ["NCT123"]}, "nct_ids", "nct_format"),
    ("alpha2010-rr", {"source_url": "pubmed 123"}, "source_url", "url_format"),
    ("alpha2010-rr", {"cohort_id": "Alpha 2010"}, "cohort_id", "id_format"),
    ("alpha2010-rr", {"cohort_id": "other-rr"}, "cohort_id", "id_format"),
    ("alpha2010-rr", {"superseded_by": "nowhere-x"}, "superseded_by", "superseded_target_exists"),
    ("alpha2010-rr", {"superseded_by": "alpha2010-rr"}, "superseded_by", "superseded_target_exists"),
    ("alpha2010-rr", {"_notes": {}}, "n_treated", "note_required"),
    ("alpha2010-rr", {"from_review": ["cr_rate"]}, "from_review", "note_unknown_field"),
    ("alpha2010-rr", {"unverified": ["authors"]}, "unverified", "note_unknown_field"),
    ("epsilon2019-mixed", {"diagnosis_mix": None}, "diagnosis_mix", "mixed_needs_composition"),
    ("gamma2022-low", {"car_target": None}, "car_target", "car_target_required"),
    ("alpha2010-rr", {"doi": None, "pmid": None, "citation_detail": None}, "doi", "citation_present"),
    ("alpha2010-rr", {"source_url": "http://47.251.13.51:8081/paper"}, "source_url", "non_canonical_host"),
    ("alpha2010-rr", {"trial_id": "NCT00000009"}, "trial_id", "trial_id_consistent"),
]


@pytest.mark.parametrize(
    ("cohort_id", "changes", "field", "rule"), BAD_VALUES, ids=[f"{c[3]}-{c[2]}" for c in BAD_VALUES]
)
def test_bad_value_is_named(records: list[dict], cohort_id: str, changes: dict, field: str, rule: str) -> None:
    record = _find(records, cohort_id)
    record.update(copy.deepcopy(changes))
    issues = validate_records(records)
    matching = [i for i in issues if i.rule == rule and i.field == field]
    assert matching, f"expected [{rule}] on {field}, got {[str(i) for i in issues]}"
    issue = matching[0]
    assert issue.study_id == record["study_id"]
    assert rule in str(issue) and field in str(issue) and record["study_id"] in str(issue)
    assert issue.file.endswith(".yaml")


def test_formula_like_text_is_a_warning_and_well_formed_identifiers_pass(records: list[dict]) -> None:
    record = _find(records, "alpha2010-rr")
    record.update(
        title="-1 day infusion: +IL-2 @ home",
        doi="10.1016/S0140-6736(20)30000-0",  # parentheses occur in real DOIs (percent-encoded in links)
        source_url="https://pubmed.ncbi.nlm.nih.gov/12345/?term=nk%20cells&x=1#abstract",
    )
    issues = validate_records(records)
    assert [(i.field, i.rule, i.level) for i in issues] == [("title", "formula_like_text", "warning")]
    assert not issues[0].is_error and str(issues[0]).startswith("warning: ")


def test_duplicate_cohort_id(records: list[dict]) -> None:
    _find(records, "gamma2022-low")["cohort_id"] = "gamma2022-high"
    issues = validate_records(records)
    assert any(i.rule == "unique_id" and i.field == "cohort_id" for i in issues)


def test_superseded_cycle(records: list[dict]) -> None:
    _find(records, "gamma2022-high")["superseded_by"] = "gamma2021-rr"
    issues = validate_records(records)
    assert any(i.rule == "superseded_no_cycle" for i in issues)


def test_every_rule_is_tested() -> None:
    tested = {case[3] for case in BAD_VALUES} | {"unique_id", "superseded_no_cycle"}
    yaml_rules = {"unknown_field", "study_id_matches_file"}  # tested on files below
    assert set(RULES) - tested - yaml_rules == set()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_field_in_yaml(tmp_path: Path) -> None:
    text = (FIXTURE_STUDIES / "alpha2010.yaml").read_text().replace("cr_count: 2", "cr_count: 2\n    cr_rate: 0.2")
    _, issues = load_study_file(_write(tmp_path, "alpha2010.yaml", text))
    assert [(i.field, i.rule, i.cohort_id) for i in issues] == [("cr_rate", "unknown_field", "alpha2010-rr")]


def test_study_id_must_match_file(tmp_path: Path) -> None:
    text = (FIXTURE_STUDIES / "alpha2010.yaml").read_text()
    _, issues = load_study_file(_write(tmp_path, "alpha2011.yaml", text))
    assert [i.rule for i in issues] == ["study_id_matches_file"]


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    _, issues = load_study_file(_write(tmp_path, "broken2020.yaml", "study_id: [unclosed\n"))
    assert issues[0].rule == "yaml_syntax" and issues[0].file.endswith("broken2020.yaml")


def test_study_defaults_apply_to_cohorts(records: list[dict]) -> None:
    low = _find(records, "gamma2022-low")
    assert (low["nk_source"], low["car_target"], low["nct_ids"]) == (
        "cell_line",
        "CD33",
        ["NCT00000003", "NCT00000004"],
    )


def test_publications_of_one_trial_must_agree(records: list[dict]) -> None:
    """Two publications with one trial_id but different NK sources, and two primary reports: warnings, by name."""
    alpha, gamma = _find(records, "alpha2010-rr"), _find(records, "gamma2022-high")
    for record in (alpha, gamma):
        record.update(trial_id="shared-trial", publication_role="primary_results")
    found = {(i.rule, i.field) for i in validate_records(records)}
    assert ("trial_id_consistent", "nk_source") in found or alpha["nk_source"] == gamma["nk_source"]
    assert ("trial_id_consistent", "publication_role") in found
    gamma["publication_role"] = "update"
    gamma["nk_source"] = alpha["nk_source"]
    gamma["product_class"] = alpha["product_class"]
    assert not [i for i in validate_records(records) if i.rule == "trial_id_consistent"]


@pytest.mark.parametrize(
    ("url", "flagged"),
    [
        ("https://doi.org/10.1182/blood-2020-1", False),
        ("https://pubmed.ncbi.nlm.nih.gov/12345/", False),
        ("https://pmc.ncbi.nlm.nih.gov/articles/PMC1/", False),
        ("https://clinicaltrials.gov/study/NCT01234567", False),
        ("https://ashpublications.org/blood/article/1", False),
        ("https://www.sec.gov/Archives/x", False),
        ("http://47.251.13.51:8081/paper", True),
        ("https://10.0.0.1/x", True),
        ("https://meddatax.com/trial/NCT1", True),
        ("https://trial.medpath.com/x", True),
        ("https://www.trials.co/x", True),
        ("https://crick.ai/x", True),
        ("https://findatrial.example.org/x", True),
        ("https://preview-www.nature.com/articles/x", True),
        ("https://proxy.weglot.com/x", True),
        ("https://www-nature-com.translate.goog/x", True),
        ("https://webmail.tmfsummit.com/x", True),
        ("https://escholarship.org/search/?q=author%3ALee%2C+Dean", True),  # a search, not the article
        ("https://escholarship.org/uc/item/1abc2def", False),
        ("https://www.clinicaltrialsregister.eu/ctr-search/search?query=2011-003181-32", True),
        ("https://www.clinicaltrialsregister.eu/ctr-search/trial/2011-003181-32/results", False),  # a record
        ("https://library.example.org/find?title=nk", True),
        ("https://www.notmeddatax.com/x", False),  # a host is matched by its domain, not by a substring
        ("https://ash.confex.com/ash/2023/webprogram/Paper189508.html", False),
        ("https://library.ehaweb.org/eha/2022/eha2022-congress/356997/x.html?f=menu%3D6", False),
    ],
)
def test_non_canonical_hosts(url: str, flagged: bool) -> None:
    from nkdata.links import non_canonical_reason

    assert (non_canonical_reason(url) is not None) is flagged


def test_warnings_do_not_fail_the_build(tmp_path: Path) -> None:
    """A mirror as source_url is listed as a warning but the build still writes the file."""
    import shutil

    from nkdata.dataset import build, validate_path
    from nkdata.issues import is_warning

    folder = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, folder)
    path = folder / "alpha2010.yaml"
    text = path.read_text()
    old = next(line for line in text.splitlines() if line.startswith("source_url:"))
    path.write_text(text.replace(old, "source_url: https://meddatax.com/a"), encoding="utf-8")
    issues = validate_path(folder)
    assert [i.rule for i in issues] == ["non_canonical_host"] and all(is_warning(i) for i in issues)
    table = build(folder, tmp_path / "t.parquet")
    assert table.num_rows > 0
