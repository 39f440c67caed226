"""Behaviours a mutation test showed unguarded (issues 9 and 22): each test fails on the named realistic bug."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats as scipy_stats

from nkdata import dataset, presentation, safe_text, stats
from nkdata.filterspec import FILTERS, TOGGLES
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice
from nkdata.validation import validate_records

from .apptest_helpers import run_app, texts


def _all_rows(repo: TrialsRepository) -> pd.DataFrame:
    return repo.cohorts(Slice(include_superseded=True, include_mixed=True, include_co_transplant=True))


@pytest.mark.parametrize("spec", FILTERS, ids=[f.key for f in FILTERS])
def test_every_filter_keeps_only_its_rows(repo: TrialsRepository, spec) -> None:  # noqa: ANN001
    """Bug: a filter ignored in SQL (the donor filter was)."""
    rows = _all_rows(repo)
    values = rows[spec.column].fillna(spec.null_code) if spec.null_code else rows[spec.column]
    code = values.dropna().value_counts().index[-1]  # the rarest value: a filter that does nothing keeps more
    kept = repo.cohorts(Slice(include_superseded=True, **{spec.field: (code,)}))
    assert len(kept) == int((values == code).sum()) < len(rows), spec.key


def test_funnel_counts_each_step_over_the_previous_ones(repo: TrialsRepository) -> None:
    """Bug: a funnel step that skips a condition or applies all of them at once."""
    chosen = Slice(
        years=(2010, 2021),
        sources=("peripheral_blood", "umbilical_cord_blood"),
        donors=("unrelated", "hsct_donor", "haploidentical"),
        include_mixed=False,
    )
    rows = _all_rows(repo)
    masks = [rows["year"].between(2010, 2021)]
    for spec in FILTERS:
        chosen_codes = getattr(chosen, spec.field)
        column = rows[spec.column].fillna(spec.null_code) if spec.null_code else rows[spec.column]
        masks.append(column.isin(chosen_codes) if chosen_codes else pd.Series(True, index=rows.index))
    for toggle in TOGGLES:
        condition = {
            "mixed": rows["aml_only"].astype(bool),
            "transplant": ~(
                rows["co_transplant"].fillna(False).astype(bool) & (rows["setting"] == "relapsed_refractory")
            ),
            "superseded": rows["superseded_by"].isna(),
        }[toggle.key]
        masks.append(condition | getattr(chosen, toggle.field))
    funnel = repo.filter_funnel(chosen)
    passing = pd.Series(True, index=rows.index)
    expected = []
    for mask in masks:
        passing &= mask.astype(bool)
        expected.append(int(passing.sum()))
    assert funnel["cohorts"].tolist() == expected
    assert len(set(expected)) > 2  # the slice narrows at more than one step


def test_i2_is_floored_at_zero_when_q_is_below_its_degrees_of_freedom() -> None:
    """Bug: I² = (Q - df) / Q without the floor goes negative for homogeneous cohorts."""
    r = stats.pool_proportions([4, 5, 4, 5], [10, 10, 10, 10])
    assert 0 < r.q < r.q_df and r.i2 == 0


def test_forest_weights_use_each_subgroups_own_tau2() -> None:
    """Bug: cohort weights computed with tau² = 0 (or the overall tau²) instead of their subgroup's."""
    rates = stats.cohort_rates(
        pd.DataFrame(
            {
                "cohort_id": list("abcdef"),
                "first_author": list("ABCDEF"),
                "year": [2010] * 6,
                "product": ["P"] * 6,
                "grp": ["x", "x", "x", "y", "y", "y"],
                "events": [1, 9, 4, 2, 3, 2],
                "total": [10, 10, 10, 8, 9, 7],
            }
        ),
        "events",
        "total",
    )
    pooled, _ = stats.pool_by_group(rates, "grp", "events", "total")
    rows = stats.forest_rows(pooled, stats.pool_proportions(rates["events"], rates["total"]), "grp", rates)
    x = rows[(rows["kind"] == "cohort") & (rows["group"] == "x")]
    tau2 = float(pooled.set_index("grp").loc["x", "tau2"])
    assert tau2 > 0
    y, v = stats.logit_and_variance([1, 9, 4], [10, 10, 10])
    expected = (1 / (v + tau2)) / (1 / (v + tau2)).sum()
    assert x["weight"].to_numpy() == pytest.approx(expected)
    assert not np.allclose(expected, (1 / v) / (1 / v).sum())  # the test can tell the two apart


def test_overview_interval_follows_the_chosen_ci_method(fixture_parquet: Path, monkeypatch) -> None:  # noqa: ANN001
    """Bug: the headline interval ignores ?ci= (a single-cohort setting shows that cohort's own interval)."""
    monkeypatch.setenv("NK_TRIALS_PATH", str(fixture_parquet))
    for method in ("clopper-pearson", "wilson"):
        low, high = stats.proportion_ci(3, 6, method)  # delta2018-post: the only post-HSCT cohort, 3/6
        text = texts(run_app({"ci": method}))
        assert f"After HSCT: relapse: 50.0%** (95% CI {100 * low:.1f}%-{100 * high:.1f}%)" in text, method


def test_missing_value_reads_not_reported_and_zero_reads_zero() -> None:
    """Bug: a null shown as 0 (or blank) in a table of numbers."""
    table = presentation.not_reported_text(pd.DataFrame({"days": [np.nan, 0.0, 14.0, 10.5]}), ["days"])
    assert table["days"].tolist() == ["not reported", "0", "14", "10.5"]


def test_validation_branches(records: list[dict]) -> None:
    """Bugs: grade >= 3 GVHD allowed above any GVHD; one study_id in two files; AML-only n_aml != n_treated."""
    import copy

    def issues(changes: dict, cohort: str = "alpha2010-rr", extra: list | None = None) -> set[tuple]:
        rows = copy.deepcopy(records)
        next(r for r in rows if r["cohort_id"] == cohort).update(changes)
        return {(i.field, i.rule) for i in validate_records(rows + (extra or []))}

    assert ("gvhd_grade3plus", "safety_le_treated") in issues({"gvhd_any": 0, "gvhd_grade3plus": 1})
    assert ("n_aml", "aml_le_treated") in issues({"n_aml": 5})  # alpha is AML-only with 10 treated
    twin = {
        **copy.deepcopy(next(r for r in records if r["cohort_id"] == "beta2015-cr")),
        "cohort_id": "beta2015-other",
        "_file": "elsewhere/beta2015.yaml",
    }
    assert ("study_id", "unique_id") in issues({}, extra=[twin])


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Bug: writing in place (a crash leaves a half-written dataset) or leaking the temporary file."""
    target = tmp_path / "trials.parquet"
    target.write_bytes(b"previous")
    table = pq.read_table(Path(__file__).parent.parent / "data" / "trials.parquet")

    def broken(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        Path(args[1]).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(dataset.pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        dataset.write_atomically(table, target)
    assert target.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["trials.parquet"]


def test_subgroup_difference_test_by_hand() -> None:
    """Bug: the between-groups Q weights or centres the subgroup estimates wrongly (a mutant `w / y` survived)."""
    rates = pd.DataFrame({"grp": ["x", "x", "y", "y"], "events": [2, 6, 7, 8], "total": [10, 12, 10, 9]})
    pooled, test = stats.pool_by_group(rates, "grp", "events", "total")
    w = 1 / pooled["se"].to_numpy() ** 2
    y = pooled["logit"].to_numpy()
    mu = np.sum(w * y) / np.sum(w)
    assert test.df == 1 and test.q_between == pytest.approx(float(np.sum(w * (y - mu) ** 2)))
    assert test.p == pytest.approx(float(scipy_stats.chi2.sf(test.q_between, 1)))


def test_count_boundaries_are_allowed(records: list[dict]) -> None:
    """Bug: `>` turned into `>=`: every patient at risk relapsing, or all treated evaluable, is valid."""
    import copy

    rows = copy.deepcopy(records)
    beta = next(r for r in rows if r["cohort_id"] == "beta2015-cr")
    beta.update({"relapse_count": 6, "relapse_at_risk": 6, "n_evaluable": 6, "expansion_count": 5})
    assert validate_records(rows) == []


# ===== Re-run for issue 22: the modules added since (docs/mutation-survivors.md, "Re-run 2026-12-07") =====

# ----- nkdata.safe_text: the escaping boundary -----


def test_one_line_drops_control_characters_instead_of_replacing_them() -> None:
    """Bug: NUL, ESC or DEL replaced by a marker or a space instead of dropped (safe_text one_line 5)."""
    assert safe_text.one_line("Kim\x00 et\x1b al\x7f.\r\n2020") == "Kim et al. 2020"


def test_md_text_of_a_missing_value_is_empty() -> None:
    """Bug: a missing label or caption shown as 'None' or a placeholder (md_text 2)."""
    assert safe_text.md_text(None) == ""


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "https://a.org/x) [y](https://evil.example", None, 42],
)
def test_md_link_with_an_unsafe_url_is_only_the_escaped_label(url: object) -> None:
    """Bug: the link written whatever its target (md_link 6 wrote '[label](None)')."""
    assert safe_text.md_link("Kim [2020]", url) == r"Kim \[2020\]"
    assert (
        safe_text.md_link("Kim [2020]", "https://doi.org/10.1000/x.1") == r"[Kim \[2020\]](https://doi.org/10.1000/x.1)"
    )


def test_line_safe_writes_nothing_for_a_missing_value() -> None:
    """Bug: a missing RIS value written as 'None' or 'nan', or a float value crashing the export (line_safe 1,
    4, 5)."""
    assert safe_text.line_safe(None) == ""
    assert safe_text.line_safe(float("nan")) == ""
    assert safe_text.line_safe(2019.0) == "2019.0"
    assert safe_text.line_safe(" Blood\n2020 ") == "Blood 2020"


def test_bibtex_url_keeps_the_url_whole_and_encodes_what_would_end_the_group() -> None:
    """Bug: the URL's own characters percent-encoded (https%3A//...: a dead link) or the URL dropped (bibtex_url
    4, 5)."""
    url = "https://www.example.org/abstract?id=7&lang=en#results"
    assert safe_text.bibtex_url(url) == url
    assert safe_text.bibtex_url("https://a.org/x}\\y{z w") == "https://a.org/x%7D%5Cy%7Bz%20w"
    assert safe_text.bibtex_url("https://a.org/x\n@misc{evil,") == "https://a.org/x%20@misc%7Bevil,"
