"""No silent analysis state: every page x every analysis choice of the link (datasette's "docs test the code",
applied to pages). When a choice changes a number in a page's main area, the page must name it there: its
control shows the value, or its text names the choice's label; and counts in captions add up under exclusions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dashboard import PAGES
from nkdata import vocabulary as voc
from nkdata.dataset import records_to_table
from nkdata.dictionary import FIELDS
from nkdata.filterspec import TOGGLES
from nkdata.safe_text import md_plain
from nkdata.slices import CI_METHODS, DENOMINATORS, EXCLUSIONS, LANDMARKS, MODELS, PERSISTENCE_ROWS, POOL_METHODS

from .apptest_helpers import chart_rows, run_app
from .page_harness import cohort

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LINK = re.compile(r"(?:https?://|\?)[^\s)]*")  # the Share box's link carries the link's own values


def _records() -> list[dict]:
    """Cohorts that make every choice matter: grey literature, review-only and converted counts, a mixed and a
    superseded cohort, two settings and three sources, relapse with follow-up, expansion, persistence, survival."""

    def c(cid: str, **fields: object) -> dict:
        study = cid.rsplit("-", 1)[0]
        return cohort(cohort_id=cid, study_id=study, first_author=study[:-4].title(), year=int(study[-4:]), **fields)

    surv = [
        {"endpoint": "os", "landmark_months": 24.0, "estimate_pct": 40.0, "note": "x"},
        {"endpoint": "os", "landmark_months": 12.0, "estimate_pct": 60.0, "note": "x"},
        {"endpoint": "lfs", "landmark_months": 24.0, "estimate_pct": 30.0, "note": "x"},
    ]
    common = {"survival": surv, "median_followup_months": 12.0, "crs_any": 1}
    return [
        c(
            "alpha2010-a",
            n_treated=10,
            n_evaluable=8,
            cr_count=4,
            relapse_count=1,
            relapse_at_risk=4,
            expansion_count=3,
            expansion_evaluated=8,
            max_persistence_days=30.0,
            from_review=["cr_count"],
            **common,
        ),
        c(
            "beta2012-a",
            nk_source="cell_line",
            product="CAR NK",
            product_class="car_engineered",
            car_target="CD33",
            publication_type="conference_abstract",
            n_treated=12,
            n_evaluable=10,
            cr_count=8,
            relapse_count=5,
            relapse_at_risk=8,
            expansion_count=9,
            expansion_evaluated=10,
            max_persistence_days=60.0,
            **common,
        ),
        c(
            "gamma2014-a",
            nk_source="umbilical_cord_blood",
            product="Cord NK",
            product_class="expanded",
            n_treated=9,
            n_evaluable=9,
            cr_count=1,
            relapse_count=1,
            relapse_at_risk=1,
            expansion_count=1,
            expansion_evaluated=9,
            max_persistence_days=14.0,
            converted_from_percent=["cr_count"],
            **common,
        ),
        c(
            "delta2016-a",
            product_class="memory_like",
            setting="consolidation_in_cr",
            n_treated=8,
            n_evaluable=6,
            cr_count=5,
            relapse_count=3,
            relapse_at_risk=5,
            expansion_count=4,
            expansion_evaluated=6,
            max_persistence_days=90.0,
            **common,
        ),
        c(
            "eps2018-a",
            aml_only=False,
            diagnosis_mix="AML and MDS",
            n_treated=6,
            n_evaluable=5,
            cr_count=1,
            relapse_count=1,
            relapse_at_risk=1,
            expansion_count=1,
            expansion_evaluated=5,
            max_persistence_days=20.0,
            **common,
        ),
        c(
            "zeta2019-a",
            nk_source="cell_line",
            product="NK line",
            publication_type="company_report",
            n_treated=7,
            n_evaluable=7,
            cr_count=6,
            relapse_count=2,
            relapse_at_risk=6,
            expansion_count=6,
            expansion_evaluated=7,
            max_persistence_days=45.0,
            from_review=["relapse_count", "expansion_count"],
            **common,
        ),
        c(
            "eta2009-a",
            superseded_by="alpha2010-a",
            n_treated=5,
            n_evaluable=5,
            cr_count=3,
            relapse_count=2,
            relapse_at_risk=3,
            max_persistence_days=10.0,
            **common,
        ),
        c(
            "theta2020-a",
            setting="consolidation_in_cr",
            nk_source="cell_line",
            product="NK line",
            n_treated=11,
            n_evaluable=11,
            cr_count=9,
            relapse_count=1,
            relapse_at_risk=9,
            expansion_count=2,
            expansion_evaluated=11,
            max_persistence_days=7.0,
            **common,
        ),
    ]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    records = [{f.name: r.get(f.name, [] if f.dtype.endswith("list") else None) for f in FIELDS} for r in _records()]
    path = tmp_path_factory.mktemp("analysis_state") / "trials.parquet"
    pq.write_table(records_to_table(records), path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NK_TRIALS_PATH", str(path))
        yield path


# Every analysis key of the link with a non-default value, and the label a page names it by (from the app's own
# vocabularies: the words a reader sees in its controls and notes).
CHOICES: list[tuple[str, str, str, str]] = [
    # (link key, value, Analysis attribute or toggle field, label a reader sees)
    *[("exclude", code, "exclude", label) for code, label in EXCLUSIONS.items()],
    ("pool", "DL", "pool", POOL_METHODS["DL"]),
    ("ci", "wilson", "ci", CI_METHODS["wilson"]),
    ("denom", "evaluable", "denom", DENOMINATORS["evaluable"]),
    ("model", "fixed", "model", MODELS["fixed"]),
    ("group", "nk_source", "group", voc.GROUPINGS["nk_source"]),
    ("overall", "1", "overall", "pooled across groups"),
    ("rows", "nk_source", "rows", PERSISTENCE_ROWS["nk_source"]),
    ("endpoint", "lfs", "endpoint", voc.ENDPOINTS["lfs"]),
    ("landmark", "12", "landmark", LANDMARKS["12"]),
    *[
        (t.key, "0" if t.default else "1", t.field, t.label.lower().replace("include ", "") + suffix)
        for t in TOGGLES
        for suffix in (" left out" if t.default else " included",)
    ],
]
TRIAL_PAGES = [f"pages/{p.module}.py" for p in PAGES if not p.registry]


def _main_text(at) -> str:  # noqa: ANN001
    main = at.main
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error") for e in getattr(main, kind)]
    parts += [f"{m.label} {m.value}" for m in main.metric]
    parts += [e.value for e in main.get("subheader")] + [e.value for e in main.get("title")]
    return md_plain("\n".join(parts))


def _numbers(at) -> list[str]:  # noqa: ANN001
    """Every number in the page's main area: texts, metrics, tables and chart data."""
    found = _NUMBER.findall(_LINK.sub("", _main_text(at)))
    for frame in at.main.dataframe:
        found += _NUMBER.findall(frame.value.to_csv(index=False))
    for rows in chart_rows(at):
        found += _NUMBER.findall(json.dumps(sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)))
    return found


def _named(at, base, attribute: str, value: str, label: str) -> bool:  # noqa: ANN001
    """The page shows a control for the choice holding the value, or names its label more often than before."""
    for widget in at.main.get("selectbox") + at.main.get("multiselect") + at.main.get("toggle"):
        if getattr(widget, "key", None) == f"w_{attribute}":
            shown = widget.value
            return value in shown if isinstance(shown, list) else str(shown).lower() in (value.lower(), "true")
    text, before = _main_text(at).lower(), _main_text(base).lower()
    return text.count(label.lower()) > before.count(label.lower())


@pytest.fixture(scope="module")
def baselines(dataset: Path) -> dict[str, object]:
    return {page: run_app(page=page) for page in TRIAL_PAGES}


CHANGES: dict[str, set[str]] = {}


FAST = {("exclude", "grey")}  # the bug runs in the fast suite; the whole walk (about 5 minutes) is slow


@pytest.mark.parametrize(
    ("key", "value", "attribute", "label"),
    [pytest.param(*c, marks=() if c[:2] in FAST else pytest.mark.slow) for c in CHOICES],
    ids=[f"{c[0]}={c[1]}" for c in CHOICES],
)
def test_no_page_changes_a_number_without_naming_the_choice(
    baselines: dict[str, object], key: str, value: str, attribute: str, label: str
) -> None:
    silent = []
    for page in TRIAL_PAGES:
        at = run_app({key: value}, page=page)
        if _numbers(at) != _numbers(baselines[page]):
            CHANGES.setdefault(f"{key}={value}", set()).add(page)
            if not _named(at, baselines[page], attribute, value, label):
                silent.append(page)
    assert not silent, f"?{key}={value} changes numbers on {silent} without naming '{label}' there"


@pytest.mark.slow
def test_the_walk_has_teeth() -> None:
    """The dataset makes every choice that changes numbers change some page (else the walk above tests nothing)."""
    if len(CHANGES) < len(CHOICES) // 2:
        pytest.skip("runs after the whole walk (-m slow)")
    quiet = {f"{k}={v}" for k, v, _, _ in CHOICES} - set(CHANGES) - {"rows=nk_source"}  # rows only re-encodes
    assert not quiet, f"no page changed for {quiet}"
    assert "pages/relapse.py" in CHANGES["exclude=grey"] and "pages/overview.py" in CHANGES["exclude=grey"]


_CAPTION = re.compile(
    r"Shows (\d+) of (\d+) primary cohorts.*?; (?:(\d+) cohort\(s\) left out by the sensitivity choice; )?"
    r"(\d+) cohort\(s\) did not report"
)


@pytest.mark.parametrize("page", ["pages/outcomes.py", "pages/relapse.py", "pages/persistence.py"])
@pytest.mark.parametrize("exclude", [[], ["grey"], ["grey", "review", "converted"]])
def test_caption_counts_add_up_and_match_the_forest_rows_under_exclusions(
    dataset: Path, page: str, exclude: list[str]
) -> None:
    at = run_app({"exclude": exclude} if exclude else {}, page=page)
    captions = [m for c in at.main.caption if (m := _CAPTION.search(md_plain(c.value)))]
    assert captions, page
    shown, total, left_out, not_reported = (int(x or 0) for x in captions[0].groups())
    assert shown + left_out + not_reported == total
    forest = chart_rows(at)[0]
    assert shown == len([r for r in forest if r["kind"] == "cohort"])
    assert (left_out > 0) == bool(exclude)
    if page == "pages/relapse.py" and exclude:  # the follow-up chart leaves out what the forest leaves out
        drawn = {(r["events"], r["total"]) for r in forest if r["kind"] == "cohort"}
        follow_up = {(round(r["rate"] * r["relapse_at_risk"]), r["relapse_at_risk"]) for r in chart_rows(at)[1]}
        assert follow_up == drawn and (5, 8) not in follow_up  # beta2012-a, a conference abstract
