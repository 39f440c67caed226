"""GRADE certainty of each Summary-of-findings row: the rules, written once, with every downgrade named.

Every cohort in this dataset is single-arm or non-comparative, so each outcome x setting starts at **Low**
certainty and can only go down to **Very low** (one step per serious concern, two for very serious; never below
Very low). No upgrade applies: a large effect or a dose-response gradient needs a comparator. The domains, each
read from numbers the Summary of findings already shows or from the same pooled cohorts (query ``grade_inputs``):

- Risk of bias (the appraisals in ``data/rob``, by patients): -2 when at least half of the patients come from
  publications at high risk of bias; -1 when at least half come from publications not at low risk (high, some
  concerns, or not yet appraised).
- Inconsistency: -1 when I² >= 50% or, with 3 or more cohorts, the 95% prediction interval is wider than 50
  percentage points; one cohort: not assessable.
- Indirectness: -1 when at least a quarter of the patients are in cohorts that mix diagnoses, received a
  transplant with the NK cells or anti-leukemic lymphodepletion, or when at least a quarter of the cohorts give a
  count only a review reported.
- Imprecision: -2 when fewer than 30 patients or a 95% CI at least 50 points wide; -1 when fewer than 100
  patients (the optimal information size of a single-arm proportion, roughly) or a CI at least 30 points wide.
- Publication bias: -1 when at least half of the cohorts are conference abstracts or company reports; otherwise
  not assessable with fewer than 10 cohorts, and not downgraded with 10 or more (no small-study test here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEVELS: dict[int, str] = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}
SYMBOLS: dict[int, str] = {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}
START_SINGLE_ARM = 2

ROB_VERY_SERIOUS_HIGH_SHARE = 0.5
ROB_SERIOUS_NOT_LOW_SHARE = 0.5
I2_SERIOUS = 0.5
PI_WIDTH_SERIOUS = 50.0  # percentage points
INDIRECT_SHARE = 0.25
N_VERY_SERIOUS = 30
N_SERIOUS = 100  # patients: below it the optimal information size is not met
CI_WIDTH_VERY_SERIOUS = 50.0
CI_WIDTH_SERIOUS = 30.0
K_PUBLICATION_BIAS = 10
GREY_SHARE = 0.5


# The rules in words, for About & methods and README (the thresholds are the constants above).
GRADE_RULES: tuple[tuple[str, str], ...] = (
    ("Start", "Low: every cohort is single-arm or non-comparative. No upgrade (a large effect needs a comparator)."),
    (
        "Risk of bias",
        f"-2 when >= {ROB_VERY_SERIOUS_HIGH_SHARE:.0%} of patients are in publications at high risk of bias; -1 when "
        f">= {ROB_SERIOUS_NOT_LOW_SHARE:.0%} are in publications not at low risk (high, some concerns or not yet "
        "appraised).",
    ),
    (
        "Inconsistency",
        f"-1 when I² >= {I2_SERIOUS:.0%} or (k >= 3) the 95% prediction interval is wider than "
        f"{PI_WIDTH_SERIOUS:.0f} points; not assessable with one cohort.",
    ),
    (
        "Indirectness",
        f"-1 when >= {INDIRECT_SHARE:.0%} of patients are in mixed-diagnosis cohorts, cohorts given a transplant "
        f"with the NK cells or anti-leukemic lymphodepletion, or >= {INDIRECT_SHARE:.0%} of cohorts give a count "
        "only a review reported.",
    ),
    (
        "Imprecision",
        f"-2 when fewer than {N_VERY_SERIOUS} patients or a 95% CI >= {CI_WIDTH_VERY_SERIOUS:.0f} points wide; -1 "
        f"when fewer than {N_SERIOUS} patients (optimal information size not met) or a CI >= "
        f"{CI_WIDTH_SERIOUS:.0f} points wide.",
    ),
    (
        "Publication bias",
        f"-1 when >= {GREY_SHARE:.0%} of cohorts are conference abstracts or company reports; otherwise not "
        f"assessable with k < {K_PUBLICATION_BIAS}, not downgraded with k >= {K_PUBLICATION_BIAS}.",
    ),
    ("Floor", "Never below very low; the reason for every downgrade is shown in the row's 'Why'."),
)


@dataclass(frozen=True)
class Evidence:
    """One Summary-of-findings row as GRADE reads it (percentages in points; NaN when not applicable)."""

    k: int
    n: int
    ci_low: float = math.nan
    ci_high: float = math.nan
    i2: float = math.nan  # percent
    pi_low: float = math.nan
    pi_high: float = math.nan
    n_rob_high: int = 0
    n_rob_some: int = 0
    n_rob_none: int = 0
    n_mixed: int = 0
    n_co_transplant: int = 0
    n_antileukemic: int = 0
    n_indirect: int = 0
    k_review: int = 0
    k_grey: int = 0
    pooled: bool = True  # False: landmark estimates summarised as median and range (no CI)


@dataclass(frozen=True)
class Domain:
    name: str
    change: int  # 0, -1 or -2
    reason: str


@dataclass(frozen=True)
class Rating:
    level: int
    domains: tuple[Domain, ...]

    @property
    def label(self) -> str:
        return LEVELS[self.level]

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.level]

    def why(self) -> str:
        """Every downgrade by domain with its reason, then what could not be assessed."""
        changed = [f"{d.name} {d.change:+d}: {d.reason}" for d in self.domains if d.change]
        notes = [f"{d.name}: {d.reason}" for d in self.domains if not d.change and "not assessable" in d.reason]
        total = sum(d.change for d in self.domains)
        head = "Start low (single-arm)."
        tail = [f"Total {total:+d}, floored at very low."] if START_SINGLE_ARM + total < 1 else []
        body = [s + "." for s in changed + notes] or ["No downgrade."]
        return " ".join([head, *body, *tail])


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%"


def risk_of_bias(e: Evidence) -> Domain:
    if e.n <= 0:
        return Domain("Risk of bias", 0, "not assessable (no patients)")
    not_low = e.n_rob_high + e.n_rob_some + e.n_rob_none
    if e.n_rob_high / e.n >= ROB_VERY_SERIOUS_HIGH_SHARE:
        return Domain("Risk of bias", -2, f"{_pct(e.n_rob_high, e.n)} of patients in publications at high risk")
    if not_low / e.n >= ROB_SERIOUS_NOT_LOW_SHARE:
        parts = [
            f"{label} {_pct(n, e.n)}"
            for label, n in (
                ("high", e.n_rob_high),
                ("some concerns", e.n_rob_some),
                ("not yet appraised", e.n_rob_none),
            )
            if n
        ]
        return Domain(
            "Risk of bias", -1, f"{_pct(not_low, e.n)} of patients not in low-risk publications ({', '.join(parts)})"
        )
    return Domain("Risk of bias", 0, f"{_pct(e.n - not_low, e.n)} of patients in low-risk publications")


def inconsistency(e: Evidence) -> Domain:
    if e.k < 2:
        return Domain("Inconsistency", 0, "not assessable (one cohort)")
    pi_width = e.pi_high - e.pi_low
    reasons = []
    if not math.isnan(e.i2) and e.i2 >= 100 * I2_SERIOUS:
        reasons.append(f"I² {e.i2:.0f}%")
    if e.k >= 3 and not math.isnan(pi_width) and pi_width > PI_WIDTH_SERIOUS:
        reasons.append(f"95% prediction interval {e.pi_low:.0f}-{e.pi_high:.0f}%")
    if not e.pooled:
        spread = e.ci_high - e.ci_low
        if not math.isnan(spread) and spread > PI_WIDTH_SERIOUS:
            reasons.append(f"reported estimates range {e.ci_low:.0f}-{e.ci_high:.0f}%")
    if reasons:
        return Domain("Inconsistency", -1, " and ".join(reasons))
    return Domain("Inconsistency", 0, "consistent estimates")


def indirectness(e: Evidence) -> Domain:
    if e.n <= 0:
        return Domain("Indirectness", 0, "not assessable (no patients)")
    reasons = []
    if e.n_indirect / e.n >= INDIRECT_SHARE:
        kinds = [
            label
            for label, n in (
                ("mixed diagnoses", e.n_mixed),
                ("a transplant with the NK cells", e.n_co_transplant),
                ("anti-leukemic lymphodepletion", e.n_antileukemic),
            )
            if n
        ]
        reasons.append(f"{_pct(e.n_indirect, e.n)} of patients in cohorts with {' or '.join(kinds)}")
    if e.k and e.k_review / e.k >= INDIRECT_SHARE:
        reasons.append(f"{e.k_review} of {e.k} cohorts' counts only from a review")
    if reasons:
        return Domain("Indirectness", -1, "; ".join(reasons))
    return Domain("Indirectness", 0, "AML patients given NK cells without confounding co-interventions")


def imprecision(e: Evidence) -> Domain:
    width = e.ci_high - e.ci_low if e.pooled else math.nan
    ci = f"95% CI {e.ci_low:.0f}-{e.ci_high:.0f}%" if not math.isnan(width) else "no pooled interval"
    patients = f"{e.n} patient{'s' if e.n != 1 else ''}"
    levels = ((-2, N_VERY_SERIOUS, CI_WIDTH_VERY_SERIOUS), (-1, N_SERIOUS, CI_WIDTH_SERIOUS))
    for change, n_limit, width_limit in levels:
        reasons = [f"{patients} (fewer than {n_limit})"] if e.n < n_limit else []
        if not math.isnan(width) and width >= width_limit:
            reasons.append(f"{ci}, {width:.0f} points wide (at least {width_limit:.0f})")
        if reasons:
            return Domain("Imprecision", change, " and ".join(reasons))
    return Domain("Imprecision", 0, f"{patients}, {ci}")


def publication_bias(e: Evidence) -> Domain:
    if e.k and e.k_grey / e.k >= GREY_SHARE:
        return Domain("Publication bias", -1, f"{e.k_grey} of {e.k} cohorts are abstracts or company reports")
    if e.k < K_PUBLICATION_BIAS:
        return Domain("Publication bias", 0, f"not assessable (k = {e.k} < {K_PUBLICATION_BIAS})")
    return Domain("Publication bias", 0, "not downgraded (no small-study test here)")


DOMAINS = (risk_of_bias, inconsistency, indirectness, imprecision, publication_bias)


def rate(e: Evidence) -> Rating:
    """The certainty of one row: start low (single-arm), apply each domain, never below very low."""
    domains = tuple(check(e) for check in DOMAINS)
    return Rating(max(1, START_SINGLE_ARM + sum(d.change for d in domains)), domains)
