"""What's new: the latest release's changes (and earlier releases on request), with the search dates."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from nkdata import releases
from nkdata.paths import RELEASES_DIR
from nkdata.repository import TrialsRepository
from nkdata.safe_text import csv_safe
from nkdata.slices import View


@st.cache_data(show_spinner=False)
def release_history() -> list[dict]:
    """Every stored release, newest first (read once per process; releases change only with a new version)."""
    return releases.load_releases(RELEASES_DIR)


def _links(frame: pd.DataFrame) -> None:
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"Source": st.column_config.LinkColumn("Source", display_text="open")},
    )


def _release_section(record: dict) -> None:
    st.subheader(f"Version {record.get('version')}")
    st.caption(
        f"Released {record.get('date')}; literature and registries last searched {record.get('searched')}. "
        f"Compared with: {(record.get('changes') or {}).get('compared', {}).get('old', 'nothing (first release)')}."
    )
    if record.get("note"):
        st.text(record["note"])
    summary = record.get("summary") or {}
    cols = st.columns(4)
    for col, key in zip(
        cols, ("publications added", "cohorts added", "registered trials added", "numbers changed"), strict=True
    ):
        col.metric(key.capitalize(), summary.get(key, 0))
    removed = {k: v for k, v in summary.items() if "removed" in k and v}
    if removed:
        st.caption("Removed: " + "; ".join(f"{v} {k.removesuffix(' removed')}" for k, v in removed.items()) + ".")
    added = releases.publications_frame(record)
    if not added.empty:
        st.markdown("**Publications added**")
        _links(added)
    gone = releases.publications_frame(record, "removed_publications")
    if not gone.empty:
        st.markdown("**Publications removed** (renamed or merged publications appear as removed and added)")
        _links(gone)
    changed = releases.changed_values_frame(record)
    if not changed.empty:
        st.markdown(f"**Numbers changed** ({len(changed)}): before -> after, with where the new value was read")
        _links(changed)
    trials = (record.get("changes") or {}).get("added_trials") or []
    if trials:
        st.markdown(f"**Registered trials added** ({len(trials)})")
        st.text(", ".join(trials))
    st.download_button(
        "Changelog (CSV)",
        changed.map(lambda v: csv_safe(v) if isinstance(v, str) else v).to_csv(index=False),
        file_name=f"nk-aml-changes-{record.get('version')}.csv",
        mime="text/csv",
        key=f"changes_csv_{record.get('version')}",
    )
    st.download_button(
        "Changelog (JSON)",
        json.dumps(record, indent=2, default=str),
        file_name=f"nk-aml-changes-{record.get('version')}.json",
        mime="application/json",
        key=f"changes_json_{record.get('version')}",
    )


def render(repo: TrialsRepository, view: View) -> None:
    st.title("What's new")
    history = release_history()
    if not history:
        st.info("No releases are recorded for this dataset (a user-supplied file has no release history).")
        return
    st.caption(
        "Each release of the dataset is dated, with the date of its last literature search, and lists what it "
        "added, removed and changed against the release before it. Every changed number names where the new "
        "value was read. Make a release with `python -m nkdata release --version X.Y.Z`. "
        "The sidebar's filters and analysis choices do not apply here: a release is the whole dataset."
    )
    _release_section(history[0])
    if len(history) > 1:
        earlier = [r.get("version") for r in history[1:]]
        choice = st.selectbox("Earlier release", ["(choose)", *earlier], key="earlier_release")
        if choice != "(choose)":
            _release_section(next(r for r in history if r.get("version") == choice))


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
