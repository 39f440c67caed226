"""The dataset for this process: opened once per content, facts cached, failures shown as one panel.

Every failure to read the data while serving (a damaged, unreadable or deleted file,
a DuckDB or Arrow error) becomes the same readable panel for the visitor, without a
traceback or a server path; the operator's log keeps the detail, one line per fault and
change of the file (not per view). The repository is cached per DatasetIdentity, so a
repaired file is picked up on the next view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import streamlit as st

from nkdata.issues import DatasetError, Issue
from nkdata.paths import TRIALS_PATH_ENV, registry_path, trials_path
from nkdata.registry_repository import RegistryRepository
from nkdata.repository import DatasetIdentity, TrialsRepository
from nkdata.safe_text import md_text
from nkdata.slices import Vocabulary

LOG = logging.getLogger("nkapp")
if not LOG.handlers:  # the operator's log: stderr of the server, with a time stamp
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.INFO)
_LOGGED_FAULTS: dict[str, tuple[object, ...]] = {}  # file -> the fault last logged for it (its identity and error)
SERVING_ERRORS: tuple[type[BaseException], ...] = (DatasetError, duckdb.Error, pa.ArrowException, OSError)


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_repository(identity: DatasetIdentity) -> TrialsRepository:
    return TrialsRepository(Path(identity.path))


def first_line(error: BaseException) -> str:
    """The first line of an error's message (a DatasetError's first issue), or its class name."""
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else error.__class__.__name__


def log_fault(path: Path, error: BaseException) -> bool:
    """Log a dataset fault once per change of the file: what failed, which file, the first line of the error.
    A fault seen again on an unchanged file (every later view) is not logged again; True when logged."""
    identity = DatasetIdentity.of(path)
    key = (identity, error.__class__.__name__, first_line(error))
    if _LOGGED_FAULTS.get(str(path)) == key:
        return False
    _LOGGED_FAULTS[str(path)] = key
    what = "cannot be used" if isinstance(error, DatasetError) else f"could not be read ({error.__class__.__name__})"
    LOG.error("dataset fault: %s %s: %s", path, what, first_line(error))
    return True


def open_repository() -> TrialsRepository:
    """The repository for the configured dataset's current content; raises DatasetError if it cannot be used."""
    path = trials_path()
    try:
        return _open_repository(DatasetIdentity.of(path))
    except SERVING_ERRORS as error:
        log_fault(path, error)
        raise


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_registry(identity: DatasetIdentity) -> RegistryRepository:
    return RegistryRepository(Path(identity.path))


def open_registry() -> RegistryRepository:
    """The registered-trials dataset; raises DatasetError if it cannot be used (only the Pipeline page shows it)."""
    path = registry_path()
    try:
        return _open_registry(DatasetIdentity.of(path))
    except SERVING_ERRORS as error:
        log_fault(path, error)
        raise


@st.cache_data(show_spinner=False, max_entries=8)
def _facts(identity: DatasetIdentity, _repo: TrialsRepository) -> tuple[Vocabulary, dict[str, list[str]], dict]:
    return _repo.vocabulary(), _repo.products_by_source(), _repo.overview()


def dataset_facts(repo: TrialsRepository) -> tuple[Vocabulary, dict[str, list[str]], dict]:
    """Codes a link may use, products per source, and the dataset's size: fixed per content, so cached."""
    return _facts(repo.identity, repo)


def as_dataset_error(error: BaseException, dataset: Path | None = None) -> DatasetError:
    """Any serving failure as a DatasetError (the detail goes to the operator's log, once, not to the page)."""
    log_fault(dataset or trials_path(), error)
    if isinstance(error, DatasetError):
        return error
    return DatasetError(
        [
            Issue(
                (dataset or trials_path()).name,
                None,
                None,
                None,
                "dataset_readable",
                f"the data could not be read ({error.__class__.__name__})",
            )
        ],
        hint="The file may have been replaced or damaged while the app was running.",
    )


def show_dataset_error(error: DatasetError) -> None:
    """One readable panel instead of a traceback: what is wrong and how to fix it, without server paths."""
    lines = ["**The dataset cannot be used right now.**", ""]
    for issue in error.issues[:8]:
        lines.append(f"- {md_text(str(issue).replace(issue.file, Path(issue.file).name, 1))}")
    if len(error.issues) > 8:
        lines.append(f"- ... and {len(error.issues) - 8} more")
    lines += [
        "",
        "**How to fix it:** "
        + (error.hint or "correct the file and reload the page.")
        + " An operator can check it with `python -m nkdata validate`, rebuild the bundled data with "
        f"`python -m nkdata build`, or point `{TRIALS_PATH_ENV}` at a good file. The page recovers by itself "
        "once the file is good again.",
    ]
    st.error("\n".join(lines), icon=":material/error:")


def guarded(render: Callable[..., None], *args: Any, dataset: Callable[[], Path] = trials_path) -> None:
    """Run a page; a data failure while it runs shows the panel (and is retried on the next view), and is
    logged against ``dataset()``, the file the page reads."""
    try:
        render(*args)
    except SERVING_ERRORS as error:
        show_dataset_error(as_dataset_error(error, dataset()))
