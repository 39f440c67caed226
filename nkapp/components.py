"""Small UI pieces every page uses the same way: captions with counts, empty states, controls."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from nkapp.cache import show_chart
from nkdata import charts
from nkdata import vocabulary as voc
from nkdata.analysis import MAX_FOREST_COHORTS, RateAnalysis
from nkdata.slices import CI_METHODS, DENOMINATORS, POOL_METHODS, Analysis
from nkapp import state


def empty_state(what: str = "cohorts") -> None:
    """Friendly message for a slice with nothing to show."""
    st.info(f"No {what} in this slice. Widen the filters in the sidebar (for example the year range "
            "or the NK source), or include superseded or mixed-diagnosis reports.", icon=":material/filter_alt_off:")


def count_caption(definition: str, shown: int, patients: int, not_reported: int, total: int) -> None:
    """The caption under every chart: what it shows and how many cohorts it leaves out as not reported."""
    st.caption(f"{definition} Shows {shown} of {total} primary cohorts in the slice ({patients} patients); "
               f"{not_reported} cohort(s) did not report it and are not drawn (not reported is not zero). "
               "Superseded reports are never pooled.")


def pct(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def analysis_controls(show: tuple[str, ...] = ("group", "denom", "pool", "ci"),
                      groups: dict[str, str] | None = None) -> Analysis:
    """Analysis choices as widgets; their values belong to the shareable link."""
    current = state.current_view().analysis
    group_options = groups or voc.GROUPINGS
    state.seed("w_group", current.group if current.group in group_options else next(iter(group_options)))
    state.seed("w_denom", current.denom)
    state.seed("w_pool", current.pool)
    state.seed("w_ci", current.ci)
    columns = st.columns(len(show))
    values = {"group": current.group, "denom": current.denom, "pool": current.pool, "ci": current.ci}
    widgets = {
        "group": lambda: st.selectbox("Group by", list(group_options), key="w_group", format_func=group_options.get),
        "denom": lambda: st.radio("CR denominator", list(DENOMINATORS), key="w_denom", format_func=DENOMINATORS.get,
                                  horizontal=True, help="Evaluable: patients assessed for response. Treated: all who got NK cells."),
        "pool": lambda: st.selectbox("Pooling", list(POOL_METHODS), key="w_pool", format_func=POOL_METHODS.get),
        "ci": lambda: st.selectbox("Interval per cohort", list(CI_METHODS), key="w_ci", format_func=CI_METHODS.get),
    }
    for column, name in zip(columns, show, strict=True):
        with column:
            values[name] = widgets[name]()
    analysis = Analysis(**values)
    state.store_analysis(analysis)
    return analysis


_PERCENT_COLUMNS = ("Pooled %", "CI low %", "CI high %", "PI low %", "PI high %", "I² %")


def not_reported_text(table: pd.DataFrame, columns: list[str], digits: int = 1) -> pd.DataFrame:
    """Numbers as text with "not reported" where the value is missing, so a blank never reads as zero."""
    out = table.copy()
    for column in columns:
        out[column] = [voc.NOT_REPORTED_LABEL.lower() if pd.isna(v) else f"{v:.{digits}f}".rstrip("0").rstrip(".")
                       for v in out[column]]
    return out


def pooled_dataframe(table: pd.DataFrame) -> None:
    """The pooled-estimates table, formatted the same way on every page."""
    config = {c: st.column_config.NumberColumn(format="%.1f") for c in _PERCENT_COLUMNS}
    config["tau²"] = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)


def forest(result: RateAnalysis, value_title: str, reference: float | None = None) -> None:
    """A forest plot, saying so when the slice has too many cohorts to draw one by one."""
    show_chart(charts.forest_plot, result.forest, value_title=value_title, reference=reference)
    if result.forest_truncated:
        st.caption(f"{result.cohorts_shown} cohorts are too many to draw one by one (more than "
                   f"{MAX_FOREST_COHORTS}): only the pooled estimates are shown.")
