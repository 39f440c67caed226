"""Entry point: page set-up, the dataset, the shared sidebar filters, navigation, and the URL.

Run with `streamlit run dashboard.py`. Pages are functions ``render(repo, view)``
registered with ``st.Page(callable, url_path=...)``; everything shared happens here,
before the page runs, and the URL is rewritten after it, so page controls are part
of the link as well.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from nkdata.runtime import configure_allocator, freeze_startup_heap

configure_allocator()  # before DuckDB is imported

import streamlit as st  # noqa: E402

from nkapp import components, context, filters, serve, state  # noqa: E402
from nkdata.safe_text import md_text  # noqa: E402

freeze_startup_heap()  # after the imports: Streamlit's collection after each run then skips them
serve.install()  # a link Streamlit drops whole gets a notice (nkapp/serve.py)


@dataclass(frozen=True)
class PageSpec:
    module: str  # pages/<module>.py, which defines render(repository, view)
    title: str
    icon: str
    url_path: str
    registry: bool = False  # reads the registered-trials dataset instead of the published cohorts


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", ":material/dashboard:", "overview"),
    PageSpec("outcomes", "Remission", ":material/monitoring:", "outcomes"),
    PageSpec("survival", "Survival & relapse", ":material/show_chart:", "survival"),
    PageSpec("persistence", "Expansion & persistence", ":material/timeline:", "persistence"),
    PageSpec("relapse", "Relapse counts", ":material/replay:", "relapse"),
    PageSpec("safety", "Safety", ":material/health_and_safety:", "safety"),
    PageSpec("evidence", "Summary of findings", ":material/fact_check:", "evidence"),
    PageSpec("metaregression", "Meta-regression", ":material/scatter_plot:", "metaregression"),
    PageSpec("rob", "Risk of bias", ":material/traffic:", "rob"),
    PageSpec("studies", "Studies", ":material/table:", "studies"),
    PageSpec("pipeline", "Registered trials", ":material/science:", "pipeline", registry=True),
    PageSpec("whatsnew", "What's new", ":material/new_releases:", "whatsnew"),
    PageSpec("about", "About & methods", ":material/info:", "about"),
)
DEFAULT_PAGE = "overview"


def _page_runner(spec: PageSpec, holder: dict) -> Callable[[], None]:
    """The callable Streamlit runs for a page: its render(repo, view) with this run's dataset and view."""

    def run() -> None:
        module = importlib.import_module(f"pages.{spec.module}")
        if spec.registry:
            context.guarded(
                lambda view: module.render(context.open_registry(), view),
                state.current_view(),
                dataset=context.registry_path,
            )
        else:
            context.guarded(module.render, holder["repo"], state.current_view())

    run.__name__ = f"page_{spec.module}"
    return run


def _unknown_path(known: set[str]) -> str | None:
    """The requested page name when the URL names no page of the app (Streamlit then shows the default)."""
    try:
        path = urlsplit(st.context.url or "").path
    except Exception:  # noqa: BLE001 - no browser context (AppTest)
        return None
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if path.strip("/") and last not in known else None


DEFAULT_PAGE_RESERVED_PATH = "home"  # Streamlit serves the default page at "/" but reserves its own path


def _navigation_pages(holder: dict) -> list:
    """One st.Page per page, the default one served at "/"; its own path (``/overview``) is a hidden alias,
    because Streamlit answers the default page's url_path with a "page not found" dialog."""
    pages = []
    for p in PAGES:
        runner = _page_runner(p, holder)
        if p.module == DEFAULT_PAGE:
            pages.append(st.Page(runner, title=p.title, icon=p.icon, url_path=DEFAULT_PAGE_RESERVED_PATH, default=True))
            pages.append(st.Page(runner, title=p.title, icon=p.icon, url_path=p.url_path, visibility="hidden"))
        else:
            pages.append(st.Page(runner, title=p.title, icon=p.icon, url_path=p.url_path))
    return pages


def main() -> None:
    st.set_page_config(page_title="NK-AML Evidence Dashboard", page_icon=":material/biotech:", layout="wide")
    holder: dict = {}
    navigation = st.navigation(_navigation_pages(holder), expanded=True)  # every page listed, none behind 'more'
    try:
        holder["repo"] = repo = context.open_repository()
        vocab, products_by_source, _ = context.dataset_facts(repo)
        holder["year_bounds"] = vocab.year_bounds
        state.initial_view(vocab, repo.has_cohort)
        filters.sidebar_filters(repo, vocab, products_by_source)
    except context.SERVING_ERRORS as error:
        st.title("NK-AML Evidence Dashboard")
        context.show_dataset_error(context.as_dataset_error(error))
        return
    missing = state.not_found_path() or _unknown_path({p.url_path for p in PAGES})
    if missing:
        st.warning(
            f"Page not found: '{md_text(missing[:40])}'. Showing the Overview instead.", icon=":material/search_off:"
        )
    components.link_notices(state.link_notices(vocab.year_bounds))
    components.slice_choices(state.current_view().slice)
    share_slot = st.container()  # filled after the page ran, so the link carries the page's own controls
    card_slot = st.container()  # the open cohort's card, a dialog drawn after the page (a click in it may open one)
    navigation.run()
    with card_slot:
        context.guarded(components.cohort_panel, repo)
    with share_slot:
        components.share_box(vocab.year_bounds)
    state.sync_url(vocab.year_bounds)


if __name__ == "__main__":
    main()
