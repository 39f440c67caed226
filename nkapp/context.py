"""The dataset and the current view, shared by the entry script and every page.

The repository is cached per process (one DuckDB connection, a cursor per
query); it is keyed on the file's path and modification time so a rebuilt
dataset is picked up without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from nkdata.issues import DatasetError
from nkdata.paths import TRIALS_PATH_ENV, trials_path
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice, View, Vocabulary

CONTEXT_KEY = "_nk_context"


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_repository(path: str, mtime_ns: int) -> TrialsRepository:
    return TrialsRepository(Path(path))


def open_repository() -> TrialsRepository:
    """The repository for the configured dataset; raises DatasetError if it cannot be used."""
    path = trials_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _open_repository(str(path), mtime)


@st.cache_data(show_spinner=False, max_entries=8)
def _vocabulary(_repo: TrialsRepository, path: str, mtime_ns: int) -> tuple[Vocabulary, dict[str, list[str]], dict]:
    return _repo.vocabulary(), _repo.products_by_source(), _repo.overview()


def dataset_facts(repo: TrialsRepository) -> tuple[Vocabulary, dict[str, list[str]], dict]:
    """Codes a link may use, products per source, and the dataset's size: fixed per file, so cached."""
    try:
        mtime = repo.path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _vocabulary(repo, str(repo.path), mtime)


def show_dataset_error(error: DatasetError) -> None:
    """One readable panel instead of a traceback: what is wrong, and how to fix it."""
    path = trials_path()
    lines = [f"**The dataset cannot be used.** File: `{path}`", ""]
    for issue in error.issues[:12]:
        lines.append(f"- {issue}")
    if len(error.issues) > 12:
        lines.append(f"- ... and {len(error.issues) - 12} more")
    lines += ["", "**How to fix it:** " + (error.hint or "correct the file and reload the page.") +
              f" Check it with `python -m nkdata validate {path}`. To use the bundled data, unset "
              f"`{TRIALS_PATH_ENV}` or rebuild it with `python -m nkdata build`."]
    st.error("\n".join(lines), icon=":material/error:")


@dataclass(frozen=True)
class PageContext:
    repo: TrialsRepository
    view: View

    @property
    def slice(self) -> Slice:
        return self.view.slice


def set_page_context(context: PageContext) -> None:
    st.session_state[CONTEXT_KEY] = context


def page_context() -> PageContext:
    """What the entry script prepared for this run.

    With a ``pages/`` folder beside the entry script, Streamlit starts in its legacy
    folder mode until the first ``st.navigation`` call: on a fresh server, the first
    visitor of a shared link to a page (and every AppTest run) would get the page
    script alone, without the entry script's filters and context. Switching the mode
    off and rerunning sends the same request through ``dashboard.py``.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or CONTEXT_KEY not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state[CONTEXT_KEY]
