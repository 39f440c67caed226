"""Small UI pieces every page uses the same way: captions with counts, empty states, controls."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from nkapp import context, state
from nkapp.cache import cached, show_chart
from nkdata import card, charts, chips, exports, figures, presentation
from nkdata import vocabulary as voc
from nkdata.analysis import MAX_FOREST_COHORTS, MAX_TABLE_ROWS, RateAnalysis
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


def _remove_chip(chip: chips.Chip, year_bounds: tuple[int, int]) -> None:
    """A chip's click: its choice back to the default in the view and in the sidebar widget that holds it."""
    view = chips.without(state.current_view(), chip)
    state.update_view(slice=view.slice, analysis=view.analysis)
    if chip.kind == "filter":
        st.session_state[f"w_{chip.field}"] = list(getattr(view.slice, chip.field))
    elif chip.kind == "years":
        st.session_state["w_years"] = tuple(year_bounds)
    elif chip.kind == "toggle":
        st.session_state[f"w_{chip.field}"] = bool(getattr(view.slice, chip.field))


def cohort_names() -> dict[str, str]:
    """'Author year · product' of the cohorts the view leaves out, for the chips and captions."""
    left_out = state.current_view().analysis.leave_out
    if not left_out:
        return {}
    try:
        repo = context.open_repository()
    except context.SERVING_ERRORS:
        return {}
    names = {}
    for cohort in left_out:
        row = cached(repo, TrialsRepository.cohort, cohort)
        if row is not None:
            names[cohort] = f"{row['first_author']} {row['year']} ({row['product']})"
    return names


def describe_view(year_bounds: tuple[int, int]) -> str:
    """This view's slice and sensitivity choices in words: the chips' text, for captions and citations."""
    return chips.describe_view(state.current_view(), year_bounds, cohort_names())


def page_title(title: str) -> None:
    """The page's title and, under it, the slice it shows as one line of chips; a click on a chip removes it."""
    st.title(title)
    try:
        year_bounds = context.dataset_facts(context.open_repository())[0].year_bounds
    except context.SERVING_ERRORS:
        return
    shown = chips.view_chips(state.current_view(), year_bounds, cohort_names())
    if not shown:
        st.caption(f"Showing: {chips.ALL_COHORTS.lower()} (no filter in use).")
        return
    with st.container(horizontal=True, gap="small", key="slice_chips", vertical_alignment="center"):
        st.caption("Showing:", width="content")
        for i, chip in enumerate(shown):
            st.button(
                md_text(chip.text),
                key=f"chip_{i}_{chip.kind}_{chip.field}_{chip.code}",
                icon=":material/close:",
                type="secondary",
                help="Remove this choice",
                on_click=_remove_chip,
                args=(chip, year_bounds),
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


def _store_choice(name: str, key: str) -> None:
    """A widget's new value goes into the view (and so the link) the moment it changes, before the page runs."""
    value = st.session_state.get(key)
    if name in ("exclude", "leave_out"):
        value = tuple(value or ())
    state.update_view(analysis=replace(state.current_view().analysis, **{name: value}))


def _cohort_choices(current: tuple[str, ...]) -> dict[str, str]:
    """Cohorts a reader may leave out: the primary cohorts of the slice, plus any already left out."""
    repo = context.open_repository()
    found, _ = cached(repo, TrialsRepository.search_cohorts, state.current_view().slice, "", MAX_TABLE_ROWS)
    choices = {
        str(c): f"{a} {y} · {p}"
        for c, a, y, p in zip(found["cohort_id"], found["first_author"], found["year"], found["product"], strict=True)
    }
    return {**{c: c for c in current if c not in choices}, **choices}


def choices_popover(rows: tuple[tuple[str, ...], ...], groups: dict[str, str] | None = None) -> Analysis:
    """The page's analysis choices in one "Analysis choices (n changed)" control, one row of widgets per item of
    ``rows``, so a phone's first screen shows the title, the slice and the result rather than six select boxes."""
    current = state.current_view().analysis
    defaults = Analysis()
    names = {n for row in rows for n in row}
    if "exclude" in names:
        names.add("leave_out")  # the cohorts chosen to leave out sit under the exclusion control
    changed = sum(getattr(current, n) != getattr(defaults, n) for n in names if hasattr(defaults, n))
    choices = current
    with st.popover(f"Analysis choices ({changed} changed)", icon=":material/tune:", width="stretch"):
        for row in rows:
            choices = analysis_controls(show=row, groups=groups)
    return choices


def analysis_controls(
    show: tuple[str, ...] = ("group", "denom", "pool", "ci"), groups: dict[str, str] | None = None
) -> Analysis:
    """Analysis choices as widgets; their values belong to the shareable link.

    Each widget is set from the view on every run and writes back only when the reader changes it, so a choice
    survives any page: a page that cannot group by product shows its own first grouping but leaves the view's
    (``/outcomes?group=product``, then Relapse, then Remission is still grouped by product)."""
    current = state.current_view().analysis
    group_options = groups or voc.GROUPINGS
    values = asdict(current)
    if current.group not in group_options:
        values["group"] = next(iter(group_options))
    for name in show:
        if name == "mods":
            state.seed("w_mods", list(current.mods))  # read back from the widget below, not by a callback
            continue
        shown = values[name]
        st.session_state[f"w_{name}"] = list(shown) if isinstance(shown, tuple) else shown
    if "exclude" in show:
        st.session_state["w_leave_out"] = list(current.leave_out)
    columns = st.columns(len(show))
    for column, name in zip(columns, show, strict=True):
        key = f"w_{name}"
        store = {"on_change": _store_choice, "args": (name, key)}
        with column:
            if name == "group":
                st.selectbox("Group by", list(group_options), key=key, format_func=group_options.get, **store)
            elif name == "overall":
                st.toggle(
                    "Pool across groups too",
                    key=key,
                    help="An overall estimate across the groups (e.g. across disease "
                    "settings) mixes populations that differ; shown with a warning.",
                    **store,
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
                st.multiselect(
                    "Leave out (sensitivity)",
                    list(EXCLUSIONS),
                    key=key,
                    format_func=EXCLUSIONS.get,
                    placeholder="Nothing left out",
                    **store,
                )
                cohorts = _cohort_choices(current.leave_out)
                st.multiselect(
                    "Leave out chosen cohorts",
                    list(cohorts),
                    key="w_leave_out",
                    format_func=cohorts.get,
                    placeholder="No cohort left out",
                    help="Each chosen cohort is left out of every pooled rate and forest on every page (named in "
                    "the line under the title, and in the link as leave_out).",
                    on_change=_store_choice,
                    args=("leave_out", "w_leave_out"),
                )
            else:
                label, options, help_text = _CHOICES[name]
                st.selectbox(label, list(options), key=key, format_func=options.get, help=help_text, **store)
    return Analysis(**values)


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
        citation = view_citation(link, describe_view(year_bounds))
        st.markdown("**Cite this view**")
        st.markdown(md_text(citation["apa"]))
        st.code(citation["bibtex"], language="bibtex")


CONTENT_WIDTH = 960  # px of table a 1440 px window leaves beside the sidebar
MIN_COLUMN, MAX_COLUMN = 48, 240


def _cell_texts(column: pd.Series) -> pd.Series:
    """Cells as the table shows them: floats to one decimal (the tables' format), not their full repr."""
    if pd.api.types.is_float_dtype(column):
        return column.map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    return column.astype(str)


def fitted_widths(
    frame: pd.DataFrame, content_width: int = CONTENT_WIDTH, labels: dict[str, str] | None = None
) -> dict[str, int]:
    """Column widths (px) from what the cells hold, shrunk together so the whole table fits ``content_width``
    (tables that read at 1440 px without sideways scrolling; the tooltip of a cut cell shows it whole).
    Columns already at the minimum keep it and the others share what is left."""
    widths = {}
    for column in frame.columns:
        cells = _cell_texts(frame[column])
        typical = float(cells.str.len().quantile(0.8)) if len(cells) else 0.0
        header = len((labels or {}).get(str(column), str(column)))
        widths[str(column)] = int(min(MAX_COLUMN, max(MIN_COLUMN, 7 * max(typical, 0.6 * header) + 18)))
    while sum(widths.values()) > content_width:
        flexible = {c: w for c, w in widths.items() if w > MIN_COLUMN}
        spare = content_width - MIN_COLUMN * (len(widths) - len(flexible))
        if not flexible or spare <= MIN_COLUMN * len(flexible):
            widths = {c: MIN_COLUMN for c in widths}  # more columns than fit even at the minimum
            break
        factor = spare / sum(flexible.values())
        widths.update({c: max(MIN_COLUMN, int(w * factor)) for c, w in flexible.items()})
    return widths


def stacked_on_phones(headers: list[str]) -> None:
    """On a phone (below 640 px) the page's Markdown tables show one block per row, each cell led by its header
    (Markdown tables cannot reflow: a six-column table of reasons became a column of one-word lines at 390 px).
    Style only, no text from a link or the data: the headers are the code's own column names, CSS-escaped."""
    labels = "\n".join(
        f'  [data-testid="stMarkdownContainer"] td:nth-child({i})::before {{ content: "{_css_string(h)}: "; '
        "font-weight: 600; }"
        for i, h in enumerate(headers, start=1)
        if i > 1
    )
    st.html(
        "<style>@media (max-width: 640px) {\n"
        '  [data-testid="stMarkdownContainer"] table, [data-testid="stMarkdownContainer"] tbody,\n'
        '  [data-testid="stMarkdownContainer"] tr, [data-testid="stMarkdownContainer"] td '
        "{ display: block; width: 100%; }\n"
        '  [data-testid="stMarkdownContainer"] thead { display: none; }\n'
        '  [data-testid="stMarkdownContainer"] tr { padding: 0.5rem 0; border-bottom: 1px solid #d5d9de; }\n'
        '  [data-testid="stMarkdownContainer"] td { border: none; padding: 0.1rem 0.25rem; }\n'
        '  [data-testid="stMarkdownContainer"] td:first-child { font-weight: 600; }\n'
        f"{labels}\n}}</style>"
    )


def _css_string(text: str) -> str:
    """``text`` safe inside a double-quoted CSS string (no quote, backslash, newline or angle bracket)."""
    return "".join(c if c.isalnum() or c in " /%()-,.+" else f"\\{ord(c):x} " for c in text)


def fitted_dataframe(
    frame: pd.DataFrame,
    column_config: dict | None = None,
    headers: dict[str, tuple[str, str]] | None = None,
    **kwargs: Any,
) -> Any:
    """``st.dataframe`` with widths that fit the page, the first column pinned; ``headers`` maps a column to a
    short header and its tooltip (the frame keeps its names); explicit configs win."""
    labels = {c: short for c, (short, _) in (headers or {}).items() if c in frame.columns}
    widths = fitted_widths(frame, labels=labels)
    config: dict[str, Any] = {
        c: st.column_config.Column(
            label=labels.get(c), help=(headers or {}).get(c, (None, None))[1], width=w, pinned=i == 0
        )
        for i, (c, w) in enumerate(widths.items())
    }
    config.update(column_config or {})
    return st.dataframe(frame, hide_index=True, width="stretch", column_config=config, **kwargs)


_PERCENT_COLUMNS = ("Estimate %", "CI low %", "CI high %")
_SINGLE_COHORT_NA = ("PI low %", "PI high %", "I² %")  # no prediction interval or heterogeneity for one cohort
# Short headers for the pooled table (the full name is the header's tooltip): fourteen columns read at 1440 px.
_POOLED_HEADERS = {
    "Cohorts (k)": ("k", "Cohorts pooled (k)"),
    "Patients (N)": ("N", "Patients in the pooled cohorts (N)"),
    "Estimate %": ("Est. %", "Pooled estimate, %"),
    "CI low %": ("CI low", "95% confidence interval, lower bound, %"),
    "CI high %": ("CI high", "95% confidence interval, upper bound, %"),
    "CI": ("CI method", "How the confidence interval was computed"),
    "PI low %": ("PI low", "95% prediction interval (t on k-2), lower bound, %"),
    "PI high %": ("PI high", "95% prediction interval (t on k-2), upper bound, %"),
    "0/all-event cohorts (+0.5)": ("0/all", "Cohorts with zero or all events (0.5 added for inverse variance)"),
    "Confidence flags": ("Flags", "What lowers confidence in this estimate"),
}


def pooled_dataframe(table: pd.DataFrame) -> None:
    """The pooled-estimates table, formatted the same way on every page ("—" where a value does not apply),
    with short headers so it reads at 1440 px without sideways scrolling."""
    if table.empty:
        return
    shown = presentation.not_applicable_text(table, [c for c in _SINGLE_COHORT_NA if c in table.columns])
    shown = presentation.not_applicable_text(shown, ["tau²"], digits=3) if "tau²" in shown.columns else shown
    labels = {c: short for c, (short, _) in _POOLED_HEADERS.items() if c in shown.columns}
    widths = fitted_widths(shown, labels=labels)
    config = {
        c: st.column_config.NumberColumn(label=labels[c], help=_POOLED_HEADERS[c][1], format="%.1f", width=widths[c])
        for c in _PERCENT_COLUMNS
        if c in widths
    }
    fitted_dataframe(shown, column_config=config, headers=_POOLED_HEADERS)


def forest(result: RateAnalysis, value_title: str, reference: float | None = None, key: str = "forest") -> None:
    """A forest plot (click a cohort to open its card), saying so when the slice has too many cohorts to draw."""
    event = show_chart(
        charts.forest_plot, result.forest, key=state.selection_key(key), value_title=value_title, reference=reference
    )
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
    table = presentation.reader_export(presentation.export_frame(frame))
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
    version = str(_release(repo).get("version", "user-file"))
    link = state.share_link(year_bounds)
    if not st.toggle("Prepare the figure for a paper or slide (SVG, PDF, PNG)", key=f"{key}_prepare"):
        return
    rows = result.forest[result.forest["kind"] != "header"]
    filters = describe_view(year_bounds) + (f". {note}" if note else "")
    source = f"NK-AML Evidence Dashboard, {link}"
    for column, (fmt, mime) in zip(st.columns(3), figures.EXPORT_FORMATS.items(), strict=True):
        column.download_button(  # drawn when the reader clicks (on a separate thread), not on every view
            f"Figure ({fmt.upper()})",
            functools.partial(figure_file, rows, title, filters, version, source, value_title, fmt),
            presentation.download_name(key, version, link, fmt),
            mime,
            key=f"{key}_{fmt}",
        )


def figure_file(
    rows: pd.DataFrame, title: str, filters: str, version: str, source: str, value_title: str, fmt: str
) -> bytes:
    """The forest as a paper-ready figure in one format (SVG, PDF or PNG), drawn when a reader clicks (not cached:
    0.3-0.6 s a format, and a 1 MB PNG would take a quarter of the cache budget)."""
    chart = figures.forest_figure(
        rows,
        title=title,
        filter_summary=filters,
        data_version=version,
        source=source,
        value_title=value_title,
    )
    return figures.export_chart(chart, fmt)


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


def close_card() -> None:
    """Close the open card for good: the link forgets the cohort, and every opener (chart point, table row) is
    redrawn under a new key, so its selection is gone and cannot reopen the card on the next run."""
    state.update_view(cohort=None)
    state.forget_selections()


def _card_item(item: str, value: str, definition: str, source: str, with_definition: bool) -> str:
    """One line of the card in Markdown: the label and value in bold, then definition and source (all escaped)."""
    shown = md_link(value, value) if value.startswith(("http://", "https://")) else md_text(value)
    line = f"- **{md_text(item)}**: {shown}"
    details = []
    if with_definition and definition:
        details.append(f"*Definition:* {md_text(definition)}")
    if source:
        details.append(f"*Source:* {md_text(source)}")
    return line + ("  \n  " + " · ".join(details) if details else "")


def _card_body(repo: TrialsRepository, row: pd.Series) -> None:
    """The card: the reference, then population and product, outcomes, safety, provenance (canonical link first)."""
    journal = row.get("journal")
    reference = f"*{md_text(row['title'])}*."
    if isinstance(journal, str) and journal:
        reference += f" {md_text(journal)}."
    st.markdown(reference + "  \n" + " · ".join(exports.identifier_links(row)))
    st.info(md_text(card.readable(str(row["extraction_note"]))), icon=":material/edit_note:")
    for section in card.cohort_sections(row):
        st.markdown(f"**{section.title}**")
        lines = [
            _card_item(i, v, d, s, with_definition=section.title in ("Outcomes", "Safety", "Provenance"))
            for i, v, d, s in section.rows[["Item", "Value", "Definition", "Source"]].itertuples(index=False)
        ]
        if lines:
            st.markdown("\n".join(lines))
        if section.not_reported:
            st.caption("Not reported: " + ", ".join(section.not_reported) + ".")
    registered_trials(tuple(str(n) for n in presentation.as_list(row.get("nct_ids"))))
    if st.button("Close the card", key="close_card", icon=":material/close:"):
        close_card()
        st.rerun()


def cohort_panel(repo: TrialsRepository) -> None:
    """The card of the cohort the view has open, as a dialog in view; closing it clears the opener's selection."""
    cohort_id = state.current_view().cohort
    if not cohort_id:
        return
    row = cached(repo, TrialsRepository.cohort, cohort_id)
    if row is None:
        return
    dialog = st.dialog(
        "Where the numbers came from: " + md_text(card.card_title(row)),
        width="large",
        icon=":material/menu_book:",
        on_dismiss=close_card,
    )
    dialog(_card_body)(repo, row)


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
    try:
        release = context.open_repository().release or {}
    except context.SERVING_ERRORS:
        release = {}
    filters = describe_view(context.dataset_facts(context.open_repository())[0].year_bounds)
    version = str(release.get("version", "user file"))
    name = f"{builder.__module__}.{builder.__qualname__}"
    options = tuple(sorted(kwargs.items()))
    for column, (fmt, mime) in zip(st.columns(3), figures.EXPORT_FORMATS.items(), strict=True):
        column.download_button(  # drawn when the reader clicks (on a separate thread), not on every view
            f"Chart ({fmt.upper()})",
            functools.partial(chart_file, name, builder, data, title, filters, version, options, fmt),
            f"nk-aml_{key}.{fmt}",
            mime,
            key=f"{key}_{fmt}",
        )


def chart_file(
    builder_name: str,
    _builder: Callable[..., Any],
    data: pd.DataFrame,
    title: str,
    filters: str,
    version: str,
    kwargs: tuple[tuple[str, Any], ...],
    fmt: str,
) -> bytes:
    """Any chart with its title, filters, data version and source, in one format, drawn when a reader clicks."""
    chart = figures.with_caption(
        _builder(data, **dict(kwargs)),
        title,
        [f"Filters: {filters}", f"Data version {version}", "Source: NK-AML Evidence Dashboard"],
    )
    return figures.export_chart(chart, fmt)
