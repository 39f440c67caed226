"""The operator sees dataset faults: one log line per fault and change of the file (what, which file, the first
line of the error), never one per view."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from .apptest_helpers import run_app


def _faults(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nkapp" and str(path) in r.getMessage()]


def test_each_fault_is_logged_once_per_change_of_the_file(
    tmp_path: Path, fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nkapp")
    path = tmp_path / "trials.parquet"
    monkeypatch.setenv("NK_TRIALS_PATH", str(path))
    path.write_bytes(b"not a parquet file at all")
    for page in (None, "pages/safety.py", None):  # three views of the same damaged file
        at = run_app(page=page)
        assert len(at.error) == 1
    logged = _faults(caplog, path)
    assert len(logged) == 1, logged
    assert "dataset fault" in logged[0] and "not a readable Parquet file" in logged[0]

    path.write_bytes(b"")  # another fault: logged once more
    run_app()
    run_app()
    assert len(_faults(caplog, path)) == 2 and "file is empty" in _faults(caplog, path)[-1]

    path.unlink()  # removed
    run_app()
    assert len(_faults(caplog, path)) == 3 and "file not found" in _faults(caplog, path)[-1]

    shutil.copy(fixture_parquet, path)  # repaired: views log nothing
    assert not run_app().error
    assert len(_faults(caplog, path)) == 3


def test_a_broken_registry_is_logged_against_the_registry_file(
    tmp_path: Path, fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nkapp")
    registry = tmp_path / "registry.parquet"
    registry.write_bytes(b"garbage")
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))
    monkeypatch.setenv("NK_REGISTRY_PATH", str(registry))
    run_app(page="pages/pipeline.py")
    run_app(page="pages/pipeline.py")
    run_app()  # the Overview reads the registry's counts too: the same fault, not logged again
    logged = _faults(caplog, registry)
    assert len(logged) == 1 and "registry.parquet" in logged[0]
    assert not _faults(caplog, fixture_parquet)
