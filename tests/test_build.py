"""The Parquet is a deterministic build product of the YAML source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nkdata.__main__ import main
from nkdata.dataset import build, validate_path
from nkdata.issues import DatasetError
from nkdata.paths import DEFAULT_TRIALS_PATH, RELEASE_FILE, SOURCE_DIR

from .conftest import FIXTURE_STUDIES


def test_bundled_parquet_equals_fresh_build(tmp_path: Path) -> None:
    fresh_path = tmp_path / "fresh.parquet"
    build(SOURCE_DIR, fresh_path, RELEASE_FILE)
    fresh, bundled = pq.read_table(fresh_path), pq.read_table(DEFAULT_TRIALS_PATH)
    assert bundled.schema.equals(fresh.schema, check_metadata=True)
    assert bundled.equals(fresh), "data/trials.parquet is stale: run `python -m nkdata build`"


def test_bundled_data_validates() -> None:
    assert validate_path(SOURCE_DIR) == []
    assert validate_path(DEFAULT_TRIALS_PATH) == []


def test_build_is_byte_deterministic(tmp_path: Path) -> None:
    build(FIXTURE_STUDIES, tmp_path / "a.parquet", RELEASE_FILE)
    build(FIXTURE_STUDIES, tmp_path / "b.parquet", RELEASE_FILE)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_null_stays_null_and_zero_stays_zero(fixture_parquet: Path) -> None:
    rows = {r["cohort_id"]: r for r in pq.read_table(fixture_parquet).to_pylist()}
    assert rows["beta2015-cr"]["cr_count"] is None
    assert rows["beta2015-cr"]["crs_any"] is None
    assert rows["alpha2010-rr"]["crs_any"] == 0
    assert rows["gamma2022-low"]["cr_count"] == 0


def test_failed_build_keeps_previous_file(tmp_path: Path) -> None:
    source = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, source)
    out = tmp_path / "trials.parquet"
    build(source, out)
    before = out.read_bytes()
    bad = (source / "alpha2010.yaml").read_text().replace("cr_count: 2", "cr_count: 9")
    (source / "alpha2010.yaml").write_text(bad)
    with pytest.raises(DatasetError) as err:
        build(source, out)
    assert "alpha2010" in str(err.value) and "cr_count" in str(err.value) and "count_le_evaluable" in str(err.value)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies", "trials.parquet"]  # no temp file left


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURE_STUDIES)]) == 0
    source = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, source)
    (source / "beta2015.yaml").write_text((source / "beta2015.yaml").read_text().replace("setting: consolidation_in_cr", "setting: remission"))
    assert main(["validate", str(source)]) == 1
    err = capsys.readouterr().err
    assert "beta2015" in err and "setting" in err and "allowed_values" in err


def test_cli_build_writes_file(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    assert main(["build", "--source", str(FIXTURE_STUDIES), "--out", str(out)]) == 0
    assert pq.read_table(out).num_rows == 6
