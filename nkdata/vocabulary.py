"""The dataset's controlled vocabulary: canonical codes, their display labels and colours.

Every page, chart, export and URL speaks these codes, so they live in one place.
Codes are the public contract of ``data/trials.parquet`` and of shareable links;
labels may be reworded freely.
"""

from __future__ import annotations

NK_SOURCES: dict[str, str] = {
    "peripheral_blood": "Peripheral blood",
    "umbilical_cord_blood": "Umbilical cord blood",
    "cell_line": "NK cell line",
    "ipsc": "iPSC-derived",
    "placenta": "Placenta-derived",
    "other": "Other",
}

# Colour-blind-safe (Okabe-Ito) colours, one per NK source, used by every chart.
NK_SOURCE_COLOURS: dict[str, str] = {
    "peripheral_blood": "#0072B2",
    "umbilical_cord_blood": "#009E73",
    "cell_line": "#D55E00",
    "ipsc": "#CC79A7",
    "placenta": "#E69F00",
    "other": "#999999",
}

PRODUCT_CLASSES: dict[str, str] = {
    "activated": "Cytokine-activated",
    "memory_like": "Memory-like (CIML)",
    "expanded": "Ex vivo expanded",
    "car_engineered": "CAR-engineered",
    "other_engineered": "Other engineered",
}

DONOR_TYPES: dict[str, str] = {
    "haploidentical": "Haploidentical",
    "hsct_donor": "HSCT donor",
    "unrelated": "Unrelated",
    "autologous": "Autologous",
    "off_the_shelf": "Off-the-shelf",
}

SETTINGS: dict[str, str] = {
    "relapsed_refractory": "Relapsed/refractory",
    "consolidation_in_cr": "Consolidation in CR",
    "mrd_positive": "MRD-positive",
    "pre_hsct": "Before HSCT",
    "post_hsct_prophylaxis": "After HSCT: prophylaxis",
    "post_hsct_relapse": "After HSCT: relapse",
    "other": "Other",
}
# One colour per disease setting in every chart that colours by setting (the forest of every page), colour-blind
# safe (Tol's muted scheme), so relapsed/refractory is the same colour on Remission, Relapse and the figures.
SETTING_COLOURS: dict[str, str] = {
    "relapsed_refractory": "#CC6677",
    "consolidation_in_cr": "#117733",
    "mrd_positive": "#DDCC77",
    "pre_hsct": "#88CCEE",
    "post_hsct_prophylaxis": "#332288",
    "post_hsct_relapse": "#AA4499",
    "other": "#999933",
}
POOLED_COLOUR = "#1F2933"


# Time-to-event endpoints (the ``endpoint`` of an entry of the ``survival`` list).
ENDPOINTS: dict[str, str] = {
    "os": "Overall survival",
    "lfs": "Leukemia-free survival",
    "dfs": "Disease-free survival",
    "efs": "Event-free survival",
    "rfs": "Relapse-free survival",
    "pfs": "Progression-free survival",
    "cir": "Cumulative incidence of relapse",
    "nrm": "Non-relapse mortality",
    "grfs": "GVHD-free relapse-free survival",
}
# Endpoints where a higher estimate is worse (incidences rather than survival).
INCIDENCE_ENDPOINTS: tuple[str, ...] = ("cir", "nrm")

POPULATIONS: dict[str, str] = {
    "adult": "Adult",
    "pediatric": "Pediatric",
    "mixed": "Adult + pediatric",
}

PUBLICATION_TYPES: dict[str, str] = {
    "journal_article": "Journal article",
    "conference_abstract": "Conference abstract",
    "case_report": "Case report",
    "preprint": "Preprint",
    "company_report": "Company report",
}

# What one publication is for its trial (trial_id groups the publications of one trial).
PUBLICATION_ROLES: dict[str, str] = {
    "primary_results": "Primary results",
    "update": "Update of earlier results",
    "correlative": "Correlative re-analysis",
    "pooled_analysis": "Pooled analysis of several trials",
}

PEER_REVIEWED_TYPES: tuple[str, ...] = ("journal_article", "case_report")

DESIGNS: dict[str, str] = {
    "prospective_trial": "Prospective trial",
    "retrospective": "Retrospective",
    "case_report": "Case report",
}

PHASES: dict[str, str] = {"1": "Phase 1", "1/2": "Phase 1/2", "2": "Phase 2", "3": "Phase 3"}

SOURCE_SECTIONS: tuple[str, ...] = ("abstract", "full_text", "table", "review_table")

# CAR target filter: cohorts without a CAR are selectable as this code.
NO_CAR_CODE = "none"
NO_CAR_LABEL = "No CAR"

NOT_REPORTED_LABEL = "Not reported"
NOT_REPORTED_COLOUR = "#BDBDBD"

# Safety outcomes shown side by side; label per field.
SAFETY_FIELDS: dict[str, str] = {
    "crs_any": "CRS (any grade)",
    "crs_grade3plus": "CRS grade >= 3",
    "icans_any": "ICANS (any grade)",
    "gvhd_any": "GVHD (any grade)",
    "gvhd_grade3plus": "Acute GVHD grade >= 3",
    "agvhd_any": "Acute GVHD (any grade)",
    "agvhd_grade2plus": "Acute GVHD grade >= 2",
    "cgvhd_any": "Chronic GVHD",
    "dlt_count": "Dose-limiting toxicity",
    "treatment_related_deaths": "Treatment-related deaths",
}

GROUPINGS: dict[str, str] = {
    "nk_source": "NK source",
    "product_class": "Product class",
    "product": "Product",
    "setting": "Setting",
}

# Vocabulary of each groupable column, for labelling groups (products are their own labels).
GROUP_VOCABULARIES: dict[str, dict[str, str]] = {
    "nk_source": NK_SOURCES,
    "product_class": PRODUCT_CLASSES,
    "setting": SETTINGS,
}


def label(vocabulary: dict[str, str], code: str | None) -> str:
    """Display label for a code; unknown codes show as themselves so nothing disappears."""
    if code is None:
        return NOT_REPORTED_LABEL
    return vocabulary.get(code, code)


# ----- Registered trials (data/registry/*.yaml): codes are the contract, labels may change -----

# Risk of bias (data/rob/, nkdata/rob.py): the JBI item judgements and the overall judgement.
ROB_JUDGEMENTS: dict[str, str] = {"yes": "Yes", "no": "No", "unclear": "Unclear", "not_applicable": "Not applicable"}
ROB_OVERALL: dict[str, str] = {"low": "Low", "some_concerns": "Some concerns", "high": "High"}


REGISTRIES: dict[str, str] = {
    "clinicaltrials_gov": "ClinicalTrials.gov",
    "chictr": "Chinese Clinical Trial Registry",
    "eu_ctr": "EU Clinical Trials Register",
    "other": "Other registry",
}

TRIAL_PHASES: dict[str, str] = {
    "early_1": "Early phase 1",
    "1": "Phase 1",
    "1/2": "Phase 1/2",
    "2": "Phase 2",
    "2/3": "Phase 2/3",
    "3": "Phase 3",
    "not_applicable": "Not applicable",
}

TRIAL_STATUSES: dict[str, str] = {
    "not_yet_recruiting": "Not yet recruiting",
    "recruiting": "Recruiting",
    "enrolling_by_invitation": "Enrolling by invitation",
    "active_not_recruiting": "Active, not recruiting",
    "completed": "Completed",
    "terminated": "Terminated",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "unknown": "Unknown",
}
RECRUITING_STATUSES: tuple[str, ...] = ("recruiting", "enrolling_by_invitation")

SPONSOR_TYPES: dict[str, str] = {
    "academic": "Academic",
    "industry": "Industry",
    "government": "Government",
    "other": "Other",
}

ENROLLMENT_TYPES: dict[str, str] = {"planned": "Planned", "actual": "Actual"}

REGISTRY_SOURCE_SECTIONS: dict[str, str] = {
    "registry_record": "Registry record",
    "registry_mirror": "Mirror of a registry record",
    "review_table": "Review table",
    "company_page": "Company page",
}

# How a registered trial is known: its record (or a mirror of it) was read, or only a secondary source names it.
RECORD_CONFIDENCE: dict[str, str] = {
    "registry_record": "Registry record read",
    "review_only": "Known only from a review, pipeline or abstract",
}

# Set by the build: whether a publication of the dataset reports the trial.
RESULTS_STATUSES: dict[str, str] = {"published": "Results published", "none": "No published results"}

REGISTRY_SCREENING_REASONS: dict[str, str] = {
    "not_aml": "No AML patients",
    "not_nk_cells": "No NK-cell product (e.g. CIK, T cells, cytokine or engager only)",
    "observational": "Observational, not interventional",
    "before_2005": "Registered before 2005",
    "duplicate": "Duplicate of a listed trial",
    "no_page_read": "Named in a review, but no registry page could be read",
}
