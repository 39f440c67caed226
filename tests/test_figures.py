"""Paper-ready figures: what is exported must carry every label in full, the numbers as text, and the caption."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from nkdata import charts, figures, stats

LONG = [
    (
        "Nguyen-Villalobos-Hernández 2023 - FATE-NK100 off-the-shelf iPSC-derived NK cells with a high-affinity "
        "non-cleavable CD16 and an IL-15 receptor fusion, after fludarabine & cyclophosphamide"
    ),
    "Miller 2005 - Haploidentical IL-2 activated NK cells <after> Hi-Cy/Flu lymphodepletion in poor-prognosis AML",
    "Short 2010",
    "Björklund 2018 - Supercalifragilisticexpialidociouslylongproductnamewithoutanyspacesatall-v2 cells",
]
GROUP_LABELS = {
    "a": "Haploidentical peripheral-blood NK cells from a KIR-ligand-mismatched related donor",
    "b": "Off-the-shelf products",
    "All": "All",
}
CAPTION = {
    "title": "Complete remission after NK-cell therapy",
    "filter_summary": "NK source: all; setting: relapsed/refractory; years 2005-2024; primary cohorts only",
    "data_version": "dataset 2026.11.29 (sha256 1a2b3c4d)",
    "source": "NK-AML Evidence Dashboard",
}


def _rows() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cohort_id": ["c0", "c1", "c2", "c3"],
            "first_author": ["N", "M", "S", "B"],
            "year": [2023, 2005, 2010, 2018],
            "product": ["P"] * 4,
            "grp": ["a", "a", "a", "b"],
            "cr_count": [2, 9, 1, 3],
            "n_evaluable": [9, 12, 10, 7],
        }
    )
    rates = stats.cohort_rates(frame, "cr_count", "n_evaluable")
    pooled, _ = stats.pool_by_group(rates, "grp", "cr_count", "n_evaluable")
    overall = stats.pool_proportions(rates["cr_count"], rates["n_evaluable"])
    rows = stats.forest_rows(pooled, overall, "grp", rates, "cr_count", "n_evaluable")
    rows["group_label"] = rows["group"].map(GROUP_LABELS)
    by_id = dict(zip(frame["cohort_id"], LONG, strict=True))
    rows["study"] = rows["cohort_id"].map(by_id)
    rows["setting"] = [
        "Relapsed or refractory AML after two or more lines of salvage chemotherapy",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ][: len(rows)]
    return rows


@pytest.fixture(scope="module")
def figure() -> figures.alt.HConcatChart:
    return figures.forest_figure(_rows(), **CAPTION, value_title="CR rate", label_chars=40)


@pytest.fixture(scope="module")
def svg_texts(figure) -> list[str]:
    root = ET.fromstring(figures.export_chart(figure, "svg"))
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text") or el.tag == "text"]


def _squash(text: str) -> str:
    return "".join(text.split())


def test_svg_has_every_full_label(svg_texts: list[str]) -> None:
    """Wrapped lines are separate text elements: joined (whitespace ignored) each label appears whole."""
    joined = _squash("".join(svg_texts))
    for label in [
        *LONG,
        GROUP_LABELS["a"],
        "Relapsed or refractory AML after two or more lines of salvage chemotherapy",
    ]:
        assert _squash(label) in joined, label
    assert not any("\u2026" in t for t in svg_texts)  # never cut with an ellipsis
    assert _squash(LONG[0]) not in {_squash(t) for t in svg_texts}  # wrapped, not one line over the next column


def test_svg_has_counts_intervals_and_weights(svg_texts: list[str]) -> None:
    for counts in ("2/9", "9/12", "1/10", "3/7", "12/31", "15/38"):
        assert counts in svg_texts
    assert "22.2 [2.8; 60.0]" in svg_texts  # 2/9 with its Clopper-Pearson interval
    assert {"Study", "Events/N", "% [95% CI]", "Weight", "CR rate"} <= set(svg_texts)
    assert "Prediction interval" in svg_texts
    assert any(t.endswith("%") and t[:-1].replace(".", "").isdigit() for t in svg_texts)


def test_svg_has_the_caption(svg_texts: list[str]) -> None:
    joined = _squash("".join(svg_texts))
    assert CAPTION["title"] in svg_texts
    for part in ("filter_summary", "data_version", "source"):
        assert _squash(CAPTION[part]) in joined


def test_layout_rows_line_up_and_labels_are_not_cut() -> None:
    marks, texts = figures.forest_layout(_rows(), label_chars=40)
    assert (texts.loc[texts["column"] == "study", "text"].str.len() <= 50).all()
    counts = texts[(texts["column"] == "n") & (texts["style"] != "header")]
    assert sorted(counts["y"]) == sorted(marks.loc[marks["kind"] != "pi", "y"])  # n/N on the line of its mark
    assert list(marks["kind"]).count("pi") == (_rows()["pi_low"] < _rows()["ci_low"] - 1e-9).sum()
    headers = texts[texts["style"] == "group"]
    first_cohort = marks[marks["kind"] == "cohort"]["y"].min()
    assert headers["y"].min() < first_cohort and texts["y"].min() == 0


def test_pdf_renders(figure, tmp_path: Path) -> None:
    pdf = figures.export_chart(figure, "pdf")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) must be installed in CI")
        pytest.skip("pdftoppm not installed here")
    (tmp_path / "f.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(tmp_path / "f.pdf"), str(tmp_path / "page")], check=True)
    pages = list(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and _png_size(pages[0].read_bytes())[0] > 300


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_signature_and_size(figure) -> None:
    width, height = _png_size(figures.export_chart(figure, "png"))
    assert 1400 < width < 4000 and 800 < height < 6000
    small_width, _ = _png_size(figures.export_chart(figure, "png", scale=1))
    assert small_width == pytest.approx(width / 2, abs=2)


def test_any_chart_with_container_width_exports_at_a_fixed_width() -> None:
    per_year = pd.DataFrame(
        {"year": [2010, 2011], "nk_source": ["peripheral_blood", "cord_blood"], "cohorts": [2, 3], "patients": [20, 30]}
    )
    chart = figures.with_caption(
        charts.cohorts_per_year(per_year),
        "Cohorts per year",
        ["Filters: all " + "and a long explanation " * 12, "Source: NK-AML"],
    )
    width, _ = _png_size(figures.export_chart(chart, "png", scale=1))
    assert figures.DEFAULT_EXPORT_WIDTH <= width < figures.DEFAULT_EXPORT_WIDTH + 200
    texts = ET.fromstring(figures.export_chart(chart, "svg")).iter()
    joined = _squash("".join("".join(el.itertext()) for el in texts if el.tag.endswith("text")))
    assert _squash("Filters: all " + "and a long explanation " * 12) in joined


def test_unknown_format_is_refused(figure) -> None:
    with pytest.raises(ValueError):
        figures.export_chart(figure, "jpeg")


def test_diamonds_only_figure_for_a_large_slice() -> None:
    """forest_rows without cohorts (too many to draw) still gives a figure with every pooled row."""
    rows = _rows()
    diamonds = rows[rows["kind"] != "cohort"]
    marks, _ = figures.forest_layout(diamonds)
    assert set(marks["kind"]) == {"pooled", "overall", "pi"}
    svg = figures.export_chart(figures.forest_figure(diamonds, **CAPTION), "svg").decode()
    assert "Overall (k=4, N=38)" in svg and "Pooled (k=3, N=31)" in svg


def test_exported_default_forest_has_every_cohort_label_and_count(repo) -> None:  # noqa: ANN001
    """The figure a user downloads from the default Remission view (pooled within settings) names every cohort
    in full with its n/N, and each group header; header rows of the interactive chart are not drawn twice."""
    from nkdata import analysis
    from nkdata.slices import Analysis, Slice

    result = analysis.cr_analysis(repo, Slice(include_superseded=True), Analysis())
    rows = result.forest[result.forest["kind"] != "header"]
    chart = figures.forest_figure(rows, title="CR", filter_summary="all cohorts", data_version="test", source="test")
    root = ET.fromstring(figures.export_chart(chart, "svg"))
    joined = _squash("".join(t.text or "" for t in root.iter() if t.tag.endswith("text")))
    cohorts = rows[rows["kind"] == "cohort"]
    assert len(cohorts) == 4
    for label, events, total in zip(cohorts["label"], cohorts["events"], cohorts["total"], strict=True):
        study = label.rsplit(" (", 1)[0]
        assert _squash(study) in joined, study
        assert f"{events}/{total}" in joined
    assert "Relapsed/refractory" in joined
