"""The registered trials as a ClinicalTrials.gov-style CSV: its column names and its spelling of phases."""

from __future__ import annotations

import pandas as pd

# ClinicalTrials.gov spells phases like this in its CSV download.
CTGOV_PHASES: dict[str, str] = {
    "early_1": "EARLY_PHASE1",
    "1": "PHASE1",
    "1/2": "PHASE1|PHASE2",
    "2": "PHASE2",
    "2/3": "PHASE2|PHASE3",
    "3": "PHASE3",
    "not_applicable": "NA",
}

CTGOV_COLUMNS: dict[str, str] = {
    "registry_id": "NCT Number",
    "title": "Study Title",
    "registry_url": "Study URL",
    "ctgov_status": "Study Status",
    "status_as_of": "Status As Of",
    "ctgov_phase": "Phases",
    "sponsor": "Sponsor",
    "sponsor_type": "Funder Type",
    "enrollment": "Enrollment",
    "enrollment_type": "Enrollment Type",
    "start_year": "Start Date",
    "completion_year": "Primary Completion Date",
    "conditions": "Conditions",
    "countries": "Locations",
    "nk_source": "NK Source",
    "product": "Interventions",
    "car_target": "CAR Target",
    "results_status": "Results Published",
    "cohort_ids": "Published Cohorts",
    "source_url": "Source Page",
}


def to_ctgov_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the registry table renamed and spelled like a ClinicalTrials.gov CSV download."""
    out = rows.copy()
    out["ctgov_status"] = [s.upper() if isinstance(s, str) else None for s in out["status"]]
    out["ctgov_phase"] = [CTGOV_PHASES.get(p) if isinstance(p, str) else None for p in out["phase"]]
    for name in ("countries", "cohort_ids"):
        out[name] = ["|".join(v) if v is not None and len(v) else "" for v in out[name]]
    return out[list(CTGOV_COLUMNS)].rename(columns=CTGOV_COLUMNS)
