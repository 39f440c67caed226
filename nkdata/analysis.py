"""Page-ready analyses: named queries combined with the statistics, so pages only lay out.

Each function returns the numbers a page shows together with the counts its
caption needs (cohorts shown, patients, cohorts "not reported"), computed in
one place so a chart and its caption can never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from nkdata import stats
from nkdata import vocabulary as voc
from nkdata.slices import Analysis, Slice

if TYPE_CHECKING:
    from nkdata.repository import TrialsRepository

# Above this many cohorts a forest plot cannot be read (or drawn quickly): the cohort rows are
# left out and only the pooled diamonds are drawn; the caption says so.
MAX_FOREST_COHORTS = 250

CR_DENOMINATORS = {"evaluable": "n_evaluable", "treated": "n_treated"}
# Columns a per-cohort rate row carries for labels, tooltips and the follow-up scatter.
_LABEL_COLUMNS = ["cohort_id", "first_author", "year", "product", "nk_source", "setting", "relapse_at_risk",
                  "median_followup_months"]


def group_label(group: str, code: object) -> str:
    """Display label of a group code (products are their own label)."""
    if not isinstance(code, str):
        return voc.NOT_REPORTED_LABEL
    return voc.label(voc.GROUP_VOCABULARIES.get(group, {}), code)


@dataclass(frozen=True)
class RateAnalysis:
    """Per-cohort proportions with intervals, pooled per group and overall.

    ``rates`` keeps at most MAX_POINTS cohorts (largest first) so a cached result stays small;
    the counts cover every cohort."""

    events: str
    totals: str
    group: str
    rates: pd.DataFrame
    forest: pd.DataFrame
    pooled: pd.DataFrame
    overall: stats.PooledResult
    test: stats.SubgroupTest
    cohorts_in_slice: int
    cohorts_not_reported: int
    forest_truncated: bool
    cohorts_shown: int
    patients_shown: int


def rate_analysis(cohorts: pd.DataFrame, events: str, totals: str, group: str, analysis: Analysis,
                  level: float = 0.95) -> RateAnalysis:
    """Intervals, forest rows, pooled estimates per group and overall, and the subgroup test."""
    rates = stats.cohort_rates(cohorts, events, totals, analysis.ci, level, keep=[*_LABEL_COLUMNS, group])
    pooled, test = stats.pool_by_group(rates, group, events, totals, analysis.pool, level, analysis.ci)
    if not pooled.empty:
        pooled.insert(1, "label", [group_label(group, g) for g in pooled[group]])
    overall = stats.pool_proportions(rates[events].tolist(), rates[totals].tolist(), analysis.pool, level, analysis.ci)
    truncated = len(rates) > MAX_FOREST_COHORTS
    forest = stats.forest_rows(rates, group, events, totals, analysis.pool, level, analysis.ci,
                               include_cohorts=not truncated)
    forest.insert(2, "group_label", ["All" if g == "All" and kind == "overall" else group_label(group, g)
                                     for g, kind in zip(forest["group"], forest["kind"], strict=True)])
    return RateAnalysis(events, totals, group, _cap(rates, totals)[0], forest, pooled, overall, test,
                        cohorts_in_slice=len(cohorts), cohorts_not_reported=len(cohorts) - len(rates),
                        forest_truncated=truncated, cohorts_shown=len(rates),
                        patients_shown=int(rates[totals].sum()) if len(rates) else 0)


def cr_analysis(cohorts: pd.DataFrame, analysis: Analysis) -> RateAnalysis:
    """Complete remission over evaluable or treated patients, as the view asks."""
    return rate_analysis(cohorts, "cr_count", CR_DENOMINATORS[analysis.denom], analysis.group, analysis)


def relapse_analysis(cohorts: pd.DataFrame, analysis: Analysis, group: str) -> RateAnalysis:
    """Relapse among patients at risk (in remission), grouped as asked."""
    return rate_analysis(cohorts, "relapse_count", "relapse_at_risk", group, analysis)


def pooled_table(result: RateAnalysis) -> pd.DataFrame:
    """The pooled numbers per group as a readable table (proportions as percentages)."""
    if result.pooled.empty:
        return pd.DataFrame()
    p = result.pooled
    table = pd.DataFrame({
        "Group": p["label"], "Cohorts (k)": p["k"], "Patients (N)": p["n_total"], "Events": p["events_total"],
        "Pooled %": 100 * p["estimate"], "CI low %": 100 * p["ci_low"], "CI high %": 100 * p["ci_high"],
        "PI low %": [100 * v if k > 1 else math.nan for v, k in zip(p["pi_low"], p["k"], strict=True)],
        "PI high %": [100 * v if k > 1 else math.nan for v, k in zip(p["pi_high"], p["k"], strict=True)],
        "tau²": [v if k > 1 else math.nan for v, k in zip(p["tau2"], p["k"], strict=True)],
        "I² %": [100 * v if k > 1 else math.nan for v, k in zip(p["i2"], p["k"], strict=True)],
        "0/all-event cohorts (+0.5)": p["n_corrected"],
    })
    return table


@dataclass(frozen=True)
class PersistenceAnalysis:
    cohorts: pd.DataFrame  # cohorts reporting persistence (at most MAX_POINTS, largest first)
    by_source: pd.DataFrame  # median / IQR / range per source, over all reporting cohorts
    versus_cr: pd.DataFrame  # cohorts with both persistence and CR (at most MAX_POINTS)
    correlation: stats.Correlation  # over all cohorts with both values
    cohorts_in_slice: int
    cohorts_reporting: int
    points_truncated: bool


def persistence_analysis(cohorts: pd.DataFrame, analysis: Analysis) -> PersistenceAnalysis:
    """Persistence per cohort and per source, and its rank correlation with the CR rate."""
    reported = cohorts[cohorts["max_persistence_days"].notna()].copy()
    by_source = stats.distribution_by_group(cohorts, "nk_source", "max_persistence_days")
    if not by_source.empty:
        by_source.insert(1, "label", [group_label("nk_source", c) for c in by_source["nk_source"]])
    totals = CR_DENOMINATORS[analysis.denom]
    both = stats.cohort_rates(reported, "cr_count", totals, analysis.ci)
    both = both.rename(columns={totals: "total"})
    correlation = stats.spearman(both["max_persistence_days"], both["rate"])
    shown, truncated_strip = _cap(reported, "n_treated")
    both_shown, truncated_scatter = _cap(both, "total")
    return PersistenceAnalysis(shown, by_source, both_shown, correlation, len(cohorts), len(reported),
                               truncated_strip or truncated_scatter)


def kpis(summary: dict, ci_method: str) -> dict[str, float | int | None]:
    """Headline numbers with the CR interval over the pooled evaluable patients."""
    events, total = int(summary["cr_events"] or 0), int(summary["cr_evaluable"] or 0)
    low, high = stats.proportion_ci(events, total, ci_method) if total > 0 else (math.nan, math.nan)
    return {
        "publications": int(summary["publications"] or 0), "cohorts": int(summary["cohorts"] or 0),
        "patients_treated": int(summary["patients_treated"] or 0), "cr_events": events, "cr_evaluable": total,
        "cr_rate": events / total if total else None, "cr_ci_low": low, "cr_ci_high": high,
        "cohorts_cr_not_reported": int(summary["cohorts_cr_not_reported"] or 0),
    }


# Page-level analyses: one call per page from (repository, slice, choices), so the app can cache a
# whole view's numbers and a rerun of the same view does no work. Point charts are capped: a browser
# cannot draw (or a reader see) hundreds of thousands of points; captions say when the cap applies.
MAX_POINTS = 1500


def primary_only(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Superseded reports never enter a pooled estimate or correlation, even when the user shows them."""
    return cohorts[cohorts["superseded_by"].isna()] if "superseded_by" in cohorts.columns else cohorts


def _cap(frame: pd.DataFrame, by: str) -> tuple[pd.DataFrame, bool]:
    if len(frame) <= MAX_POINTS:
        return frame, False
    return frame.nlargest(MAX_POINTS, by), True


@dataclass(frozen=True)
class OutcomesView:
    cr: RateAnalysis
    by_setting: RateAnalysis
    patients_by_source: pd.DataFrame


def outcomes_view(repo: "TrialsRepository", slice_: Slice, choices: Analysis) -> OutcomesView | None:
    cohorts = primary_only(repo.outcomes(slice_))
    if cohorts.empty:
        return None
    groups = repo.group_summary(slice_, "nk_source")
    groups["label"] = [group_label("nk_source", c) for c in groups["group"]]
    return OutcomesView(cr_analysis(cohorts, choices),
                        rate_analysis(cohorts, "cr_count", CR_DENOMINATORS[choices.denom], "setting", choices),
                        groups)


@dataclass(frozen=True)
class RelapseView:
    result: RateAnalysis
    post_hsct: RateAnalysis
    with_followup: pd.DataFrame
    followup_truncated: bool


def relapse_view(repo: "TrialsRepository", slice_: Slice, choices: Analysis) -> RelapseView | None:
    cohorts = primary_only(repo.outcomes(slice_))
    if cohorts.empty:
        return None
    result = relapse_analysis(cohorts, choices, choices.group)
    post = relapse_analysis(cohorts[cohorts["setting"].isin(voc.POST_HSCT_SETTINGS)], choices, "setting")
    all_rates = stats.cohort_rates(cohorts, "relapse_count", "relapse_at_risk", choices.ci)
    with_followup, truncated = _cap(all_rates.dropna(subset=["median_followup_months"]), "relapse_at_risk")
    return RelapseView(result, post, with_followup, truncated)


def persistence_view(repo: "TrialsRepository", slice_: Slice, choices: Analysis) -> PersistenceAnalysis | None:
    cohorts = primary_only(repo.outcomes(slice_))
    if cohorts.empty:
        return None
    return persistence_analysis(cohorts, choices)
