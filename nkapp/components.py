"""Small UI pieces every page uses the same way: captions with counts, empty states, controls."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from nkapp import context, state
from nkapp.cache import cached, show_chart
from nkdata import charts, exports, figures, presentation
from nkdata import vocabulary as voc
from nkdata.analysis import MAX_FOREST_COHORTS, RateAnalysis
from nkdata.charts import COHORT_SELECTION
from nkdata.paths import REPO_ROOT
from nkdata.repository import TrialsRepository
from nkdata.safe_text import md_link, md_text
from nkdata.slices import (
    CI_METHODS,
    DENOMINATORS,
    EXCLUSIONS,
    INTERVALS,
    LANDMARKS,
    MODELS,
    MODERATOR_CHOICES,
    PERSISTENCE_ROWS,
    POOL_METHODS,
    Analysis,
)


def empty_state(what: str = "cohorts") -> None:
    """Friendly message for a slice with nothing to show."""
    st.info(
        f"No {what} in this slice. Widen the filters in the sidebar (for example the year range "
        "or the NK source), or include superseded or mixed-diagnosis reports.",
        icon=":material/filter_alt_off:",
    )


def disclosure(label: str, key: str, icon: str | None = None, expanded: bool = False) -> Any:
    """A box (collapsed unless ``expanded``) whose contents are built only while it is open, or None when closed.

    Closed boxes then cost neither the server (tables, download files) nor the browser (their widgets)
    anything on each view; opening one reruns the page (docs/decisions.md, "Time to first chart").
    """
    box = st.expander(label, expanded=expanded, icon=icon, key=key, on_change="rerun")
    return box if box.open else None


def count_caption(definition: str, shown: int, patients: int, not_reported: int, total: int, excluded: int = 0) -> None:
    """The caption under every chart: what it shows, how many cohorts a sensitivity choice left out and how many
    did not report it (the three add up to the cohorts of the slice)."""
    left_out = f"{excluded} cohort(s) left out by the sensitivity choice; " if excluded else ""
    st.caption(
        f"{definition} Shows {shown} of {total} primary cohorts in the slice ({patients} patients); "
        f"{left_out}{not_reported} cohort(s) did not report it and are not drawn (not reported is not zero). "
        "Superseded reports are never pooled."
    )


# How each analysis choice of the link reads in a note: key -> (words, labels of its codes). A page that applies a
# choice without drawing its control names it with applied_choices(), so no number changes unexplained.
_CHOICE_WORDS: dict[str, tuple[str, dict[str, str]]] = {
    "denom": ("CR denominator", DENOMINATORS),
    "pool": ("between-cohort variance", POOL_METHODS),
    "model": ("model", MODELS),
    "ci": ("intervals per cohort", CI_METHODS),
    "group": ("grouped by", voc.GROUPINGS),
    "rows": ("rows", PERSISTENCE_ROWS),
    "endpoint": ("endpoint", voc.ENDPOINTS),
    "landmark": ("landmark", LANDMARKS),
}


def choice_phrases(analysis: Analysis, keys: tuple[str, ...]) -> list[str]:
    """The non-default choices among ``keys`` in words ("left out (sensitivity): conference abstracts...")."""
    defaults = Analysis()
    phrases = []
    for key in keys:
        value = getattr(analysis, key)
        if value == getattr(defaults, key):
            continue
        if key == "exclude":
            phrases.append("left out (sensitivity): " + ", ".join(EXCLUSIONS[e].lower() for e in value))
        elif key == "overall":
            phrases.append("pooled across groups too")
        else:
            words, labels = _CHOICE_WORDS[key]
            phrases.append(f"{words}: {labels.get(value, value)}")
    return phrases


def applied_choices(analysis: Analysis, keys: tuple[str, ...], where: str = "the Remission page") -> None:
    """A note naming the analysis choices (from the link or another page) this page applies without a control."""
    phrases = choice_phrases(analysis, keys)
    if phrases:
        st.caption(
            "Analysis choices applied here: " + "; ".join(phrases) + f" (change them on {where}).",
            help="These choices come from the link or from another page and change this page's numbers.",
        )


def slice_choices(slice_: Any) -> None:
    """A note in the main area when the sidebar's inclusion toggles differ from their defaults (they change
    every page's numbers): superseded reports included, or mixed-diagnosis cohorts left out."""
    from nkdata.filterspec import TOGGLES

    phrases = [
        t.label.lower().replace("include ", "") + (" included" if getattr(slice_, t.field) else " left out")
        for t in TOGGLES
        if getattr(slice_, t.field) != t.default
    ]
    if phrases:
        st.caption("Sidebar choices applied to this page: " + "; ".join(phrases) + ".")


def pct(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


_CHOICES: dict[str, tuple[str, dict[str, str], str]] = {
    # name -> (label, options, help)
    "denom": (
        "CR denominator",
        DENOMINATORS,
        "Evaluable: patients assessed for response. Treated: all who got NK cells.",
    ),
    "pool": (
        "Pooling",
        POOL_METHODS,
        "GLMM (default): the binomial-normal model, each cohort's exact binomial likelihood with no 0.5 "
        "correction, as metafor's rma.glmm. REML or DerSimonian-Laird: inverse variance on logits with 0.5 added "
        "to 0/n and n/n cohorts.",
    ),
    "test": (
        "Pooled interval",
        INTERVALS,
        "Auto (default): Knapp-Hartung below 10 cohorts, z from 10. Knapp-Hartung (metafor test='adhoc'; a "
        "t(k-1) interval for the GLMM) is wider and honest with few cohorts; z is too narrow below about 10.",
    ),
    "model": (
        "Model",
        MODELS,
        "Random effects (default) allow true rates to differ between cohorts; fixed effect "
        "assumes one common rate and is shown only for comparison.",
    ),
    "ci": ("Interval per cohort", CI_METHODS, "Exact (Clopper-Pearson) or Wilson score 95% intervals."),
    "rows": ("Rows", PERSISTENCE_ROWS, "One row per product or per NK source."),
    "endpoint": ("Endpoint", voc.ENDPOINTS, "Time-to-event endpoint as the papers define it."),
    "landmark": ("Landmark", LANDMARKS, "Time point of the landmark estimate."),
    "mr_setting": (
        "Setting",
        voc.SETTINGS,
        "Meta-regression stays within one disease setting: across settings the moderators would stand in for "
        "who was treated.",
    ),
}


def analysis_controls(
    show: tuple[str, ...] = ("group", "denom", "pool", "ci"), groups: dict[str, str] | None = None
) -> Analysis:
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
    if "mods" in show:
        state.seed("w_mods", list(current.mods))
    columns = st.columns(len(show))
    for column, name in zip(columns, show, strict=True):
        with column:
            if name == "group":
                values[name] = st.selectbox(
                    "Group by", list(group_options), key="w_group", format_func=group_options.get
                )
            elif name == "overall":
                values[name] = st.toggle(
                    "Pool across groups too",
                    key="w_overall",
                    help="An overall estimate across the groups (e.g. across disease "
                    "settings) mixes populations that differ; shown with a warning.",
                )
            elif name == "mods":
                values[name] = tuple(
                    st.multiselect(
                        "Moderators",
                        list(MODERATOR_CHOICES),
                        key="w_mods",
                        format_func=MODERATOR_CHOICES.get,
                        placeholder="Choose one or more",
                    )
                )
            elif name == "exclude":
                values[name] = tuple(
                    st.multiselect(
                        "Leave out (sensitivity)",
                        list(EXCLUSIONS),
                        key="w_exclude",
                        format_func=EXCLUSIONS.get,
                        placeholder="Nothing left out",
                    )
                )
            else:
                label, options, help_text = _CHOICES[name]
                values[name] = st.selectbox(
                    label, list(options), key=f"w_{name}", format_func=options.get, help=help_text
                )
    analysis = Analysis(**values)
    state.update_view(analysis=analysis)
    return analysis


def link_notices(notices: list[str]) -> None:
    """What the link asked for that could not be used: one short warning, never a wall of text."""
    if notices:
        st.warning(
            "**Parts of the link were ignored:**\n\n" + "\n".join(f"- {md_text(n)}" for n in notices[:6]),
            icon=":material/link_off:",
        )


def share_box(year_bounds: tuple[int, int]) -> None:
    """A Share button at the top of every page: the link that reproduces this view, with a copy button."""
    with st.popover("Share or cite this view", icon=":material/share:"):
        link = state.share_link(year_bounds)
        st.code(link, language=None, wrap_lines=True)
        st.caption("The link reproduces this page with its filters, analysis choices, search and open cohort card.")
        citation = view_citation(link, presentation.describe_slice(state.current_view().slice, year_bounds))
        st.markdown("**Cite this view**")
        st.markdown(md_text(citation["apa"]))
        st.code(citation["bibtex"], language="bibtex")


_PERCENT_COLUMNS = ("Estimate %", "CI low %", "CI high %")
_SINGLE_COHORT_NA = ("PI low %", "PI high %", "I² %")  # no prediction interval or heterogeneity for one cohort


def pooled_dataframe(table: pd.DataFrame) -> None:
    """The pooled-estimates table, formatted the same way on every page ("—" where a value does not apply)."""
    if table.empty:
        return
    shown = presentation.not_applicable_text(table, [c for c in _SINGLE_COHORT_NA if c in table.columns])
    shown = presentation.not_applicable_text(shown, ["tau²"], digits=3) if "tau²" in shown.columns else shown
    config = {c: st.column_config.NumberColumn(format="%.1f") for c in _PERCENT_COLUMNS}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def forest(result: RateAnalysis, value_title: str, reference: float | None = None, key: str = "forest") -> None:
    """A forest plot (click a cohort to open its card), saying so when the slice has too many cohorts to draw."""
    event = show_chart(charts.forest_plot, result.forest, key=key, value_title=value_title, reference=reference)
    open_cohort_from(event)
    if result.forest_truncated:
        st.caption(
            f"{result.cohorts_shown} cohorts are too many to draw one by one (more than "
            f"{MAX_FOREST_COHORTS}): only the pooled estimates are shown."
        )


def _release(repo: TrialsRepository) -> dict:
    return getattr(repo, "release", {}) or {}


def view_downloads(
    repo: TrialsRepository, frame: pd.DataFrame, view_name: str, year_bounds: tuple[int, int], key: str
) -> None:
    """CSV and JSON of the rows a view shows, named by view, data version and link; built before the click,
    so two quick clicks never race for a deferred file."""
    if frame.empty:
        return
    version = str(_release(repo).get("version", "user-file"))
    link = state.share_link(year_bounds)
    table = presentation.export_frame(frame)
    left, right = st.columns(2)
    left.download_button(
        "Rows (CSV)",
        presentation.export_csv(frame),
        presentation.download_name(view_name, version, link, "csv"),
        "text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
    )
    right.download_button(
        "Rows (JSON)",
        table.to_json(orient="records", force_ascii=False, indent=1).encode("utf-8"),
        presentation.download_name(view_name, version, link, "json"),
        "application/json",
        key=f"{key}_json",
        icon=":material/download:",
    )


def figure_downloads(
    repo: TrialsRepository,
    result: RateAnalysis,
    title: str,
    value_title: str,
    year_bounds: tuple[int, int],
    key: str,
    note: str = "",
) -> None:
    """The forest as a paper-ready figure (full labels, n/N and % [95% CI] columns, title, filters, data version,
    source) in SVG, PDF and PNG, made on request."""
    if result.forest.empty:
        return
    view = state.current_view()
    version = str(_release(repo).get("version", "user-file"))
    link = state.share_link(year_bounds)
    if not st.toggle("Prepare the figure for a paper or slide (SVG, PDF, PNG)", key=f"{key}_prepare"):
        return
    figure = cached_figure(
        result.forest[result.forest["kind"] != "header"],
        title,
        presentation.describe_slice(view.slice, year_bounds) + (f". {note}" if note else ""),
        version,
        f"NK-AML Evidence Dashboard, {link}",
        value_title,
    )
    columns = st.columns(3)
    for column, (fmt, mime) in zip(columns, figures.EXPORT_FORMATS.items(), strict=True):
        column.download_button(
            f"Figure ({fmt.upper()})",
            figure[fmt],
            presentation.download_name(key, version, link, fmt),
            mime,
            key=f"{key}_{fmt}",
        )


@st.cache_data(max_entries=32, show_spinner="Drawing the figure...")
def cached_figure(
    rows: pd.DataFrame, title: str, filters: str, version: str, source: str, value_title: str
) -> dict[str, bytes]:
    chart = figures.forest_figure(
        rows,
        title=title,
        filter_summary=filters,
        data_version=version,
        source=source,
        value_title=value_title,
    )
    return {fmt: figures.export_chart(chart, fmt) for fmt in figures.EXPORT_FORMATS}


def picked_cohort(event: object) -> str | None:
    """The cohort a click on a chart selected, if any."""
    selection = getattr(event, "selection", None) or {}
    points = selection.get(COHORT_SELECTION) if hasattr(selection, "get") else None
    for point in points or []:
        cohort = point.get("cohort_id") if hasattr(point, "get") else None
        if cohort:
            return str(cohort)
    return None


def open_cohort_from(event: object) -> None:
    """Open the clicked cohort's card (its id goes into the view and so into the link)."""
    cohort = picked_cohort(event)
    if cohort and cohort != state.current_view().cohort:
        state.update_view(cohort=cohort)
        st.rerun()


def cohort_panel(repo: TrialsRepository) -> None:
    """The card of the cohort the view has open: each number with where it was read, without horizontal scroll."""
    cohort_id = state.current_view().cohort
    if not cohort_id:
        return
    row = cached(repo, TrialsRepository.cohort, cohort_id)
    if row is None:
        return
    with st.expander(
        "Where the numbers came from: " + md_text(f"{row['first_author']} {row['year']}, {row['product']}"),
        expanded=True,
        icon=":material/menu_book:",
    ):
        st.markdown(exports.citation_line(row) + "  \n" + " · ".join(exports.identifier_links(row)))
        st.info(md_text(row["extraction_note"]), icon=":material/edit_note:")
        card = presentation.cohort_card(row)
        reported = card[~card["Value"].isin([presentation.NOT_REPORTED, presentation.NOT_APPLICABLE])]
        st.markdown(
            "\n".join(
                f"- **{md_text(field)}**: {md_text(value)}" + (f" — *{md_text(where)}*" if where else "")
                for field, value, where in zip(
                    reported["Field"], reported["Value"], reported["Where it came from"], strict=True
                )
            )
        )
        registered_trials(tuple(str(n) for n in presentation.as_list(row.get("nct_ids"))))
        missing = card.loc[card["Value"] == presentation.NOT_REPORTED, "Field"]
        if len(missing):
            st.caption("Not reported: " + md_text(", ".join(missing)))
        if st.button("Close the card", key="close_card", icon=":material/close:"):
            state.update_view(cohort=None)
            st.rerun()


def registered_trials(ids: tuple[str, ...]) -> None:
    """The registry records of a cohort's trials (status as of its date), when the registry dataset is usable."""
    if not ids:
        return
    try:
        trials = context.open_registry().trials_by_id(ids)
    except context.SERVING_ERRORS:
        st.caption("Registered trials: " + md_text(", ".join(ids)) + " (registry dataset unavailable).")
        return
    lines = [
        "- "
        + md_link(t.registry_id, f"https://clinicaltrials.gov/study/{t.registry_id}")
        + ": "
        + md_text(
            f"phase {t.phase or 'not stated'}, {str(t.status).replace('_', ' ')} as of {t.status_as_of}; "
            f"{t.sponsor or 'sponsor not stated'}"
        )
        for t in trials.itertuples()
    ]
    unknown = sorted(set(ids) - set(trials["registry_id"]))
    st.markdown(
        "**Registered trial(s)**\n"
        + "\n".join(lines)
        + ("\n- Not in the registry dataset: " + md_text(", ".join(unknown)) if unknown else "")
    )


@st.cache_data(show_spinner=False)
def _citation_file() -> dict:
    path = REPO_ROOT / "CITATION.cff"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def dataset_citation() -> dict[str, str]:
    """APA and BibTeX of the dataset (CITATION.cff and the release embedded in the data), accessed today."""
    try:
        release = context.open_repository().release or {}
    except context.SERVING_ERRORS:
        release = {}
    return exports.dataset_citation(release, _citation_file(), dt.date.today().isoformat())


def view_citation(link: str, description: str) -> dict[str, str]:
    """The dataset's citation plus this view's link and slice."""
    return exports.view_citation(dataset_citation(), link, description, dt.date.today().isoformat())


def chart_downloads(builder: Callable[..., Any], data: pd.DataFrame, title: str, key: str, **kwargs: Any) -> None:
    """Any chart as a slide-ready file (SVG, PDF, PNG) with its title, the filters, data version and source."""
    if data.empty or not st.toggle("Prepare this chart for a slide (SVG, PDF, PNG)", key=f"{key}_prepare"):
        return
    view = state.current_view()
    try:
        release = context.open_repository().release or {}
    except context.SERVING_ERRORS:
        release = {}
    files = _chart_files(
        builder,
        data,
        title,
        presentation.describe_slice(view.slice),
        str(release.get("version", "user file")),
        tuple(sorted(kwargs.items())),
    )
    for column, (fmt, mime) in zip(st.columns(3), figures.EXPORT_FORMATS.items(), strict=True):
        column.download_button(f"Chart ({fmt.upper()})", files[fmt], f"nk-aml_{key}.{fmt}", mime, key=f"{key}_{fmt}")


@st.cache_data(max_entries=32, show_spinner="Drawing the chart...")
def _chart_files(
    _builder: Callable[..., Any],
    data: pd.DataFrame,
    title: str,
    filters: str,
    version: str,
    kwargs: tuple[tuple[str, Any], ...],
) -> dict[str, bytes]:
    chart = figures.with_caption(
        _builder(data, **dict(kwargs)),
        title,
        [f"Filters: {filters}", f"Data version {version}", "Source: NK-AML Evidence Dashboard"],
    )
    return {fmt: figures.export_chart(chart, fmt) for fmt in figures.EXPORT_FORMATS}
