"""About & methods: inclusion criteria, the data dictionary, the statistics, version, citation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nkapp.context import dataset_facts
from nkdata.dictionary import FIELDS
from nkdata.paths import REPO_ROOT
from nkdata.repository import TrialsRepository
from nkdata.slices import View
from nkdata.validation import RULES


def render(repo: TrialsRepository, view: View) -> None:
    st.title("About & methods")
    _, _, overview = dataset_facts(repo)
    release = repo.release
    st.markdown(
        f"**Data version {release.get('version', 'unversioned (user-supplied file)')}**"
        f"{', released ' + str(release['date']) if release.get('date') else ''}: "
        f"{int(overview['publications'])} publications, {int(overview['cohorts'])} cohorts "
        f"({int(overview['primary_cohorts'])} primary, the rest superseded), "
        f"{int(overview['patients_treated'])} patients counted across all reports, published "
        f"{int(overview['year_min'])}-{int(overview['year_max'])}. File: `{repo.path.name}`. "
        f"Data licence: {release.get('licence', 'see data/LICENSE.md')}; code: MIT."
    )
    st.header("What is included")
    st.markdown(
        "Clinical publications (journal articles, conference abstracts, case reports, preprints; company reports "
        "only where nothing else exists) from 2005 onwards that report outcomes of **adoptively transferred NK "
        "cells in patients with AML**, from any source: peripheral blood (haploidentical, HSCT donor, unrelated; "
        "cytokine-activated, IL-15/N-803 supported, memory-like, expanded, primed), umbilical cord blood "
        "(including CD34+ progenitor-derived NK), NK cell lines, iPSC-derived and placenta-derived NK, and CAR-NK "
        "of any origin. Cytokine-only, T-cell, CIK and preclinical studies are excluded. One row per treated cohort.\n\n"
        "**Counting.** Counts are AML patients who received NK cells; a cohort that mixes diagnoses without "
        "AML-only numbers is flagged (`aml_only` false) with its composition. Later reports of the same patients "
        "supersede earlier ones (`superseded_by`) and only primary reports enter analyses unless you include them.\n\n"
        "**Not reported vs. zero.** An empty field means the source did not report it; 0 means it reported none. "
        "Charts never turn a missing value into zero and every caption says how many cohorts were not reported.\n\n"
        "**Provenance.** Each row records the page read, which part (abstract, full text, table, review table), "
        "an extraction note and a note for every number. Values that only a review's table gave are marked. "
        "Where a percentage was converted to a count, the note says so (only where one whole number fits)."
    )
    st.header("Statistics")
    st.markdown(
        r"""
- **Per-cohort intervals**: Clopper-Pearson exact (default) or Wilson score 95% intervals for $k$ events in $n$ patients.
- **Pooling**: proportions on the logit scale, $y_i=\log\frac{k_i}{n_i-k_i}$ with variance $v_i=\frac1{k_i}+\frac1{n_i-k_i}$;
  0.5 is added to events and non-events **only** for cohorts with 0 or all events. Inverse-variance random effects with
  weights $w_i=1/(v_i+\tau^2)$, $\hat\mu=\sum w_i y_i/\sum w_i$, $SE=(\sum w_i)^{-1/2}$, back-transformed with the inverse logit.
- **Between-cohort variance** $\tau^2$: REML (default, as R's metafor), computed by fixed-point iteration
  $\tau^2 \leftarrow \max\!\big(0, \frac{\sum w_i^2((y_i-\hat\mu)^2-v_i)}{\sum w_i^2}+\frac1{\sum w_i}\big)$ from the
  DerSimonian-Laird start; or DerSimonian-Laird. The code reproduces the published reference values of
  Stijnen, Hamza & Ozdemir (Stat Med 2010) to 1e-4.
- **Heterogeneity**: Cochran's $Q$ with fixed-effect weights on $k-1$ df; $I^2=(Q-df)/Q$ (Q-based; it differs from metafor's
  $\tau^2$-based $I^2$ under REML). **Prediction interval** $\hat\mu\pm1.96\sqrt{SE^2+\tau^2}$ (where a new cohort may fall).
- **Subgroups**: each subgroup pooled alone (own $\tau^2$); the test for subgroup differences is $Q_{between}$ on the pooled
  subgroup estimates with $G-1$ df. A single-cohort group shows that cohort's own estimate and interval.
- **Relapse** uses the same machinery with relapse count over patients at risk (in remission).
- **Persistence**: per source median, quartiles (linear interpolation) and range of the longest detection; Spearman rank
  correlation with the CR rate across cohorts (tied values share their average rank; p from the t approximation, as
  scipy's `spearmanr`; descriptive only).
- Superseded reports never enter a pooled estimate (they are excluded by default; include them only to inspect them).
"""
    )
    st.header("Data dictionary")
    st.dataframe(pd.DataFrame([{"Field": f.name, "Group": f.group, "Type": f.dtype, "Unit": f.unit or "",
                                "Required": "yes" if f.required else "", "Allowed values": ", ".join(f.allowed or ()),
                                "Description": f.description} for f in FIELDS]), hide_index=True, width="stretch")
    st.header("Validation rules")
    st.dataframe(pd.DataFrame([{"Rule": k, "Meaning": v} for k, v in RULES.items()]), hide_index=True, width="stretch")
    st.header("How to cite")
    citation = REPO_ROOT / "CITATION.cff"
    st.markdown("Cite the dataset (below, from `CITATION.cff`) **and** the primary publications of the results you use "
                "(Studies page: BibTeX/RIS of the slice).")
    if citation.exists():
        st.code(citation.read_text(encoding="utf-8"), language="yaml")
    st.header("How to add or correct a study")
    st.markdown(
        "1. Add or edit one YAML file per publication in `data/studies/` (the format and rules are in "
        "`data/CURATION.md`): every number needs a note saying where in the source it was read.\n"
        "2. Run `python -m nkdata validate data/studies`: each problem names the file, study, field and rule.\n"
        "3. Run `python -m nkdata build` to regenerate `data/trials.parquet`, then the tests, and open a pull request "
        "with both files; the diff of the YAML is what reviewers read."
    )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
