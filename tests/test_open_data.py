"""Releases, the changelog, the Frictionless data package and the data at stable URLs."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from nkdata import datapackage, releases
from nkdata.dataset import build, release_of
from nkdata.paths import DEFAULT_REGISTRY_PATH, DEFAULT_TRIALS_PATH

from .conftest import FIXTURE_STUDIES
from .server_helpers import streamlit_server

ROOT = Path(__file__).resolve().parent.parent


def _has_revision(rev: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}^{{commit}}"], check=False).returncode == 0


# ----- diff -----------------------------------------------------------------------------------------


def _changed_fixture(tmp_path: Path) -> Path:
    """The fixture studies with one study added, one count changed and one survival result added."""
    folder = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, folder)
    shutil.copytree(FIXTURE_STUDIES.parent / "rob", tmp_path / "rob")  # the appraisals beside the studies
    alpha = (folder / "alpha2010.yaml").read_text(encoding="utf-8")
    assert "cr_count: 2\n" in alpha
    (folder / "alpha2010.yaml").write_text(alpha.replace("cr_count: 2\n", "cr_count: 3\n", 1), encoding="utf-8")
    beta = (folder / "beta2015.yaml").read_text(encoding="utf-8")
    zeta = beta.replace("beta2015", "zeta2019").replace("year: 2015", "year: 2019")
    (folder / "zeta2019.yaml").write_text(zeta, encoding="utf-8")
    return folder


def test_diff_lists_added_publications_and_changed_numbers_with_their_source(tmp_path: Path) -> None:
    old_path, new_path = tmp_path / "old" / "trials.parquet", tmp_path / "new" / "trials.parquet"
    build(FIXTURE_STUDIES, old_path)
    build(_changed_fixture(tmp_path), new_path)
    log = releases.diff(releases.load_snapshot(str(old_path)), releases.load_snapshot(str(new_path)))
    assert [p["study_id"] for p in log.added_publications] == ["zeta2019"]
    assert log.removed_publications == [] and log.removed_cohorts == []
    assert all(c.startswith("zeta2019") for c in log.added_cohorts) and log.added_cohorts
    change = next(c for c in log.changed_values if c["field"] == "cr_count")
    assert (change["cohort_id"], change["old"], change["new"]) == ("alpha2010-rr", 2, 3)
    assert change["source"], "a changed number names where it was read"
    assert [c["field"] for c in log.changed_values] == ["cr_count"]  # nothing else changed in old cohorts
    text = releases.changelog_text(log)
    assert "alpha2010-rr cr_count: 2 -> 3" in text and "+ zeta2019" in text


def test_diff_of_identical_datasets_is_empty(fixture_parquet: Path) -> None:
    snap = releases.load_snapshot(str(fixture_parquet))
    log = releases.diff(snap, snap)
    assert set(log.counts().values()) == {0}


def test_diff_names_a_missing_dataset() -> None:
    with pytest.raises(releases.ReleaseError, match="neither a Parquet file nor a git revision"):
        releases.load_snapshot("no-such-revision-xyz")


@pytest.mark.skipif(not _has_revision("a9ec84b"), reason="a shallow clone without the 1.x revision")
def test_diff_between_1x_and_2_0_0_lists_what_2_0_0_added() -> None:
    """`python -m nkdata diff a9ec84b 22cf4c1`: the 12 publications of 2.0.0 and the numbers it filled."""
    result = subprocess.run(
        [sys.executable, "-m", "nkdata", "diff", "a9ec84b", "22cf4c1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = json.loads(result.stdout)
    added = {p["study_id"] for p in log["added_publications"]}
    assert {"tang2018", "rubnitz2015", "mg4101pilot2025", "lee2023"} <= added
    assert len(log["added_trials"]) == 43  # the registry appeared in 2.0.0
    change = next(
        c for c in log["changed_values"] if c["cohort_id"] == "bachanova2014-il2dt" and c["field"] == "expansion_count"
    )
    assert (change["old"], change["new"]) == (None, 4)


def test_stored_releases_are_ordered_and_dated() -> None:
    history = releases.load_releases(ROOT / "data" / "releases")
    versions = [releases.parse_version(r["version"]) for r in history]
    assert versions == sorted(versions, reverse=True) and len(versions) >= 2
    for record in history:
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", str(record["date"])) and record["searched"]
    newest = history[0]
    assert newest["version"] == release_of(DEFAULT_TRIALS_PATH)["version"], "the bundled data is the newest release"


# ----- release ----------------------------------------------------------------------------------------


def test_release_refuses_a_version_that_does_not_increase(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "2.0.0.yaml").write_text("version: 2.0.0\n", encoding="utf-8")
    for version in ("2.0.0", "1.9.9"):
        with pytest.raises(releases.ReleaseError, match="does not increase"):
            releases.check_new_version(version, folder)
    releases.check_new_version("2.0.1", folder)
    with pytest.raises(releases.ReleaseError, match="X.Y.Z"):
        releases.check_new_version("2.1", folder)


def _copy_project(tmp_path: Path) -> Path:
    """A throwaway clone (its history holds the earlier releases' Parquet) with this checkout's code and data."""
    target = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(ROOT), str(target)], check=True)
    for name in ("nkdata", "data", "deploy"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("CITATION.cff", ".zenodo.json"):
        shutil.copyfile(ROOT / name, target / name)
    return target


def _release(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nkdata", "release", *args], cwd=project, capture_output=True, text=True, check=False
    )


def test_release_end_to_end_bumps_everything_and_refuses_bad_data(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    latest = releases.load_releases(project / "data" / "releases")[0]["version"]
    major, minor, patch = releases.parse_version(latest)
    version = f"{major}.{minor}.{patch + 1}"

    refused = _release(project, "--version", latest)
    assert refused.returncode == 1 and "does not increase" in refused.stderr

    study = project / "data" / "studies" / "bachanova2014.yaml"
    good = study.read_text(encoding="utf-8")
    study.write_text(good.replace("setting: relapsed_refractory", "setting: relapsed", 1), encoding="utf-8")
    bad = _release(project, "--version", version, "--date", "2026-12-31")
    assert bad.returncode == 1 and "does not validate" in bad.stderr
    assert not (project / "data" / "releases" / f"{version}.yaml").exists()
    study.write_text(good, encoding="utf-8")

    done = _release(project, "--version", version, "--date", "2026-12-31", "--searched", "2026-12-30")
    assert done.returncode == 0, done.stderr[-2000:]
    record = yaml.safe_load((project / "data" / "releases" / f"{version}.yaml").read_text(encoding="utf-8"))
    assert (record["version"], record["date"], record["searched"]) == (version, "2026-12-31", "2026-12-30")
    previous = releases.previous_snapshot(releases.load_releases(project / "data" / "releases")[1], project)
    expected = releases.diff(previous, releases.load_snapshot(str(project / "data" / "trials.parquet"), project))
    assert record["summary"] == expected.counts()  # the changelog is against the release before it
    assert record["data"]["data/trials.parquet"]
    assert release_of(project / "data" / "trials.parquet")["version"] == version
    assert f'version: "{version}"' in (project / "CITATION.cff").read_text(encoding="utf-8")
    assert json.loads((project / ".zenodo.json").read_text(encoding="utf-8"))["version"] == version
    assert json.loads((project / "static" / "datapackage.json").read_text(encoding="utf-8"))["version"] == version


# ----- the data package --------------------------------------------------------------------------------


def test_data_package_validates_with_frictionless() -> None:
    import frictionless

    report = frictionless.validate(str(ROOT / "static" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])[:10]


def _python(value: object) -> object:
    """frictionless reads Table Schema numbers as Decimal; compare them as the Parquet's floats."""
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


def test_every_resource_reads_back_equal_to_the_parquet() -> None:
    """frictionless reads each CSV resource with its schema; every cell equals the Parquet's value."""
    import frictionless

    package = frictionless.Package(str(ROOT / "static" / "datapackage.json"))
    parquet = {"trials": DEFAULT_TRIALS_PATH, "registry": DEFAULT_REGISTRY_PATH}
    for resource in package.resources:
        rows = [row.to_dict() for row in resource.read_rows()]
        assert rows, resource.name
        if resource.name not in parquet:
            continue
        expected = pq.read_table(parquet[resource.name]).to_pylist()
        key = resource.schema.primary_key[0]
        by_key = {r[key]: r for r in expected}
        assert sorted(r[key] for r in rows) == sorted(by_key)
        for row in rows:
            want = by_key[row[key]]
            for name, value in row.items():
                assert _python(value) == want[name], (resource.name, row[key], name)


def test_descriptor_comes_from_the_dictionary() -> None:
    """Types, units, codes and keys of the package are the dictionary's, so they cannot drift."""
    from nkdata.dictionary import FIELDS_BY_NAME

    descriptor = json.loads((ROOT / "static" / "datapackage.json").read_text(encoding="utf-8"))
    trials = next(r for r in descriptor["resources"] if r["name"] == "trials")
    fields = {f["name"]: f for f in trials["schema"]["fields"]}
    assert set(fields) == set(FIELDS_BY_NAME)
    assert fields["n_treated"]["type"] == "integer" and fields["n_treated"]["unit"] == "patients"
    assert fields["setting"]["constraints"]["enum"] == list(FIELDS_BY_NAME["setting"].allowed)
    assert trials["schema"]["primaryKey"] == ["cohort_id"]
    assert {fk["reference"]["resource"] for fk in trials["schema"]["foreignKeys"]} == {"publications", "trials"}
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"


def test_published_files_are_current(tmp_path: Path) -> None:
    """static/ is what `python -m nkdata publish` writes from the bundled data (rebuild after editing data)."""
    written = datapackage.publish(
        DEFAULT_TRIALS_PATH, DEFAULT_REGISTRY_PATH, release_of(DEFAULT_TRIALS_PATH), out_dir=tmp_path
    )
    assert sorted(p.name for p in written) == sorted(datapackage.PUBLISHED_FILES)
    for path in written:
        assert path.read_bytes() == (ROOT / "static" / path.name).read_bytes(), "run `python -m nkdata publish`"


def test_csv_cells_are_formula_safe(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cohort_id": ["a"], "note": ['=HYPERLINK("https://evil.example")'], "n": [3]})
    text = datapackage.to_csv(frame, ["cohort_id", "note", "n"])
    cells = next(iter(pd.read_csv(io.StringIO(text), dtype=str).itertuples(index=False)))
    assert cells.note.startswith("'=") and cells.n == "3"


# ----- stable URLs -----------------------------------------------------------------------------------


def _readme_static_urls() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- static-urls:start -->")[1].split("<!-- static-urls:end -->")[0]
    return re.findall(r"<http://localhost:8501(/app/static/[^>]+)>", block)


def test_readme_lists_every_published_file() -> None:
    assert sorted(u.rsplit("/", 1)[1] for u in _readme_static_urls()) == sorted(datapackage.PUBLISHED_FILES)


@pytest.mark.slow
def test_a_running_server_serves_every_readme_url_and_the_data_reads_back(tmp_path: Path) -> None:
    with streamlit_server(DEFAULT_TRIALS_PATH) as base:
        fetched = {}
        for path in _readme_static_urls():
            with urllib.request.urlopen(base + path, timeout=20) as response:
                assert response.status == 200, path
                fetched[path.rsplit("/", 1)[1]] = response.read()
    for name, data in fetched.items():
        assert data == (ROOT / "static" / name).read_bytes(), name
    saved = tmp_path / "trials.parquet"
    saved.write_bytes(fetched["trials.parquet"])
    con = duckdb.connect()
    by_setting = con.execute(
        "SELECT setting, count(*) FROM read_parquet($p) WHERE superseded_by IS NULL GROUP BY setting ORDER BY 1",
        {"p": str(saved)},
    ).fetchall()
    expected = pd.read_parquet(DEFAULT_TRIALS_PATH).query("superseded_by.isna()").groupby("setting").size()
    assert by_setting == sorted((k, int(v)) for k, v in expected.items())
    csv = pd.read_csv(io.BytesIO(fetched["trials.csv"]))
    assert len(csv) == len(pd.read_parquet(io.BytesIO(fetched["trials.parquet"])))


# ----- the What's new page ----------------------------------------------------------------------------


def test_whats_new_shows_the_latest_release_and_an_earlier_one_on_request() -> None:
    from nkdata.repository import TrialsRepository

    from .page_harness import cohort, run_page

    history = releases.load_releases(ROOT / "data" / "releases")
    latest, earlier = history[0], history[1]
    at = run_page("whatsnew", TrialsRepository.from_records([cohort()]))
    assert f"Version {latest['version']}" in [s.value for s in at.subheader]
    assert any(f"last searched {latest['searched']}" in c.value for c in at.caption)
    assert any("filters and analysis choices do not apply here" in c.value for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Publications added"] == str(latest["summary"]["publications added"])
    changed = releases.changed_values_frame(latest)
    if not changed.empty:
        assert any(len(df.value) == len(changed) for df in at.dataframe)
    at.selectbox(key="earlier_release").select(earlier["version"]).run()
    assert f"Version {earlier['version']}" in [s.value for s in at.subheader]
    shown = [df.value for df in at.dataframe]
    assert any(len(df) == earlier["summary"]["publications added"] and "Publication" in df for df in shown)


def test_about_lists_every_published_file() -> None:
    from pages.about import OPEN_DATA_FILES

    assert sorted(name for name, _ in OPEN_DATA_FILES) == sorted(datapackage.PUBLISHED_FILES)
