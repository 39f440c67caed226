"""Memory bounded in bytes: one cache budget for the process, and figure bytes made only when asked for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from streamlit.byte_util import config_max_cache_data_size_to_bytes

from nkdata.paths import REPO_ROOT

APP_CODE = [
    REPO_ROOT / "dashboard.py",
    *sorted((REPO_ROOT / "nkapp").glob("*.py")),
    *sorted((REPO_ROOT / "pages").glob("*.py")),
]


def test_the_served_app_has_one_byte_budget_for_every_cached_result() -> None:
    """Without it, st.cache_data is bounded by entry counts only, and a crawl of 2,000 distinct links kept 25 MB
    more (decisions.md, "Memory bounded in bytes")."""
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    budget = config_max_cache_data_size_to_bytes(config["server"]["maxCacheDataSize"])
    assert budget is not None and 2 * 2**20 <= budget <= 16 * 2**20


@pytest.mark.parametrize("path", APP_CODE, ids=lambda p: p.name)
def test_no_cache_escapes_the_budget(path: Path) -> None:
    """Entries persisted to disk are outside the byte budget, and a cache_resource holds anything it is given."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"cache_data\([^)]*persist", text)
    for match in re.finditer(r"@st\.cache_resource\(([^)]*)\)", text):
        assert "max_entries=" in match.group(1), f"{path.name}: a cache_resource without max_entries"


def test_a_prepared_figure_is_drawn_on_the_click_not_on_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remission's paper figure: opening the box shows three buttons and draws nothing (a figure was about 1.4 s
    of server CPU and 1.2 MB of PNG on every view of the open box); the button's file, drawn when asked, is the
    forest as SVG."""
    from nkapp import components
    from nkdata import analysis, figures
    from nkdata.repository import TrialsRepository
    from nkdata.slices import Analysis, Slice

    from .apptest_helpers import run_app

    drawn: list[str] = []
    export = figures.export_chart
    monkeypatch.setattr(figures, "export_chart", lambda chart, fmt, **kw: drawn.append(fmt) or export(chart, fmt, **kw))
    at = run_app(page="pages/outcomes.py")
    at.session_state["open_downloads"] = True
    at.session_state["cr_forest_figure_prepare"] = True
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Figure (SVG)", "Figure (PDF)", "Figure (PNG)"} <= set(labels)
    assert drawn == []

    repo = TrialsRepository(REPO_ROOT / "data" / "trials.parquet")
    result = analysis.rate_analysis(repo, Slice(), "cr_count", "n_treated", "setting", Analysis())
    rows = result.forest[result.forest["kind"] != "header"]
    svg = components.figure_file(rows, "CR", "all cohorts", "test", "test", "CR rate", "svg")
    assert svg.lstrip().startswith(b"<svg") and drawn == ["svg"]


def test_studies_downloads_are_made_on_the_click_each_in_its_own_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening Studies' Downloads makes no file (the rows of a large slice were 17 MB a link); each button's file,
    made when clicked, is its own format over the slice and search."""
    import csv
    import io

    from nkdata import presentation
    from nkdata.repository import TrialsRepository, search_key
    from nkdata.slices import Slice
    from pages.studies import download_file

    from .apptest_helpers import run_app

    made: list[int] = []
    export = presentation.export_csv
    monkeypatch.setattr(presentation, "export_csv", lambda rows: made.append(len(rows)) or export(rows))
    at = run_app({"q": "cord"}, page="pages/studies.py")
    at.session_state["open_downloads"] = True
    at.run()
    assert {"Rows (CSV)", "Rows (JSON)", "References (BibTeX)", "References (RIS)"} <= {
        b.proto.label for b in at.get("download_button")
    }
    assert made == []

    repo = TrialsRepository(REPO_ROOT / "data" / "trials.parquet")
    found = repo.found_cohorts(Slice(), search_key("cord"))
    files = {kind: download_file(repo, Slice(), search_key("cord"), kind) for kind in ("csv", "json", "bib", "ris")}
    assert len(list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8"))))) == len(found) > 0
    assert files["json"].lstrip().startswith(b"[") and files["bib"].lstrip().startswith(b"@")
    assert files["ris"].lstrip().startswith(b"TY  -")
