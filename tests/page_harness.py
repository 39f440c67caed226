"""Running one page as a function of (repository, view) under AppTest, with a stub repository held in memory.

The ethelred pattern: ``AppTest.from_function(script, args=(repository, view))`` runs the page without the
entry script, the sidebar or a Parquet file, so a page's edge cases (empty, one cohort, all-null, huge
slices) are tested by building the records they need.
"""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from nkdata.repository import TrialsRepository
from nkdata.slices import View


def _page_script(module_name, repo, view):  # noqa: ANN001, ANN202 - AppTest runs this source without imports
    import importlib

    import streamlit as st

    from nkapp import state

    st.session_state.setdefault(state.VIEW_KEY, view)
    importlib.import_module(f"pages.{module_name}").render(repo, state.current_view())


def run_page(module_name: str, repo: TrialsRepository, view: View | None = None) -> AppTest:
    """The page after one run over ``repo`` and ``view``; fails on any exception."""
    at = AppTest.from_function(_page_script, args=(module_name, repo, view or View()), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cohort(**fields: Any) -> dict[str, Any]:
    """A valid primary cohort record with sensible defaults; ``fields`` override them."""
    base = {
        "cohort_id": "stub2020-a",
        "study_id": "stub2020",
        "first_author": "Stub",
        "year": 2020,
        "title": "A stub cohort",
        "publication_type": "journal_article",
        "design": "prospective_trial",
        "nk_source": "peripheral_blood",
        "product": "Stub NK",
        "product_class": "activated",
        "setting": "relapsed_refractory",
        "aml_only": True,
        "n_treated": 10,
        "source_url": "https://example.org/stub",
        "source_section": "abstract",
        "extraction_note": "stub",
    }
    return {**base, **fields}
