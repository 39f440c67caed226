"""The registry as a second instance of the data stack: codes checked from its dictionary, v2 fields and rules,
the links with the publications, the page's own filters in the link, and the sidebar filters it does not apply.

Uses the FICTIONAL fixture tests/fixtures/registry (see tests/test_registry.py for its hand-worked table).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from nkdata import filterspec
from nkdata.issues import DatasetError, errors_only, is_warning
from nkdata.registry_repository import RegistryRepository
from nkdata.registry_validation import PublicationLinks, build_registry, validate_registry
from nkdata.slices import RegistrySlice, Vocabulary, parse_query_params, to_query_params
from nkdata.tablespec import REGISTRY

from .apptest_helpers import run_app, texts

TRIALS = Path(__file__).parent / "fixtures" / "registry" / "trials"
TODAY = dt.date(2026, 11, 29)
LINKS = PublicationLinks.from_records(
    [
        {"cohort_id": "alpha2010-rr", "study_id": "alpha2010", "nct_ids": ["NCT00000001"]},
        {"cohort_id": "beta2015-cr", "study_id": "beta2015", "nct_ids": []},
        {"cohort_id": "gamma2022-high", "study_id": "gamma2022", "nct_ids": ["NCT00000004"]},
    ]
)


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reg2") / "registry.parquet"
    build_registry(TRIALS, out, LINKS, today=TODAY)
    return out


def _folder(tmp_path: Path, **changes: dict) -> Path:
    """A copy of the fixture with some files changed: {file stem: {field: value}}."""
    folder = tmp_path / "reg"
    shutil.copytree(TRIALS, folder)
    for stem, values in changes.items():
        path = folder / f"{stem}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc.update(values)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


# ----- codes are checked from the dictionary when the Parquet is opened ---------------------------------------

CODED = [f.name for f in REGISTRY.coded]


def test_every_coded_field_of_the_registry_is_checked() -> None:
    """The fields the hand-written SQL check used to forget are coded in the dictionary, so they are checked."""
    assert {"registry", "enrollment_type", "donor_type", "source_section", "record_confidence"} <= set(CODED)


@pytest.mark.parametrize("name", CODED)
def test_a_bogus_code_is_rejected_when_the_file_is_opened(tmp_path: Path, parquet: Path, name: str) -> None:
    table = pq.read_table(parquet)
    values = table.column(name).to_pylist()
    values[2] = "bogus-code"
    index = table.schema.get_field_index(name)
    bad = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(index, table.schema.field(index), pa.array(values, pa.string())), bad)
    with pytest.raises(DatasetError) as err:
        RegistryRepository(bad)
    assert [(i.study_id, i.field, i.rule) for i in err.value.issues] == [("NCT00000003", name, "allowed_values")]
    assert "'bogus-code'" in str(err.value)


def test_the_fixture_opens(parquet: Path) -> None:
    assert RegistryRepository(parquet).summary(RegistrySlice())["trials"] == 6


# ----- v2 fields and rules -------------------------------------------------------------------------------


def test_fixture_has_no_issue_at_all() -> None:
    assert validate_registry(TRIALS, LINKS, today=TODAY) == []


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"record_confidence": "review_only"}, "known_from_required", "known_from"),
        ({"record_confidence": "rumour"}, "allowed_values", "record_confidence"),
        ({"completion_year": 2012, "start_year": 2015}, "completion_year_range", "completion_year"),
        ({"completion_year": 2050}, "completion_year_range", "completion_year"),
        ({"results_status": "published"}, "unknown_field", "results_status"),  # set by the build only
    ],
)
def test_v2_rules(tmp_path: Path, changes: dict, rule: str, field: str) -> None:
    if "completion_year" in changes:
        changes = {**changes, "notes": {**_notes("nct00000001"), "completion_year": "fictional note"}}
    found = {(i.rule, i.field) for i in validate_registry(_folder(tmp_path, nct00000001=changes), LINKS, TODAY)}
    assert (rule, field) in found


def _notes(stem: str) -> dict:
    return yaml.safe_load((TRIALS / f"{stem}.yaml").read_text(encoding="utf-8"))["notes"]


def test_review_only_with_its_source_and_noted_completion_year_pass(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        nct00000002={
            "record_confidence": "review_only",
            "known_from": "A fictional review, Table 2",
            "completion_year": 2018,
            "notes": {**_notes("nct00000002"), "completion_year": "fictional: primary completion, actual"},
        },
    )
    assert validate_registry(folder, LINKS, today=TODAY) == []
    out = tmp_path / "r.parquet"
    build_registry(folder, out, LINKS, today=TODAY)
    row = next(r for r in pq.read_table(out).to_pylist() if r["registry_id"] == "NCT00000002")
    assert (row["record_confidence"], row["known_from"], row["completion_year"]) == (
        "review_only",
        "A fictional review, Table 2",
        2018,
    )


def test_every_cited_nct_needs_a_record_and_links_agree_both_ways() -> None:
    links = PublicationLinks.from_records(
        [
            {"cohort_id": "alpha2010-rr", "study_id": "alpha2010", "nct_ids": ["NCT00000001", "NCT00000009"]},
            {"cohort_id": "beta2015-cr", "study_id": "beta2015", "nct_ids": ["NCT00000002"]},
            {"cohort_id": "gamma2022-high", "study_id": "gamma2022", "nct_ids": [], "trial_id": None},
        ]
    )
    issues = validate_registry(TRIALS, links, today=TODAY)
    errors = errors_only(issues)
    assert [(i.study_id, i.field, i.rule) for i in errors] == [("alpha2010", "nct_ids", "nct_registered")]
    assert "NCT00000009" in errors[0].message and errors[0].file.endswith("alpha2010.yaml")
    warnings = sorted((i.study_id, i.rule, i.message.split()[0]) for i in issues if is_warning(i))
    assert warnings == [
        ("NCT00000002", "results_linkage", "beta2015-cr"),  # cites the trial, not in its cohort_ids
        ("NCT00000004", "results_linkage", "gamma2022-high"),  # in cohort_ids, but the paper does not cite it
    ]


def test_build_derives_results_status_from_either_link(tmp_path: Path) -> None:
    """NCT1 and NCT4 list cohorts; NCT2 lists none but a publication cites it: published all three."""
    links = PublicationLinks.from_records(
        [
            *(
                {"cohort_id": c, "study_id": s, "nct_ids": n}
                for c, s, n in [
                    ("alpha2010-rr", "alpha2010", ["NCT00000001"]),
                    ("beta2015-cr", "beta2015", ["NCT00000002"]),
                    ("gamma2022-high", "gamma2022", ["NCT00000004"]),
                ]
            )
        ]
    )
    out = tmp_path / "r.parquet"
    build_registry(TRIALS, out, links, today=TODAY)  # a linkage warning does not stop the build
    status = {r["registry_id"]: r["results_status"] for r in pq.read_table(out).to_pylist()}
    assert status == {
        "NCT00000001": "published",
        "NCT00000002": "published",
        "NCT00000003": "none",
        "NCT00000004": "published",
        "NCT00000005": "none",
        "NCT00000006": "none",
    }


def _built(folder: Path, tmp_path: Path) -> dict[str, dict]:
    """The registry built from ``folder``, row by registry id."""
    out = tmp_path / "r.parquet"
    build_registry(folder, out, LINKS, today=TODAY)
    return {r["registry_id"]: r for r in pq.read_table(out).to_pylist()}


def test_an_nct_record_read_on_a_mirror_links_to_clinicaltrials_gov(tmp_path: Path) -> None:
    """The page read may be a mirror (kept as provenance); the link shown is the trial's own registry record."""
    folder = _folder(tmp_path, nct00000003={"source_url": "https://meddatax.com/trial/NCT00000003"})
    assert validate_registry(folder, LINKS, today=TODAY) == []
    row = _built(folder, tmp_path)["NCT00000003"]
    assert row["registry_url"] == "https://clinicaltrials.gov/study/NCT00000003"
    assert row["source_url"] == "https://meddatax.com/trial/NCT00000003"


def test_a_mirror_as_the_only_link_of_another_registry_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    """Outside ClinicalTrials.gov the link shown is the status page; a mirror there is named, the build goes on."""
    folder = _folder(
        tmp_path,
        nct00000003={
            "registry": "other",
            "registry_id": "NL-OMON00003",
            "status_source_url": "https://trial.medpath.com/NL-OMON00003",
        },
    )
    (folder / "nct00000003.yaml").rename(folder / "nl-omon00003.yaml")
    issues = validate_registry(folder, LINKS, today=TODAY)
    assert [(i.study_id, i.field, i.rule) for i in issues] == [
        ("NL-OMON00003", "status_source_url", "non_canonical_host")
    ]
    row = _built(folder, tmp_path)["NL-OMON00003"]
    assert row["registry_url"] == "https://trial.medpath.com/NL-OMON00003"


def test_research_waste_view(parquet: Path) -> None:
    """Completed trials without published results: NCT2 (completed 2019-05) has no completion year recorded."""
    repo = RegistryRepository(parquet)
    rows = repo.unpublished_completed(RegistrySlice(), 2026)
    assert list(rows["registry_id"]) == ["NCT00000002"]
    assert rows["years_since_completion"].isna().all()
    assert repo.summary(RegistrySlice())["completed_no_results"] == 1


def test_years_since_completion_counts_to_the_given_year(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        nct00000002={"completion_year": 2019, "notes": {**_notes("nct00000002"), "completion_year": "fictional"}},
    )
    out = tmp_path / "r.parquet"
    build_registry(folder, out, LINKS, today=TODAY)
    rows = RegistryRepository(out).unpublished_completed(RegistrySlice(), 2026)
    assert rows.set_index("registry_id").loc["NCT00000002", "years_since_completion"] == 7


# ----- the page's filters: trial counts, in the link, and the sidebar filters they do not apply ------------------


def test_facet_counts_are_trials_under_the_other_choices(parquet: Path) -> None:
    repo = RegistryRepository(parquet)
    facets = repo.facet_counts(RegistrySlice(statuses=("recruiting",)))
    phases = facets[facets.field == "phases"].set_index("code")["trials"].to_dict()
    assert {c: n for c, n in phases.items() if n} == {"1": 2}  # NCT1 and NCT3 are the recruiting trials, both phase 1
    statuses = facets[facets.field == "statuses"].set_index("code")["trials"].to_dict()
    assert statuses["completed"] == 1 and statuses["recruiting"] == 2  # its own filter is left out of its counts


def test_every_sidebar_control_is_mapped_or_declared_not_applicable() -> None:
    for f in filterspec.FILTERS:
        assert bool(f.registry_column) != bool(f.registry_note), f.key
        if f.registry_column:
            assert f.registry_column in REGISTRY.by_name
    for t in filterspec.TOGGLES:
        assert bool(t.registry_condition) != bool(t.registry_note), t.key
    labels = {label for label, _ in filterspec.registry_not_applied()}
    assert {"Publication year", "Product", "Publication type"} <= labels


def test_registry_filters_round_trip_through_the_link() -> None:
    vocab = Vocabulary({}, (2000, 2026))
    link = {"phase": ["1", "4"], "status": ["recruiting"], "start": ["2015", "2022"], "trial_car": ["CD33"]}
    view, notices = parse_query_params(link, vocab)
    assert view.registry == RegistrySlice(
        phases=("1",), statuses=("recruiting",), start_years=(2015, 2022), trial_car_targets=("CD33",)
    )
    assert notices == ["Ignored part of 'phase': not known codes: '4'."]
    assert to_query_params(view, (2000, 2026)) == {
        "start": ["2015", "2022"],
        "phase": ["1"],
        "status": ["recruiting"],
        "trial_car": ["CD33"],
    }


def _app(parquet: Path, monkeypatch: pytest.MonkeyPatch, query: dict) -> object:
    monkeypatch.setenv("NK_REGISTRY_PATH", str(parquet))
    return run_app(query, page="pages/pipeline.py")


def test_page_has_phase_and_status_filters_and_a_known_slice_count(
    parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(parquet, monkeypatch, {"phase": "1", "status": "recruiting"})
    labels = {m.label: m for m in at.multiselect}
    assert {"Phase", "Status", "Sponsor type", "CAR target", "Results published"} <= set(labels)
    assert labels["Phase"].value == ["1"] and labels["Status"].value == ["recruiting"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Registered trials"] == "2"  # NCT1 and NCT3
    assert "Phase 1 (2)" in labels["Phase"].options and "Phase 2 (0)" in labels["Phase"].options  # trials
    assert "Completed (0)" in labels["Status"].options and "Not yet recruiting (1)" in labels["Status"].options
    assert {s.label for s in at.slider} >= {"Start year"}
    shown = texts(at)
    for label, _ in filterspec.registry_not_applied():
        assert label in shown  # the page names every sidebar control it does not apply


def test_page_filter_changes_the_link_and_the_count(parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(parquet, monkeypatch, {})
    assert {m.label: m.value for m in at.metric}["Registered trials"] == "6"
    next(m for m in at.multiselect if m.label == "Sponsor type").select("industry").run()
    assert {m.label: m.value for m in at.metric}["Registered trials"] == "2"
    assert at.query_params.get("sponsor_type") in (["industry"], "industry")


def test_a_link_value_the_registry_does_not_have_is_dropped_visibly(
    parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(parquet, monkeypatch, {"trial_car": ["CD33", "CD999"]})
    assert next(m for m in at.multiselect if m.label == "CAR target").value == ["CD33"]
    assert {m.label: m.value for m in at.metric}["Registered trials"] == "2"  # NCT3 and NCT6
    assert "Ignored 1 CAR target value(s) not found in the registry dataset." in texts(at)
    assert "CD999" not in texts(at)


@pytest.mark.parametrize("spec", filterspec.REGISTRY_FILTERS, ids=lambda s: s.key)
def test_every_page_filter_of_the_table_is_in_the_link(spec: filterspec.FilterSpec) -> None:
    code = next(iter(spec.codes)) if spec.codes is not None else spec.null_code
    view, notices = parse_query_params({spec.key: [code]}, Vocabulary({}, (2000, 2026)))
    assert notices == [] and getattr(view.registry, spec.field) == (code,)
    assert to_query_params(view, (2000, 2026)) == {spec.key: [code]}
    assert getattr(RegistrySlice.from_view(view), spec.field) == (code,)
