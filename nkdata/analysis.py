"""Page-ready analyses: named queries combined with the statistics, so pages only lay out.

Each function returns the numbers a page shows together with the counts its
caption needs (cohorts shown, patients, cohorts "not reported"), computed in
one place so a chart and its caption can never disagree.

Nothing here holds one row per cohort of the slice: pooling and rank correlation
read the slice's distinct (group, events, total) rows with their multiplicities,
and only the cohorts drawn one by one (at most MAX_FOREST_COHORTS in a forest,
MAX_POINTS in a point chart) are fetched with their labels. A million-cohort
dataset therefore costs about what the bundled one does.
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
# Point charts draw at most this many cohorts (the largest): a browser cannot draw, or a reader
# see, hundreds of thousands of points; captions say when the cap applies.
MAX_POINTS = 1500

CR_DENOMINATORS = {"evaluable": "n_evaluable", "treated": "n_treated"}


def group_label(group: str, code: object) -> str:
    """Display label of a group code (products are their own label)."""
    if not isinstance(code, str):
        return voc.NOT_REPORTED_LABEL
    return voc.label(voc.GROUP_VOCABULARIES.get(group, {}), code)


def _reported(counts: pd.DataFrame) -> pd.DataFrame:
    """Rows of rate_counts with both counts reported (total > 0), as plain integers."""
    mask = counts["events"].notna() & counts["total"].notna() & (counts["total"] > 0)
    return counts[mask].astype({"events": int, "total": int, "cohorts": int})


@dataclass(frozen=True)
class RateAnalysis:
    """Proportions pooled per group and overall, the subgroup test, and the forest rows.

    ``cohorts`` holds the reporting cohorts with their intervals when there are at most
    MAX_FOREST_COHORTS of them (empty otherwise: ``forest_truncated``); the counts cover
    every cohort of the slice."""

    events: str
    totals: str
    group: str
    cohorts: pd.DataFrame
    forest: pd.DataFrame
    pooled: pd.DataFrame
    overall: stats.PooledResult
    test: stats.SubgroupTest
    cohorts_in_slice: int
    cohorts_not_reported: int
    forest_truncated: bool
    cohorts_shown: int
    patients_shown: int


def rate_analysis(repo: TrialsRepository, slice_: Slice, events: str, totals: str, group: str,
                  analysis: Analysis, groups: tuple[str, ...] = (), level: float = 0.95) -> RateAnalysis:
    """Pooled estimates per group and overall, the subgroup test and the forest rows, over the
    primary cohorts of the slice (only groups ``groups``, when given)."""
    counts = repo.rate_counts(slice_, group, events, totals)
    if groups:
        counts = counts[counts["grp"].isin(groups)]
    reported = _reported(counts)
    pooled, test = stats.pool_by_group(reported, "grp", "events", "total", analysis.pool, level, analysis.ci,
                                       counts="cohorts")
    overall = stats.pool_proportions(reported["events"], reported["total"], analysis.pool, level, analysis.ci,
                                     reported["cohorts"])
    shown = int(reported["cohorts"].sum())
    truncated = shown > MAX_FOREST_COHORTS
    cohorts = pd.DataFrame(columns=["cohort_id", "first_author", "year", "product", "grp", "events", "total"])
    if shown and not truncated:
        rows, _ = repo.cohort_points(slice_, group, events, totals, limit=MAX_FOREST_COHORTS, groups=groups)
        cohorts = stats.cohort_rates(rows, "events", "total", analysis.ci, level)
    forest = stats.forest_rows(pooled, overall, "grp", cohorts)
    forest.insert(2, "group_label", ["All" if g == "All" and kind == "overall" else group_label(group, g)
                                     for g, kind in zip(forest["group"], forest["kind"], strict=True)])
    if not pooled.empty:
        pooled = pooled.rename(columns={"grp": group})
        pooled.insert(1, "label", [group_label(group, g) for g in pooled[group]])
    in_slice = int(counts["cohorts"].sum())
    return RateAnalysis(events, totals, group, cohorts, forest, pooled, overall, test,
                        cohorts_in_slice=in_slice, cohorts_not_reported=in_slice - shown,
                        forest_truncated=truncated, cohorts_shown=shown, patients_shown=overall.n_total)


def cr_analysis(repo: TrialsRepository, slice_: Slice, analysis: Analysis) -> RateAnalysis:
    """Complete remission over evaluable or treated patients, as the view asks."""
    return rate_analysis(repo, slice_, "cr_count", CR_DENOMINATORS[analysis.denom], analysis.group, analysis)


def relapse_analysis(repo: TrialsRepository, slice_: Slice, analysis: Analysis, group: str,
                     groups: tuple[str, ...] = ()) -> RateAnalysis:
    """Relapse among patients at risk (in remission), grouped as asked."""
    return rate_analysis(repo, slice_, "relapse_count", "relapse_at_risk", group, analysis, groups)


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
# whole view's numbers and a rerun of the same view does no work. None: no primary cohort in the slice.


@dataclass(frozen=True)
class OutcomesView:
    cr: RateAnalysis
    by_setting: RateAnalysis
    patients_by_source: pd.DataFrame


def outcomes_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> OutcomesView | None:
    cr = cr_analysis(repo, slice_, choices)
    if cr.cohorts_in_slice == 0:
        return None
    groups = repo.group_summary(slice_, "nk_source")
    groups["label"] = [group_label("nk_source", c) for c in groups["group"]]
    return OutcomesView(cr, rate_analysis(repo, slice_, "cr_count", CR_DENOMINATORS[choices.denom], "setting", choices),
                        groups)


@dataclass(frozen=True)
class RelapseView:
    result: RateAnalysis
    post_hsct: RateAnalysis
    with_followup: pd.DataFrame  # cohorts with relapse and follow-up (at most MAX_POINTS, the largest)
    followup_reported: int  # how many cohorts report both
    followup_truncated: bool


def relapse_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> RelapseView | None:
    result = relapse_analysis(repo, slice_, choices, choices.group)
    if result.cohorts_in_slice == 0:
        return None
    post = relapse_analysis(repo, slice_, choices, "setting", tuple(voc.POST_HSCT_SETTINGS))
    rows, reported = repo.cohort_points(slice_, "setting", "relapse_count", "relapse_at_risk", limit=MAX_POINTS,
                                        need_followup=True)
    with_followup = stats.cohort_rates(rows, "events", "total", choices.ci).rename(
        columns={"events": "relapse_count", "total": "relapse_at_risk"})
    return RelapseView(result, post, with_followup, reported, reported > len(with_followup))


@dataclass(frozen=True)
class PersistenceAnalysis:
    cohorts: pd.DataFrame  # cohorts reporting persistence (at most MAX_POINTS, the largest)
    by_source: pd.DataFrame  # median / IQR / range per source, over all reporting cohorts
    versus_cr: pd.DataFrame  # cohorts with both persistence and CR (at most MAX_POINTS)
    correlation: stats.Correlation  # over all cohorts with both values
    cohorts_in_slice: int
    cohorts_reporting: int
    points_truncated: bool


def persistence_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> PersistenceAnalysis | None:
    """Persistence per cohort and per source, and its rank correlation with the CR rate."""
    by_source = repo.persistence_by_group(slice_, "nk_source")
    in_slice = int(by_source["cohorts_reported"].sum() + by_source["cohorts_not_reported"].sum())
    if in_slice == 0:
        return None
    by_source = by_source.rename(columns={"group": "nk_source"})
    by_source.insert(1, "label", [group_label("nk_source", c) for c in by_source["nk_source"]])
    totals = CR_DENOMINATORS[choices.denom]
    strip, reporting = repo.cohort_points(slice_, "nk_source", "cr_count", totals, limit=MAX_POINTS,
                                          need_rate=False, need_persistence=True)
    rows, both_reported = repo.cohort_points(slice_, "nk_source", "cr_count", totals, limit=MAX_POINTS,
                                             need_persistence=True)
    versus_cr = stats.cohort_rates(rows, "events", "total", choices.ci).rename(columns={"events": "cr_count"})
    ranks = repo.persistence_rank_correlation(slice_, "cr_count", totals)
    correlation = stats.rank_correlation(int(ranks["n"]), ranks["rho"], int(ranks["distinct_x"]),
                                         int(ranks["distinct_y"]))
    return PersistenceAnalysis(strip, by_source, versus_cr, correlation, in_slice, reporting,
                               reporting > len(strip) or both_reported > len(versus_cr))
