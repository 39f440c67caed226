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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nkdata import metareg, sensitivity, stats, timetoevent
from nkdata import vocabulary as voc
from nkdata.dictionary import GREY_PUBLICATION_TYPES
from nkdata.presentation import as_list, cohort_labels
from nkdata.slices import EXCLUSIONS, Analysis, Slice

if TYPE_CHECKING:
    from nkdata.repository import TrialsRepository

# Above this many cohorts a forest plot cannot be read (or drawn quickly): the cohort rows are
# left out and only the pooled diamonds are drawn; the caption says so.
MAX_FOREST_COHORTS = 250
# Point charts draw at most this many cohorts (the largest): a browser cannot draw, or a reader
# see, hundreds of thousands of points; captions say when the cap applies.
MAX_POINTS = 1500
MAX_TABLE_ROWS = 2000  # rows a table can usefully show; larger results say how many were left out

CR_DENOMINATORS = {"evaluable": "n_evaluable", "treated": "n_treated"}


def group_label(group: str, code: object) -> str:
    """Display label of a group code (products are their own label)."""
    if not isinstance(code, str):
        return voc.NOT_REPORTED_LABEL
    return voc.label(voc.GROUP_VOCABULARIES.get(group, {}), code)


def _reported(counts: pd.DataFrame) -> pd.DataFrame:
    """Rows of rate_counts with both counts reported (total > 0) and not left out by a sensitivity choice."""
    mask = counts["events"].notna() & counts["total"].notna() & (counts["total"] > 0) & ~counts["excluded"]
    return counts[mask].astype({"events": int, "total": int, "cohorts": int})


def pool_method(choices: Analysis) -> str:
    """The pooling the view asks for: fixed effect, or the random-effects model (GLMM, REML or DL)."""
    return "FE" if choices.model == "fixed" else choices.pool


def iv_method(choices: Analysis) -> str:
    """The inverse-variance model behind leave-one-out and influence (metafor's leave1out/rstudent are
    inverse-variance tools): REML when the GLMM is chosen."""
    method = pool_method(choices)
    return "REML" if method == "GLMM" else method


def method_words(choices: Analysis) -> str:
    """The chosen model and pooled interval in words, for every caption that shows a pooled proportion."""
    method = pool_method(choices)
    model = {
        "GLMM": "binomial-normal GLMM (ML)",
        "REML": "inverse-variance random effects (REML) on the logit scale",
        "DL": "inverse-variance random effects (DerSimonian-Laird) on the logit scale",
        "FE": "fixed effect (inverse variance) on the logit scale",
    }[method]
    interval = {
        "auto": "Knapp-Hartung 95% CI below 10 cohorts, z from 10"
        if method != "GLMM"
        else "t(k-1) 95% CI below 10 cohorts, z from 10",
        "knha": "Knapp-Hartung 95% CI" if method != "GLMM" else "t(k-1) 95% CI",
        "z": "z 95% CI",
    }[choices.test]
    return (
        f"{model}, {interval}, prediction interval on t(k-2) from 3 cohorts; zero (or all) events in every cohort: "
        "the pooled count with an exact CI"
    )


def pooled_sentence(o: stats.PooledResult) -> str:
    """A pooled result in one line: estimate, CI (how it was made), prediction interval where it exists."""

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    text = f"{pct(o.estimate)} (95% CI {pct(o.ci_low)}-{pct(o.ci_high)}, {interval_label(o.ci_test, o.method, o.k)}"
    if math.isfinite(o.pi_low):
        text += f"; prediction interval on t(k-2) {pct(o.pi_low)}-{pct(o.pi_high)}"
    text += f"), k = {o.k}, N = {o.n_total}"
    if not o.exact and o.k > 1:
        text += f"; tau² = {o.tau2:.3f}, I² = {100 * o.i2:.0f}% (Q-based)"
    return text


def interval_note(choices: Analysis) -> str:
    """What the pooled table's intervals are, said under it (the choices change its numbers)."""
    return (
        f"Model: {method_words(choices)}. The prediction interval (where a new cohort's true rate may fall) needs "
        "at least 3 cohorts. The CI method column says how each group's interval was made; a z interval for fewer "
        "than 10 cohorts is flagged as likely too narrow."
    )


def safety_intervals(safety: pd.DataFrame) -> list[str]:
    """Events over patients per safety row, with the exact (Clopper-Pearson) 95% CI of the pooled count where
    every reporting cohort had zero events: the Summary of findings' rule, so Safety never implies a rate."""
    out = []
    for e, n, c, zero in zip(
        safety["events"],
        safety["patients_reported"],
        safety["cohorts_reported"],
        safety["cohorts_reported_zero"],
        strict=True,
    ):
        if not c:
            out.append("not reported")
        elif c == zero and n:
            high = stats.proportion_ci(0, int(n))[1]
            out.append(f"0 / {int(n)} (exact 95% CI 0-{100 * high:.1f}%)")
        else:
            out.append(f"{int(e)} / {int(n)}")
    return out


def interval_label(ci_test: str, method: str, k: int) -> str:
    """How a pooled CI was computed, in words, for tables and captions."""
    if ci_test == "exact":
        return "exact (pooled count, Clopper-Pearson)"
    if k <= 1:
        return "single cohort"
    if ci_test == "knha":
        return "Wald on t(k-1)" if method == "GLMM" else "Knapp-Hartung on t(k-1)"
    return "z" + (" (fewer than 10 cohorts: likely too narrow)" if k < stats.KH_BELOW else "")


@dataclass(frozen=True)
class RateAnalysis:
    """Proportions pooled per group (and across groups), the subgroup test, the forest rows and sensitivity.

    ``cohorts`` holds the reporting cohorts with their intervals when there are at most
    MAX_FOREST_COHORTS of them (empty otherwise: ``forest_truncated``); the counts cover
    every cohort of the slice. A group with one cohort shows that cohort, never a pooled
    diamond; the across-groups diamond is drawn only when the view asks for it."""

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
    cohorts_excluded: int = 0
    model_comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    leave_one_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    flags: dict[str, tuple[sensitivity.Flag, ...]] = field(default_factory=dict)
    show_overall: bool = False


def _cohort_flags(row: pd.Series, events: str, totals: str) -> str:
    """Why a number may deserve a second look: review-sourced, converted, abstract, carried from an earlier report."""
    tags = []
    if {events, totals} & set(as_list(row.get("from_review"))):
        tags.append("from a review table")
    if {events, totals} & set(as_list(row.get("converted_from_percent"))):
        tags.append("converted from %")
    if row.get("publication_type") in GREY_PUBLICATION_TYPES:
        tags.append(voc.PUBLICATION_TYPES[row["publication_type"]].lower())
    inherited = row.get("inherited_from")
    if isinstance(inherited, str) and (f'"{events}"' in inherited or f'"{totals}"' in inherited):
        tags.append("from an earlier report")
    if events in set(as_list(row.get("outcome_report_for"))):
        tags.append("an earlier report: its trial's most complete report of this outcome, own denominator")
    return "; ".join(tags)


def _model_comparison(reported: pd.DataFrame, choices: Analysis, level: float) -> pd.DataFrame:
    """The GLMM, inverse-variance REML and the fixed effect side by side (the chosen interval), per group and
    across groups."""
    rows = []
    parts = [(g, part) for g, part in reported.groupby("grp", sort=True)] + [("All", reported)]
    for name, part in parts:
        if part.empty:
            continue
        args = (part["events"].tolist(), part["total"].tolist())
        fits = {
            key: stats.pool_proportions(*args, method, level, choices.ci, part["cohorts"].tolist(), choices.test)
            for key, method in (("glmm", "GLMM"), ("random", "REML"), ("fixed", "FE"))
        }
        row = {"grp": name, "k": fits["fixed"].k, "n_total": fits["fixed"].n_total}
        for key, fit in fits.items():
            row.update({key: fit.estimate, f"{key}_low": fit.ci_low, f"{key}_high": fit.ci_high})
        rows.append(row)
    return pd.DataFrame(rows)


def _leave_one_out(cohorts: pd.DataFrame, method: str, level: float, ci: str, overall: bool) -> pd.DataFrame:
    """Leave-one-out within each group of at least 3 cohorts (and across groups when shown)."""
    parts = [(g, part) for g, part in cohorts.groupby("grp", sort=True)]
    if overall:
        parts.append(("All", cohorts))
    frames = []
    for name, part in parts:
        if len(part) < 3 or (part["events"] == 0).all() or (part["events"] == part["total"]).all():
            continue  # an exact pooled count has no model to refit
        labels = cohort_labels(part)
        loo = sensitivity.leave_one_out(part["events"].tolist(), part["total"].tolist(), labels, method, level, ci)
        loo.insert(0, "grp", name)
        loo.insert(1, "cohort_id", part["cohort_id"].tolist())
        frames.append(loo)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sizes_of(pooled: pd.DataFrame, g: object) -> tuple[int, int]:
    row = pooled[pooled["grp"] == g]
    return (int(row["k"].iloc[0]), int(row["n_total"].iloc[0])) if len(row) else (0, 0)


def _with_group_headers(forest: pd.DataFrame, group: str, pooled: pd.DataFrame) -> pd.DataFrame:
    """A bold header row above each group's cohorts, naming the group and its size, so a forest reads without
    its colour legend."""
    if forest.empty:
        forest["order"] = range(len(forest))
        return forest
    sizes = {g: (int(k), int(n)) for g, k, n in zip(pooled["grp"], pooled["k"], pooled["n_total"], strict=True)}
    # The largest group first (most cohorts, then most patients): a reader meets the best-supported estimate first.
    first_seen = {g: i for i, g in enumerate(dict.fromkeys(forest["group"]))}
    rank = {g: (-sizes.get(g, (0, 0))[0], -sizes.get(g, (0, 0))[1], first_seen[g]) for g in first_seen}
    records = sorted(
        forest.to_dict("records"),
        key=lambda r: (r["kind"] == "overall", rank.get(r["group"], (0, 0, 0)) if r["kind"] != "overall" else 0),
    )
    rows, seen = [], set()
    for record in records:
        g = record["group"]
        if record["kind"] != "overall" and g not in seen:
            seen.add(g)
            k, n = sizes.get(g, (0, 0))
            rows.append(
                {"kind": "header", "group": g, "label": f"{group_label(group, g)} (k={k}, N={n})", "weight": 0.0}
            )
        rows.append(record)
    out = pd.DataFrame(rows, columns=forest.columns)
    out["order"] = range(len(out))
    for column in ("events", "total"):  # header rows have none: keep whole numbers whole
        out[column] = out[column].astype("Int64")
    return out


def rate_analysis(
    repo: TrialsRepository,
    slice_: Slice,
    events: str,
    totals: str,
    group: str,
    analysis: Analysis,
    groups: tuple[str, ...] = (),
    level: float = 0.95,
    sensitivity_analyses: bool = True,
) -> RateAnalysis:
    """Pooled estimates per group (and overall), the subgroup test, the forest rows and the sensitivity
    analyses, over the primary cohorts of the slice (only groups ``groups``, when given). Without
    ``sensitivity_analyses`` the model comparison and leave-one-out are skipped (the Summary of findings)."""
    counts = repo.rate_counts(slice_, group, events, totals, analysis.sql_exclude)
    if groups:
        counts = counts[counts["grp"].isin(groups)]
    reported = _reported(counts)
    method = pool_method(analysis)
    pooled, test = stats.pool_by_group(
        reported, "grp", "events", "total", method, level, analysis.ci, counts="cohorts", test=analysis.test
    )
    overall = stats.pool_proportions(
        reported["events"], reported["total"], method, level, analysis.ci, reported["cohorts"], analysis.test
    )
    shown = int(reported["cohorts"].sum())
    truncated = shown > MAX_FOREST_COHORTS
    cohorts = pd.DataFrame(columns=["cohort_id", "first_author", "year", "product", "grp", "events", "total"])
    if shown and not truncated:
        rows, _ = repo.cohort_points(
            slice_, group, events, totals, limit=MAX_FOREST_COHORTS, groups=groups, exclude=analysis.sql_exclude
        )
        cohorts = stats.cohort_rates(rows, "events", "total", analysis.ci, level)
    show_overall = analysis.overall and len(pooled) > 1
    forest = stats.forest_rows(pooled, overall, "grp", cohorts)
    single = set(pooled.loc[pooled["k"] == 1, "grp"]) if not pooled.empty else set()
    keep = ~((forest["kind"] == "pooled") & forest["group"].isin(single))
    if not show_overall:
        keep &= forest["kind"] != "overall"
    forest = _with_group_headers(forest[keep].reset_index(drop=True), group, pooled)
    forest.insert(
        2,
        "group_label",
        [
            "All" if g == "All" and kind == "overall" else group_label(group, g)
            for g, kind in zip(forest["group"], forest["kind"], strict=True)
        ],
    )
    is_pooled = forest["kind"] == "pooled"
    exact = set(pooled.loc[pooled["exact"], "grp"]) if not pooled.empty else set()
    forest.loc[is_pooled, "label"] = [
        ("Pooled count, exact CI (k={}, N={})" if g in exact else "Pooled (k={}, N={})").format(*sizes_of(pooled, g))
        for g in forest.loc[is_pooled, "group"]
    ]
    extras = cohorts.set_index("cohort_id") if not cohorts.empty else pd.DataFrame()
    forest["setting"] = [
        voc.label(voc.SETTINGS, extras.at[c, "setting"]) if isinstance(c, str) and c in extras.index else ""
        for c in forest["cohort_id"]
    ]
    forest["cr_definition"] = [
        extras.at[c, "cr_definition"]
        if isinstance(c, str) and c in extras.index and isinstance(extras.at[c, "cr_definition"], str)
        else ""
        for c in forest["cohort_id"]
    ]
    forest["flags"] = [
        _cohort_flags(extras.loc[c], events, totals) if isinstance(c, str) and c in extras.index else ""
        for c in forest["cohort_id"]
    ]
    flags = {}
    if not pooled.empty:
        grey = counts[counts["events"].notna() & ~counts["excluded"]]
        for g in pooled["grp"]:
            part = grey[grey["grp"] == g]
            types = [
                "conference_abstract" if bool(x) else "journal_article"
                for x, n in zip(part["grey"], part["cohorts"], strict=True)
                for _ in range(int(n))
            ]
            result = stats.PooledResult(
                **{
                    k: v
                    for k, v in pooled[pooled["grp"] == g].iloc[0].items()
                    if k in stats.PooledResult.__dataclass_fields__
                }
            )
            flags[g] = tuple(sensitivity.confidence_flags(result, types))
        pooled = pooled.rename(columns={"grp": group})
        pooled.insert(1, "label", [group_label(group, g) for g in pooled[group]])
    in_slice = int(counts["cohorts"].sum())
    excluded = int(counts.loc[counts["excluded"], "cohorts"].sum())
    loo = (
        _leave_one_out(cohorts, iv_method(analysis), level, analysis.ci, show_overall)
        if sensitivity_analyses and not cohorts.empty
        else pd.DataFrame()
    )
    return RateAnalysis(
        events,
        totals,
        group,
        cohorts,
        forest,
        pooled,
        overall,
        test,
        cohorts_in_slice=in_slice,
        cohorts_not_reported=in_slice - shown - excluded,
        forest_truncated=truncated,
        cohorts_shown=shown,
        patients_shown=overall.n_total,
        cohorts_excluded=excluded,
        model_comparison=_model_comparison(reported, analysis, level) if sensitivity_analyses else pd.DataFrame(),
        leave_one_out=loo,
        flags=flags,
        show_overall=show_overall,
    )


def cr_analysis(repo: TrialsRepository, slice_: Slice, analysis: Analysis) -> RateAnalysis:
    """Complete remission over evaluable or treated patients, grouped as the view asks."""
    return rate_analysis(repo, slice_, "cr_count", CR_DENOMINATORS[analysis.denom], analysis.group, analysis)


def relapse_analysis(
    repo: TrialsRepository, slice_: Slice, analysis: Analysis, group: str, groups: tuple[str, ...] = ()
) -> RateAnalysis:
    """Relapse among patients at risk (in remission), grouped as asked."""
    return rate_analysis(repo, slice_, "relapse_count", "relapse_at_risk", group, analysis, groups)


def pooled_table(result: RateAnalysis) -> pd.DataFrame:
    """The pooled numbers per group as a readable table (proportions as percentages); a single-cohort
    group shows that cohort's own rate and interval, with no tau², I² or prediction interval."""
    if result.pooled.empty:
        return pd.DataFrame()
    p = result.pooled
    multi = p["k"] > 1
    table = pd.DataFrame(
        {
            "Group": p["label"],
            "Cohorts (k)": p["k"],
            "Patients (N)": p["n_total"],
            "Events": p["events_total"],
            "Estimate %": 100 * p["estimate"],
            "CI low %": 100 * p["ci_low"],
            "CI high %": 100 * p["ci_high"],
            "CI": [interval_label(t, m, k) for t, m, k in zip(p["ci_test"], p["method"], p["k"], strict=True)],
            "PI low %": (100 * p["pi_low"]).where(multi),
            "PI high %": (100 * p["pi_high"]).where(multi),
            "tau²": p["tau2"].where(multi),
            "I² %": (100 * p["i2"]).where(multi),
            "0/all-event cohorts (+0.5)": p["n_corrected"],
            "Confidence flags": [
                "; ".join(f.text for f in result.flags.get(g, ()) if f.code != "single_arm") for g in p[result.group]
            ],
        }
    )
    return table


def model_table(result: RateAnalysis) -> pd.DataFrame:
    """The GLMM, inverse-variance REML and the fixed effect side by side (percentages, the chosen interval)."""
    m = result.model_comparison
    if m.empty:
        return m
    if not result.show_overall:
        m = m[m["grp"] != "All"]
    return pd.DataFrame(
        {
            "Group": ["All groups" if g == "All" else group_label(result.group, g) for g in m["grp"]],
            "k": m["k"],
            "N": m["n_total"],
            **{
                title: [
                    f"{100 * e:.1f} ({100 * lo:.1f}-{100 * hi:.1f})"
                    for e, lo, hi in zip(m[key], m[f"{key}_low"], m[f"{key}_high"], strict=True)
                ]
                for title, key in (
                    ("GLMM %", "glmm"),
                    ("Inverse variance (REML) %", "random"),
                    ("Fixed effect %", "fixed"),
                )
            },
        }
    )


def leave_one_out_table(result: RateAnalysis) -> pd.DataFrame:
    """Pooled estimate with each cohort left out, per group; ``Influential`` marks |rstudent| > 1.96."""
    loo = result.leave_one_out
    if loo.empty:
        return loo
    return pd.DataFrame(
        {
            "Group": ["All groups" if g == "All" else group_label(result.group, g) for g in loo["grp"]],
            "Left out": loo["label"],
            "cohort_id": loo["cohort_id"],
            "Estimate without it %": 100 * loo["estimate"],
            "CI low %": 100 * loo["ci_low"],
            "CI high %": 100 * loo["ci_high"],
            "Change (points)": 100 * loo["change"],
            "Influential": loo["outlier"].map({True: "yes", False: ""}),
        }
    )


def inclusion_note(slice_: Slice) -> str:
    """Who enters the pools, in words: the default inclusion and each inclusion choice the view changed (a
    choice that changes a page's numbers is named on that page)."""
    mixed = (
        "mixed-diagnosis cohorts included (sensitivity analysis)"
        if slice_.include_mixed
        else "AML-only cohorts (mixed-diagnosis cohorts are a sensitivity choice: mixed=1)"
    )
    transplant = (
        "relapsed/refractory cohorts given a transplant with the NK cells included (sensitivity analysis)"
        if slice_.include_co_transplant
        else "relapsed/refractory cohorts given a transplant with the NK cells left out (transplant=1 adds them)"
    )
    return f"Inclusion: {mixed}; {transplant}; each outcome from its trial's most complete report."


def exclusion_note(choices: Analysis) -> str:
    """The sensitivity choices in words, for captions and exported figures."""
    parts = [EXCLUSIONS[e].lower() for e in choices.exclude]
    if choices.leave_out:
        parts.append("the chosen cohort(s) " + ", ".join(choices.leave_out))
    return ("Left out: " + ", ".join(parts) + ".") if parts else ""


# Page-level analyses: one call per page from (repository, slice, choices), so the app can cache a
# whole view's numbers and a rerun of the same view does no work. None: no primary cohort in the slice.


@dataclass(frozen=True)
class RelapseView:
    result: RateAnalysis  # its forest holds cohort rows and group headers only: crude counts are not pooled
    with_followup: pd.DataFrame  # cohorts with relapse and follow-up (at most MAX_POINTS, the largest)
    followup_reported: int  # how many cohorts report both
    followup_truncated: bool
    by_group: pd.DataFrame = field(default_factory=pd.DataFrame)  # relapse_table: counts and ranges, per group


def relapse_table(counts: pd.DataFrame, group: str) -> pd.DataFrame:
    """Crude relapse counts per group, described and never pooled: the cohorts count relapses over follow-up
    of different lengths (22 to 56 months in the bundled data), so one pooled proportion would mix them."""
    reported = _reported(counts)
    rows = []
    for g, part in reported.groupby("grp", sort=True):
        share = part["events"] / part["total"]
        rows.append(
            {
                "Group": group_label(group, g),
                "Cohorts (k)": int(part["cohorts"].sum()),
                "Patients at risk": int((part["total"] * part["cohorts"]).sum()),
                "Relapsed": int((part["events"] * part["cohorts"]).sum()),
                "Lowest cohort %": 100 * float(share.min()),
                "Highest cohort %": 100 * float(share.max()),
            }
        )
    return pd.DataFrame(rows)


def relapse_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> RelapseView | None:
    group = choices.group if choices.group in ("setting", "nk_source", "product_class") else "setting"
    result = relapse_analysis(repo, slice_, choices, group)
    if result.cohorts_in_slice == 0:
        return None
    descriptive = result.forest[result.forest["kind"].isin(["header", "cohort"])].reset_index(drop=True)
    descriptive["order"] = range(len(descriptive))
    # Nothing is pooled here, so no model weight either: a cohort's square is sized by its patients at risk.
    largest = descriptive["total"].max() if "total" in descriptive and descriptive["total"].notna().any() else 1
    descriptive["weight"] = descriptive["total"] / largest if "total" in descriptive else descriptive["weight"]
    result = replace(result, forest=descriptive, show_overall=False, leave_one_out=pd.DataFrame())
    by_group = relapse_table(
        repo.rate_counts(slice_, group, "relapse_count", "relapse_at_risk", choices.sql_exclude), group
    )
    rows, reported = repo.cohort_points(  # the same exclusions as the forest above it
        slice_,
        "setting",
        "relapse_count",
        "relapse_at_risk",
        limit=MAX_POINTS,
        need_followup=True,
        exclude=choices.exclude,
    )
    with_followup = stats.cohort_rates(rows, "events", "total", choices.ci).rename(
        columns={"events": "relapse_count", "total": "relapse_at_risk"}
    )
    return RelapseView(result, with_followup, reported, reported > len(with_followup), by_group)


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
    strip, reporting = repo.cohort_points(
        slice_, "nk_source", "cr_count", totals, limit=MAX_POINTS, need_rate=False, need_persistence=True
    )
    rows, both_reported = repo.cohort_points(  # CR rates: the sensitivity exclusions apply, as on Remission
        slice_, "nk_source", "cr_count", totals, limit=MAX_POINTS, need_persistence=True, exclude=choices.exclude
    )
    versus_cr = stats.cohort_rates(rows, "events", "total", choices.ci).rename(columns={"events": "cr_count"})
    ranks = repo.persistence_rank_correlation(slice_, "cr_count", totals, choices.exclude)
    correlation = stats.rank_correlation(
        int(ranks["n"]), ranks["rho"], int(ranks["distinct_x"]), int(ranks["distinct_y"])
    )
    return PersistenceAnalysis(
        strip,
        by_source,
        versus_cr,
        correlation,
        in_slice,
        reporting,
        reporting > len(strip) or both_reported > len(versus_cr),
    )


def setting_headline(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> RateAnalysis:
    """CR pooled per disease setting with the view's choices: the Overview headline and the default
    Remission view are this same analysis, so the two pages can never disagree."""
    return cr_analysis(repo, slice_, replace(choices, group="setting"))


@dataclass(frozen=True)
class SurvivalView:
    entries: pd.DataFrame  # time-to-event entries of the slice's primary cohorts (at most MAX_TABLE_ROWS)
    at_landmark: pd.DataFrame  # entries of the chosen endpoint at the chosen landmark, with labels (at most MAX_POINTS)
    medians: pd.DataFrame  # median-only entries of the chosen endpoint (at most MAX_TABLE_ROWS)
    cohorts_in_slice: int
    cohorts_reporting: int  # cohorts with any time-to-event entry
    entries_total: int = 0  # entries before the caps above
    at_landmark_total: int = 0
    medians_total: int = 0


def survival_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> SurvivalView:
    """Landmark survival and relapse incidence as reported: per cohort, never pooled (the papers give
    Kaplan-Meier or cumulative-incidence estimates whose standard errors they rarely report). Rows come
    capped from SQL with their totals, so a very large slice costs what a drawable one does."""
    landmark = float(choices.landmark)
    counts = repo.survival_counts(slice_, choices.endpoint, landmark)
    at = repo.survival_entries(slice_, choices.endpoint, landmark, limit=MAX_POINTS)
    at["label"] = cohort_labels(at)
    at["setting_label"] = [voc.label(voc.SETTINGS, c) for c in at["setting"]]
    return SurvivalView(
        repo.survival_entries(slice_, limit=MAX_TABLE_ROWS),
        at,
        repo.survival_entries(slice_, choices.endpoint, medians_only=True, limit=MAX_TABLE_ROWS),
        int(repo.summary(slice_)["cohorts"] or 0),
        counts["cohorts"],
        counts["entries"],
        counts["at_landmark"],
        counts["medians"],
    )


@dataclass(frozen=True)
class ExpansionView:
    expansion: RateAnalysis  # patients with in vivo expansion over patients evaluated, pooled per group
    persistence: PersistenceAnalysis | None  # detection times against the CR rate
    durations: pd.DataFrame  # cohorts reporting a detection time (at most MAX_POINTS), lower bounds flagged
    durations_reporting: int
    by_source: pd.DataFrame


def expansion_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> ExpansionView:
    group = choices.group if choices.group in ("nk_source", "product_class", "setting") else "nk_source"
    expansion = rate_analysis(repo, slice_, "expansion_count", "expansion_evaluated", group, choices)
    durations, reporting = repo.cohort_points(
        slice_,
        "nk_source",
        "expansion_count",
        "expansion_evaluated",
        limit=MAX_POINTS,
        need_rate=False,
        need_persistence=True,
    )
    by_source = repo.persistence_by_group(slice_, "nk_source").rename(columns={"group": "nk_source"})
    by_source.insert(1, "label", [group_label("nk_source", c) for c in by_source["nk_source"]])
    return ExpansionView(expansion, persistence_view(repo, slice_, choices), durations, reporting, by_source)


# Outcomes of the summary of findings: (label, events column, denominator column). Proportions are pooled;
# crude relapse counts (over different follow-up) and time-to-event landmarks are handled apart (below).
SOF_RATES: tuple[tuple[str, str, str], ...] = (
    ("Complete remission (of treated)", "cr_count", "n_treated"),
    ("MRD negativity (of treated)", "mrd_neg_count", "n_treated"),
    ("In vivo expansion (of evaluated)", "expansion_count", "expansion_evaluated"),
    ("CRS, any grade", "crs_any", "n_treated"),
    ("ICANS, any grade", "icans_any", "n_treated"),
    ("GVHD, any", "gvhd_any", "n_treated"),
    ("Acute GVHD grade >= 3", "gvhd_grade3plus", "n_treated"),
    ("Treatment-related death", "treatment_related_deaths", "n_treated"),
)
SOF_RELAPSE = ("Relapse (crude count of patients at risk)", "relapse_count", "relapse_at_risk")


def _float_or_nan(value: Any) -> float:
    """A SQL aggregate as a float; NULL (no entry gave an estimate) as NaN, shown as not reported."""
    return math.nan if value is None or pd.isna(value) else float(value)


SOF_LANDMARKS: tuple[tuple[str, str, float], ...] = (
    ("Overall survival at 12 months", "os", 12.0),
    ("Overall survival at 24 months", "os", 24.0),
    ("Cumulative incidence of relapse at 12 months", "cir", 12.0),
    ("Cumulative incidence of relapse at 24 months", "cir", 24.0),
)
SOF_COLUMNS = [
    "Outcome",
    "Setting",
    "k",
    "N",
    "Estimate %",
    "CI low %",
    "CI high %",
    "PI low %",
    "PI high %",
    "Range low %",
    "Range high %",
    "I² %",
    "How",
    "Confidence flags",
]


def _sof_how(p: pd.Series, choices: Analysis) -> str:
    """How a pooled row's estimate and interval were made, in words."""
    if p["k"] <= 1:
        return "single cohort, 95% CI"
    if p.get("exact"):
        return "zero (or all) events in every cohort: pooled count, exact 95% CI"
    model = "fixed-effect" if choices.model == "fixed" else p["method"]
    return f"{model} pooled, {interval_label(p['ci_test'], p['method'], int(p['k']))} 95% CI"


def _sof_rate_rows(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> list[dict]:
    rows = []
    for label, events, totals in SOF_RATES:
        result = rate_analysis(
            repo, slice_, events, totals, "setting", replace(choices, overall=False), sensitivity_analyses=False
        )
        for _, p in result.pooled.iterrows():
            multi = p["k"] > 1
            rows.append(
                {
                    "Outcome": label,
                    "Setting": p["label"],
                    "k": int(p["k"]),
                    "N": int(p["n_total"]),
                    "Estimate %": 100 * p["estimate"],
                    "CI low %": 100 * p["ci_low"],
                    "CI high %": 100 * p["ci_high"],
                    "PI low %": 100 * p["pi_low"] if multi else math.nan,
                    "PI high %": 100 * p["pi_high"] if multi else math.nan,
                    "I² %": 100 * p["i2"] if multi else math.nan,
                    "How": _sof_how(p, choices),
                    "Confidence flags": "; ".join(f.text for f in result.flags.get(p["setting"], ())),
                }
            )
    return rows


def _sof_relapse_rows(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> list[dict]:
    """Crude relapse counts per setting, descriptive only: they come from follow-up of different lengths."""
    label, events, totals = SOF_RELAPSE
    reported = _reported(repo.rate_counts(slice_, "setting", events, totals, choices.sql_exclude))
    rows = []
    for setting, part in reported.groupby("grp", sort=True):
        k = int(part["cohorts"].sum())
        share = part["events"] / part["total"]
        relapsed, at_risk = int((part["events"] * part["cohorts"]).sum()), int((part["total"] * part["cohorts"]).sum())
        rows.append(
            {
                "Outcome": label,
                "Setting": group_label("setting", setting),
                "k": k,
                "N": at_risk,
                "Range low %": 100 * float(share.min()),
                "Range high %": 100 * float(share.max()),
                "How": f"{relapsed} of {at_risk} at risk relapsed, over different follow-up: not pooled; range of "
                "the cohorts' crude proportions (landmark incidence below)",
                "Confidence flags": "Crude counts over different follow-up",
            }
        )
    return rows


def _sof_landmark_rows(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> list[dict]:
    """Landmark survival per setting: pooled on the logit scale where at least two entries reach the landmark
    with a usable SE (nkdata/timetoevent.py); the median and range of every reported estimate beside it."""
    method = iv_method(choices)
    rows = []
    for label, endpoint, months in SOF_LANDMARKS:
        inputs = repo.survival_landmark_inputs(slice_, endpoint, float(months))
        summary = repo.survival_landmark_summary(slice_, endpoint, float(months)).set_index("setting")
        for setting, part in inputs.groupby("setting", sort=True):
            pool = timetoevent.pool_landmark(part, float(months), method, choices.test)
            k = int(summary.at[setting, "k"]) if setting in summary.index else pool.reported
            pooled = pool.pooled is not None
            how = (
                f"{method} pooled on the logit scale over {pool.used} of {k} cohorts whose median follow-up reaches "
                f"{months:g} months, {interval_label(pool.pooled.ci_test, method, pool.used)} 95% CI"
                if pooled
                else f"median and range of the {k} reported estimate(s), not pooled ({pool.used} reach the landmark "
                "with a usable SE; 2 are needed)"
            )
            rows.append(
                {
                    "Outcome": label,
                    "Setting": voc.label(voc.SETTINGS, setting),
                    "k": k,
                    "N": int(summary.at[setting, "n"]) if setting in summary.index else 0,
                    "Estimate %": 100 * pool.estimate
                    if pooled
                    else _float_or_nan(summary.at[setting, "median_pct"] if setting in summary.index else None),
                    "CI low %": 100 * pool.ci_low if pooled else math.nan,
                    "CI high %": 100 * pool.ci_high if pooled else math.nan,
                    "PI low %": 100 * pool.pi_low if pooled else math.nan,
                    "PI high %": 100 * pool.pi_high if pooled else math.nan,
                    "Range low %": _float_or_nan(summary.at[setting, "min_pct"] if setting in summary.index else None),
                    "Range high %": _float_or_nan(summary.at[setting, "max_pct"] if setting in summary.index else None),
                    "I² %": 100 * pool.pooled.i2 if pooled else math.nan,
                    "How": how,
                    "Confidence flags": "; ".join(
                        t
                        for t in (
                            f"Only {k} cohort{'s' if k != 1 else ''} (fewer than 3)" if k < 3 else "",
                            "Single-arm cohorts only: no comparator",
                        )
                        if t
                    ),
                }
            )
    return rows


def summary_of_findings(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> pd.DataFrame:
    """One row per outcome and disease setting: k, N, estimate with CI and prediction interval, the range of the
    cohorts' own results where nothing is pooled, I², how each was made and the plain flags that lower
    confidence. Proportions are the same rate_analysis the outcome pages use (an outcome with zero events in
    every cohort shows the pooled count and its exact interval); crude relapse counts are described, not pooled;
    landmarks are pooled only at a common landmark reached by follow-up."""
    rows = _sof_rate_rows(repo, slice_, choices)
    rows += _sof_relapse_rows(repo, slice_, choices)
    rows += _sof_landmark_rows(repo, slice_, choices)
    return pd.DataFrame(rows, columns=SOF_COLUMNS)


@dataclass(frozen=True)
class MetaRegressionView:
    """Meta-regression of CR (logit) within one setting: the cohorts, who lacks which moderator, and the fit."""

    setting: str
    moderators: tuple[str, ...]
    fit: metareg.ModeratorFit
    cohorts_in_setting: int  # cohorts of the setting reporting CR (before the cap)
    truncated: bool
    bubbles: pd.DataFrame  # one row per cohort entering the fit: moderator, rate, weight, labels
    line: pd.DataFrame  # the fitted CR along the first moderator (others at their mean or reference level)

    @property
    def chart_rows(self) -> pd.DataFrame:
        """The bubble plot's one frame (charts.metaregression_bubbles): cohort rows, then fitted rows."""
        return pd.concat([self.bubbles.assign(kind="cohort"), self.line.assign(kind="fitted")], ignore_index=True)


def _fitted_line(fit: metareg.ModeratorFit, code: str, points: int = 50) -> pd.DataFrame:
    """Fitted CR along moderator ``code``: numeric moderators at their complete-case mean, categorical ones at
    their reference level; for a categorical ``code`` one row per level."""
    result = fit.result
    if result is None:
        return pd.DataFrame(columns=["x", "fitted"])
    complete = fit.cohorts[fit.cohorts["complete"]]
    kind = metareg.MODERATORS[code][1]
    if kind == "category":
        grid = pd.DataFrame({code: sorted(complete[code].unique())})
    else:
        values = complete[code].astype(float)
        low, high = float(values.min()), float(values.max())
        grid = pd.DataFrame(
            {code: np.geomspace(low, high, points) if kind == "log10" else np.linspace(low, high, points)}
        )
    eta = np.full(len(grid), result.beta[0])
    for name, b in zip(result.names[1:], result.beta[1:], strict=True):
        base, _, level = name.partition("=")
        if base == code:
            eta += b * ((grid[code] == level).to_numpy(float) if level else _moderator_scale(grid[code], code))
        elif not level:  # another numeric moderator: at its mean
            eta += b * float(np.mean(_moderator_scale(complete[base], base)))
    return pd.DataFrame({"x": grid[code].tolist(), "fitted": 1 / (1 + np.exp(-eta))})


def _moderator_scale(values: pd.Series, code: str) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    return np.log10(x) if metareg.MODERATORS[code][1] == "log10" else x


def metaregression_view(repo: TrialsRepository, slice_: Slice, choices: Analysis) -> MetaRegressionView:
    """CR over the chosen denominator regressed on the chosen moderators within one setting (REML, Knapp-Hartung)."""
    rows, qualified = repo.metaregression_cohorts(
        slice_,
        choices.mr_setting,
        "cr_count",
        CR_DENOMINATORS[choices.denom],
        limit=MAX_POINTS,
        exclude=choices.exclude,
    )
    fit = metareg.fit_moderators(rows, choices.mods)
    cohorts = fit.cohorts
    bubbles = pd.DataFrame(columns=["x", "rate", "weight", "label", "nk_source", "events", "total", "cohort_id"])
    line = pd.DataFrame(columns=["x", "fitted"])
    if choices.mods and len(cohorts):
        first = choices.mods[0]
        entering = cohorts[cohorts["complete"]]
        tau2 = fit.result.tau2 if fit.result is not None else 0.0
        bubbles = pd.DataFrame(
            {
                "x": entering[first].tolist(),
                "rate": (entering["events"] / entering["total"]).tolist(),
                "weight": (1 / (entering["vi"] + tau2)).tolist(),
                "label": [
                    f"{a} {y} - {p}"
                    for a, y, p in zip(entering["first_author"], entering["year"], entering["product"], strict=True)
                ],
                "nk_source": entering["nk_source"].tolist(),
                "events": entering["events"].astype(int).tolist(),
                "total": entering["total"].astype(int).tolist(),
                "cohort_id": entering["cohort_id"].tolist(),
            }
        )
        line = _fitted_line(fit, first)
    return MetaRegressionView(
        choices.mr_setting, tuple(choices.mods), fit, qualified, qualified > len(rows), bubbles, line
    )


def metaregression_table(view: MetaRegressionView) -> pd.DataFrame:
    """The coefficients on the logit scale with Knapp-Hartung SEs, 95% CIs and p-values, labelled."""
    result = view.fit.result
    if result is None:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Term": [_term_label(n) for n in result.names],
            "Coefficient (logit)": result.beta,
            "SE": result.se,
            "95% CI low": result.ci_low,
            "95% CI high": result.ci_high,
            "p": result.pval,
        }
    )


def _term_label(name: str) -> str:
    if name == "intercept":
        return "Intercept"
    code, _, level = name.partition("=")
    label = metareg.MODERATORS[code][0]
    if not level:
        return label
    vocab = {"nk_source": voc.NK_SOURCES, "product_class": voc.PRODUCT_CLASSES}.get(code, {})
    return f"{label}: {voc.label(vocab, level) if vocab else level} (vs reference)"


# GRADE certainty of the Summary of findings (rules in nkdata/grade.py): added columns, the numbers stay the
# summary_of_findings ones.

SOF_PAGES: dict[str, str] = {
    "cr_count": "outcomes",
    "mrd_neg_count": "outcomes",
    "relapse_count": "relapse",
    "expansion_count": "persistence",
}
GRADED_COLUMNS: tuple[str, ...] = (
    "Outcome",
    "Setting",
    "Cohorts / patients",
    "Estimate (95% CI)",
    "Certainty",
    "Why",
    "Link",
)


def _code_of(label: object, vocabulary: dict[str, str]) -> str | None:
    return next((code for code, text in vocabulary.items() if text == label), None)


def _number(row: pd.Series, *names: str) -> float:
    """The first of ``names`` the row has (the Summary of findings' column names may grow), as a float."""
    for name in names:
        if name in row.index:
            return _float_or_nan(row[name])
    return math.nan


def _estimate_text(estimate: float, low: float, high: float, pooled: bool) -> str:
    if math.isnan(estimate):
        return "not reported"
    if not pooled:
        return f"median {estimate:.0f}% (range {low:.0f}-{high:.0f}%)"
    return f"{estimate:.1f}% ({low:.1f}-{high:.1f})" if not math.isnan(low) else f"{estimate:.1f}%"


def view_link(page: str, view: Any, year_bounds: tuple[int, int]) -> str:
    """The app-relative link of ``page`` showing ``view`` (the link contract's parameters)."""
    from urllib.parse import urlencode

    from nkdata.slices import to_query_params

    query = urlencode(to_query_params(view, year_bounds), doseq=True)
    return f"/{page}" + (f"?{query}" if query else "")


def summary_with_certainty(
    repo: TrialsRepository, slice_: Slice, choices: Analysis, year_bounds: tuple[int, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Summary of findings and its graded rows (same order), computed once for the page."""
    sof = summary_of_findings(repo, slice_, choices)
    return sof, graded_summary(repo, slice_, choices, year_bounds, sof)


def graded_summary(
    repo: TrialsRepository,
    slice_: Slice,
    choices: Analysis,
    year_bounds: tuple[int, int],
    sof: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The Summary of findings (``sof``, computed when not given) with a GRADE certainty per row, the reason for
    every downgrade, and a link to the page (with this view's parameters, narrowed to the row's setting) that
    shows the row's cohorts."""
    from nkdata import grade
    from nkdata.slices import View

    sof = summary_of_findings(repo, slice_, choices) if sof is None else sof
    rates = {label: (events, totals) for label, events, totals in SOF_RATES}
    landmarks = {label: (endpoint, months) for label, endpoint, months in SOF_LANDMARKS}
    inputs: dict[str, pd.DataFrame] = {}
    rows = []
    for _, r in sof.iterrows():
        setting = _code_of(r["Setting"], voc.SETTINGS)
        relapse = r["Outcome"] == SOF_RELAPSE[0]  # crude counts over different follow-up: described, not pooled
        low, high = _number(r, "CI low %", "Low %"), _number(r, "CI high %", "High %")
        pooled = (r["Outcome"] in rates or r["Outcome"] in landmarks) and not math.isnan(low)
        if r["Outcome"] not in inputs:
            if r["Outcome"] in rates or relapse:
                events, totals = rates[r["Outcome"]] if not relapse else SOF_RELAPSE[1:]
                found = repo.grade_inputs(slice_, events, totals, choices.sql_exclude)
            else:
                found = repo.grade_survival_inputs(slice_, *landmarks[r["Outcome"]])
            inputs[r["Outcome"]] = found.set_index("setting")
        extra = inputs[r["Outcome"]]
        counts = extra.loc[setting] if setting in extra.index else pd.Series(dtype=float)
        if not pooled:  # a median and range (never a confidence interval)
            low, high = _number(r, "Range low %"), _number(r, "Range high %")
        evidence = grade.Evidence(
            k=int(r["k"]),
            n=int(r["N"]),
            ci_low=low,
            ci_high=high,
            i2=_number(r, "I² %"),
            pi_low=_number(r, "PI low %"),
            pi_high=_number(r, "PI high %"),
            pooled=pooled,
            **{name: int(counts.get(name, 0) or 0) for name in _GRADE_COUNTS},
        )
        rating = grade.rate(evidence)
        if r["Outcome"] in rates or relapse:
            events = rates[r["Outcome"]][0] if not relapse else SOF_RELAPSE[1]
            page = SOF_PAGES.get(events, "safety")
            analysis = replace(choices, overall=False)
        else:
            endpoint, months = landmarks[r["Outcome"]]
            page, analysis = "survival", replace(choices, endpoint=endpoint, landmark=str(int(months)))
        narrowed = replace(slice_, settings=(setting,)) if setting else slice_
        rows.append(
            {
                "Outcome": r["Outcome"],
                "Setting": r["Setting"],
                "Cohorts / patients": f"{int(r['k'])} / {int(r['N'])}",
                "Estimate (95% CI)": _estimate_text(_number(r, "Estimate %"), low, high, pooled),
                "Certainty": f"{rating.symbol} {rating.label}",
                "Why": rating.why(),
                "Link": view_link(page, View(slice=narrowed, analysis=analysis), year_bounds),
            }
        )
    return pd.DataFrame(rows, columns=list(GRADED_COLUMNS))


_GRADE_COUNTS: tuple[str, ...] = (
    "n_rob_high",
    "n_rob_some",
    "n_rob_none",
    "n_mixed",
    "n_co_transplant",
    "n_antileukemic",
    "n_indirect",
    "k_review",
    "k_grey",
)
