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
    # Registered trials: the registry column this sidebar filter applies to, or None with the reason it does not.
    registry_column: str | None = None
    registry_note: str = ""

    def code_label(self, code: str) -> str:
        if code == self.null_code:
            return voc.NO_CAR_LABEL if self.null_code == voc.NO_CAR_CODE else code
        return voc.label(dict(self.codes), code) if self.codes is not None else code

    def sql_value(self, column: str | None = None) -> str:
        """The column (its own, or the registry's) as the filter compares it (null mapped to its code)."""
        column = column or self.column
        return f"coalesce({column}, '{self.null_code}')" if self.null_code else column


@dataclass(frozen=True)
class ToggleSpec:
    """An inclusion switch: when off, only rows meeting ``condition`` pass."""

    key: str
    field: str
    condition: str  # SQL over dataset columns (a constant of this table, never user input)
    label: str
    help: str
    default: bool
    registry_condition: str | None = None  # the same switch over registry columns, or None with the reason
    registry_note: str = ""


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "source",
        "sources",
        "nk_source",
        "NK source",
        "Where the infused NK cells come from.",
        voc.NK_SOURCES,
        example="?source=cell_line&source=ipsc",
        registry_column="nk_source",
    ),
    FilterSpec(
        "product_class",
        "product_classes",
        "product_class",
        "Product class",
        "How the cells were prepared or engineered.",
        voc.PRODUCT_CLASSES,
        example="?product_class=memory_like",
        registry_column="product_class",
    ),
    FilterSpec(
        "product",
        "products",
        "product",
        "Product",
        "Options narrow to the chosen NK sources.",
        parent="sources",
        example="?product=Haplo%20CIML%20NK",
        registry_note="registry records name products in their own words, not the publications' names",
    ),
    FilterSpec(
        "car_target",
        "car_targets",
        "car_target",
        "CAR target",
        "Antigen targeted by a CAR.",
        null_code=voc.NO_CAR_CODE,
        example="?car_target=none",
        registry_note="the page has its own CAR target filter, which counts trials",
    ),
    FilterSpec(
        "setting",
        "settings",
        "setting",
        "Setting",
        "Disease setting at NK-cell infusion.",
        voc.SETTINGS,
        example="?setting=post_hsct_relapse",
        registry_column="setting",
    ),
    FilterSpec(
        "population",
        "populations",
        "population",
        "Population",
        "Age group treated.",
        voc.POPULATIONS,
        example="?population=pediatric",
        registry_column="population",
    ),
    FilterSpec(
        "donor",
        "donors",
        "donor_type",
        "Donor type",
        "Relation of the cell donor to the patient.",
        voc.DONOR_TYPES,
        example="?donor=off_the_shelf",
        registry_column="donor_type",
    ),
    FilterSpec(
        "pubtype",
        "pubtypes",
        "publication_type",
        "Publication type",
        "Peer-reviewed: journal articles and case reports.",
        voc.PUBLICATION_TYPES,
        example="?pubtype=journal_article&pubtype=case_report",
        registry_note="a registry record is not a publication",
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
        registry_note="every registered trial enrolling AML patients is listed (AML-only is the default of pooled "
        "results, not of the pipeline)",
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
        registry_note="a registry record does not code co-interventions",
    ),
    ToggleSpec(
        "superseded",
        "include_superseded",
        "superseded_by IS NULL",
        "Include superseded reports",
        "Earlier reports of patients published again later. Off: each patient counted once.",
        False,
        registry_note="a registry record is not a report of patients",
    ),
)

FILTERS_BY_KEY: dict[str, FilterSpec] = {f.key: f for f in FILTERS}
FILTERS_BY_FIELD: dict[str, FilterSpec] = {f.field: f for f in FILTERS}
YEARS_KEY = "years"
YEARS_REGISTRY_NOTE = "trials have start years, not publication years; the page has its own start-year control"


def _param(name: str) -> str:
    return f"struct_extract(s, '{name}')"


def _filter_condition(f: FilterSpec, column: str) -> str:
    """Rows pass when nothing is chosen or ``column`` (null mapped to the filter's null code) is chosen."""
    chosen = f"{_param(f.field)}::VARCHAR[]"
    return f"(len({chosen}) = 0 OR list_contains({chosen}, {f.sql_value(column)}))"


def sql_conditions() -> list[str]:
    """One SQL condition per funnel step (years, each filter, each toggle) over the macro parameter ``s``."""
    conditions = [f"year BETWEEN {_param('year_min')} AND {_param('year_max')}"]
    conditions += [_filter_condition(f, f.column) for f in FILTERS]
    for t in TOGGLES:
        conditions.append(f"({_param(t.field)} OR coalesce({t.condition}, false))")
    return conditions


def funnel_labels() -> list[str]:
    """Names of the funnel steps, in the order of :func:`sql_conditions`."""
    return ["Publication year", *(f.label for f in FILTERS), *(t.label for t in TOGGLES)]


# ----- Registered trials: the page's own filters (counts of trials), and how the sidebar's apply ----------

REGISTRY_FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec("phase", "phases", "phase", "Phase", "Trial phase as registered.", voc.TRIAL_PHASES, example="?phase=1"),
    FilterSpec(
        "status",
        "statuses",
        "status",
        "Status",
        "Recruitment status on each record's own status date.",
        voc.TRIAL_STATUSES,
        example="?status=recruiting",
    ),
    FilterSpec(
        "sponsor_type",
        "sponsor_types",
        "sponsor_type",
        "Sponsor type",
        "Kind of lead sponsor.",
        voc.SPONSOR_TYPES,
        example="?sponsor_type=industry",
    ),
    FilterSpec(
        "trial_car",
        "trial_car_targets",
        "car_target",
        "CAR target",
        "Antigen targeted by the trial's CAR.",
        null_code=voc.NO_CAR_CODE,
        example="?trial_car=CD33",
    ),
    FilterSpec(
        "results",
        "results",
        "results_status",
        "Results published",
        "Whether a publication of this dashboard reports the trial.",
        voc.RESULTS_STATUSES,
        example="?results=none",
    ),
)
REGISTRY_FILTERS_BY_KEY: dict[str, FilterSpec] = {f.key: f for f in REGISTRY_FILTERS}
START_YEARS_KEY = "start"
START_YEARS_FIELD = "start_years"


def registry_mapped_filters() -> tuple[FilterSpec, ...]:
    """Sidebar filters that apply to registered trials, through their registry column."""
    return tuple(f for f in FILTERS if f.registry_column)


def registry_mapped_toggles() -> tuple[ToggleSpec, ...]:
    return tuple(t for t in TOGGLES if t.registry_condition)


def registry_not_applied() -> list[tuple[str, str]]:
    """(label, reason) of each sidebar control the Registered trials page does not apply."""
    out = [("Publication year", YEARS_REGISTRY_NOTE)]
    out += [(f.label, f.registry_note) for f in FILTERS if not f.registry_column]
    out += [(t.label, t.registry_note) for t in TOGGLES if not t.registry_condition]
    return out


def registry_sql_conditions() -> list[str]:
    """The registry slice's conditions over the macro parameter ``s``: start years first, then the page's own
    filters, then the sidebar filters and toggles mapped to registry columns."""
    conditions = [f"(NOT {_param('use_start')} OR start_year BETWEEN {_param('start_min')} AND {_param('start_max')})"]
    conditions += [_filter_condition(f, f.column) for f in REGISTRY_FILTERS]
    conditions += [_filter_condition(f, f.registry_column or "") for f in registry_mapped_filters()]
    conditions += [f"({_param(t.field)} OR coalesce({t.registry_condition}, false))" for t in registry_mapped_toggles()]
    return conditions
