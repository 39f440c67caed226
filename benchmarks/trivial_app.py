"""A one-chart Streamlit page: the yardstick browser_bench.py measures the dashboard's pages against."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(page_title="Trivial chart")
st.title("Trivial chart")
points = pd.DataFrame({"x": range(20), "y": [(i * 7) % 11 for i in range(20)]})
st.altair_chart(alt.Chart(points).mark_point().encode(x="x", y="y"), width="stretch")
