"""Issue 22: hostile values never render (link, search, path, every data field), exports are formula-safe and
line-safe, and the boundaries and supersession chains the build must get right."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from nkdata import exports, presentation
from nkdata.dataset import build
from nkdata.issues import DatasetError
from nkdata.repository import TrialsRepository
from nkdata.safe_text import bibtex_value, csv_safe, line_safe, md_plain, md_text
from nkdata.slices import MAX_VALUE_LENGTH, MAX_VALUES_PER_KEY, Slice, Vocabulary, parse_query_params
from nkdata.validation import validate_records

from .apptest_helpers import run_app
from .conftest import FIXTURE_STUDIES
from .hostile import HOSTILE_ID, HOSTILE_LINK, HOSTILE_TEXT, MD_IMAGE, MD_LINK, hostile_record, live_markdown
from .hostile import write_dataset as write_hostile

MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "subheader", "title", "expander")


def _rendered_markdown(at) -> list[str]:  # noqa: ANN001
    """Every string the page sends to a Markdown renderer: element bodies, labels and help texts."""
    out = []
    for kind in MARKDOWN_ELEMENTS:
        for element in at.get(kind):
            proto = element.proto
            for attribute in ("body", "label", "help"):
                value = getattr(proto, attribute, "")
                if isinstance(value, str) and value:
                    out.append(value)
    for metric in at.get("metric"):
        out += [metric.proto.label, metric.proto.help]
    for widget in at.get("selectbox") + at.get("multiselect") + at.get("toggle") + at.get("text_input"):
        out += [widget.proto.label, widget.proto.help]
    return [s for s in out if s]


# ---- md_text and friends ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HOSTILE_TEXT, MD_LINK, MD_IMAGE, "# heading", "- item", "1. item", "> quote", "a\nb", "_x_ *y* `z`", "x@y.org"],
)
def test_md_text_reads_as_its_text_and_renders_nothing(text: str) -> None:
    escaped = md_text(text)
    assert live_markdown(escaped) == [] and "\n" not in escaped
    assert md_plain(escaped) == text.replace("\n", " ")
    assert not re.match(r"\s*(?:[#>+=|-]|\d+[.)])", escaped.replace("\\", "\\\\"))  # no block starts


def test_md_text_keeps_ordinary_text_as_it_is() -> None:
    for text in ("2019-05-01", "nk_source", "CD33 CAR NK-92 (n = 12), 38.7%", "Relapsed/refractory"):
        assert md_text(text) == text


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("https://e","x")'])
def test_csv_safe_prefixes_formulas_and_leaves_numbers(value: str) -> None:
    assert csv_safe(value) == "'" + value
    assert csv_safe(-1) == -1 and csv_safe(2.5) == 2.5 and csv_safe(None) is None and csv_safe("a=1") == "a=1"


# ---- data fields in the app (AppTest) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_dataset(fixture_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture cohorts plus one hostile cohort, as an operator's own Parquet (not validated by a build)."""
    records = pq.read_table(fixture_parquet).to_pylist() + [hostile_record()]
    return write_hostile(tmp_path_factory.mktemp("hostile") / "trials.parquet", records)


def test_validation_rejects_the_hostile_record_and_warns_on_formulas(hostile_dataset: Path) -> None:
    from nkdata.dataset import read_parquet_records

    record = next(r for r in read_parquet_records(hostile_dataset) if r["cohort_id"] == HOSTILE_ID)
    issues = validate_records([record], whole_dataset=False)
    errors = {(i.field, i.rule) for i in issues if i.is_error}
    assert {("doi", "doi_format"), ("pmid", "pmid_format"), ("nct_ids", "nct_format")} <= errors
    assert ("source_url", "url_format") in errors
    warnings = {(i.field, i.rule) for i in issues if not i.is_error}
    assert {("product", "formula_like_text"), ("journal", "formula_like_text"), ("notes", "formula_like_text")} <= (
        warnings
    )


@pytest.mark.parametrize(
    "page", ["pages/studies.py", "pages/overview.py", "pages/outcomes.py", "pages/relapse.py", "pages/about.py"]
)
def test_hostile_data_fields_never_render_in_cards_tables_and_captions(
    hostile_dataset: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(hostile_dataset))
    at = run_app({"cohort": HOSTILE_ID, "q": "evil"} if page == "pages/studies.py" else {"cohort": HOSTILE_ID}, page)
    rendered = _rendered_markdown(at)
    card = next(e for e in at.get("dialog") if "Where the numbers came from" in e.proto.dialog.title)
    assert "Evil" in md_plain(card.proto.dialog.title)  # the card is open, with the hostile cohort's fields
    assert not live_markdown(card.proto.dialog.title), card.proto.dialog.title  # its title renders Markdown too
    assert any("Heading" in s for s in rendered)  # the extraction note is shown
    assert [(s[:80], live_markdown(s)) for s in rendered if live_markdown(s)] == []
    if page == "pages/studies.py":
        table = at.dataframe[0].value
        links = [u for c in ("DOI", "PubMed", "ClinicalTrials.gov", "Source", "Page read") for u in table[c] if u]
        assert all(u.startswith("https://") and not re.search(r"[()\[\]\s]", u) for u in links), links


def test_hostile_link_parameters_and_search_never_render(
    fixture_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))
    for page in (None, "pages/studies.py", "pages/outcomes.py"):
        at = run_app(HOSTILE_LINK, page)
        rendered = _rendered_markdown(at)
        assert any("Parts of the link were ignored" in s for s in rendered)
        assert any("Sign in again" in s for s in rendered)  # echoed, as text
        assert [(s[:80], live_markdown(s)) for s in rendered if live_markdown(s)] == []


def test_csv_download_cells_are_formula_safe(hostile_dataset: Path) -> None:
    """The Studies CSV (and every view's CSV goes through the same export_csv): every text cell is checked."""
    repo = TrialsRepository(hostile_dataset)
    rows = repo.found_cohorts(Slice(include_superseded=True), "")
    data = presentation.export_csv(rows)
    cells = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, body = cells[0], cells[1:]
    assert len(body) == len(rows) and all(len(r) == len(header) for r in body)
    numeric = {
        c for c in rows.columns if pd.api.types.is_numeric_dtype(rows[c]) and not pd.api.types.is_bool_dtype(rows[c])
    }
    assert not [c for c in header if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    for row in body:
        for name, cell in zip(header, row, strict=True):
            if name in numeric and cell:
                float(cell)  # numbers stay numbers (a negative number would not be prefixed either)
            else:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    hostile = dict(zip(header, next(r for r in body if r[header.index("cohort_id")] == HOSTILE_ID), strict=True))
    assert hostile["product"] == '\'=HYPERLINK("https://evil.example","click")'
    assert hostile["journal"].startswith("'@SUM")


def test_registry_csv_is_formula_safe() -> None:
    from nkdata.ctgov import to_ctgov_frame
    from nkdata.safe_text import csv_bytes

    frame = pd.DataFrame({"x": ["=cmd", "ok", "-2"], "n": [1, -2, 3]})
    assert list(csv.reader(io.StringIO(csv_bytes(frame).decode()))) == [
        ["x", "n"],
        ["'=cmd", "1"],
        ["ok", "-2"],
        ["'-2", "3"],
    ]
    assert callable(to_ctgov_frame)  # the page's download is csv_bytes(to_ctgov_frame(rows))


# ---- RIS and BibTeX -----------------------------------------------------------------------------------------


def test_ris_values_stay_on_one_line_and_inject_no_tag(hostile_dataset: Path) -> None:
    rows = TrialsRepository(hostile_dataset).found_cohorts(Slice(), "hostile")
    ris = exports.to_ris(rows)
    lines = [line for line in ris.splitlines() if line]
    tags = [line[:6] for line in lines]
    assert tags.count("ER  - ") == 1 and tags.count("TY  - ") == 1 and len(lines) == len(set(tags))
    assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in lines)


def _balanced(value: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", value):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_bibtex_fields_cannot_close_or_run_commands(hostile_dataset: Path) -> None:
    rows = TrialsRepository(hostile_dataset).found_cohorts(Slice(), "hostile")
    bib = exports.to_bibtex(rows)
    entry = bib.strip()
    assert entry.count("\n@") == 0 and entry.startswith("@article{hostile2020,")
    fields = entry.splitlines()[1:-1]
    assert all(re.match(r"^  [a-z]+ = \{.*\},?$", f) for f in fields), fields  # one line per field
    for field in fields:
        value = field.split(" = ", 1)[1].rstrip(",")[1:-1]
        assert _balanced(value), field
    assert "\\input" not in bib.replace("\\textbackslash{}input", "")
    assert bibtex_value("a}b{c\\d\ne") == r"a\}b\{c\textbackslash{}d e"
    assert line_safe("a\r\nb\u2028c") == "a b c"


# ---- boundaries ----------------------------------------------------------------------------------------------

VOCAB = Vocabulary({"products": frozenset({"X"}), "car_targets": frozenset()}, (2005, 2026))


def test_repeated_cohort_keeps_the_last_existing_value_and_bounds_repeats() -> None:
    exists = {"a-1", "b-2"}.__contains__
    view, notices = parse_query_params({"cohort": ["a-1", "b-2"]}, VOCAB, exists)
    assert view.cohort == "b-2" and notices == []
    view, notices = parse_query_params({"cohort": ["a-1", "nope"]}, VOCAB, exists)
    assert view.cohort is None and len(notices) == 1 and "no cohort" in notices[0]
    view, notices = parse_query_params({"cohort": ["a-1"] * (MAX_VALUES_PER_KEY + 5)}, VOCAB, exists)
    assert view.cohort == "a-1" and len(notices) == 1 and "5 values beyond" in notices[0]
    view, notices = parse_query_params({"cohort": "a" * (MAX_VALUE_LENGTH + 1)}, VOCAB, lambda _: True)
    assert view.cohort is None and "over-long" in notices[0]


@pytest.mark.parametrize(("nct", "ok"), [("NCT01234567", True), ("NCT012345678", False), ("NCT0123456", False)])
def test_nct_ids_have_exactly_eight_digits(records: list[dict], nct: str, ok: bool) -> None:
    record = next(r for r in records if r["cohort_id"] == "alpha2010-rr")
    record["nct_ids"] = [nct]
    rules = {i.rule for i in validate_records(records)}
    assert ("nct_format" not in rules) == ok


# ---- supersession at build ---------------------------------------------------------------------------------

FIRST_ABSTRACT = """# FICTIONAL fixture: the first of three reports of the same patients (A -> B -> C).
study_id: gamma2020
first_author: Gamma
year: 2020
title: Fixture first abstract of CD33 CAR NK-92 cells
journal: Fixture Meeting
publication_type: conference_abstract
design: prospective_trial
source_url: https://example.org/gamma2020
source_section: abstract
cohorts:
  - cohort_id: gamma2020-rr
    superseded_by: {target}
    nk_source: cell_line
    product: CD33 CAR NK-92
    product_class: car_engineered
    car_target: CD33
    donor_type: off_the_shelf
    setting: relapsed_refractory
    population: adult
    aml_only: true
    n_treated: 3
    cr_count: 1
    survival:
      - endpoint: os
        landmark_months: 3
        estimate_pct: 100
        note: fixture - only the first abstract gives 3-month OS
      - endpoint: os
        landmark_months: 6
        estimate_pct: 90
        note: fixture - the interim abstract repeats this landmark, so its value wins
    extraction_note: First abstract of the patients reported again in gamma2021 and gamma2022.
    notes: {{n_treated: fixture, cr_count: fixture}}
"""


def _source_with_first_abstract(tmp_path: Path, target: str) -> Path:
    source = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, source)
    (source / "gamma2020.yaml").write_text(FIRST_ABSTRACT.format(target=target), encoding="utf-8")
    return source


def test_two_step_supersession_chain_carries_the_oldest_report_into_the_newest(tmp_path: Path) -> None:
    """A (gamma2020-rr) superseded by B (gamma2021-rr) superseded by C (gamma2022-high)."""
    out = tmp_path / "trials.parquet"
    build(_source_with_first_abstract(tmp_path, "gamma2021-rr"), out)
    rows = {r["cohort_id"]: r for r in pq.read_table(out).to_pylist()}
    newest = rows["gamma2022-high"]
    entries = {(e["endpoint"], e["landmark_months"]): e for e in newest["survival"]}
    assert entries[("os", 3.0)]["source_cohort"] == "gamma2020-rr"  # only A has it: carried over two steps
    assert entries[("os", 6.0)]["source_cohort"] == "gamma2021-rr"  # B and A both have it: the newer B wins
    assert entries[("os", 6.0)]["estimate_pct"] == 60.0
    assert entries[("os", 12.0)]["source_cohort"] == "gamma2022-high"  # C's own value is never replaced
    assert rows["gamma2020-rr"]["superseded_by"] == "gamma2021-rr"
    repo = TrialsRepository(out)
    pooled = repo.rate_counts(Slice(include_superseded=True), "setting", "cr_count", "n_treated", ())
    assert int(pooled["cohorts"].sum()) == 5  # the two superseded reports are never pooled, even when shown
    assert len(repo.cohorts(Slice(include_superseded=True))) == 7


def test_a_dangling_superseded_by_fails_the_build_and_keeps_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "trials.parquet"
    build(FIXTURE_STUDIES, out)
    before = out.read_bytes()
    with pytest.raises(DatasetError) as err:
        build(_source_with_first_abstract(tmp_path, "gamma2099-nowhere"), out)
    assert [(i.study_id, i.field, i.rule) for i in err.value.issues] == [
        ("gamma2020", "superseded_by", "superseded_target_exists")
    ]
    assert "gamma2099-nowhere" in str(err.value) and out.read_bytes() == before


def test_a_formula_like_title_warns_but_builds(tmp_path: Path) -> None:
    source = tmp_path / "studies"
    shutil.copytree(FIXTURE_STUDIES, source)
    path = source / "alpha2010.yaml"
    text = path.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    path.write_text(text.replace(title, 'title: "=1+1 looks like a formula"'))
    table = build(source, tmp_path / "trials.parquet")
    assert "=1+1 looks like a formula" in table.column("title").to_pylist()


def test_equivalent_searches_share_one_cache_key(repo: TrialsRepository) -> None:
    from nkdata.repository import search_key

    assert search_key("nk") == search_key("NK") == search_key("nk  nk") == "nk"
    assert search_key("Cord  blood cord") == search_key("blood cord") == "blood cord"
    found, matches = repo.search_cohorts(Slice(), "fixture  Fixture cord", 100)
    keyed, keyed_matches = repo.search_cohorts(Slice(), search_key("fixture  Fixture cord"), 100)
    assert matches == keyed_matches > 0 and found["cohort_id"].tolist() == keyed["cohort_id"].tolist()
