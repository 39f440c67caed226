"""Summary of findings."""

from __future__ import annotations

import streamlit as st

from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Summary of findings")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
