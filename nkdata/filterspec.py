"""The one table of filters: link key, slice field, dataset column, vocabulary, label and help.

Link parsing and writing, the sidebar, the SQL ``WHERE`` of every query, the filter
funnel and the README's link table all derive from these rows, so adding a filter
is one row here (plus its test).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nkdata import vocabulary as voc


@dataclass(frozen=True)
class FilterSpec:
    """A multi-choice filter: rows pass when their column holds one of the chosen codes."""

    key: str  # link parameter
    field: str  # attribute of Slice
    column: str  # column of the dataset
    label: str
    help: str
    codes: Mapping[str, str] | None = None  # fixed vocabulary (code -> label); None: the dataset's values
    null_code: str | None = None  # a null value is selectable under this code
    parent: str | None = None  # options narrow to rows matching the chosen values of this filter's field
    example: str = ""

    def code_label(self, code: str) -> str:
        if code == self.null_code:
            return voc.NO_CAR_LABEL if self.null_code == voc.NO_CAR_CODE else code
        return voc.label(dict(self.codes), code) if self.codes is not None else code

    def sql_value(self) -> str:
        """The column as the filter compares it (null mapped to its code)."""
        return f"coalesce({self.column}, '{self.null_code}')" if self.null_code else self.column


@dataclass(frozen=True)
class ToggleSpec:
    """An inclusion switch: when off, only rows meeting ``condition`` pass."""

    key: str
    field: str
    condition: str  # SQL over dataset columns (a constant of this table, never user input)
    label: str
    help: str
    default: bool


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "source",
        "sources",
        "nk_source",
        "NK source",
        "Where the infused NK cells come from.",
        voc.NK_SOURCES,
        example="?source=cell_line&source=ipsc",
    ),
    FilterSpec(
        "product_class",
        "product_classes",
        "product_class",
        "Product class",
        "How the cells were prepared or engineered.",
        voc.PRODUCT_CLASSES,
        example="?product_class=memory_like",
    ),
    FilterSpec(
        "product",
        "products",
        "product",
        "Product",
        "Options narrow to the chosen NK sources.",
        parent="sources",
        example="?product=Haplo%20CIML%20NK",
    ),
    FilterSpec(
        "car_target",
        "car_targets",
        "car_target",
        "CAR target",
        "Antigen targeted by a CAR.",
        null_code=voc.NO_CAR_CODE,
        example="?car_target=none",
    ),
    FilterSpec(
        "setting",
        "settings",
        "setting",
        "Setting",
        "Disease setting at NK-cell infusion.",
        voc.SETTINGS,
        example="?setting=post_hsct_relapse",
    ),
    FilterSpec(
        "population",
        "populations",
        "population",
        "Population",
        "Age group treated.",
        voc.POPULATIONS,
        example="?population=pediatric",
    ),
    FilterSpec(
        "donor",
        "donors",
        "donor_type",
        "Donor type",
        "Relation of the cell donor to the patient.",
        voc.DONOR_TYPES,
        example="?donor=off_the_shelf",
    ),
    FilterSpec(
        "pubtype",
        "pubtypes",
        "publication_type",
        "Publication type",
        "Peer-reviewed: journal articles and case reports.",
        voc.PUBLICATION_TYPES,
        example="?pubtype=journal_article&pubtype=case_report",
    ),
)

TOGGLES: tuple[ToggleSpec, ...] = (
    ToggleSpec(
        "mixed",
        "include_mixed",
        "aml_only",
        "Include mixed-diagnosis cohorts",
        "Cohorts that mix AML with MDS, ALL or other diagnoses and give no AML-only numbers. Off by default: the "
        "question is AML, so mixed cohorts are a sensitivity analysis (a cohort reporting its AML subset is read "
        "as an AML-only cohort).",
        False,
    ),
    ToggleSpec(
        "transplant",
        "include_co_transplant",
        # Only the R/R pool is protected: there the question is what NK cells do alone; elsewhere
        # (e.g. post-transplant prophylaxis) a transplant is the setting itself, coded by `setting`.
        "NOT (coalesce(co_transplant, false) AND setting = 'relapsed_refractory')",
        "Include R/R cohorts given a transplant with the NK cells",
        "Relapsed/refractory cohorts that received an allogeneic HSCT as part of the same treatment as the NK "
        "cells: a remission there cannot be attributed to the NK cells. Off by default (a sensitivity analysis).",
        False,
    ),
    ToggleSpec(
        "superseded",
        "include_superseded",
        "superseded_by IS NULL",
        "Include superseded reports",
        "Earlier reports of patients published again later. Off: each patient counted once.",
        False,
    ),
)

FILTERS_BY_KEY: dict[str, FilterSpec] = {f.key: f for f in FILTERS}
FILTERS_BY_FIELD: dict[str, FilterSpec] = {f.field: f for f in FILTERS}
YEARS_KEY = "years"


def _param(name: str) -> str:
    return f"struct_extract(s, '{name}')"


def sql_conditions() -> list[str]:
    """One SQL condition per funnel step (years, each filter, each toggle) over the macro parameter ``s``."""
    conditions = [f"year BETWEEN {_param('year_min')} AND {_param('year_max')}"]
    for f in FILTERS:
        chosen = f"{_param(f.field)}::VARCHAR[]"
        conditions.append(f"(len({chosen}) = 0 OR list_contains({chosen}, {f.sql_value()}))")
    for t in TOGGLES:
        conditions.append(f"({_param(t.field)} OR coalesce({t.condition}, false))")
    return conditions


def funnel_labels() -> list[str]:
    """Names of the funnel steps, in the order of :func:`sql_conditions`."""
    return ["Publication year", *(f.label for f in FILTERS), *(t.label for t in TOGGLES)]
