"""Risk of bias: the appraisal files' rules, the written overall rule, the build, the 'low risk only' choice and
the traffic-light view (issue 18, item 4). Fixture appraisals: tests/fixtures/rob (alpha low, delta some
concerns, gamma2022 high; beta, gamma2021 and epsilon not appraised)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from nkdata import rob
from nkdata.dataset import build, rob_warnings
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice, View
from tests.apptest_helpers import chart_rows
from tests.page_harness import cohort, run_page

FIXTURES = Path(__file__).parent / "fixtures"
ALL_YES = {item.key: "yes" for item in rob.JBI_ITEMS}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "low"),
        ({"q7_clinical_info": "unclear", "q9_site_info": "unclear"}, "low"),  # two unclear non-key items
        ({"q7_clinical_info": "unclear", "q9_site_info": "unclear", "q10_statistics": "unclear"}, "some_concerns"),
        ({"q4_consecutive": "unclear"}, "some_concerns"),  # a key item unclear
        ({"q9_site_info": "no"}, "some_concerns"),  # a non-key item failed
        ({"q5_complete_inclusion": "no"}, "high"),  # a key item failed
        ({"q2_condition_measured": "no", "q3_condition_identified": "no", "q9_site_info": "no"}, "high"),
        ({"q10_statistics": "not_applicable"}, "low"),  # not applicable is neither yes nor a concern
    ],
)
def test_the_written_overall_rule(changes: dict[str, str], expected: str) -> None:
    assert rob.overall_by_rule({**ALL_YES, **changes}) == expected


def _write(folder: Path, name: str, doc: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _fixture_doc(name: str = "alpha2010") -> dict:
    return yaml.safe_load((FIXTURES / "rob" / f"{name}.yaml").read_text(encoding="utf-8"))


def _rules(tmp_path: Path, doc: dict, name: str = "alpha2010") -> set[tuple[str | None, str]]:
    _write(tmp_path, name, doc)
    _, issues = rob.load_rob_folder(tmp_path, {"alpha2010", "delta2018", "gamma2022"})
    return {(i.field, i.rule) for i in issues}


def test_the_fixture_appraisals_are_valid() -> None:
    records, issues = rob.load_rob_folder(FIXTURES / "rob", {"alpha2010", "delta2018", "gamma2022"})
    assert issues == [] and sorted(r["study_id"] for r in records) == ["alpha2010", "delta2018", "gamma2022"]
    assert {r["study_id"]: r["overall_by_rule"] for r in records} == {
        "alpha2010": "low",
        "delta2018": "some_concerns",
        "gamma2022": "high",
    }


def test_each_appraisal_rule_names_study_field_and_rule(tmp_path: Path) -> None:
    doc = _fixture_doc()
    missing = {**doc, "items": {k: v for k, v in doc["items"].items() if k != "q4_consecutive"}}
    assert ("q4_consecutive", "rob_item_complete") in _rules(tmp_path, missing)
    bad_judgement = {**doc, "items": {**doc["items"], "q2_condition_measured": {"judgement": "maybe", "note": "x"}}}
    assert ("q2_condition_measured", "rob_item_complete") in _rules(tmp_path, bad_judgement)
    no_note = {**doc, "items": {**doc["items"], "q6_demographics": {"judgement": "yes"}}}
    assert ("q6_demographics_note", "rob_item_complete") in _rules(tmp_path, no_note)
    unknown_item = {**doc, "items": {**doc["items"], "q11_extra": {"judgement": "yes", "note": "x"}}}
    assert ("q11_extra", "rob_item_complete") in _rules(tmp_path, unknown_item)
    assert ("instrument", "allowed_values") in _rules(tmp_path, {**doc, "instrument": "minors"})
    assert ("appraised_on", "rob_format") in _rules(tmp_path, {**doc, "appraised_on": "3 Dec 2026"})
    assert ("overall_note", "required") in _rules(tmp_path, {**doc, "overall_note": None})
    assert ("colour", "unknown_field") in _rules(tmp_path, {**doc, "colour": "green"})


def test_study_must_exist_and_name_the_file(tmp_path: Path) -> None:
    doc = _fixture_doc()
    assert ("study_id", "rob_study_exists") in _rules(tmp_path, {**doc, "study_id": "nosuch2020"}, "nosuch2020")
    assert ("study_id", "rob_study_exists") in _rules(tmp_path / "b", doc, "delta2018")  # file named otherwise


def test_overall_may_be_stricter_than_the_rule_never_more_lenient(tmp_path: Path) -> None:
    doc = _fixture_doc("gamma2022")  # Q4 no: the rule says high
    assert ("overall", "rob_overall_rule") in _rules(tmp_path, {**doc, "overall": "some_concerns"}, "gamma2022")
    alpha = _fixture_doc()  # the rule says low
    assert _rules(tmp_path / "s", {**alpha, "overall": "some_concerns"}) == set()


def test_build_writes_rob_parquet_deterministically_and_carries_overall(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "trials.parquet", tmp_path / "b" / "trials.parquet"
    build(FIXTURES / "studies", first)
    build(FIXTURES / "studies", second)
    assert (first.parent / "rob.parquet").read_bytes() == (second.parent / "rob.parquet").read_bytes()
    table = pq.read_table(first.parent / "rob.parquet")
    assert table.column("study_id").to_pylist() == ["alpha2010", "delta2018", "gamma2022"]
    overall = dict(zip(*pq.read_table(first, columns=["cohort_id", "rob_overall"]).to_pydict().values(), strict=True))
    assert overall["alpha2010-rr"] == "low" and overall["gamma2022-low"] == "high" and overall["beta2015-cr"] is None


def test_a_bad_appraisal_fails_the_build_and_leaves_the_file(tmp_path: Path) -> None:
    from nkdata.issues import DatasetError

    shutil.copytree(FIXTURES / "studies", tmp_path / "studies")
    shutil.copytree(FIXTURES / "rob", tmp_path / "rob")
    doc = _fixture_doc()
    doc["items"]["q1_inclusion_criteria"]["judgement"] = "perhaps"
    _write(tmp_path / "rob", "alpha2010", doc)
    with pytest.raises(DatasetError) as error:
        build(tmp_path / "studies", tmp_path / "out" / "trials.parquet")
    assert "study alpha2010, field q1_inclusion_criteria: [rob_item_complete]" in str(error.value)
    assert not (tmp_path / "out" / "trials.parquet").exists()


def test_missing_appraisals_are_listed_as_warnings() -> None:
    missing = rob_warnings(FIXTURES / "studies")
    assert not rob.COVERAGE_IS_ERROR  # a warning for a user's dataset; the bundled one is held to coverage below
    assert [i.study_id for i in missing] == ["beta2015", "epsilon2019", "gamma2021"]
    assert {i.rule for i in missing} == {"rob_coverage"}


def test_low_risk_of_bias_only_keeps_the_low_risk_publications(repo: TrialsRepository) -> None:
    counts = repo.rate_counts(Slice(), "setting", "cr_count", "n_treated", ("rob",))
    kept = counts[~counts["excluded"] & counts["events"].notna()]
    assert sorted(zip(kept["events"], kept["total"], strict=True)) == [(2, 10)]  # alpha2010, the only low one
    assert counts.loc[counts["excluded"], "cohorts"].sum() == 4  # beta (none), delta (some), gamma2022 x2 (high)


def test_traffic_light_page_colours_every_item_and_greys_the_unappraised() -> None:
    records = [
        cohort(cohort_id="ok2020-a", study_id="ok2020", first_author="Ok"),
        cohort(cohort_id="none2021-a", study_id="none2021", first_author="None", year=2021),
    ]
    doc = _fixture_doc()
    doc["study_id"] = "ok2020"
    flat, issues = rob.load_appraisal(_tmp_file(doc))
    assert issues == [] and flat is not None
    at = run_page("rob", TrialsRepository.from_records(records, [flat]), View())
    lights = chart_rows(at)[0]
    assert len(lights) == 2 * 11  # 10 items and the overall judgement per publication
    ok = {r["Item"]: r["Judgement"] for r in lights if r["Publication"] == "Ok 2020"}
    assert ok["Q1"] == "Yes (low risk)" and ok["Q7"] == "Unclear" and ok["Overall"] == "Low risk of bias"
    assert {r["Judgement"] for r in lights if r["Publication"] == "None 2021"} == {"Not yet appraised"}
    assert any("1 publication(s) in this slice have no appraisal yet" in w.value for w in at.warning)


def test_traffic_lights_of_a_large_slice_show_the_first_publications_and_say_so() -> None:
    """600 publications (a 10^4-cohort dataset reached this page with 500 and Altair refused the 5,500 rows)."""
    records = [
        cohort(cohort_id=f"p{i:03d}2020-a", study_id=f"p{i:03d}2020", first_author=f"P{i:03d}") for i in range(600)
    ]
    at = run_page("rob", TrialsRepository.from_records(records), View())
    lights = chart_rows(at)[0]
    assert len({r["Publication"] for r in lights}) == rob.TRAFFIC_LIGHT_MAX_PUBLICATIONS
    assert len(lights) < 5000
    shown = rob.TRAFFIC_LIGHT_MAX_PUBLICATIONS
    assert any(f"The first {shown} of 600 publications" in c.value for c in at.caption)


def _tmp_file(doc: dict) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    _write(folder, doc["study_id"], doc)
    return folder / f"{doc['study_id']}.yaml"


def test_relapse_page_offers_low_risk_of_bias_only() -> None:
    """Fixture relapse cohorts: beta (not appraised), delta (some concerns), gamma2022-high (high): none is low."""
    from tests.apptest_helpers import run_app, texts

    assert chart_rows(run_app(page="pages/relapse.py"))
    at = run_app({"exclude": "rob"}, page="pages/relapse.py")
    assert at.multiselect(key="w_exclude").value == ["rob"]
    assert "No cohorts reporting relapse among patients at risk in this slice" in texts(at)


def test_bundled_rob_parquet_equals_a_fresh_build(tmp_path: Path) -> None:
    """data/rob.parquet is a build product of data/rob (rebuild with `python -m nkdata build` after appraising)."""
    from nkdata.paths import DATA_DIR, RELEASE_FILE, SOURCE_DIR

    build(SOURCE_DIR, tmp_path / "trials.parquet", RELEASE_FILE)
    assert (tmp_path / "rob.parquet").read_bytes() == (DATA_DIR / "rob.parquet").read_bytes()


def test_every_bundled_publication_has_an_appraisal() -> None:
    """The risk-of-bias table covers every included publication (issue 18): a curator who adds a study file
    without its data/rob/ appraisal fails CI here (user datasets only get the warning)."""
    studies = Path(__file__).resolve().parent.parent / "data" / "studies"
    assert rob_warnings(studies) == []
    assert len(list((studies.parent / "rob").glob("*.yaml"))) == len(list(studies.glob("*.yaml")))
