"""Registered trials (nkdata/registry_*.py, pages/pipeline.py) on the FICTIONAL fixture tests/fixtures/registry.

Hand-worked numbers of the six made-up trials:

    id  source  phase  status              start  CAR    cohorts          countries
    1   PB      1      recruiting          2015   -      alpha2010-rr     United States
    2   PB      2      completed           2010   -      -                Spain
    3   iPSC    1      recruiting          2022   CD33   -                United States, China
    4   NK-92   1/2    terminated          2020   CLL1   gamma2022-high   -
    5   UCB     1      not_yet_recruiting  -      -      -                -
    6   -       -      unknown             2022   CD33   -                -

Status dates run from 2019-05-01 (trial 2) to 2026-11-01 (trial 5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from nkdata import charts
from nkdata.ctgov import to_ctgov_frame
from nkdata.issues import DatasetError
from nkdata.registry_repository import RegistryRepository
from nkdata.registry_validation import PublicationLinks, build_registry, validate_registry
from nkdata.screening import validate_registry_screening as validate_screening
from nkdata.slices import RegistrySlice
from nkdata.source import load_record_folder
from nkdata.tablespec import REGISTRY

FIXTURE = Path(__file__).parent / "fixtures" / "registry"
TRIALS = FIXTURE / "trials"
TODAY = dt.date(2026, 11, 29)
# The publications the fixture trials link to, and the NCT ids those publications cite (agreeing both ways).
KNOWN = PublicationLinks.from_records(
    [
        {"cohort_id": "alpha2010-rr", "study_id": "alpha2010", "nct_ids": ["NCT00000001"]},
        {"cohort_id": "beta2015-cr", "study_id": "beta2015", "nct_ids": []},
        {"cohort_id": "gamma2022-high", "study_id": "gamma2022", "nct_ids": [], "trial_id": "NCT00000004"},
    ]
)


@pytest.fixture(scope="module")
def registry_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("registry") / "registry.parquet"
    build_registry(TRIALS, out, KNOWN, today=TODAY)
    return out


@pytest.fixture(scope="module")
def reg(registry_parquet: Path) -> RegistryRepository:
    return RegistryRepository(registry_parquet)


def _counts(frame, *columns) -> dict:
    """{value or tuple of values: trials}, with missing values as None."""

    def clean(value):
        return None if pd.isna(value) else value

    out = {}
    for row in frame.to_dict("records"):
        key = tuple(clean(row[c]) for c in columns)
        out[key if len(columns) > 1 else key[0]] = int(row["trials"])
    return out


# ----- validation --------------------------------------------------------------------------------


def test_fixture_is_valid() -> None:
    assert validate_registry(TRIALS, KNOWN, today=TODAY) == []


def _good() -> dict:
    return yaml.safe_load((TRIALS / "nct00000001.yaml").read_text(encoding="utf-8"))


def _issues_for(tmp_path: Path, doc: dict | str, name: str = "nct00000001.yaml") -> set[tuple[str, str | None]]:
    folder = tmp_path / "reg"
    folder.mkdir(exist_ok=True)
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False)
    (folder / name).write_text(text, encoding="utf-8")
    return {(i.rule, i.field) for i in validate_registry(folder, KNOWN, today=TODAY)}


def _with(**changes) -> dict:
    doc = _good()
    for key, value in changes.items():
        if value is _DROP:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


_DROP = object()


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"registry_id": "NCT00000009"}, "registry_id_matches_file", "registry_id"),
        ({"sponser": "typo"}, "unknown_field", "sponser"),
        ({"title": _DROP}, "required", "title"),
        ({"status": None}, "required", "status"),
        ({"phase": "4"}, "allowed_values", "phase"),
        ({"status": "ongoing"}, "allowed_values", "status"),
        ({"registry": "clinicaltrials.gov"}, "allowed_values", "registry"),
        ({"nk_source": "blood"}, "allowed_values", "nk_source"),
        ({"product_class": "magic"}, "allowed_values", "product_class"),
        ({"setting": "anywhere"}, "allowed_values", "setting"),
        ({"population": "elderly"}, "allowed_values", "population"),
        ({"enrollment": -3}, "non_negative", "enrollment"),
        ({"enrollment": "20"}, "type", "enrollment"),
        ({"aml_only": "yes"}, "type", "aml_only"),
        ({"start_year": 2004}, "start_year_range", "start_year"),
        ({"start_year": 2028}, "start_year_range", "start_year"),
        ({"status_as_of": "2025-13-01"}, "date_format", "status_as_of"),
        ({"status_as_of": "2025/01/10"}, "date_format", "status_as_of"),
        ({"status_as_of": "2026-12-01"}, "date_not_future", "status_as_of"),
        ({"status_as_of": dt.date(2024, 1, 10)}, "type", "status_as_of"),
        ({"source_url": "example.org/page"}, "url_format", "source_url"),
        ({"cohort_ids": ["no-such-cohort"]}, "cohort_exists", "cohort_ids"),
        ({"product_class": "car_engineered"}, "car_target_required", "car_target"),
        ({"car_target": "CD33"}, "car_target_required", "car_target"),
        (
            {"other_statuses": [{"status": "paused", "as_of": "2020-01-01", "source_url": "https://x.org"}]},
            "other_status_shape",
            "other_statuses",
        ),
        ({"other_statuses": [{"status": "recruiting", "as_of": "2020-01-01"}]}, "other_status_shape", "other_statuses"),
        (
            {"other_statuses": [{"status": "recruiting", "as_of": "2030-01-01", "source_url": "https://x.org"}]},
            "date_not_future",
            "other_statuses",
        ),
        ({"from_review": ["phaze"]}, "note_unknown_field", "from_review"),
    ],
)
def test_each_rule_names_rule_and_field(tmp_path: Path, changes: dict, rule: str, field: str) -> None:
    assert (rule, field) in _issues_for(tmp_path, _with(**changes))


def test_note_required_and_unknown_note(tmp_path: Path) -> None:
    doc = _good()
    del doc["notes"]["enrollment"]
    doc["notes"]["enrolment"] = "typo"
    issues = _issues_for(tmp_path, doc)
    assert ("note_required", "enrollment") in issues
    assert ("note_unknown_field", "notes") in issues
    assert not any(rule == "note_required" and field != "enrollment" for rule, field in issues)


@pytest.mark.parametrize(
    ("registry", "trial_id", "ok"),
    [
        ("clinicaltrials_gov", "NCT0000001", False),
        ("clinicaltrials_gov", "NCT00000001", True),
        ("chictr", "ChiCTR2000012345", True),
        ("chictr", "ChiCTR-OIC-17011298", True),
        ("chictr", "CHICTR20", False),
        ("eu_ctr", "2019-001929-27", True),
        ("eu_ctr", "2019-1929-27", False),
    ],
)
def test_registry_id_format_per_registry(tmp_path: Path, registry: str, trial_id: str, ok: bool) -> None:
    issues = _issues_for(tmp_path, _with(registry=registry, registry_id=trial_id), name=f"{trial_id.lower()}.yaml")
    assert (("registry_id_format", "registry_id") in issues) is not ok
    assert ("registry_id_matches_file", "registry_id") not in issues


def test_yaml_syntax_and_structure(tmp_path: Path) -> None:
    assert ("yaml_syntax", None) in _issues_for(tmp_path, "registry_id: [unclosed\n")
    assert ("yaml_structure", None) in _issues_for(tmp_path, "- a list\n- not a mapping\n")


def test_known_ids_none_skips_link_check_but_not_other_rules(tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "nct00000001.yaml").write_text(yaml.safe_dump(_with(cohort_ids=["x"], phase="9")), encoding="utf-8")
    rules = {i.rule for i in validate_registry(folder, None, today=TODAY)}
    assert rules == {"allowed_values"}


def test_issue_message_names_file_trial_field_and_rule(tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "nct00000001.yaml").write_text(yaml.safe_dump(_with(phase="4")), encoding="utf-8")
    (issue,) = validate_registry(folder, None, today=TODAY)
    assert str(issue).startswith(str(folder / "nct00000001.yaml"))
    assert "study NCT00000001" in str(issue) and "field phase" in str(issue) and "[allowed_values]" in str(issue)


def test_screening_list(tmp_path: Path) -> None:
    path = tmp_path / "screening.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "excluded": [
                    {
                        "registry_id": "NCT09999999",
                        "reason": "not_nk_cells",
                        "source_url": "https://x.org",
                        "note": "CIK",
                    },
                    {"registry_id": "NCT09999998", "reason": "boring", "source_url": "https://x.org", "note": "?"},
                    {
                        "registry_id": "NCT00000003",
                        "reason": "duplicate",
                        "source_url": "https://x.org",
                        "note": "listed",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    found = {(i.study_id, i.rule) for i in validate_screening(path, TRIALS)}
    assert found == {("NCT09999998", "allowed_values"), ("NCT00000003", "unique_id")}


# ----- build -------------------------------------------------------------------------------------


def test_build_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    build_registry(TRIALS, a, KNOWN, today=TODAY)
    copy = tmp_path / "copy"
    shutil.copytree(TRIALS, copy)  # same records read from another folder, in another file order
    build_registry(copy, b, KNOWN, today=TODAY)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert pq.read_table(a).column("registry_id").to_pylist() == [f"NCT0000000{i}" for i in range(1, 7)]


def test_failed_build_leaves_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "registry.parquet"
    build_registry(TRIALS, out, KNOWN, today=TODAY)
    before = out.read_bytes()
    bad = tmp_path / "bad"
    shutil.copytree(TRIALS, bad)
    (bad / "nct00000002.yaml").write_text(
        yaml.safe_dump(yaml.safe_load((TRIALS / "nct00000002.yaml").read_text()) | {"enrollment": -1}), encoding="utf-8"
    )
    with pytest.raises(DatasetError) as err:
        build_registry(bad, out, KNOWN, today=TODAY)
    assert [(i.study_id, i.field, i.rule) for i in err.value.issues] == [("NCT00000002", "enrollment", "non_negative")]
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["registry.parquet"]  # no temp file left


def test_build_keeps_nulls_zeros_and_conflicting_statuses(registry_parquet: Path) -> None:
    rows = {r["registry_id"]: r for r in pq.read_table(registry_parquet).to_pylist()}
    assert rows["NCT00000004"]["enrollment"] == 0
    assert rows["NCT00000005"]["enrollment"] is None
    assert rows["NCT00000004"]["other_statuses"] == [
        {"status": "recruiting", "as_of": "2021-02-01", "source_url": "https://example.org/registry/mirror/NCT00000004"}
    ]
    assert rows["NCT00000003"]["countries"] == ["United States", "China"]


# ----- repository --------------------------------------------------------------------------------


def test_summary_of_whole_fixture(reg: RegistryRepository) -> None:
    k = reg.summary(RegistrySlice())
    assert (k["trials"], k["with_results"], k["recruiting"]) == (6, 2, 2)
    assert (k["as_of_min"], k["as_of_max"], k["no_start_year"]) == ("2019-05-01", "2026-11-01", 1)


def test_counts_by_source_and_phase(reg: RegistryRepository) -> None:
    counts = _counts(reg.source_phase_counts(RegistrySlice()), "nk_source", "phase")
    assert counts == {
        ("peripheral_blood", "1"): 1,
        ("peripheral_blood", "2"): 1,
        ("ipsc", "1"): 1,
        ("cell_line", "1/2"): 1,
        ("umbilical_cord_blood", "1"): 1,
        (None, None): 1,
    }
    frame = reg.source_phase_counts(RegistrySlice())
    assert frame.groupby("phase", dropna=False)["trials"].sum().to_dict().get("1") == 3


def test_car_targets_status_sponsors_countries(reg: RegistryRepository) -> None:
    s = RegistrySlice()
    assert _counts(reg.car_targets_by_year(s), "car_target", "start_year") == {("CD33", 2022): 2, ("CLL1", 2020): 1}
    status = reg.status_counts(s).set_index("status")
    assert status.loc["recruiting", "trials"] == 2
    assert (status.loc["recruiting", "as_of_min"], status.loc["recruiting", "as_of_max"]) == ("2024-01-10", "2025-06")
    assert _counts(reg.sponsor_type_counts(s), "sponsor_type") == {"academic": 2, "industry": 2, "other": 1, None: 1}
    assert _counts(reg.country_counts(s), "country") == {"United States": 2, "China": 1, "Spain": 1, None: 3}


@pytest.mark.parametrize(
    ("slice_", "expected_ids"),
    [
        (RegistrySlice(sources=("peripheral_blood",)), {1, 2}),
        (RegistrySlice(trial_car_targets=("none",)), {1, 2, 5}),
        (RegistrySlice(trial_car_targets=("none", "CD33")), {1, 2, 3, 5, 6}),
        (RegistrySlice(start_years=(2015, 2022)), {1, 3, 4, 6}),
        (RegistrySlice(start_years=(2012, 2027), sources=("peripheral_blood",)), {1}),
        (RegistrySlice(phases=("1",)), {1, 3, 5}),
        (RegistrySlice(phases=("1", "1/2"), statuses=("recruiting",)), {1, 3}),
        (RegistrySlice(sponsor_types=("industry",)), {3, 4}),
        (RegistrySlice(results=("published",)), {1, 4}),
        (RegistrySlice(results=("none",), statuses=("completed",)), {2}),
        (RegistrySlice(donors=("off_the_shelf",)), {3}),
        (RegistrySlice(product_classes=("car_engineered",), settings=("relapsed_refractory",)), {3, 4, 6}),
        (RegistrySlice(populations=("adult",)), {1, 3, 4}),
        (RegistrySlice(sources=("placenta",)), set()),
    ],
)
def test_filters_change_counts(reg: RegistryRepository, slice_: RegistrySlice, expected_ids: set[int]) -> None:
    assert set(reg.table(slice_)["registry_id"]) == {f"NCT0000000{i}" for i in expected_ids}
    assert reg.summary(slice_)["trials"] == len(expected_ids)
    assert reg.source_phase_counts(slice_)["trials"].sum() == len(expected_ids)


def test_table_links_and_csv_export(reg: RegistryRepository) -> None:
    table = reg.table(RegistrySlice())
    assert list(table["registry_id"][:2]) == ["NCT00000003", "NCT00000006"]  # newest start first, id breaks ties
    row = table.set_index("registry_id").loc["NCT00000004"]
    assert row["registry_url"] == "https://clinicaltrials.gov/study/NCT00000004"
    assert row["other_statuses_text"] == "recruiting (2021-02-01)"
    csv = to_ctgov_frame(table).set_index("NCT Number")
    assert {"Study Title", "Study Status", "Phases", "Sponsor", "Enrollment", "Start Date"} <= set(csv.columns)
    assert csv.loc["NCT00000004", "Phases"] == "PHASE1|PHASE2"
    assert csv.loc["NCT00000004", "Study Status"] == "TERMINATED"
    assert csv.loc["NCT00000004", "Published Cohorts"] == "gamma2022-high"
    assert csv.loc["NCT00000003", "Locations"] == "United States|China"
    assert pd.isna(csv.loc["NCT00000005", "Start Date"])


def test_slice_from_a_view_reads_only_the_shared_attributes() -> None:
    @dataclass(frozen=True)
    class Shared:
        years: tuple[int, int] | None = (2015, 2022)
        sources: tuple[str, ...] = ("ipsc",)
        car_targets: tuple[str, ...] = ("none",)
        products: tuple[str, ...] = ("ignored",)

    @dataclass(frozen=True)
    class View:
        slice: Shared = Shared()

    # the publication years and the sidebar's CAR target are declared not applicable (filterspec): not read
    assert RegistrySlice.from_view(View()) == RegistrySlice(sources=("ipsc",))
    assert RegistrySlice.from_view(None) == RegistrySlice()


def test_broken_parquet_raises_readable_dataset_error(tmp_path: Path, registry_parquet: Path) -> None:
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(DatasetError) as err:
        RegistryRepository(garbage)
    assert "parquet_readable" in str(err.value) and str(garbage) in str(err.value)
    assert "data/registry.parquet" in err.value.hint

    table = pq.read_table(registry_parquet)
    missing = tmp_path / "missing.parquet"
    pq.write_table(table.drop_columns(["status"]), missing)
    with pytest.raises(DatasetError) as err:
        RegistryRepository(missing)
    assert "[required_column]" in str(err.value) and "'status'" in str(err.value)

    bad_code = tmp_path / "bad_code.parquet"
    statuses = table.column("status").to_pylist()
    statuses[0] = "paused"
    pq.write_table(table.set_column(table.schema.get_field_index("status"), "status", pa.array(statuses)), bad_code)
    with pytest.raises(DatasetError) as err:
        RegistryRepository(bad_code)
    assert [(i.study_id, i.field, i.rule) for i in err.value.issues] == [("NCT00000001", "status", "allowed_values")]

    with pytest.raises(DatasetError) as err:
        RegistryRepository(tmp_path / "absent.parquet")
    assert "file not found" in str(err.value)


def test_loader_skips_underscore_files(tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    shutil.copytree(TRIALS, folder)
    (folder / "_draft.yaml").write_text("not: a trial\n", encoding="utf-8")
    records, issues = load_record_folder(REGISTRY, folder)
    assert len(records) == 6 and issues == []


# ----- charts ------------------------------------------------------------------------------------


def test_source_phase_chart_keeps_not_reported(reg: RegistryRepository) -> None:
    spec = charts.registry_source_phase(reg.source_phase_counts(RegistrySlice())).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert {"NK source": "Not reported", "Phase": "Not reported"}.items() <= next(
        v for v in values if v["nk_source"] is None
    ).items()
    assert "Not reported" in spec["encoding"]["color"]["scale"]["domain"]


# ----- page --------------------------------------------------------------------------------------


def _page(path: str, car_targets: tuple[str, ...] = ()) -> None:
    from dataclasses import dataclass as _dc
    from pathlib import Path as _P

    from nkdata.registry_repository import RegistryRepository as _Repo
    from nkdata.slices import RegistrySlice as _RS
    from pages.pipeline import render

    @_dc(frozen=True)
    class _Slice:
        years: tuple[int, int] | None = None
        sources: tuple[str, ...] = ()

    @_dc(frozen=True)
    class _View:
        slice: _Slice
        registry: _RS

    render(_Repo(_P(path)), _View(_Slice(), _RS(trial_car_targets=car_targets)))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_headline_charts_table_and_downloads(registry_parquet: Path) -> None:
    at = AppTest.from_function(_page, args=(str(registry_parquet),), default_timeout=30).run()
    assert not at.exception
    assert _metrics(at) == {
        "Registered trials": "6",
        "With published results": "2",
        "Recruiting now": "2",
        "Statuses as of": "2019–2026",
    }
    assert any("from 2019-05-01 to 2026-11-01" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) >= 4  # source x phase, CAR (3 points), status, sponsor, countries
    table = at.dataframe[-1].value
    assert len(table) == 6 and "Published cohorts" in table.columns
    assert table.set_index("Title").loc["Fictional NK-cell trial 1", "Published cohorts"] == "alpha2010-rr"
    assert len(at.get("download_button")) == 2


def test_page_follows_the_view_and_uses_a_table_below_three_points(registry_parquet: Path) -> None:
    at = AppTest.from_function(_page, args=(str(registry_parquet), ("none",)), default_timeout=30).run()
    assert not at.exception
    assert _metrics(at)["Registered trials"] == "3"
    assert _metrics(at)["With published results"] == "1"
    assert any("No CAR-NK trial" in m.value for m in at.markdown)
    # 3 trials: status (3 statuses) is a chart; sponsor types (2 values) fall back to a table
    headers = [list(df.value.columns) for df in at.dataframe]
    assert ["Sponsor type", "Trials"] in headers
