"""Bad datasets give one clear message (CLI and app); empty and all-null slices never break a page."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nkdata.__main__ import main
from nkdata.dataset import validate_path
from nkdata.issues import DatasetError
from nkdata.repository import TrialsRepository

from .apptest_helpers import run_app, texts

PAGES = [
    None,
    "pages/outcomes.py",
    "pages/persistence.py",
    "pages/relapse.py",
    "pages/safety.py",
    "pages/studies.py",
    "pages/about.py",
]


def _variant(fixture_parquet: Path, tmp_path: Path, change) -> Path:  # noqa: ANN001
    table = change(pq.read_table(fixture_parquet))
    out = tmp_path / "variant.parquet"
    if isinstance(table, bytes):
        out.write_bytes(table)
    else:
        pq.write_table(table, out)
    return out


def _set_column(table: pa.Table, name: str, values: list, type_: pa.DataType | None = None) -> pa.Table:
    index = table.schema.get_field_index(name)
    type_ = type_ or table.schema.field(name).type
    return table.set_column(index, pa.field(name, type_), pa.array(values, type=type_))


BAD_FILES = {
    "missing_required_column": (lambda t: t.drop_columns(["nk_source"]), "required_column", "nk_source"),
    "wrong_column_type": (
        lambda t: _set_column(t, "n_treated", [str(v) for v in t.column("n_treated").to_pylist()], pa.string()),
        "column_type",
        "n_treated",
    ),
    "unknown_code": (
        lambda t: _set_column(t, "nk_source", ["bone_marrow"] + t.column("nk_source").to_pylist()[1:]),
        "allowed_values",
        "bone_marrow",
    ),
    "missing_required_value": (  # a free-text field: opening checks only its missing values, not every title
        lambda t: _set_column(t, "first_author", [None] + t.column("first_author").to_pylist()[1:]),
        "required",
        "first_author",
    ),
    "truncated": ("truncate", "parquet_readable", ""),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_named_by_validate_and_app(
    case: str,
    fixture_parquet: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change, rule, detail = BAD_FILES[case]
    if change == "truncate":
        data = fixture_parquet.read_bytes()
        path = _variant(fixture_parquet, tmp_path, lambda _t: data[: len(data) // 2])
    else:
        path = _variant(fixture_parquet, tmp_path, change)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and rule in err and detail in err
    with pytest.raises(DatasetError):
        TrialsRepository(path)
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    for page in (None, "pages/relapse.py"):
        at = run_app(page=page)
        assert len(at.error) == 1 and "How to fix it" in at.error[0].value and rule in at.error[0].value


def test_file_with_only_required_columns_works(
    fixture_parquet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's minimal file: optional columns missing read as 'not reported'."""
    keep = [
        "cohort_id",
        "study_id",
        "first_author",
        "year",
        "title",
        "publication_type",
        "design",
        "nk_source",
        "product",
        "product_class",
        "setting",
        "aml_only",
        "n_treated",
        "source_url",
        "source_section",
        "extraction_note",
        "doi",
        "pmid",
        "field_notes",
    ]
    path = _variant(fixture_parquet, tmp_path, lambda t: t.select(keep))
    assert not [i for i in validate_path(path) if i.rule in ("required_column", "column_type", "parquet_readable")]
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    for page in PAGES:
        at = run_app(page=page)
        assert not at.error


def test_all_outcomes_null_shows_not_reported(
    fixture_parquet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nulls = [
        "n_evaluable",
        "cr_count",
        "orr_count",
        "mrd_neg_count",
        "relapse_count",
        "relapse_at_risk",
        "median_followup_months",
        "max_persistence_days",
        "crs_any",
        "crs_grade3plus",
        "icans_any",
        "gvhd_any",
        "gvhd_grade3plus",
        "treatment_related_deaths",
    ]

    def blank(table: pa.Table) -> pa.Table:
        for name in nulls:
            table = _set_column(table, name, [None] * table.num_rows)
        return table

    path = _variant(fixture_parquet, tmp_path, blank)
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    for page in PAGES:
        at = run_app(page=page)
        assert not at.error, page
    assert "No cohorts reporting CR" in texts(run_app(page="pages/outcomes.py"))
    assert "No cohorts reporting relapse" in texts(run_app(page="pages/relapse.py"))
    overview = run_app()
    metrics = {m.label: m.value for m in overview.metric}
    assert metrics["Patients treated"] == "29" and "No cohorts reporting CR" in texts(overview)


@pytest.mark.parametrize(
    "query",
    [
        {"years": ["2022", "2010"]},
        {"years": ["1800", "3000"]},
        {"years": ["x" * 5000, "2020"]},
        {"source": ["cell_line"] * 500},
        {"product": ['"; SELECT * FROM trials; --']},
        {"car_target": ["%27%20OR%201%3D1"]},
        {"mixed": ["yes please"], "superseded": [""]},
    ],
)
def test_mangled_links_never_break_a_page(query: dict, fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))
    for page in ("pages/outcomes.py", "pages/studies.py"):
        at = run_app(query, page=page)
        assert not at.error
        assert at.warning, "a notice says what was ignored or adjusted"
