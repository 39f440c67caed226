"""Paper-ready figures and their export: a forest plot with full labels and text columns, a caption
helper for any chart, and SVG / PDF / PNG export through vl-convert (offline, no browser).

The interactive charts of :mod:`nkdata.charts` are sized for a screen and shorten long labels;
a figure for a paper or a slide must carry every label in full, its numbers as text, and
say where it came from (filters, data version, source), so it stands alone when copied out.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import altair as alt
import pandas as pd

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
FONT_SIZE = 11
DETAIL_SIZE = 10
LINE_PX = 17  # one text line of a row
CHAR_PX = 6.0  # generous average glyph width at 11 px (Arial metrics), to size columns from a character budget
PLOT_PX = 300
EXPORT_FORMATS: dict[str, str] = {"svg": "image/svg+xml", "pdf": "application/pdf", "png": "image/png"}
DEFAULT_EXPORT_WIDTH = 760  # replaces width="container", which has no meaning outside a page

_INK = "#1F2933"
_COHORT = "#1F4E79"
_GREY = "#5F6B76"
_HEADERS = {"study": "Study", "n": "Events/N", "ci": "% [95% CI]", "weight": "Weight"}


def wrap(text: str, chars: int) -> list[str]:
    """Lines of at most ``chars`` characters, breaking at spaces (a longer word is split, never cut)."""
    return textwrap.wrap(str(text), width=chars, break_long_words=True, break_on_hyphens=True) or [""]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value).strip() != ""


def _percent_ci(estimate: float, low: float, high: float) -> str:
    return f"{100 * estimate:.1f} [{100 * low:.1f}; {100 * high:.1f}]"


def _detail(row: pd.Series) -> str:
    parts = []
    if _present(row.get("setting")):
        parts.append(f"Setting: {row['setting']}")
    if _present(row.get("cr_definition")):
        parts.append(f"CR definition: {row['cr_definition']}")
    return "; ".join(parts)


def _row_label(row: pd.Series) -> str:
    """A cohort's ``study`` text when given, else its ``label``; a pooled row sits under its group's header,
    so "Pooled: <group> (k=.., N=..)" of :func:`nkdata.stats.forest_rows` loses the group code."""
    if row["kind"] == "cohort":
        return str(row["study"]) if _present(row.get("study")) else str(row["label"])
    if row["kind"] == "pooled":
        return str(row["label"]).replace(f"Pooled: {row['group']} (", "Pooled (")
    return str(row["label"])


def forest_layout(rows: pd.DataFrame, label_chars: int = 46) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place the forest rows on text lines: (marks, texts).

    ``marks`` has one row per drawn estimate (kind cohort / pooled / overall / pi) with its line ``y``;
    ``texts`` has one row per text line (column, y, text, style). Line 0 holds the column headers;
    a group's header line comes before its first row, long labels wrap onto further lines."""
    data = rows.sort_values("order") if "order" in rows.columns else rows
    marks: list[dict] = []
    texts: list[dict] = [{"column": c, "y": 0, "text": t, "style": "header"} for c, t in _HEADERS.items()]
    y = 1.0
    current = None
    show_groups = bool((data["kind"] == "pooled").any())
    for _, row in data.iterrows():
        kind = row["kind"]
        group_label = row["group_label"] if _present(row.get("group_label")) else row.get("group")
        if kind == "overall":
            y += 0.5
        elif show_groups and group_label != current:
            current = group_label
            y += 0.5 if y > 1 else 0
            for line in wrap(group_label, label_chars):
                texts.append({"column": "study", "y": y, "text": line, "style": "group"})
                y += 1
        label = _row_label(row)
        style = "normal" if kind == "cohort" else "bold"
        lines = wrap(label, label_chars)
        for i, line in enumerate(lines):
            texts.append({"column": "study", "y": y + i, "text": line, "style": style})
        texts.append({"column": "n", "y": y, "text": f"{int(row['events'])}/{int(row['total'])}", "style": style})
        texts.append(
            {
                "column": "ci",
                "y": y,
                "style": style,
                "text": _percent_ci(row["estimate"], row["ci_low"], row["ci_high"]),
            }
        )
        if kind == "cohort":
            texts.append({"column": "weight", "y": y, "text": f"{100 * row['weight']:.1f}%", "style": style})
        marks.append(
            {
                "kind": kind,
                "y": y,
                "estimate": row["estimate"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                "weight": row["weight"],
            }
        )
        y += len(lines)
        detail = _detail(row) if kind == "cohort" else ""
        for line in wrap(detail, int(label_chars * FONT_SIZE / DETAIL_SIZE)) if detail else []:
            texts.append({"column": "study", "y": y, "text": line, "style": "detail"})
            y += 1
        has_pi = kind != "cohort" and _present(row.get("pi_low")) and _present(row.get("pi_high"))
        if has_pi and (row["pi_low"] < row["ci_low"] - 1e-9 or row["pi_high"] > row["ci_high"] + 1e-9):
            texts.append({"column": "study", "y": y, "text": "Prediction interval", "style": "detail"})
            texts.append(
                {
                    "column": "ci",
                    "y": y,
                    "style": "detail",
                    "text": f"[{100 * row['pi_low']:.1f}; {100 * row['pi_high']:.1f}]",
                }
            )
            marks.append(
                {
                    "kind": "pi",
                    "y": y,
                    "estimate": row["estimate"],
                    "ci_low": row["pi_low"],
                    "ci_high": row["pi_high"],
                    "weight": math.nan,
                }
            )
            y += 1
    return pd.DataFrame(marks), pd.DataFrame(texts)


def _y_scale(n_lines: float) -> alt.Scale:
    """Line 0 at the top; every column of a figure shares this scale, so rows line up across columns."""
    return alt.Scale(domain=[-0.5, n_lines - 0.5], reverse=True, nice=False, zero=False)


def _y(n_lines: float, field: str = "y") -> alt.Y:
    return alt.Y(f"{field}:Q", axis=None, scale=_y_scale(n_lines))


_STYLES = {
    "header": {"fontWeight": "bold", "color": _INK, "fontSize": FONT_SIZE},
    "group": {"fontWeight": "bold", "color": _INK, "fontSize": FONT_SIZE},
    "bold": {"fontWeight": "bold", "color": _INK, "fontSize": FONT_SIZE},
    "normal": {"fontWeight": "normal", "color": _INK, "fontSize": FONT_SIZE},
    "detail": {"fontWeight": "normal", "color": _GREY, "fontSize": DETAIL_SIZE, "fontStyle": "italic"},
}


def _text_column(texts: pd.DataFrame, column: str, width: int, n_lines: float, align: str) -> alt.LayerChart:
    """One text column: a text layer per style, the header rule under line 0."""
    part = texts[texts["column"] == column]
    x = 0 if align == "left" else width
    layers = [
        alt.Chart(part[part["style"] == style])
        .mark_text(align=align, baseline="middle", font=FONT, **props)
        .encode(x=alt.value(x), y=_y(n_lines), text="text:N")
        for style, props in _STYLES.items()
        if (part["style"] == style).any()
    ]
    layers.append(
        alt.Chart(pd.DataFrame({"y": [0.55]}))
        .mark_rule(color=_INK, strokeWidth=0.8)
        .encode(x=alt.value(0), x2=alt.value(width), y=_y(n_lines))
    )
    return alt.layer(*layers).properties(width=width, height=n_lines * LINE_PX)


def _diamonds(marks: pd.DataFrame) -> pd.DataFrame:
    """Three vertices per pooled estimate, drawn as an area between y and y2: the diamond spans its CI."""
    out = []
    for i, m in enumerate(marks[marks["kind"].isin(["pooled", "overall"])].itertuples()):
        for vertex, (x, half) in enumerate(((m.ci_low, 0.0), (m.estimate, 0.42), (m.ci_high, 0.0))):
            out.append({"diamond": i, "vertex": vertex, "x": x, "top": m.y - half, "bottom": m.y + half})
    return pd.DataFrame(out, columns=["diamond", "vertex", "x", "top", "bottom"])


def _plot_panel(marks: pd.DataFrame, n_lines: float, value_title: str, reference: float | None) -> alt.LayerChart:
    scale = alt.Scale(domain=[0, 1], nice=False, clamp=True)
    axis = alt.Axis(
        format=".0%",
        values=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
        grid=False,
        labelFont=FONT,
        titleFont=FONT,
        labelFontSize=FONT_SIZE,
        titleFontSize=FONT_SIZE,
        domainColor=_INK,
        tickColor=_INK,
        labelColor=_INK,
        titleColor=_INK,
    )

    def x(field: str) -> alt.X:
        # every layer carries the same axis: one layer without it drops the merged axis
        return alt.X(f"{field}:Q", scale=scale, axis=axis, title=value_title)

    y = _y(n_lines)
    cohorts = marks[marks["kind"] == "cohort"]
    layers: list[alt.Chart] = [
        alt.Chart(pd.DataFrame({"x": [0.0], "x2": [1.0], "y": [0.55]}))
        .mark_rule(color=_INK, strokeWidth=0.8)
        .encode(x=x("x"), x2="x2:Q", y=y),
    ]
    overall = marks[marks["kind"] == "overall"]
    line = overall.iloc[0]["estimate"] if len(overall) else reference
    if line is not None and not (isinstance(line, float) and math.isnan(line)):
        layers.append(
            alt.Chart(pd.DataFrame({"x": [line], "y": [1.0], "y2": [n_lines - 0.5]}))
            .mark_rule(color=_GREY, strokeDash=[3, 3], strokeWidth=0.8)
            .encode(x=x("x"), y=y, y2="y2:Q")
        )
    pi = marks[marks["kind"] == "pi"]
    if len(pi):
        layers.append(
            alt.Chart(pi)
            .mark_rule(color=_GREY, strokeWidth=3, strokeCap="butt")
            .encode(x=x("ci_low"), x2="ci_high:Q", y=y)
        )
    if len(cohorts):
        layers += [
            alt.Chart(cohorts).mark_rule(color=_INK, strokeWidth=1).encode(x=x("ci_low"), x2="ci_high:Q", y=y),
            alt.Chart(cohorts)
            .mark_square(color=_COHORT, opacity=1)
            .encode(
                x=x("estimate"),
                y=y,
                size=alt.Size("weight:Q", legend=None, scale=alt.Scale(domain=[0, 1], range=[14, 220])),
            ),
        ]
    diamonds = _diamonds(marks)
    if len(diamonds):
        layers.append(
            alt.Chart(diamonds)
            .mark_area(color=_INK, orient="vertical")
            .encode(x=x("x"), y=_y(n_lines, "top"), y2="bottom:Q", detail="diamond:N")
        )  # points in x order; no
        # order channel: with one, vl-convert drew each vertex as its own (empty) area
    return alt.layer(*layers).properties(width=PLOT_PX, height=n_lines * LINE_PX)


def forest_figure(
    rows: pd.DataFrame,
    title: str,
    filter_summary: str,
    data_version: str,
    source: str,
    value_title: str = "Proportion",
    notes: Sequence[str] = (),
    label_chars: int = 46,
    reference: float | None = None,
) -> alt.HConcatChart:
    """A forest plot for a paper: Study | Events/N | plot (0-100%) | % [95% CI] | Weight, grouped rows with
    pooled diamonds and prediction-interval lines, full labels wrapped (never cut), and a title whose
    subtitle lines carry the filter summary, the data version and the source (then ``notes``).

    ``rows`` has the columns of :func:`nkdata.stats.forest_rows` (``study`` overrides ``label`` for
    cohorts; optional ``group_label``, ``setting``, ``cr_definition``, ``pi_low``/``pi_high``)."""
    marks, texts = forest_layout(rows, label_chars)
    n_lines = float(max(texts["y"].max(), marks["y"].max() if len(marks) else 0) + 1)
    study_px = int(label_chars * CHAR_PX)
    columns = [
        _text_column(texts, "study", study_px, n_lines, "left"),
        _text_column(texts, "n", 62, n_lines, "right"),
        _plot_panel(marks, n_lines, value_title, reference),
        _text_column(texts, "ci", 120, n_lines, "right"),
        _text_column(texts, "weight", 56, n_lines, "right"),
    ]
    chart = alt.hconcat(*columns, spacing=14).configure_view(stroke=None)
    total_px = study_px + 62 + PLOT_PX + 120 + 56 + 4 * 14
    lines = [f"Filters: {filter_summary}", f"Data version: {data_version}", f"Source: {source}", *notes]
    return with_caption(chart, title, lines, width_px=total_px)


def with_caption(
    chart: alt.TopLevelMixin, title: str, lines: Sequence[str], width_px: int = DEFAULT_EXPORT_WIDTH
) -> alt.TopLevelMixin:
    """Any chart with a title and subtitle lines (filters, data version, source...) so it stands alone on a
    slide; each line is wrapped to ``width_px`` (subtitles do not wrap by themselves and would be cut)."""
    chars = max(20, int(width_px / CHAR_PX))
    subtitle = [part for line in lines if _present(line) for part in wrap(line, chars)]
    return chart.properties(
        title=alt.TitleParams(
            text=title,
            subtitle=subtitle,
            anchor="start",
            font=FONT,
            subtitleFont=FONT,
            fontSize=14,
            subtitleFontSize=FONT_SIZE,
            color=_INK,
            subtitleColor=_GREY,
            offset=12,
            subtitlePadding=6,
        )
    )


def _fixed_sizes(spec: Any, width: int) -> Any:
    """The spec with every width="container" (or height) replaced by pixels."""
    if isinstance(spec, dict):
        out = {k: _fixed_sizes(v, width) for k, v in spec.items()}
        if out.get("width") == "container":
            out["width"] = width
        if out.get("height") == "container":
            out["height"] = 300
        return out
    if isinstance(spec, list):
        return [_fixed_sizes(v, width) for v in spec]
    return spec


def _converter() -> ModuleType:
    """vl-convert, imported at the first export: a server no one exports from keeps its 8 MB free."""
    import vl_convert

    return vl_convert


def _vl_version() -> str | None:
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in _converter().get_vegalite_versions() else None


def export_chart(chart: alt.TopLevelMixin, fmt: str, scale: float = 2.0, width: int = DEFAULT_EXPORT_WIDTH) -> bytes:
    """The chart as SVG, PDF or PNG bytes (``EXPORT_FORMATS`` gives the MIME type), rendered offline by
    vl-convert on a white background; ``scale`` multiplies PNG pixels (2 = sharp on slides)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {tuple(EXPORT_FORMATS)}")
    spec = _fixed_sizes(chart.to_dict(), width)
    spec.setdefault("background", "white")
    version = _vl_version()
    vlc = _converter()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec, vl_version=version).encode("utf-8")
    if fmt == "png":
        return vlc.vegalite_to_png(spec, vl_version=version, scale=scale)
    return vlc.vegalite_to_pdf(spec, vl_version=version)
