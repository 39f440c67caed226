"""What the user is looking at: the slice of cohorts and the analysis choices, and the URL contract.

A shared link must reproduce a view exactly, and a mangled link must never
break the app. So parsing is a pure function from query parameters to a
``View`` plus plain-language notices for anything ignored, and the inverse
writes only what differs from the defaults, using the dataset's codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nkdata import vocabulary as voc

MAX_VALUES_PER_KEY = 40
MAX_VALUE_LENGTH = 120
NOTICE_VALUE_CHARS = 40

POOL_METHODS: dict[str, str] = {"REML": "REML", "DL": "DerSimonian-Laird"}
CI_METHODS: dict[str, str] = {"clopper-pearson": "Clopper-Pearson (exact)", "wilson": "Wilson score"}
DENOMINATORS: dict[str, str] = {"treated": "Treated patients", "evaluable": "Evaluable patients"}


@dataclass(frozen=True)
class Slice:
    """The sidebar filters. Empty tuples mean "all"; ``years`` None means the whole span."""

    years: tuple[int, int] | None = None
    sources: tuple[str, ...] = ()
    product_classes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    car_targets: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    donors: tuple[str, ...] = ()
    pubtypes: tuple[str, ...] = ()
    include_mixed: bool = True
    include_superseded: bool = False

    def sql_params(self) -> dict[str, Any]:
        """Bound parameters of the slice macro in ``queries.sql``."""
        year_min, year_max = self.years if self.years else (0, 9999)
        return {
            "year_min": year_min, "year_max": year_max,
            "sources": list(self.sources), "product_classes": list(self.product_classes),
            "products": list(self.products), "car_targets": list(self.car_targets),
            "settings": list(self.settings), "populations": list(self.populations),
            "donors": list(self.donors), "pubtypes": list(self.pubtypes),
            "include_mixed": self.include_mixed, "include_superseded": self.include_superseded,
        }


@dataclass(frozen=True)
class Analysis:
    """Analysis choices that change numbers, so they belong in a shared link too."""

    pool: str = "REML"
    ci: str = "clopper-pearson"
    denom: str = "treated"  # intention to treat; most papers report CR over treated patients
    group: str = "nk_source"


@dataclass(frozen=True)
class View:
    slice: Slice = field(default_factory=Slice)
    analysis: Analysis = field(default_factory=Analysis)


@dataclass(frozen=True)
class Vocabulary:
    """Codes a link may use: fixed ones from the vocabulary, data-driven ones from the dataset."""

    products: frozenset[str]
    car_targets: frozenset[str]
    year_bounds: tuple[int, int]


# URL key -> (Slice attribute, allowed-codes getter)
_MULTI_KEYS: dict[str, tuple[str, Any]] = {
    "source": ("sources", lambda v: voc.NK_SOURCES),
    "product_class": ("product_classes", lambda v: voc.PRODUCT_CLASSES),
    "product": ("products", lambda v: v.products),
    "car_target": ("car_targets", lambda v: v.car_targets),
    "setting": ("settings", lambda v: voc.SETTINGS),
    "population": ("populations", lambda v: voc.POPULATIONS),
    "donor": ("donors", lambda v: voc.DONOR_TYPES),
    "pubtype": ("pubtypes", lambda v: voc.PUBLICATION_TYPES),
}
_BOOL_KEYS: dict[str, str] = {"mixed": "include_mixed", "superseded": "include_superseded"}
_ANALYSIS_KEYS: dict[str, tuple[str, Mapping[str, str]]] = {
    "pool": ("pool", POOL_METHODS),
    "ci": ("ci", CI_METHODS),
    "denom": ("denom", DENOMINATORS),
    "group": ("group", voc.GROUPINGS),
}
URL_KEYS: tuple[str, ...] = ("years", *_MULTI_KEYS, *_BOOL_KEYS, *_ANALYSIS_KEYS)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _show(value: str) -> str:
    """A value safe and short enough to echo back in a notice."""
    text = value if len(value) <= NOTICE_VALUE_CHARS else value[:NOTICE_VALUE_CHARS] + "..."
    return repr(text)


def parse_query_params(params: Mapping[str, Sequence[str] | str], vocab: Vocabulary) -> tuple[View, list[str]]:
    """The view a link asks for, and one notice per thing that had to be ignored or adjusted."""
    notices: list[str] = []
    slice_values: dict[str, Any] = {}
    analysis_values: dict[str, str] = {}

    for key in sorted(params):
        raw = params[key]
        values = [raw] if isinstance(raw, str) else list(raw)
        if key not in URL_KEYS:
            notices.append(f"Ignored unknown link parameter {_show(key)}.")
            continue
        if len(values) > MAX_VALUES_PER_KEY:
            notices.append(f"Ignored {len(values) - MAX_VALUES_PER_KEY} extra values of '{key}' (at most {MAX_VALUES_PER_KEY}).")
            values = values[:MAX_VALUES_PER_KEY]
        too_long = [v for v in values if len(v) > MAX_VALUE_LENGTH]
        if too_long:
            notices.append(f"Ignored {len(too_long)} over-long value(s) of '{key}'.")
            values = [v for v in values if len(v) <= MAX_VALUE_LENGTH]

        if key == "years":
            years, note = _parse_years(values, vocab.year_bounds)
            if note:
                notices.append(note)
            if years is not None:
                slice_values["years"] = years
        elif key in _MULTI_KEYS:
            attribute, allowed_of = _MULTI_KEYS[key]
            allowed = allowed_of(vocab)
            kept: list[str] = []
            for value in values:
                if value == "":
                    continue
                if value in allowed:
                    if value not in kept:
                        kept.append(value)
                else:
                    notices.append(f"Ignored {key}={_show(value)}: not a known code.")
            if kept:
                slice_values[attribute] = tuple(kept)
        elif key in _BOOL_KEYS:
            value = values[-1].strip().lower() if values else ""
            if value in _TRUE or value in _FALSE:
                slice_values[_BOOL_KEYS[key]] = value in _TRUE
            else:
                notices.append(f"Ignored {key}={_show(value)}: use 1 or 0.")
        else:
            attribute, allowed = _ANALYSIS_KEYS[key]
            value = values[-1] if values else ""
            if value in allowed:
                analysis_values[attribute] = value
            else:
                notices.append(f"Ignored {key}={_show(value)}: choose one of {', '.join(allowed)}.")

    return View(Slice(**slice_values), Analysis(**analysis_values)), notices


def _parse_years(values: list[str], bounds: tuple[int, int]) -> tuple[tuple[int, int] | None, str | None]:
    if len(values) != 2:
        return None, f"Ignored 'years': give exactly two years, e.g. years={bounds[0]}&years={bounds[1]}."
    try:
        low, high = (int(v.strip()) for v in values)
    except ValueError:
        return None, "Ignored 'years': the values are not whole numbers."
    note = None
    if low > high:
        low, high = high, low
        note = f"The years in the link were reversed; showing {low}-{high}."
    clamped = (max(low, bounds[0]), min(high, bounds[1]))
    if clamped[0] > clamped[1]:
        return None, f"Ignored 'years' {low}-{high}: the dataset spans {bounds[0]}-{bounds[1]}."
    if clamped != (low, high):
        note = f"Years {low}-{high} narrowed to the dataset's span {clamped[0]}-{clamped[1]}."
    return clamped, note


def to_query_params(view: View, year_bounds: tuple[int, int]) -> dict[str, list[str]]:
    """The link parameters of a view: only what differs from the default, in a stable order."""
    out: dict[str, list[str]] = {}
    s = view.slice
    if s.years is not None and tuple(s.years) != tuple(year_bounds):
        out["years"] = [str(s.years[0]), str(s.years[1])]
    for key, (attribute, _) in _MULTI_KEYS.items():
        values = getattr(s, attribute)
        if values:
            out[key] = list(values)
    defaults = Slice()
    for key, attribute in _BOOL_KEYS.items():
        if getattr(s, attribute) != getattr(defaults, attribute):
            out[key] = ["1" if getattr(s, attribute) else "0"]
    default_analysis = Analysis()
    for key, (attribute, _) in _ANALYSIS_KEYS.items():
        value = getattr(view.analysis, attribute)
        if value != getattr(default_analysis, attribute):
            out[key] = [value]
    return out


def narrow_products(slice_: Slice, products_by_source: Mapping[str, Sequence[str]]) -> Slice:
    """Drop chosen products whose source is no longer selected (the product list narrows with sources)."""
    if not slice_.sources or not slice_.products:
        return slice_
    allowed = {p for src in slice_.sources for p in products_by_source.get(src, ())}
    return replace(slice_, products=tuple(p for p in slice_.products if p in allowed))
