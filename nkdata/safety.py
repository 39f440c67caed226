"""Safety as rates: patients with each event over patients treated, per group, with an exact 95% interval.

A count by NK source cannot say "what share had CRS with product X"; a crude rate per group can, and zero events
read as 0/N with an upper limit, not as an invisible bar. The inputs are the same rate_inputs rows the Summary of
findings pools (primary cohorts reporting the event and their patient count, minus any sensitivity exclusion),
so the totals agree; cohorts not reporting an outcome are counted apart and never enter a denominator.
"""

from __future__ import annotations

import pandas as pd

from nkdata import stats
from nkdata import vocabulary as voc
from nkdata.dictionary import SAFETY_COUNT_FIELDS
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice

SAFETY_GROUPS: dict[str, str] = {
    "nk_source": "NK source",
    "product_class": "Product class",
    "product": "Product",
    "car_target": "CAR target",
}
ALL_GROUPS = "All cohorts"
RATE_COLUMNS: tuple[str, ...] = (
    "outcome",
    "Outcome",
    "group",
    "Group",
    "events",
    "patients",
    "cohorts",
    "rate",
    "ci_low",
    "ci_high",
    "cohorts_not_reported",
    "cohorts_left_out",
)


def group_label(group_by: str, code: object) -> str:
    if not isinstance(code, str):
        return voc.NOT_REPORTED_LABEL
    if group_by == "car_target":
        return voc.NO_CAR_LABEL if code == voc.NO_CAR_CODE else code
    return voc.label(voc.GROUP_VOCABULARIES.get(group_by, {}), code)


def _rates(counts: pd.DataFrame) -> dict[str, float | int]:
    """events / patients over the reporting, not-left-out cohorts of one group, with a Clopper-Pearson interval."""
    usable = counts[counts["events"].notna() & counts["total"].notna() & (counts["total"] > 0) & ~counts["excluded"]]
    events = int((usable["events"] * usable["cohorts"]).sum())
    patients = int((usable["total"] * usable["cohorts"]).sum())
    low, high = stats.proportion_ci(events, patients) if patients > 0 else (float("nan"), float("nan"))
    return {
        "events": events,
        "patients": patients,
        "cohorts": int(usable["cohorts"].sum()),
        "rate": events / patients if patients else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "cohorts_not_reported": int(counts.loc[counts["events"].isna() | counts["total"].isna(), "cohorts"].sum()),
        "cohorts_left_out": int(counts.loc[counts["excluded"] & counts["events"].notna(), "cohorts"].sum()),
    }


def safety_rates(repo: TrialsRepository, slice_: Slice, group_by: str, choices: Analysis) -> pd.DataFrame:
    """One row per safety outcome and group, then one 'All cohorts' row per outcome (the Summary of findings'
    k and N): events, patients, reporting cohorts, the crude rate with its exact 95% CI, and the cohorts that did
    not report the outcome (or their patient count) or that a sensitivity choice left out."""
    if group_by not in SAFETY_GROUPS:
        raise ValueError(f"{group_by!r} is not one of {', '.join(SAFETY_GROUPS)}")
    rows = []
    for outcome in SAFETY_COUNT_FIELDS:
        counts = repo.rate_counts(slice_, group_by, outcome, "n_treated", choices.sql_exclude)
        if counts.empty:
            continue
        label = voc.SAFETY_FIELDS.get(outcome, outcome)
        for code, part in counts.groupby("grp", dropna=False, sort=False):
            rows.append(
                {"outcome": outcome, "Outcome": label, "group": code, "Group": group_label(group_by, code)}
                | _rates(part)
            )
        rows.append({"outcome": outcome, "Outcome": label, "group": "", "Group": ALL_GROUPS} | _rates(counts))
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS))


def rate_text(events: int, patients: int, low: float, high: float) -> str:
    """'2/10 (20%; 3-56)', '0/12 (0%; 0-26)'; 'not reported' when no reporting cohort has a patient count."""
    if patients <= 0:
        return voc.NOT_REPORTED_LABEL.lower()
    return f"{events}/{patients} ({100 * events / patients:.0f}%; {100 * low:.0f}-{100 * high:.0f})"


MAX_MATRIX_GROUPS = 5  # more groups than this (products) read better as one row per outcome and group


def rate_matrix(rates: pd.DataFrame) -> pd.DataFrame:
    """Outcomes as rows, groups as columns (largest first, 'All cohorts' last), each cell 'events/patients (%; CI)';
    groups reporting no safety outcome are left out (the page names them). With more than MAX_MATRIX_GROUPS groups,
    one row per outcome and group instead, so the table still fits a laptop screen."""
    if rates.empty:
        return pd.DataFrame()
    cells = rates.assign(
        cell=[
            rate_text(e, p, lo, hi)
            for e, p, lo, hi in zip(rates["events"], rates["patients"], rates["ci_low"], rates["ci_high"], strict=True)
        ]
    )
    size = cells[cells["Group"] != ALL_GROUPS].groupby("Group")["patients"].max().sort_values(ascending=False)
    order = [*size[size > 0].index, ALL_GROUPS]
    outcomes = list(dict.fromkeys(cells["Outcome"]))
    if len(order) - 1 > MAX_MATRIX_GROUPS:
        long = cells[cells["Group"].isin(order) & (cells["patients"] > 0)]
        long = long.assign(rank=long["Group"].map({g: i for i, g in enumerate(order)}))
        long = long.assign(position=long["Outcome"].map(outcomes.index)).sort_values(["position", "rank"])
        return long.rename(columns={"cell": "Events / patients (%; 95% CI)"})[
            ["Outcome", "Group", "Events / patients (%; 95% CI)"]
        ].reset_index(drop=True)
    matrix = cells.pivot(index="Outcome", columns="Group", values="cell").reindex(index=outcomes, columns=order)
    return matrix.fillna(voc.NOT_REPORTED_LABEL.lower()).reset_index().rename_axis(columns=None)


def silent_groups(rates: pd.DataFrame) -> list[str]:
    """Groups in which no cohort reports any safety outcome with its patient count."""
    groups = rates[rates["Group"] != ALL_GROUPS].groupby("Group")["patients"].max()
    return sorted(groups[groups <= 0].index)


def rate_export(rates: pd.DataFrame) -> pd.DataFrame:
    """The rates as a reader's table: labelled columns, percentages rounded as shown."""
    return pd.DataFrame(
        {
            "Outcome": rates["Outcome"],
            "Group": rates["Group"],
            "Patients with the event": rates["events"],
            "Patients treated (reporting cohorts)": rates["patients"],
            "Cohorts reporting": rates["cohorts"],
            "Rate %": (100 * rates["rate"]).round(1),
            "95% CI low %": (100 * rates["ci_low"]).round(1),
            "95% CI high %": (100 * rates["ci_high"]).round(1),
            "Cohorts not reporting": rates["cohorts_not_reported"],
            "Cohorts left out (sensitivity)": rates["cohorts_left_out"],
        }
    )
