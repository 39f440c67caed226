"""Small UI pieces every page uses the same way: captions with counts, empty states, controls."""

from __future__ import annotations

import math
from dataclasses import asdict

import pandas as pd
import streamlit as st

from nkapp import state
from nkapp.cache import show_chart
from nkdata import charts
from nkdata import vocabulary as voc
from nkdata.analysis import MAX_FOREST_COHORTS, RateAnalysis
from nkdata.slices import (
    CI_METHODS,
    DENOMINATORS,
    EXCLUSIONS,
    LANDMARKS,
    MODELS,
    PERSISTENCE_ROWS,
    POOL_METHODS,
    Analysis,
)


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


_CHOICES: dict[str, tuple[str, dict[str, str], str]] = {
    # name -> (label, options, help)
    "denom": ("CR denominator", DENOMINATORS, "Evaluable: patients assessed for response. Treated: all who got NK cells."),
    "pool": ("Between-cohort variance", POOL_METHODS, "Estimator of tau² for random-effects pooling."),
    "model": ("Model", MODELS, "Random effects (default) allow true rates to differ between cohorts; fixed effect "
                               "assumes one common rate and is shown only for comparison."),
    "ci": ("Interval per cohort", CI_METHODS, "Exact (Clopper-Pearson) or Wilson score 95% intervals."),
    "rows": ("Rows", PERSISTENCE_ROWS, "One row per product or per NK source."),
    "endpoint": ("Endpoint", voc.ENDPOINTS, "Time-to-event endpoint as the papers define it."),
    "landmark": ("Landmark", LANDMARKS, "Time point of the landmark estimate."),
}


def analysis_controls(show: tuple[str, ...] = ("group", "denom", "pool", "ci"),
                      groups: dict[str, str] | None = None) -> Analysis:
    """Analysis choices as widgets; their values belong to the shareable link."""
    current = state.current_view().analysis
    group_options = groups or voc.GROUPINGS
    values = asdict(current)
    if "group" in show:
        state.seed("w_group", current.group if current.group in group_options else next(iter(group_options)))
    for name in show:
        if name in _CHOICES:
            state.seed(f"w_{name}", getattr(current, name))
    state.seed("w_overall", current.overall)
    state.seed("w_exclude", list(current.exclude))
    columns = st.columns(len(show))
    for column, name in zip(columns, show, strict=True):
        with column:
            if name == "group":
                values[name] = st.selectbox("Group by", list(group_options), key="w_group",
                                            format_func=group_options.get)
            elif name == "overall":
                values[name] = st.toggle("Pool across groups too", key="w_overall",
                                         help="An overall estimate across the groups (e.g. across disease "
                                              "settings) mixes populations that differ; shown with a warning.")
            elif name == "exclude":
                values[name] = tuple(st.multiselect("Leave out (sensitivity)", list(EXCLUSIONS), key="w_exclude",
                                                    format_func=EXCLUSIONS.get, placeholder="Nothing left out"))
            else:
                label, options, help_text = _CHOICES[name]
                values[name] = st.selectbox(label, list(options), key=f"w_{name}", format_func=options.get,
                                            help=help_text)
    analysis = Analysis(**values)
    state.update_view(analysis=analysis)
    return analysis


def link_notices(notices: list[str]) -> None:
    """What the link asked for that could not be used: one short warning, never a wall of text."""
    if notices:
        st.warning("**Parts of the link were ignored:**\n\n" + "\n".join(f"- {n}" for n in notices[:6]),
                   icon=":material/link_off:")


def share_box(year_bounds: tuple[int, int]) -> None:
    """A Share button at the top of every page: the link that reproduces this view, with a copy button."""
    with st.popover("Share this view", icon=":material/share:"):
        st.code(state.share_link(year_bounds), language=None, wrap_lines=True)
        st.caption("The link reproduces this page with its filters, analysis choices, search and open cohort card.")


_PERCENT_COLUMNS = ("Pooled %", "CI low %", "CI high %", "PI low %", "PI high %", "I² %")


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
