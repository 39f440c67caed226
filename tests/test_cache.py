"""The byte-bounded caches of nkapp.cache: what a crawl of distinct links can make the server hold."""

from __future__ import annotations

import pandas as pd

from nkapp.cache import BUDGETS, CACHES, ByteBudgetCache, byte_cached


def test_the_cache_never_holds_more_than_its_budget_and_evicts_the_least_recently_used() -> None:
    cache = ByteBudgetCache("t", budget=40_000)
    for i in range(40):
        cache.put(f"k{i}".encode(), b"x" * 3_000)
        assert cache.stats().bytes <= 40_000
    assert cache.get(b"k0") == (False, None)  # the oldest went first
    assert cache.get(b"k39")[0]
    cache.get(b"k30")  # used again: it outlives k31
    for i in range(40, 45):  # evicts k27, k28, k29 and then k31, not k30
        cache.put(f"k{i}".encode(), b"x" * 3_000)
    assert cache.get(b"k30")[0] and not cache.get(b"k31")[0]


def test_a_result_larger_than_a_quarter_of_the_budget_is_not_kept() -> None:
    cache = ByteBudgetCache("t", budget=40_000)
    cache.put(b"small", b"s")
    cache.put(b"huge", b"h" * 20_000)
    assert cache.get(b"huge") == (False, None)
    assert cache.get(b"small") == (True, b"s")


def test_every_caller_gets_its_own_copy() -> None:
    cache = ByteBudgetCache("t", budget=1_000_000)
    cache.put(b"f", pd.DataFrame({"a": [1, 2]}))
    first = cache.get(b"f")[1]
    first.loc[0, "a"] = 99
    assert cache.get(b"f")[1]["a"].tolist() == [1, 2]


def test_byte_cached_keys_on_the_arguments_without_underscore() -> None:
    calls: list[tuple] = []

    @byte_cached("results")
    def double(_repo: object, x: int, frame: pd.DataFrame) -> int:
        calls.append((x, len(frame)))
        return 2 * x

    CACHES["results"].clear()
    frame = pd.DataFrame({"v": [1, 2, 3]})
    assert double(object(), 2, frame) == 4
    assert double(object(), 2, frame.copy()) == 4  # another repository object, an equal frame: one entry
    assert double(object(), 3, frame) == 6
    assert calls == [(2, 3), (3, 3)]


def test_the_budgets_add_up_to_what_the_sizing_assumes() -> None:
    """decisions.md sizes one process at about 280 MB idle plus these caches (<= 320 MB after 2,000 links)."""
    assert set(BUDGETS) == set(CACHES)
    assert sum(BUDGETS.values()) <= 96 * 1024 * 1024


def test_a_prepared_figure_is_drawn_on_the_click_not_on_the_view() -> None:
    """Remission's paper figure: opening the box shows three buttons and draws nothing (a figure is about 1.4 s
    of server CPU and 1.2 MB of PNG); the button's file, drawn when asked, is the forest as SVG."""
    from nkapp.components import figure_file
    from nkdata import analysis
    from nkdata.paths import REPO_ROOT
    from nkdata.repository import TrialsRepository
    from nkdata.slices import Analysis, Slice

    from .apptest_helpers import run_app

    drawn = CACHES["paper_figures"].stats().misses
    at = run_app(page="pages/outcomes.py")
    at.session_state["open_downloads"] = True
    at.session_state["cr_forest_figure_prepare"] = True
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Figure (SVG)", "Figure (PDF)", "Figure (PNG)"} <= set(labels)
    assert CACHES["paper_figures"].stats().misses == drawn

    repo = TrialsRepository(REPO_ROOT / "data" / "trials.parquet")
    result = analysis.rate_analysis(repo, Slice(), "cr_count", "n_treated", "setting", Analysis())
    rows = result.forest[result.forest["kind"] != "header"]
    svg = figure_file(rows, "CR", "all cohorts", "test", "test", "CR rate", "svg")
    assert svg.lstrip().startswith(b"<svg") and CACHES["paper_figures"].stats().misses == drawn + 1
    assert figure_file(rows, "CR", "all cohorts", "test", "test", "CR rate", "svg") == svg  # a second click: cached
    assert CACHES["paper_figures"].stats().misses == drawn + 1
