"""Chart builders checked without a browser: what data each chart carries and encodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pytest

from nkdata import analysis, charts
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice


def _fields(spec: Any) -> set[str]:
    """Every field name a Vega-Lite spec encodes (channels, tooltips, layers)."""
    found: set[str] = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("field"), str):
            found.add(spec["field"])
        for key, value in spec.items():
            if key not in ("datasets", "data"):
                found |= _fields(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= _fields(item)
    return found


def _point_charts(repo: TrialsRepository) -> list[tuple[str, alt.Chart]]:
    persistence = analysis.persistence_view(repo, Slice(), Analysis())
    relapse = analysis.relapse_view(repo, Slice(), Analysis())
    return [
        ("strip by product", charts.persistence_strip(persistence.cohorts, by="product")),
        ("strip by source", charts.persistence_strip(persistence.cohorts, by="nk_source")),
        ("persistence vs CR", charts.persistence_vs_response(persistence.versus_cr)),
        ("relapse vs follow-up", charts.relapse_vs_followup(relapse.with_followup)),
    ]


@pytest.mark.parametrize("index", range(4))
def test_point_charts_carry_exactly_the_columns_they_encode(repo: TrialsRepository, index: int) -> None:
    name, chart = _point_charts(repo)[index]
    spec = chart.to_dict()
    columns = set(chart.data.columns)
    assert len(chart.data) > 0, name
    assert _fields(spec) <= columns, f"{name}: encodes a column it does not carry"
    # the strip carries both row fields so switching rows needs no other data
    unused = columns - _fields(spec) - {"product", "NK source"}
    assert not unused, f"{name}: carries unused columns {unused}"


def test_relapse_points_are_the_cohorts_with_follow_up(repo: TrialsRepository) -> None:
    relapse = analysis.relapse_view(repo, Slice(), Analysis())
    data = charts.relapse_vs_followup(relapse.with_followup).data
    assert sorted(zip(data["first_author"], data["median_followup_months"], data["rate"], strict=True)) == [
        ("Beta", 24, pytest.approx(2 / 6)),
        ("Delta", 12, pytest.approx(1 / 3)),
    ]


def test_forest_labels_never_widen_the_chart(repo: TrialsRepository) -> None:
    """On a 390 px phone a long label must not squeeze the intervals: every text mark of the forest is limited
    to the plot's width (Vega's autosize would otherwise shrink the plot to make room for the text)."""
    result = analysis.cr_analysis(repo, Slice(), Analysis(group="nk_source"))
    spec = charts.forest_plot(result.forest, "CR").to_dict()
    texts = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, dict) and mark.get("type") == "text":
                texts.append(mark)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    # narrow: the whole width (the label sits above its interval); wide: the label column only
    assert texts and all(str(m.get("limit", {}).get("expr", "")).endswith(": width") for m in texts)
    assert all(m.get("lineBreak") == "|" for m in texts)  # a phone wraps long labels on two lines
    rows = {r["kind"] for r in charts.forest_plot(result.forest, "CR").data.to_dict("records")}
    assert "header" in rows  # each group is named on its own row, not only in a legend


def test_legends_list_only_the_sources_present(repo: TrialsRepository) -> None:
    per_year = repo.cohorts_per_year(Slice(sources=("cell_line",)))
    spec = charts.cohorts_per_year(per_year).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["NK cell line"] and scale["range"] == ["#D55E00"]  # same colour as in every slice


def _collect(spec: Any, pick: Callable[[dict], list[dict]], skip: tuple[str, ...] = ()) -> list[dict]:
    """What ``pick`` finds in every object of a spec (top level, layers, concatenations), data left out."""
    found: list[dict] = []
    if isinstance(spec, dict):
        found += pick(spec)
        for key, value in spec.items():
            if key not in ("datasets", "data", *skip):
                found += _collect(value, pick, skip)
    elif isinstance(spec, list):
        for item in spec:
            found += _collect(item, pick, skip)
    return found


def _selections(spec: Any) -> list[dict]:
    """Every selection parameter declared anywhere in a spec (top level or in a layer)."""
    return _collect(spec, lambda obj: [p for p in obj.get("params", []) if "select" in p], skip=("params",))


def test_charts_whose_points_open_a_card_select_a_cohort(repo: TrialsRepository) -> None:
    # The page opens the card from the selection named COHORT_SELECTION, reading its cohort_id field; a chart
    # without it draws fine but a click silently does nothing.
    everything = Slice(include_superseded=True)
    built = {
        "forest": charts.forest_plot(analysis.cr_analysis(repo, everything, Analysis()).forest, value_title="CR"),
        "survival": charts.survival_points(
            analysis.survival_view(repo, everything, Analysis()).at_landmark, value_title="OS (%)"
        ),
        "persistence strip": charts.persistence_strip(analysis.persistence_view(repo, everything, Analysis()).cohorts),
    }
    for name, chart in built.items():
        picks = [p for p in _selections(chart.to_dict()) if p["name"] == charts.COHORT_SELECTION]
        assert len(picks) == 1, name
        assert picks[0]["select"]["fields"] == ["cohort_id"], name


def test_forest_colours_settings_alike_in_every_view_and_puts_the_largest_group_first(repo: TrialsRepository) -> None:
    """Relapsed/refractory has one colour whatever the grouping; groups are ordered by cohorts, then patients."""
    colours = []
    for group in ("setting", "nk_source", "product_class"):
        result = analysis.cr_analysis(repo, Slice(include_superseded=True), Analysis(group=group))
        spec = charts.forest_plot(result.forest, "CR").to_dict()
        scales = [
            layer["encoding"]["color"]["scale"]
            for layer in spec["layer"]
            if "color" in layer.get("encoding", {}) and "scale" in layer["encoding"]["color"]
        ]
        scale = scales[0]
        colours.append(dict(zip(scale["domain"], scale["range"], strict=True))["Relapsed/refractory"])
        headers = result.forest[result.forest["kind"] == "header"]["group"].tolist()
        pooled = result.pooled.set_index(result.pooled.columns[0])
        sizes = [(int(pooled.loc[g, "k"]), int(pooled.loc[g, "n_total"])) for g in headers]
        assert sizes == sorted(sizes, reverse=True), (group, sizes)
    assert len(set(colours)) == 1


def _source_legends(spec: Any) -> list[dict]:
    """The legend of every colour channel coded by NK source, anywhere in a spec."""

    def pick(obj: dict) -> list[dict]:
        color = obj.get("color")
        return [color.get("legend") or {}] if isinstance(color, dict) and color.get("field") == "NK source" else []

    return _collect(spec, pick)


def test_nk_source_legends_fit_a_phone(repo: TrialsRepository) -> None:
    """At 390 px a third legend column ran past the edge (the meta-regression page lost 'iPSC-derived')."""
    per_year = repo.cohorts_per_year(Slice())
    specs = [charts.cohorts_per_year(per_year).to_dict()] + [c.to_dict() for _, c in _point_charts(repo)]
    legends = [legend for spec in specs for legend in _source_legends(spec)]
    assert legends and all(legend.get("columns", 1) <= 2 for legend in legends)
