"""What the user is looking at: the slice of cohorts, the analysis choices, and the URL contract.

A shared link must reproduce a view exactly, and a mangled link must never
break the app. So parsing is a pure function from query parameters to a
``View`` plus a few plain-language notices (bounded: a link with a thousand bad
keys gives one short notice), and the inverse writes only what differs from the
defaults, using the dataset's codes. The filters come from ``filterspec.FILTERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass, replace
from typing import Any

from nkdata import vocabulary as voc
from nkdata.filterspec import (
    FILTERS,
    FILTERS_BY_KEY,
    REGISTRY_FILTERS,
    REGISTRY_FILTERS_BY_KEY,
    START_YEARS_FIELD,
    START_YEARS_KEY,
    TOGGLES,
    YEARS_KEY,
    registry_mapped_filters,
    registry_mapped_toggles,
)
from nkdata.metareg import MODERATORS
from nkdata.registry_dictionary import START_YEAR_MAX, START_YEAR_MIN

MAX_VALUES_PER_KEY = 40
MAX_VALUE_LENGTH = 120
NOTICE_VALUE_CHARS = 40
MAX_NOTICE_EXAMPLES = 3
MAX_SEARCH_CHARS = 200

POOL_METHODS: dict[str, str] = {"GLMM": "GLMM", "REML": "REML", "DL": "DerSimonian-Laird"}
# The pooled CI: Knapp-Hartung (metafor test="adhoc"; t(k-1) for the GLMM) below 10 cohorts, always, or never.
INTERVALS: dict[str, str] = {"auto": "Auto (KH below 10)", "knha": "Knapp-Hartung", "z": "Normal (z)"}
CI_METHODS: dict[str, str] = {"clopper-pearson": "Clopper-Pearson (exact)", "wilson": "Wilson score"}
DENOMINATORS: dict[str, str] = {"treated": "Treated patients", "evaluable": "Evaluable patients"}
PERSISTENCE_ROWS: dict[str, str] = {"product": "Product", "nk_source": "NK source"}
MODELS: dict[str, str] = {"random": "Random effects", "fixed": "Fixed effect"}
EXCLUSIONS: dict[str, str] = {
    "review": "Numbers only a review gave",
    "converted": "Counts converted from percentages",
    "grey": "Conference abstracts and company reports",
    "rob": "Publications not at low risk of bias (low risk of bias only)",
}
MODERATOR_CHOICES: dict[str, str] = {code: label for code, (label, _) in MODERATORS.items()}
LEAVE_OUT_KEY = "leave_out"
LEAVE_OUT_PREFIX = "cohort:"
MAX_LEAVE_OUT = 20
LANDMARKS: dict[str, str] = {"6": "6 months", "12": "12 months", "24": "24 months", "36": "36 months"}


def _slice_class() -> type:
    """The Slice dataclass, one field per filter of the spec table, plus years and the toggles."""
    spec = [("years", "tuple[int, int] | None", field(default=None))]
    spec += [(f.field, "tuple[str, ...]", field(default=())) for f in FILTERS]
    spec += [(t.field, "bool", field(default=t.default)) for t in TOGGLES]

    def sql_params(self: Any) -> dict[str, Any]:
        """The slice as the one bound STRUCT parameter ``$slice`` of ``queries.sql``."""
        year_min, year_max = self.years if self.years else (0, 9999)
        value: dict[str, Any] = {"year_min": year_min, "year_max": year_max}
        value.update({f.field: list(getattr(self, f.field)) for f in FILTERS})
        value.update({t.field: bool(getattr(self, t.field)) for t in TOGGLES})
        return {"slice": value}

    return make_dataclass(
        "Slice",
        spec,
        frozen=True,
        namespace={
            "__doc__": "The sidebar filters. Empty tuples mean 'all'; years None means the whole span.",
            "__module__": __name__,
            "sql_params": sql_params,
        },
    )


Slice = _slice_class()


def _registry_slice_class() -> type:
    """The RegistrySlice dataclass: the page's own filters (start years, phase, status...) plus the sidebar
    filters and toggles the filter table maps to registry columns."""
    own = [(START_YEARS_FIELD, "tuple[int, int] | None", field(default=None))]
    own += [(f.field, "tuple[str, ...]", field(default=())) for f in REGISTRY_FILTERS]
    shared = [(f.field, "tuple[str, ...]", field(default=())) for f in registry_mapped_filters()]
    shared += [(t.field, "bool", field(default=t.default)) for t in registry_mapped_toggles()]
    shared_names = tuple(name for name, _, _ in shared)

    def sql_params(self: Any) -> dict[str, Any]:
        """The registry slice as the one bound STRUCT parameter ``$slice`` of the registry queries."""
        start = getattr(self, START_YEARS_FIELD)
        value: dict[str, Any] = {
            "use_start": start is not None,
            "start_min": start[0] if start else 0,
            "start_max": start[1] if start else 0,
        }
        for name, kind, _ in own[1:] + shared:
            value[name] = bool(getattr(self, name)) if kind == "bool" else list(getattr(self, name))
        return {"slice": value}

    def from_view(cls: type, view: Any) -> Any:
        """The page's own filters from ``view.registry``, the mapped sidebar filters from ``view.slice`` (read by
        attribute name, so a view without them means 'all')."""
        own_part = getattr(view, "registry", None) or cls()
        shared_slice = getattr(view, "slice", None)
        values = {}
        for name in shared_names:
            default = getattr(cls(), name)
            got = getattr(shared_slice, name, default)
            values[name] = tuple(got) if isinstance(default, tuple) else bool(got)
        return replace(own_part, **values)

    return make_dataclass(
        "RegistrySlice",
        own + shared,
        frozen=True,
        namespace={
            "__doc__": "Filters of the Registered trials page. Empty tuples mean 'all'; start_years None keeps "
            "every trial, including those whose start year is not reported.",
            "__module__": __name__,
            "sql_params": sql_params,
            "from_view": classmethod(from_view),
        },
    )


RegistrySlice = _registry_slice_class()
START_YEAR_BOUNDS: tuple[int, int] = (START_YEAR_MIN, START_YEAR_MAX)


@dataclass(frozen=True)
class Analysis:
    """Analysis choices that change numbers, so they belong in a shared link too."""

    pool: str = "GLMM"  # exact binomial likelihood: cohorts are small and 0/n is common (docs/decisions.md)
    test: str = "auto"  # z intervals are too narrow for the 2-9 cohorts most groups have
    ci: str = "clopper-pearson"
    denom: str = "treated"  # intention to treat; most papers report CR over treated patients
    group: str = "setting"  # pooling across disease settings misleads, so settings are the default strata
    model: str = "random"
    overall: bool = False  # an across-groups pooled estimate only when asked for
    exclude: tuple[str, ...] = ()
    rows: str = "product"
    endpoint: str = "os"
    landmark: str = "24"
    mods: tuple[str, ...] = ("year",)  # meta-regression moderators; year is the one every cohort reports
    mr_setting: str = "relapsed_refractory"  # meta-regression stays within one setting: the most cohorts
    leave_out: tuple[str, ...] = ()  # cohort ids left out of every rate as a sensitivity choice

    @property
    def sql_exclude(self) -> tuple[str, ...]:
        """The exclusions as ``queries.sql`` takes them: the named subsets, then ``cohort:<id>`` per left-out cohort."""
        return (*self.exclude, *(f"{LEAVE_OUT_PREFIX}{c}" for c in self.leave_out))


@dataclass(frozen=True)
class View:
    slice: Any = field(default_factory=Slice)
    analysis: Analysis = field(default_factory=Analysis)
    cohort: str | None = None  # the cohort whose card is open
    query: str = ""  # the Studies search
    registry: Any = field(default_factory=RegistrySlice)  # the Registered trials page's own filters


@dataclass(frozen=True)
class Vocabulary:
    """Codes a link may use: fixed ones from the vocabulary, data-driven ones (by filter field) from the dataset."""

    data_codes: Mapping[str, frozenset[str]]
    year_bounds: tuple[int, int]

    def allowed(self, filter_field: str) -> frozenset[str]:
        spec = next(f for f in FILTERS if f.field == filter_field)
        codes = frozenset(spec.codes) if spec.codes is not None else self.data_codes.get(filter_field, frozenset())
        return codes | ({spec.null_code} if spec.null_code else frozenset())


# Analysis keys: link key -> (Analysis attribute, allowed codes, several values allowed)
_ANALYSIS_KEYS: dict[str, tuple[str, Mapping[str, str], bool]] = {
    "pool": ("pool", POOL_METHODS, False),
    "test": ("test", INTERVALS, False),
    "ci": ("ci", CI_METHODS, False),
    "denom": ("denom", DENOMINATORS, False),
    "group": ("group", voc.GROUPINGS, False),
    "model": ("model", MODELS, False),
    "exclude": ("exclude", EXCLUSIONS, True),
    "rows": ("rows", PERSISTENCE_ROWS, False),
    "endpoint": ("endpoint", voc.ENDPOINTS, False),
    "landmark": ("landmark", LANDMARKS, False),
    "mods": ("mods", MODERATOR_CHOICES, True),
    "mrsetting": ("mr_setting", voc.SETTINGS, False),
}
_ANALYSIS_BOOLS: dict[str, str] = {"overall": "overall"}
_TOGGLE_KEYS: dict[str, str] = {t.key: t.field for t in TOGGLES}
VIEW_KEYS: tuple[str, ...] = (LEAVE_OUT_KEY, "cohort", "q")
URL_KEYS: tuple[str, ...] = (
    YEARS_KEY,
    *FILTERS_BY_KEY,
    *_TOGGLE_KEYS,
    *_ANALYSIS_KEYS,
    *_ANALYSIS_BOOLS,
    *VIEW_KEYS,
    START_YEARS_KEY,
    *REGISTRY_FILTERS_BY_KEY,
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _show(value: str) -> str:
    """A value safe and short enough to echo back in a notice."""
    text = value if len(value) <= NOTICE_VALUE_CHARS else value[:NOTICE_VALUE_CHARS] + "..."
    return repr(text)


def _examples(values: Sequence[str]) -> str:
    shown = ", ".join(_show(v) for v in values[:MAX_NOTICE_EXAMPLES])
    return shown + (f" and {len(values) - MAX_NOTICE_EXAMPLES} more" if len(values) > MAX_NOTICE_EXAMPLES else "")


def _bool(values: list[str]) -> bool | None:
    value = values[-1].strip().lower() if values else ""
    return True if value in _TRUE else False if value in _FALSE else None


def parse_query_params(
    params: Mapping[str, Sequence[str] | str], vocab: Vocabulary, cohort_exists: Callable[[str], bool] = lambda _: False
) -> tuple[View, list[str]]:
    """The view a link asks for, and at most one notice per parameter (plus one for all unknown keys)."""
    notices: list[str] = []
    slice_values: dict[str, Any] = {}
    analysis_values: dict[str, Any] = {}
    view_values: dict[str, Any] = {}
    registry_values: dict[str, Any] = {}
    unknown = sorted(k for k in params if k not in URL_KEYS)
    if unknown:
        notices.append(f"Ignored {len(unknown)} unknown link parameter(s): {_examples(unknown)}.")

    for key in (k for k in URL_KEYS if k in params):
        raw = params[key]
        values = [raw] if isinstance(raw, str) else list(raw)
        problems: list[str] = []
        if len(values) > MAX_VALUES_PER_KEY:
            problems.append(f"{len(values) - MAX_VALUES_PER_KEY} values beyond the first {MAX_VALUES_PER_KEY}")
            values = values[:MAX_VALUES_PER_KEY]
        limit = MAX_SEARCH_CHARS if key == "q" else MAX_VALUE_LENGTH
        too_long = [v for v in values if len(v) > limit]
        if too_long:
            problems.append(f"{len(too_long)} over-long value(s)")
            values = [v for v in values if len(v) <= limit]
        note = (
            _parse_one(key, values, vocab, cohort_exists, slice_values, analysis_values, view_values, registry_values)
            if values or not too_long
            else None
        )
        if note:
            problems.append(note)
        if problems:
            notices.append(f"Ignored part of '{key}': " + "; ".join(problems) + ".")

    view = View(
        Slice(**slice_values), Analysis(**analysis_values), **view_values, registry=RegistrySlice(**registry_values)
    )
    return view, notices


def _parse_one(
    key: str,
    values: list[str],
    vocab: Vocabulary,
    cohort_exists: Callable[[str], bool],
    slice_values: dict[str, Any],
    analysis_values: dict[str, Any],
    view_values: dict[str, Any],
    registry_values: dict[str, Any],
) -> str | None:
    """Store what ``key`` contributes; return what had to be ignored or adjusted, if anything."""
    if key == START_YEARS_KEY:
        years, note = _parse_years(values, START_YEAR_BOUNDS)
        if years is not None and years != START_YEAR_BOUNDS:
            registry_values[START_YEARS_FIELD] = years
        return note
    if key in REGISTRY_FILTERS_BY_KEY:
        spec = REGISTRY_FILTERS_BY_KEY[key]
        allowed = (
            frozenset(spec.codes) if spec.codes is not None else frozenset(v for v in values if v.strip() == v)
        ) | ({spec.null_code} if spec.null_code else frozenset())  # CAR targets: any clean value (0 trials if unknown)
        kept, bad = _known(values, allowed)
        if kept:
            registry_values[spec.field] = tuple(kept)
        return f"not known codes: {_examples(bad)}" if bad else None
    if key == YEARS_KEY:
        years, note = _parse_years(values, vocab.year_bounds)
        if years is not None:
            slice_values["years"] = years
        return note
    if key in FILTERS_BY_KEY:
        spec = FILTERS_BY_KEY[key]
        kept, bad = _known(values, vocab.allowed(spec.field))
        if kept:
            slice_values[spec.field] = tuple(kept)
        return f"not known codes: {_examples(bad)}" if bad else None
    if key in _TOGGLE_KEYS or key in _ANALYSIS_BOOLS:
        value = _bool(values)
        if value is None:
            return f"{_show(values[-1] if values else '')} is not 1 or 0"
        (slice_values if key in _TOGGLE_KEYS else analysis_values)[_TOGGLE_KEYS.get(key) or _ANALYSIS_BOOLS[key]] = (
            value
        )
        return None
    if key in _ANALYSIS_KEYS:
        attribute, allowed, several = _ANALYSIS_KEYS[key]
        if several:
            kept, bad = _known(values, frozenset(allowed))
            analysis_values[attribute] = tuple(kept)
            return f"not known codes: {_examples(bad)}" if bad else None
        value = values[-1] if values else ""
        if value in allowed:
            analysis_values[attribute] = value
            return None
        return f"{_show(value)} is not one of {', '.join(allowed)}"
    if key == LEAVE_OUT_KEY:
        kept = list(dict.fromkeys(v for v in values if v and cohort_exists(v)))[:MAX_LEAVE_OUT]
        bad = [v for v in values if v and not cohort_exists(v)]
        if kept:
            analysis_values["leave_out"] = tuple(kept)
        return f"no cohort {_examples(bad)} in this dataset" if bad else None
    if key == "cohort":
        value = values[-1] if values else ""
        if len(value) <= MAX_VALUE_LENGTH and cohort_exists(value):
            view_values["cohort"] = value
            return None
        return f"no cohort {_show(value)} in this dataset"
    if key == "q":
        view_values["query"] = " ".join((values[-1] if values else "").split())
    return None


def _known(values: list[str], allowed: frozenset[str]) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    bad: list[str] = []
    for value in values:
        if value == "":
            continue
        if value in allowed:
            if value not in kept:
                kept.append(value)
        elif value not in bad:
            bad.append(value)
    return kept, bad


def _parse_years(values: list[str], bounds: tuple[int, int]) -> tuple[tuple[int, int] | None, str | None]:
    if len(values) != 2:
        return None, f"give exactly two years, e.g. years={bounds[0]}&years={bounds[1]}"
    try:
        low, high = (int(v.strip()) for v in values)
    except ValueError:
        return None, "the values are not whole numbers"
    note = None
    if low > high:
        low, high = high, low
        note = f"the years were reversed; showing {low}-{high}"
    clamped = (max(low, bounds[0]), min(high, bounds[1]))
    if clamped[0] > clamped[1]:
        return None, f"{low}-{high} is outside the dataset's span {bounds[0]}-{bounds[1]}"
    if clamped != (low, high):
        note = f"{low}-{high} narrowed to the dataset's span {clamped[0]}-{clamped[1]}"
    return clamped, note


def to_query_params(view: View, year_bounds: tuple[int, int]) -> dict[str, list[str]]:
    """The link parameters of a view: only what differs from the default, in a stable order."""
    out: dict[str, list[str]] = {}
    s = view.slice
    if s.years is not None and tuple(s.years) != tuple(year_bounds):
        out[YEARS_KEY] = [str(s.years[0]), str(s.years[1])]
    for spec in FILTERS:
        values = getattr(s, spec.field)
        if values:
            out[spec.key] = list(values)
    for toggle in TOGGLES:
        if getattr(s, toggle.field) != toggle.default:
            out[toggle.key] = ["1" if getattr(s, toggle.field) else "0"]
    defaults = Analysis()
    for key, (attribute, _, several) in _ANALYSIS_KEYS.items():
        value = getattr(view.analysis, attribute)
        if value != getattr(defaults, attribute):
            out[key] = list(value) if several else [value]
    for key, attribute in _ANALYSIS_BOOLS.items():
        if getattr(view.analysis, attribute) != getattr(defaults, attribute):
            out[key] = ["1" if getattr(view.analysis, attribute) else "0"]
    if view.analysis.leave_out:
        out[LEAVE_OUT_KEY] = list(view.analysis.leave_out)
    if view.cohort:
        out["cohort"] = [view.cohort]
    if view.query:
        out["q"] = [view.query]
    registry = view.registry
    start = getattr(registry, START_YEARS_FIELD)
    if start is not None and tuple(start) != START_YEAR_BOUNDS:
        out[START_YEARS_KEY] = [str(start[0]), str(start[1])]
    for spec in REGISTRY_FILTERS:
        if getattr(registry, spec.field):
            out[spec.key] = list(getattr(registry, spec.field))
    return out


def narrow_products(slice_: Any, products_by_source: Mapping[str, Sequence[str]]) -> Any:
    """Drop chosen products whose source is no longer selected (the product list narrows with sources)."""
    if not slice_.sources or not slice_.products:
        return slice_
    allowed = {p for src in slice_.sources for p in products_by_source.get(src, ())}
    return replace(slice_, products=tuple(p for p in slice_.products if p in allowed))
