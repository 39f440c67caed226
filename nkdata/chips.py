"""The active slice in one line of removable chips: "Memory-like (CIML) · 2016-2022 · AML only · without abstracts".

Every page states its scope under the title, so a phone reader or anyone opening a shared link knows what the
numbers cover; the same words go into every figure's caption and the citation of the view (including the
sensitivity exclusions and the cohorts left out that the link carries). Each chip knows how to remove itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from nkdata.filterspec import FILTERS, TOGGLES
from nkdata.slices import View

ALL_COHORTS = "The default inclusion (AML-only primary cohorts), every publication year"
# What each inclusion switch reads like when it is away from its default.
TOGGLE_TEXT: dict[tuple[str, bool], str] = {
    ("include_mixed", False): "AML only",
    ("include_mixed", True): "with mixed-diagnosis cohorts",
    ("include_co_transplant", True): "with R/R cohorts given a transplant with the NK cells",
    ("include_co_transplant", False): "without R/R cohorts given a transplant with the NK cells",
    ("include_superseded", True): "with superseded reports",
    ("include_superseded", False): "without superseded reports",
}
EXCLUSION_TEXT: dict[str, str] = {
    "review": "without review-only numbers",
    "converted": "without counts converted from percentages",
    "grey": "without abstracts and company reports",
    "rob": "low risk of bias only",
}


@dataclass(frozen=True)
class Chip:
    """One stated part of the view. ``kind``: years, filter, toggle, exclude or leave_out."""

    text: str
    kind: str
    field: str = ""
    code: str = ""


def view_chips(view: View, year_bounds: tuple[int, int], cohort_names: Mapping[str, str] | None = None) -> list[Chip]:
    """The chips of a view, in the sidebar's order, then the sensitivity choices."""
    chips: list[Chip] = []
    s = view.slice
    for spec in FILTERS:
        for code in getattr(s, spec.field):
            chips.append(Chip(spec.code_label(code), "filter", spec.field, code))
    if s.years is not None and tuple(s.years) != tuple(year_bounds):
        low, high = s.years
        chips.append(Chip(f"{low}-{high}" if low != high else str(low), "years", "years"))
    for toggle in TOGGLES:
        value = bool(getattr(s, toggle.field))
        if value != toggle.default:
            chips.append(Chip(TOGGLE_TEXT.get((toggle.field, value), toggle.label), "toggle", toggle.field))
    for code in view.analysis.exclude:
        chips.append(Chip(EXCLUSION_TEXT.get(code, code), "exclude", "exclude", code))
    names = cohort_names or {}
    for cohort in view.analysis.leave_out:
        chips.append(Chip(f"without {names.get(cohort, cohort)}", "leave_out", "leave_out", cohort))
    return chips


def describe_view(view: View, year_bounds: tuple[int, int], cohort_names: Mapping[str, str] | None = None) -> str:
    """The chips as one line of text, for captions, exports and citations."""
    chips = view_chips(view, year_bounds, cohort_names)
    return " · ".join(c.text for c in chips) if chips else ALL_COHORTS


def without(view: View, chip: Chip) -> View:
    """The view with ``chip``'s choice removed (back to its default)."""
    s = view.slice
    if chip.kind == "filter":
        kept = tuple(c for c in getattr(s, chip.field) if c != chip.code)
        return replace(view, slice=replace(s, **{chip.field: kept}))
    if chip.kind == "years":
        return replace(view, slice=replace(s, years=None))
    if chip.kind == "toggle":
        default = next(t.default for t in TOGGLES if t.field == chip.field)
        return replace(view, slice=replace(s, **{chip.field: default}))
    a = view.analysis
    if chip.kind == "exclude":
        return replace(view, analysis=replace(a, exclude=tuple(c for c in a.exclude if c != chip.code)))
    if chip.kind == "leave_out":
        return replace(view, analysis=replace(a, leave_out=tuple(c for c in a.leave_out if c != chip.code)))
    raise ValueError(f"unknown chip kind {chip.kind!r}")
