"""Blind second reads: format checks, field-by-field comparison, resolutions and the build's verification fields."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nkdata.__main__ import main
from nkdata.dataset import build, validate_path
from nkdata.issues import DatasetError
from nkdata.paths import SECOND_READS_DIR, SOURCE_DIR
from nkdata.second_read import check_second_reads, survival_key, tally, verification_text
from nkdata.source import load_folder

from .conftest import FIXTURE_STUDIES

READS = Path(__file__).parent / "fixtures" / "second_reads"


def _check(case: str):
    records, issues = load_folder(FIXTURE_STUDIES)
    assert issues == []
    return check_second_reads(records, READS / case)


def test_agreeing_read_counts_agreements_and_the_fact_only_it_has() -> None:
    _, comparisons, issues = _check("agree")
    assert issues == []
    by_field = {(c.cohort_id, c.field): c for c in comparisons}
    assert by_field[("alpha2010-rr", "cr_count")].status == "agreed"
    assert by_field[("alpha2010-rr", "crs_any")].status == "agreed"  # a reported zero is compared like any count
    assert by_field[("alpha2010-rr", "median_followup_months")].status == "missed"  # the first read has null
    # survival entries are matched by endpoint + landmark; 50.0 equals 50
    assert by_field[("beta2015-cr", "survival[os@24m].estimate_pct")].status == "agreed"
    assert by_field[("beta2015-cr", "survival[os@24m].ci_high_pct")].status == "agreed"
    # the first read's death the second reader looked for and did not find; relapse_count is null in both
    assert by_field[("alpha2010-rr", "treatment_related_deaths")].status == "unconfirmed"
    assert ("alpha2010-rr", "relapse_count") not in by_field
    t = tally(comparisons)
    assert (t.compared, t.agreed, t.disagreed, t.resolved, t.missed, t.unconfirmed) == (8, 8, 0, 0, 1, 1)
    text = verification_text([c for c in comparisons if c.cohort_id == "alpha2010-rr"])
    assert text == "4 of 4 numbers agreed; 1 more only in the second read; 1 not found by the second read"


def test_unresolved_disagreement_is_an_error_naming_study_cohort_field_and_rule() -> None:
    _, comparisons, issues = _check("disagree")
    assert [c.status for c in comparisons if c.field == "cr_count"] == ["disagreed"]
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.study_id, issue.cohort_id, issue.field, issue.rule) == (
        "alpha2010",
        "alpha2010-rr",
        "cr_count",
        "second_read_disagreement",
    )
    assert "2" in issue.message and "3" in issue.message


def test_resolution_settles_the_disagreement_and_names_the_choice() -> None:
    _, comparisons, issues = _check("resolved")
    assert issues == []
    resolved = [c for c in comparisons if c.status == "resolved"]
    assert [(c.field, c.resolution.resolved_value) for c in resolved] == [("cr_count", 2)]
    text = verification_text([c for c in comparisons if c.cohort_id == "alpha2010-rr"])
    assert text == "1 of 2 numbers agreed; 1 resolved (cr_count: first read kept, see note)"


def test_resolution_that_no_longer_matches_the_reads_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "reads"
    shutil.copytree(READS / "resolved", folder)
    path = folder / "alpha2010.yaml"
    path.write_text(path.read_text().replace("cr_count: 3", "cr_count: 4", 1))
    _, _, issues = check_second_reads(load_folder(FIXTURE_STUDIES)[0], folder)
    assert [i.rule for i in issues] == ["resolution_stale"]


def test_unknown_field_names_are_reported_not_ignored() -> None:
    _, comparisons, issues = _check("unknown_field")
    flagged = {(i.field, i.rule) for i in issues}
    assert flagged == {("cr_cont", "second_read_unknown_field"), ("relapse_cuont", "second_read_unknown_field")}
    assert {c.field for c in comparisons} == {"n_treated"}


def test_second_read_of_a_cohort_the_study_lacks_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "reads"
    shutil.copytree(READS / "disagree", folder)
    path = folder / "alpha2010.yaml"
    path.write_text(path.read_text().replace("cohort_id: alpha2010-rr", "cohort_id: alpha2010-typo"))
    _, _, issues = check_second_reads(load_folder(FIXTURE_STUDIES)[0], folder)
    assert [(i.cohort_id, i.rule) for i in issues] == [("alpha2010-typo", "second_read_unknown_cohort")]


def test_survival_keys_separate_landmarks_from_medians() -> None:
    assert survival_key({"endpoint": "os", "landmark_months": 24}) == "survival[os@24m]"
    assert survival_key({"endpoint": "os", "landmark_months": 6.0}) == "survival[os@6m]"
    assert survival_key({"endpoint": "os", "median_months": 9}) == "survival[os@median]"


def test_build_fills_verification_and_refuses_unresolved_disagreements(tmp_path: Path) -> None:
    out = tmp_path / "trials.parquet"
    build(FIXTURE_STUDIES, out, second_reads_dir=READS / "resolved")
    rows = {r["cohort_id"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["alpha2010-rr"]["verified_by"] == "fixture second reader"
    assert rows["alpha2010-rr"]["verified_on"] == "2026-12-01"
    assert rows["alpha2010-rr"]["verification"].startswith("1 of 2 numbers agreed; 1 resolved (cr_count")
    assert rows["beta2015-cr"]["verified_by"] is None  # no second read, nothing claimed
    with pytest.raises(DatasetError) as err:
        build(FIXTURE_STUDIES, tmp_path / "bad.parquet", second_reads_dir=READS / "disagree")
    assert "second_read_disagreement" in str(err.value) and "alpha2010-rr" in str(err.value)
    assert not (tmp_path / "bad.parquet").exists()


def test_verification_fields_are_derived_not_written_in_study_yaml(tmp_path: Path) -> None:
    source = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, source)
    path = source / "alpha2010.yaml"
    path.write_text(path.read_text().replace("    crs_any: 0\n", "    crs_any: 0\n    verified_by: someone\n"))
    issues = validate_path(source)
    assert [(i.field, i.rule) for i in issues] == [("verified_by", "unknown_field")]


def test_compare_reads_command_prints_counts_and_fails_on_disagreement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare-reads", "--source", str(FIXTURE_STUDIES), "--second-reads", str(READS / "agree")]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "missed (1):" in out and "median_followup_months" in out
    assert main(["compare-reads", "--source", str(FIXTURE_STUDIES), "--second-reads", str(READS / "disagree")]) == 1
    captured = capsys.readouterr()
    assert "disagreed (1):" in captured.out and "second_read_disagreement" in captured.err


def test_bundled_second_reads_have_no_unresolved_problem() -> None:
    records, _ = load_folder(SOURCE_DIR)
    reads, comparisons, issues = check_second_reads(records, SECOND_READS_DIR)
    assert issues == []
    assert reads and comparisons
