"""Synthetic datasets with the real schema, for benchmarks only (never committed, never real data).

    python benchmarks/generate.py 1000000 data/synthetic/trials-1e6.parquet

Values are random but obey the validation rules (codes, count inequalities, provenance
present), so the app treats them like a large real dataset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nkdata import vocabulary as voc
from nkdata.dictionary import ARROW_SCHEMA, FIELDS, NOTED_FIELDS


def synthetic_table(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    studies = np.maximum(rows // 2, 1)
    study_index = rng.integers(0, studies, rows)
    n_treated = rng.integers(1, 60, rows)
    n_evaluable = np.maximum(n_treated - rng.integers(0, 3, rows), 0)
    cr = (rng.random(rows) * (n_evaluable + 1)).astype(int).clip(0, n_evaluable)
    orr = np.minimum(cr + rng.integers(0, 3, rows), n_evaluable)
    at_risk = np.minimum(cr + rng.integers(0, 5, rows), n_treated)
    relapse = (rng.random(rows) * (at_risk + 1)).astype(int).clip(0, at_risk)

    def pick(codes: list[str]) -> np.ndarray:
        return np.array(codes, dtype=object)[rng.integers(0, len(codes), rows)]

    def sometimes(values: np.ndarray, p_null: float) -> list:
        mask = rng.random(rows) < p_null
        return [None if m else (v.item() if hasattr(v, "item") else v) for v, m in zip(values, mask, strict=True)]

    sources = pick(list(voc.NK_SOURCES))
    classes = pick(list(voc.PRODUCT_CLASSES))
    expansion = sometimes(np.minimum(rng.binomial(n_treated, 0.4), n_treated), 0.7)
    columns = {
        "cohort_id": [f"syn{s:07d}-c{i}" for i, s in enumerate(study_index)],
        "study_id": [f"syn{s:07d}" for s in study_index],
        "superseded_by": [None] * rows,
        "first_author": [f"Author{s % 997}" for s in study_index],
        "year": rng.integers(2005, 2026, rows),
        "title": [f"Synthetic study {s}" for s in study_index],
        "journal": ["Synthetic Journal"] * rows,
        "doi": [f"10.9999/syn.{s}" for s in study_index],
        "pmid": [None] * rows,
        "citation_detail": [None] * rows,
        "nct_ids": [[] for _ in range(rows)],
        "publication_type": pick(list(voc.PUBLICATION_TYPES)),
        "country": [None] * rows,
        "design": ["prospective_trial"] * rows,
        "phase": pick(list(voc.PHASES)),
        "nk_source": sources,
        "product": [f"{s[:4]}-{c[:4]}-{i % 40}" for s, c, i in zip(sources, classes, range(rows), strict=True)],
        "product_class": classes,
        "car_target": [("CD33" if i % 2 else "CLL1") if c == "car_engineered" else None for i, c in enumerate(classes)],
        "donor_type": pick(list(voc.DONOR_TYPES)),
        "cytokine_support": sometimes(pick(["IL-2", "IL-15", "N-803", "none"]), 0.3),
        "lymphodepletion": sometimes(pick(["Flu/Cy", "none"]), 0.3),
        "dose_max_per_kg": sometimes(rng.uniform(1e5, 1e8, rows), 0.4),
        "dose_note": [None] * rows,
        "n_infusions_max": sometimes(rng.integers(1, 7, rows), 0.4),
        "setting": pick(list(voc.SETTINGS)),
        "population": pick(list(voc.POPULATIONS)),
        "aml_only": rng.random(rows) < 0.85,
        "diagnosis_mix": ["AML and MDS (synthetic)"] * rows,
        "n_aml": [None] * rows,
        "median_age": sometimes(rng.uniform(5, 75, rows).round(1), 0.5),
        "n_treated": n_treated,
        "n_evaluable": sometimes(n_evaluable, 0.4),
        "cr_count": sometimes(cr, 0.3),
        "cr_definition": ["CR/CRi"] * rows,
        "orr_count": sometimes(np.maximum(orr, cr), 0.5),
        "mrd_neg_count": [None] * rows,
        "relapse_count": sometimes(relapse, 0.6),
        "relapse_at_risk": list(at_risk),
        "median_followup_months": sometimes(rng.uniform(3, 80, rows).round(1), 0.5),
        "max_persistence_days": sometimes(rng.integers(3, 400, rows), 0.6),
        "median_persistence_days": [None] * rows,
        "persistence_lower_bound": [None] * rows,
        "expansion_count": expansion,
        "expansion_evaluated": [None if e is None else int(t) for e, t in zip(expansion, n_treated, strict=True)],
        "expansion_definition": [None] * rows,
        "peak_count": [None] * rows,
        "peak_unit": [None] * rows,
        "peak_day": [None] * rows,
        "survival": [
            [
                {
                    "endpoint": "os",
                    "landmark_months": 12.0,
                    "estimate_pct": float(p),
                    "note": "synthetic",
                    "source_cohort": f"syn{s:07d}-c{i}",
                }
            ]
            if p is not None
            else []
            for i, (s, p) in enumerate(zip(study_index, sometimes(rng.uniform(5, 95, rows).round(1), 0.7), strict=True))
        ],
        "persistence_method": sometimes(pick(["flow cytometry", "chimerism", "qPCR"]), 0.6),
        "persistence_note": [None] * rows,
        "crs_any": sometimes(np.zeros(rows, dtype=int), 0.5),
        "crs_grade3plus": sometimes(np.zeros(rows, dtype=int), 0.7),
        "icans_any": sometimes(np.zeros(rows, dtype=int), 0.7),
        "gvhd_any": sometimes(np.zeros(rows, dtype=int), 0.5),
        "gvhd_grade3plus": sometimes(np.zeros(rows, dtype=int), 0.7),
        "agvhd_any": sometimes(np.zeros(rows, dtype=int), 0.7),
        "agvhd_grade2plus": [None] * rows,
        "cgvhd_any": sometimes(np.zeros(rows, dtype=int), 0.8),
        "dlt_count": sometimes(np.zeros(rows, dtype=int), 0.6),
        "treatment_related_deaths": sometimes(np.zeros(rows, dtype=int), 0.5),
        "source_url": ["https://example.org/synthetic"] * rows,
        "source_section": ["abstract"] * rows,
        "extraction_note": ["Synthetic row for benchmarks."] * rows,
        "field_notes": [json.dumps({name: "synthetic" for name in NOTED_FIELDS})] * rows,
        "from_review": [[] for _ in range(rows)],
        "unverified": [[] for _ in range(rows)],
        "converted_from_percent": [[] for _ in range(rows)],
        "inherited_from": [None] * rows,
        "pmcid": [None] * rows,
        "trial_id": [f"syn{s:07d}" for s in study_index],
        "publication_role": ["primary_results"] * rows,
        "co_transplant": [False] * rows,
        "antileukemic_lymphodepletion": [None] * rows,
        "read_at": [None] * rows,
        "verified_by": [None] * rows,
        "verified_on": [None] * rows,
        "verification": [None] * rows,
        "outcomes_elsewhere": [[] for _ in range(rows)],
        "outcome_report_for": [[] for _ in range(rows)],
        "rob_overall": pick(["low", "some_concerns", "high"]),
    }
    # relapse_at_risk is reported only where relapse is
    columns["relapse_at_risk"] = [
        a if r is not None else None for a, r in zip(columns["relapse_at_risk"], columns["relapse_count"], strict=True)
    ]
    columns["relapse_at_risk"] = [None if v is None else int(v) for v in columns["relapse_at_risk"]]
    assert set(columns) == {f.name for f in FIELDS}
    return pa.table({f.name: columns[f.name] for f in FIELDS}, schema=ARROW_SCHEMA)


def main(argv: list[str]) -> int:
    rows, out = int(float(argv[0])), Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(synthetic_table(rows), out, compression="zstd")
    print(f"wrote {out}: {rows} synthetic cohorts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
