"""Altair chart builders: a DataFrame in, a chart out, no Streamlit.

Tests read a chart's data and encodings without a browser, and every page
uses the same colours and labels for NK sources because they come from here.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from nkdata import vocabulary as voc
from nkdata.presentation import is_true

MIN_CHART_POINTS = 3  # below this many rows a chart says less than a short table (every page uses this)
WIDTH = "container"
ROW_STEP = 24  # pixels per row of a categorical axis: rows never overlap, whatever the page height
_PERCENT = ".0%"


def source_legend() -> alt.Legend:
    """The NK-source legend under a chart, two columns: at 390 px a third column ('Umbilical cord blood',
    'iPSC-derived') ran past the screen's edge and was cut."""
    return alt.Legend(orient="bottom", columns=2, labelLimit=160)


def source_scale(labels: object = None) -> alt.Scale:
    """Fixed colour per NK source label, so a source keeps its colour whatever the slice; with ``labels`` (the
    labels present in the chart's data) the legend lists only those."""
    present = set(labels) if labels is not None else None
    pairs = [
        (voc.NK_SOURCES[c], voc.NK_SOURCE_COLOURS[c])
        for c in voc.NK_SOURCES
        if present is None or voc.NK_SOURCES[c] in present
    ]
    return alt.Scale(domain=[d for d, _ in pairs], range=[r for _, r in pairs])


def setting_scale(labels: object = None) -> alt.Scale:
    """Fixed colour per disease setting (``vocabulary.SETTING_COLOURS``), the same in every view; rows that
    belong to no single setting (a pooled row of a group mixing settings) are drawn in the pooled colour."""
    present = set(labels) if labels is not None else None
    pairs = [
        (voc.SETTINGS[c], voc.SETTING_COLOURS[c]) for c in voc.SETTINGS if present is None or voc.SETTINGS[c] in present
    ]
    if present is None or "Pooled" in present:
        pairs.append(("Pooled", voc.POOLED_COLOUR))
    return alt.Scale(domain=[d for d, _ in pairs], range=[r for _, r in pairs])


# The point charts below keep only the columns they encode: up to MAX_POINTS rows go to the browser and
# into the spec cache, and unused columns (notes, ids, counts not drawn) were most of their size.


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Add display-label columns next to the coded ones present in ``frame``."""
    out = frame.copy()
    for column, vocabulary, label_column in (
        ("nk_source", voc.NK_SOURCES, "NK source"),
        ("setting", voc.SETTINGS, "Setting"),
        ("product_class", voc.PRODUCT_CLASSES, "Product class"),
    ):
        if column in out.columns:
            out[label_column] = [
                voc.label(vocabulary, c) if isinstance(c, str) else voc.NOT_REPORTED_LABEL for c in out[column]
            ]
    return out


def cohorts_per_year(per_year: pd.DataFrame) -> alt.Chart:
    """Stacked bars: cohorts per publication year, coloured by NK source."""
    data = with_labels(per_year)
    years = list(range(int(data["year"].min()), int(data["year"].max()) + 1)) if len(data) else []
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Publication year", scale=alt.Scale(domain=years)),
            y=alt.Y("sum(cohorts):Q", title="Cohorts", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("NK source:N", scale=source_scale(data["NK source"]), legend=source_legend()),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                "NK source:N",
                alt.Tooltip("cohorts:Q", title="Cohorts"),
                alt.Tooltip("patients:Q", title="Patients treated"),
            ],
        )
        .properties(height=280, width=WIDTH)
    )


def source_setting_matrix(matrix: pd.DataFrame) -> alt.Chart:
    """Heat map of cohorts in each NK source x setting cell, patients as text."""
    data = with_labels(matrix)
    unknown = data["cohorts_n_not_reported"] if "cohorts_n_not_reported" in data.columns else [0] * len(data)
    data["cell_text"] = [
        f"{c} (n not reported)" if u == c else f"{c} ({p}{'+' if u else ''})"
        for c, p, u in zip(data["cohorts"], data["patients"], unknown, strict=True)
    ]
    base = alt.Chart(data).encode(
        x=alt.X("NK source:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=160, orient="top")),
        y=alt.Y("Setting:N", title=None, axis=alt.Axis(labelLimit=220)),
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "cohorts:Q", title="Cohorts", scale=alt.Scale(scheme="blues"), legend=alt.Legend(format="d", tickMinStep=1)
        ),
        tooltip=[
            "NK source:N",
            "Setting:N",
            alt.Tooltip("cohorts:Q", title="Cohorts"),
            alt.Tooltip("patients:Q", title="Patients treated"),
        ],
    )
    text = base.mark_text(fontSize=12).encode(
        text="cell_text:N",
        color=alt.condition(alt.datum.cohorts > 4, alt.value("white"), alt.value("#1F2933")),
    )
    return (rect + text).properties(height=alt.Step(34), width=WIDTH)


# Row labels never widen a chart: on a phone a label longer than the plot is shortened (the tooltip has it whole)
# instead of squeezing the intervals to a sliver.
_FIT_WIDTH = alt.ExprRef("width")
_WIDE = "width >= 560"  # a forest this wide draws its labels in a column of their own
_LABEL_SHARE = 0.42
_BREAK = "|"  # where a phone wraps a forest label (two lines above its interval); wide charts show one line
_WRAP_AT = 52


def _wrap(label: str) -> str:
    """A forest label with one break mark at the last space before _WRAP_AT characters (a phone's line)."""
    text = label.replace(_BREAK, "/")
    if len(text) <= _WRAP_AT:
        return text
    cut = text.rfind(" ", 0, _WRAP_AT)
    return text if cut <= 0 else text[:cut] + _BREAK + text[cut + 1 :]


COHORT_SELECTION = "cohort_pick"  # the point selection a page reads to open a cohort's card


def cohort_pick() -> alt.SelectionParameter:
    """The click selection every chart whose points are cohorts carries: one definition, so a page reads them alike."""
    return alt.selection_point(name=COHORT_SELECTION, fields=["cohort_id"], on="click", clear="dblclick")


def forest_plot(rows: pd.DataFrame, value_title: str, reference: float | None = None) -> alt.LayerChart:
    """Forest plot that reads at any width: each row's label sits above its interval (a phone shows the
    intervals, not only labels), squares sized by weight, diamonds for pooled estimates. Clicking a
    cohort selects it (``COHORT_SELECTION``), so the page can open its card."""
    data = rows.copy()
    data["Group"] = data["group_label"] if "group_label" in data.columns else data["group"].astype(str)
    data["display"] = [
        lbl if kind == "cohort" else lbl.replace(f": {g} ", f": {G} ")
        for lbl, kind, g, G in zip(data["label"], data["kind"], data["group"], data["Group"], strict=True)
    ]
    for column in ("setting", "cr_definition", "flags", "cohort_id"):
        if column not in data.columns:
            data[column] = ""
    data["cohort_id"] = data["cohort_id"].astype(object).where(data["cohort_id"].notna(), "")
    data["row"] = data["order"]
    labels = set(voc.SETTINGS.values())  # the forest's setting column holds labels; codes are mapped too
    data["Setting"] = [
        s if s in labels else voc.SETTINGS.get(s, "Pooled") if isinstance(s, str) else "Pooled" for s in data["setting"]
    ]
    data["ci_text"] = [
        "" if pd.isna(e) else f"{100 * e:.0f}% ({100 * lo:.0f}-{100 * hi:.0f})"
        for e, lo, hi in zip(data["estimate"], data["ci_low"], data["ci_high"], strict=True)
    ]
    data["line"] = [_wrap(f"{d} · {c}" if c else d) for d, c in zip(data["display"], data["ci_text"], strict=True)]
    data = data[
        [
            "row",
            "kind",
            "Group",
            "display",
            "line",
            "estimate",
            "ci_low",
            "ci_high",
            "weight",
            "events",
            "total",
            "cohort_id",
            "setting",
            "Setting",
            "cr_definition",
            "flags",
            "ci_text",
        ]
    ]
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.1))
    # A label column apart from the intervals where the chart is wide enough; on a phone each label sits above
    # its interval instead (Vega evaluates these against the drawn width, so one spec serves both).
    x_scale = alt.Scale(
        domain=[0, 1], range=[alt.ExprRef(f"{_WIDE} ? width * {_LABEL_SHARE} : 0"), alt.ExprRef("width")]
    )
    tooltip = [
        alt.Tooltip("display:N", title="Row"),
        alt.Tooltip("ci_text:N", title=f"{value_title} (95% CI)"),
        alt.Tooltip("events:Q", title="Events"),
        alt.Tooltip("total:Q", title="n"),
        alt.Tooltip("weight:Q", title="Weight in group", format=".0%"),
        alt.Tooltip("setting:N", title="Setting"),
        alt.Tooltip("cr_definition:N", title="Definition"),
        alt.Tooltip("flags:N", title="Caution"),
    ]
    pick = cohort_pick()
    base = alt.Chart(data).encode(y=y)
    colour = alt.Color(
        "Setting:N",
        scale=setting_scale(data["Setting"]),
        legend=alt.Legend(title="Setting", orient="bottom", columns=2, labelLimit=220),
    )
    labels = alt.layer(
        *(
            base.transform_filter(test)
            .mark_text(
                align="left",
                baseline=alt.ExprRef(f"{_WIDE} ? 'middle' : 'bottom'"),
                dy=alt.ExprRef(f"{_WIDE} ? 0 : -10"),
                lineBreak=_BREAK,
                fontSize=11,
                color="#1F2933",
                fontWeight=weight,
                limit=alt.ExprRef(f"{_WIDE} ? width * {_LABEL_SHARE} - 10 : width"),
            )
            .transform_calculate(shown=f"{_WIDE} ? replace(datum.line, '{_BREAK}', ' ') : datum.line")
            .encode(x=alt.value(0), text="shown:N", tooltip=tooltip)
            for test, weight in ((alt.datum.kind == "cohort", "normal"), (alt.datum.kind != "cohort", "bold"))
        )
    )
    # header rows carry only their label
    ci = base.mark_rule(strokeWidth=1.5).encode(
        x=alt.X(
            "ci_low:Q",
            scale=x_scale,
            title=value_title,
            axis=alt.Axis(format=_PERCENT, orient="top", values=[0, 0.25, 0.5, 0.75, 1]),
        ),
        x2="ci_high:Q",
        color=colour,
    )
    squares = (
        base.transform_filter(alt.datum.kind == "cohort")
        .mark_square(opacity=0.9)
        .encode(
            x="estimate:Q",
            size=alt.Size("weight:Q", scale=alt.Scale(range=[30, 260]), legend=None),
            color=colour,
            tooltip=tooltip,
            opacity=alt.condition(pick, alt.value(0.95), alt.value(0.35)),
        )
        .add_params(pick)
    )
    diamonds = (
        base.transform_filter("datum.kind == 'pooled' || datum.kind == 'overall'")
        .mark_point(shape="diamond", filled=True, size=200, color="#1F2933")
        .encode(x="estimate:Q", tooltip=tooltip)
    )
    layers = [ci, squares, diamonds, labels]
    if reference is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"ref": [reference]})).mark_rule(strokeDash=[4, 4], color="#666").encode(x="ref:Q")
        )
    return alt.layer(*layers).properties(height=alt.Step(2 * ROW_STEP), width=WIDTH)


def survival_points(entries: pd.DataFrame, value_title: str) -> alt.LayerChart:
    """Landmark estimates per cohort with their 95% CI where given; label above each row (any width)."""
    data = with_labels(entries)
    data = data.assign(
        row=range(len(data)),
        estimate=data["estimate_pct"] / 100,
        low=data["ci_low_pct"] / 100,
        high=data["ci_high_pct"] / 100,
        text=[f"{lbl} · {s}" for lbl, s in zip(data["label"], data["Setting"], strict=True)],
        value=[
            f"{e:g}%" + (f" ({lo:g}-{hi:g})" if pd.notna(lo) else "") + (f", n={int(n)}" if pd.notna(n) else "")
            for e, lo, hi, n in zip(
                data["estimate_pct"], data["ci_low_pct"], data["ci_high_pct"], data["n_analysed"], strict=True
            )
        ],
        followup=data["median_followup_months"],
        source=data["source_cohort"],
        cohort_id=data["cohort_id"],
    )
    data["line"] = data["text"] + " · " + data["value"]
    data = data[
        [
            "row",
            "text",
            "value",
            "line",
            "estimate",
            "low",
            "high",
            "NK source",
            "followup",
            "source",
            "cohort_id",
            "comparator_pct",
            "comparator_label",
            "note",
        ]
    ]
    y = alt.Y("row:O", axis=None)
    x = alt.X(
        "estimate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=_PERCENT, orient="top"), title=value_title
    )
    tooltip = [
        alt.Tooltip("text:N", title="Cohort"),
        alt.Tooltip("value:N", title="Estimate (95% CI)"),
        alt.Tooltip("followup:Q", title="Median follow-up (months)"),
        alt.Tooltip("comparator_pct:Q", title="Comparator %"),
        alt.Tooltip("comparator_label:N", title="Comparator"),
        alt.Tooltip("source:N", title="Read in report"),
        alt.Tooltip("note:N", title="Where"),
    ]
    pick = cohort_pick()
    base = alt.Chart(data).encode(y=y)
    colour = alt.Color("NK source:N", scale=source_scale(data["NK source"]), legend=source_legend())
    return alt.layer(
        base.mark_rule(strokeWidth=1.5).encode(
            x=alt.X("low:Q", scale=alt.Scale(domain=[0, 1])), x2="high:Q", color=colour
        ),
        base.mark_circle(size=90, opacity=0.95).encode(x=x, color=colour, tooltip=tooltip).add_params(pick),
        base.mark_text(align="left", baseline="bottom", dy=-4, fontSize=11, limit=_FIT_WIDTH).encode(
            x=alt.value(0), text="line:N"
        ),
    ).properties(height=alt.Step(2 * ROW_STEP), width=WIDTH)


def persistence_strip(cohorts: pd.DataFrame, by: str = "product") -> alt.LayerChart:
    """Longest detection of infused cells per cohort (log scale), one row per product or source; a detection
    that is a lower bound ("still detected at the last test") is drawn as an arrow pointing right, and the
    median detection, where reported, as a small tick. A click on a cohort selects it (``COHORT_SELECTION``)."""
    data = with_labels(cohorts.dropna(subset=["max_persistence_days"]))
    data["bound"] = [
        "at least (still detected)" if is_true(b) else "longest detection" for b in data["persistence_lower_bound"]
    ]
    data = data[
        [
            "product",
            "NK source",
            "first_author",
            "year",
            "n_treated",
            "max_persistence_days",
            "median_persistence_days",
            "persistence_method",
            "persistence_note",
            "bound",
            "cohort_id",
        ]
    ]
    y_field = "product:N" if by == "product" else "NK source:N"
    y = alt.Y(y_field, title=None, axis=alt.Axis(labelLimit=160))
    tooltip = [
        alt.Tooltip("first_author:N", title="First author"),
        alt.Tooltip("year:O", title="Year"),
        alt.Tooltip("product:N", title="Product"),
        alt.Tooltip("n_treated:Q", title="n treated"),
        alt.Tooltip("max_persistence_days:Q", title="Longest detection (days)"),
        alt.Tooltip("bound:N", title="Kind"),
        alt.Tooltip("median_persistence_days:Q", title="Median detection (days)"),
        alt.Tooltip("persistence_method:N", title="Detection method"),
        alt.Tooltip("persistence_note:N", title="Note"),
        alt.Tooltip("cohort_id:N", title="Cohort"),
    ]
    x = alt.X(
        "max_persistence_days:Q", scale=alt.Scale(type="log"), title="Detection of infused cells (days, log scale)"
    )
    base = alt.Chart(data).encode(y=y)
    colour = alt.Color("NK source:N", scale=source_scale(data["NK source"]), legend=source_legend())
    shape = alt.Shape(
        "bound:N",
        scale=alt.Scale(domain=["longest detection", "at least (still detected)"], range=["circle", "triangle-right"]),
        legend=alt.Legend(orient="bottom", title=None),
    )
    pick = cohort_pick()
    points = (
        base.mark_point(size=120, filled=True, opacity=0.9)
        .encode(x=x, color=colour, shape=shape, tooltip=tooltip)
        .add_params(pick)
    )
    medians = (
        base.transform_filter("isValid(datum.median_persistence_days)")
        .mark_tick(thickness=2, size=14, color="#52606D")
        .encode(x="median_persistence_days:Q", tooltip=tooltip)
    )
    return alt.layer(points, medians).properties(height=alt.Step(ROW_STEP + 6), width=WIDTH)


def persistence_vs_response(points: pd.DataFrame) -> alt.Chart:
    """Persistence (log x) against CR rate, point size = patients, colour = cytokine support."""
    data = points[
        ["max_persistence_days", "rate", "total", "first_author", "year", "product", "persistence_method"]
    ].copy()
    data["Cytokine support"] = points["cytokine_support"].fillna(voc.NOT_REPORTED_LABEL)
    return (
        alt.Chart(data)
        .mark_circle(opacity=0.8, stroke="#333", strokeWidth=0.5)
        .encode(
            x=alt.X("max_persistence_days:Q", scale=alt.Scale(type="log"), title="Longest detection (days, log scale)"),
            y=alt.Y("rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=_PERCENT), title="CR rate"),
            size=alt.Size("total:Q", title="Patients", scale=alt.Scale(range=[40, 600]), legend=None),
            color=alt.Color("Cytokine support:N", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=[
                alt.Tooltip("first_author:N", title="First author"),
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("product:N", title="Product"),
                alt.Tooltip("total:Q", title="n"),
                alt.Tooltip("rate:Q", title="CR rate", format=".0%"),
                alt.Tooltip("max_persistence_days:Q", title="Longest detection (days)"),
                alt.Tooltip("persistence_method:N", title="Detection method"),
            ],
        )
        .properties(height=320, width=WIDTH)
    )


def relapse_vs_followup(rates: pd.DataFrame) -> alt.Chart:
    """Relapse proportion against median follow-up; a short follow-up flatters relapse."""
    data = with_labels(rates)[
        ["median_followup_months", "rate", "relapse_at_risk", "NK source", "first_author", "year", "product"]
    ]
    return (
        alt.Chart(data)
        .mark_circle(opacity=0.85, stroke="#333", strokeWidth=0.5)
        .encode(
            x=alt.X("median_followup_months:Q", title="Median follow-up (months)"),
            y=alt.Y(
                "rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=_PERCENT), title="Relapse proportion"
            ),
            size=alt.Size("relapse_at_risk:Q", title="Patients at risk", scale=alt.Scale(range=[40, 500]), legend=None),
            color=alt.Color("NK source:N", scale=source_scale(data["NK source"]), legend=source_legend()),
            tooltip=[
                alt.Tooltip("first_author:N", title="First author"),
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("product:N", title="Product"),
                alt.Tooltip("relapse_at_risk:Q", title="n at risk"),
                alt.Tooltip("rate:Q", title="Relapse", format=".0%"),
                alt.Tooltip("median_followup_months:Q", title="Median follow-up (months)"),
            ],
        )
        .properties(height=300, width=WIDTH)
    )


SAFETY_STATUS_ORDER = ["With event", "Reported without event", voc.NOT_REPORTED_LABEL]
SAFETY_STATUS_COLOURS = ["#D55E00", "#56B4E9", voc.NOT_REPORTED_COLOUR]


def safety_bars(safety: pd.DataFrame) -> alt.Chart:
    """Patients per NK source and safety outcome split into: with event, reported without event,
    and in cohorts that did not report the outcome (grey, never counted as zero)."""
    rows = []
    for r in with_labels(safety).to_dict("records"):
        outcome = voc.SAFETY_FIELDS.get(r["outcome"], r["outcome"])
        for status, patients, cohorts in (
            ("With event", r["events"], r["cohorts_reported"]),
            ("Reported without event", r["patients_reported"] - r["events"], r["cohorts_reported"]),
            (voc.NOT_REPORTED_LABEL, r["patients_not_reported"], r["cohorts_not_reported"]),
        ):
            rows.append(
                {
                    "NK source": r["NK source"],
                    "Outcome": outcome,
                    "Status": status,
                    "Patients": float(patients),
                    "Cohorts": int(cohorts),
                    "events": float(r["events"]),
                    "patients_reported": float(r["patients_reported"]),
                }
            )
    data = pd.DataFrame(rows)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("NK source:N", title=None),
            x=alt.X("Patients:Q", title="Patients", stack="zero"),
            color=alt.Color(
                "Status:N",
                scale=alt.Scale(domain=SAFETY_STATUS_ORDER, range=SAFETY_STATUS_COLOURS),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("status_rank:Q"),
            facet=alt.Facet("Outcome:N", columns=2, title=None, sort=list(voc.SAFETY_FIELDS.values())),
            tooltip=[
                "NK source:N",
                "Outcome:N",
                "Status:N",
                alt.Tooltip("Patients:Q", format=".0f"),
                alt.Tooltip("Cohorts:Q", title="Cohorts"),
                alt.Tooltip("events:Q", title="Events", format=".0f"),
                alt.Tooltip("patients_reported:Q", title="Patients in reporting cohorts", format=".0f"),
            ],
        )
        .transform_calculate(status_rank=f"indexof({SAFETY_STATUS_ORDER!r}, datum.Status)")
        .properties(width=300, height=alt.Step(22))
    )


# ----- Pipeline (registered trials) -----
# Frames come from nkdata.registry_repository.RegistryRepository; codes are labelled here, "not reported" stays
# visible.


def safety_rate_dots(rates: pd.DataFrame) -> alt.LayerChart:
    """Dot-and-interval per outcome and group: the crude rate (patients with the event / patients treated) with
    its exact 95% CI on a 0-100% axis, each labelled 'events/patients', so zero events read as 0/N with an upper
    limit. One row per outcome and group (outcomes in the dictionary's order, the largest group first), at the
    page's width, so it reads on a phone. Groups without a reporting cohort are not drawn (the matrix says
    "not reported")."""
    data = rates[rates["patients"] > 0].copy()
    size = data[data["Group"] != "All cohorts"].groupby("Group")["patients"].max()
    rank = {g: i for i, g in enumerate(size.sort_values(ascending=False).index)}
    outcomes = list(dict.fromkeys(data["Outcome"]))
    data["position"] = [
        outcomes.index(o) * 1000 + rank.get(g, 999) for o, g in zip(data["Outcome"], data["Group"], strict=True)
    ]
    data["row"] = [f"{o}: {g}" for o, g in zip(data["Outcome"], data["Group"], strict=True)]
    data["label"] = [f"{e}/{p}" for e, p in zip(data["events"], data["patients"], strict=True)]
    data["ci_text"] = [
        f"{100 * r:.0f}% ({100 * lo:.0f}-{100 * hi:.0f})"
        for r, lo, hi in zip(data["rate"], data["ci_low"], data["ci_high"], strict=True)
    ]
    data = data.sort_values("position")[
        ["row", "Outcome", "Group", "events", "patients", "cohorts", "rate", "ci_low", "ci_high", "label", "ci_text"]
    ]
    y = alt.Y("row:N", sort=list(data["row"]), title=None, axis=alt.Axis(labelLimit=150))
    scale = alt.Scale(domain=[0, 1])
    axis = alt.Axis(format=_PERCENT, values=[0, 0.25, 0.5, 0.75, 1], orient="top")
    x = alt.X("rate:Q", scale=scale, axis=axis, title="Patients with the event (exact 95% CI)")
    tooltip = [
        alt.Tooltip("Outcome:N"),
        alt.Tooltip("Group:N"),
        alt.Tooltip("label:N", title="Events / patients"),
        alt.Tooltip("ci_text:N", title="Rate (exact 95% CI)"),
        alt.Tooltip("cohorts:Q", title="Cohorts reporting"),
    ]
    base = alt.Chart(data).encode(y=y)
    interval = base.mark_rule(strokeWidth=2, color="#4C78A8").encode(
        x=alt.X("ci_low:Q", scale=scale, axis=axis, title="Patients with the event (exact 95% CI)"), x2="ci_high:Q"
    )
    dots = base.mark_point(filled=True, size=70, color="#D95F02").encode(x=x, tooltip=tooltip)
    labels = base.mark_text(align="left", dx=6, dy=-8, fontSize=10, color="#1F2933").encode(x=x, text="label:N")
    return alt.layer(interval, dots, labels).properties(width=WIDTH, height=alt.Step(ROW_STEP))


def rob_traffic_lights(lights: pd.DataFrame) -> alt.LayerChart:
    """The robvis traffic-light plot: publications down, checklist items and the overall judgement across, one
    coloured circle per judgement with its symbol (so colour is not the only cue), a legend of every colour.
    ``lights`` is nkdata.rob.traffic_light_frame's output."""
    from nkdata.rob import JBI_ITEMS, LIGHTS, OVERALL_COLUMN

    data = lights[["Publication", "Item", "Question", "Judgement", "symbol", "Note"]]
    domain = list(dict.fromkeys(name for name, _, _ in LIGHTS.values()))
    colours = [next(c for n, c, _ in LIGHTS.values() if n == name) for name in domain]
    order = list(dict.fromkeys(data["Publication"]))
    x = alt.X(
        "Item:N",
        sort=[i.short for i in JBI_ITEMS] + [OVERALL_COLUMN],
        title=None,
        # every column labelled even at 390 px (11 columns share about 200 px there)
        axis=alt.Axis(orient="top", labelAngle=-45, labelFontWeight="bold", labelFontSize=10, labelOverlap=False),
    )
    y = alt.Y("Publication:N", sort=order, title=None, axis=alt.Axis(labelLimit=120))
    base = alt.Chart(data).encode(x=x, y=y)
    circles = base.mark_circle(size=170, opacity=1).encode(
        color=alt.Color(
            "Judgement:N",
            scale=alt.Scale(domain=domain, range=colours),
            legend=alt.Legend(title="Judgement", orient="bottom", columns=2, symbolType="circle"),
        ),
        tooltip=["Publication", "Item", "Question", "Judgement", "Note"],
    )
    symbols = base.mark_text(fontSize=11, fontWeight="bold", color="white").encode(text="symbol:N")
    return (circles + symbols).properties(width=WIDTH, height=max(ROW_STEP, ROW_STEP * len(order)))


def with_registry_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Display-label columns next to the registry's coded columns present in ``frame``."""
    out = with_labels(frame)
    for column, vocabulary, label_column in (
        ("phase", voc.TRIAL_PHASES, "Phase"),
        ("status", voc.TRIAL_STATUSES, "Status"),
        ("sponsor_type", voc.SPONSOR_TYPES, "Sponsor type"),
        ("results_status", voc.RESULTS_STATUSES, "Results"),
        ("record_confidence", voc.RECORD_CONFIDENCE, "Known from"),
        ("population", voc.POPULATIONS, "Population"),
        ("donor_type", voc.DONOR_TYPES, "Donor"),
    ):
        if column in out.columns:
            out[label_column] = [
                voc.label(vocabulary, c) if isinstance(c, str) else voc.NOT_REPORTED_LABEL for c in out[column]
            ]
    if "start_year" in out.columns:
        out["Start year"] = [str(int(y)) if pd.notna(y) else voc.NOT_REPORTED_LABEL for y in out["start_year"]]
    return out


def _source_scale_with_not_reported() -> alt.Scale:
    return alt.Scale(
        domain=[voc.NK_SOURCES[c] for c in voc.NK_SOURCES] + [voc.NOT_REPORTED_LABEL],
        range=list(voc.NK_SOURCE_COLOURS.values()) + [voc.NOT_REPORTED_COLOUR],
    )


def registry_source_phase(counts: pd.DataFrame) -> alt.Chart:
    """Stacked bars: registered trials per phase, coloured by NK source (grey = not reported)."""
    data = with_registry_labels(counts)
    phase_order = [*voc.TRIAL_PHASES.values(), voc.NOT_REPORTED_LABEL]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("Phase:N", sort=phase_order, title="Phase (as registered)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(trials):Q", title="Registered trials", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "NK source:N", scale=_source_scale_with_not_reported(), legend=alt.Legend(orient="bottom", columns=2)
            ),
            tooltip=["Phase:N", "NK source:N", alt.Tooltip("trials:Q", title="Trials")],
        )
        .properties(height=280, width=WIDTH)
    )


def registry_car_targets(counts: pd.DataFrame) -> alt.Chart:
    """Dots: CAR-NK trials per CAR target and start year (a 'Not reported' column keeps undated trials)."""
    data = with_registry_labels(counts)
    years = sorted(y for y in data["Start year"].unique() if y != voc.NOT_REPORTED_LABEL)
    order = years + ([voc.NOT_REPORTED_LABEL] if voc.NOT_REPORTED_LABEL in set(data["Start year"]) else [])
    base = alt.Chart(data).encode(
        x=alt.X("Start year:O", sort=order, title="Start year", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("car_target:N", title="CAR target", sort="ascending"),
    )
    dots = base.mark_circle(color="#CC79A7", opacity=0.85).encode(
        size=alt.Size("trials:Q", title="Trials", scale=alt.Scale(range=[120, 900]), legend=None),
        tooltip=[
            alt.Tooltip("car_target:N", title="CAR target"),
            "Start year:O",
            alt.Tooltip("trials:Q", title="Trials"),
        ],
    )
    text = base.mark_text(color="white", fontWeight="bold").encode(text="trials:Q")
    return (dots + text).properties(height=alt.Step(40), width=WIDTH)


def registry_status(counts: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: trials per recruitment status; each label carries the dates the statuses were read."""
    data = with_registry_labels(counts)
    data["Status label"] = [
        f"{s}|as of {lo}" + (f" to {hi}" if hi != lo else "")
        for s, lo, hi in zip(data["Status"], data["as_of_min"], data["as_of_max"], strict=True)
    ]
    base = alt.Chart(data).encode(
        y=alt.Y(
            "Status label:N", title=None, sort="-x", axis=alt.Axis(labelExpr="split(datum.label, '|')", labelLimit=240)
        )
    )
    bars = base.mark_bar(color="#0072B2").encode(
        x=alt.X("trials:Q", title="Registered trials", axis=alt.Axis(tickMinStep=1)),
        tooltip=[
            "Status:N",
            alt.Tooltip("trials:Q", title="Trials"),
            alt.Tooltip("as_of_min:N", title="Earliest status date"),
            alt.Tooltip("as_of_max:N", title="Latest status date"),
        ],
    )
    text = base.mark_text(align="left", dx=4, color="#1F2933").encode(x="trials:Q", text="trials:Q")
    return (bars + text).properties(height=alt.Step(38), width=WIDTH)


def registry_count_bars(counts: pd.DataFrame, column: str, title: str) -> alt.Chart:
    """Horizontal bars of trials per value of ``column`` (sponsor type label, country...); null = not reported."""
    data = with_registry_labels(counts)
    data[title] = [v if isinstance(v, str) else voc.NOT_REPORTED_LABEL for v in data[column]]
    base = alt.Chart(data).encode(y=alt.Y(f"{title}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=200)))
    bars = base.mark_bar().encode(
        x=alt.X("trials:Q", title="Registered trials", axis=alt.Axis(tickMinStep=1)),
        color=alt.condition(
            alt.datum[title] == voc.NOT_REPORTED_LABEL, alt.value(voc.NOT_REPORTED_COLOUR), alt.value("#009E73")
        ),
        tooltip=[f"{title}:N", alt.Tooltip("trials:Q", title="Trials")],
    )
    text = base.mark_text(align="left", dx=4, color="#1F2933").encode(x="trials:Q", text="trials:Q")
    return (bars + text).properties(height=alt.Step(ROW_STEP), width=WIDTH)


def metaregression_bubbles(
    rows: pd.DataFrame, x_title: str, categorical: bool = False, log_x: bool = False, x_format: str = ""
) -> alt.LayerChart:
    """Bubble plot of a meta-regression: each cohort's CR against the moderator (rows of kind "cohort": x, rate,
    weight, label, nk_source, events, total, cohort_id), bubbles sized by their weight in the model
    (1 / (v + tau²)), and the fitted CR (rows of kind "fitted": x, fitted) as a curve for a numeric moderator or
    a tick per level of a categorical one."""
    cohorts = with_labels(rows[rows["kind"] == "cohort"])[
        ["x", "rate", "weight", "label", "NK source", "events", "total", "cohort_id"]
    ]
    line = rows.loc[rows["kind"] == "fitted", ["x", "fitted"]]
    x_type = "N" if categorical else "Q"
    axis = {} if categorical else {"scale": alt.Scale(type="log") if log_x else alt.Scale(zero=False)}
    x_axis = alt.Axis(format=x_format) if x_format else alt.Axis(labelAngle=0, labelLimit=160)
    points = (
        alt.Chart(cohorts)
        .mark_circle(opacity=0.7, stroke="#333", strokeWidth=0.5)
        .encode(
            x=alt.X(f"x:{x_type}", title=x_title, axis=x_axis, **axis),
            y=alt.Y("rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=_PERCENT), title="CR rate"),
            size=alt.Size("weight:Q", title="Weight", scale=alt.Scale(range=[40, 900]), legend=None),
            color=alt.Color("NK source:N", scale=source_scale(cohorts["NK source"]), legend=source_legend()),
            tooltip=[
                alt.Tooltip("label:N", title="Cohort"),
                alt.Tooltip("events:Q", title="CR"),
                alt.Tooltip("total:Q", title="Patients"),
                alt.Tooltip("rate:Q", title="CR rate", format=".0%"),
            ],
        )
        .add_params(cohort_pick())
    )
    base = alt.Chart(line)
    mark = base.mark_tick(color="#222", thickness=3, size=40) if categorical else base.mark_line(color="#222")
    fitted = mark.encode(
        x=alt.X(f"x:{x_type}", **axis),
        y=alt.Y("fitted:Q"),
        tooltip=[alt.Tooltip("fitted:Q", title="Fitted CR", format=".0%")],
    )
    return alt.layer(points, fitted).properties(height=340, width=WIDTH)
