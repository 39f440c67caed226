"""About & methods: inclusion criteria, the data dictionary, the statistics, version, citation."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from nkapp.components import dataset_citation, page_title
from nkapp.context import dataset_facts
from nkapp.state import seed
from nkdata import grade, prisma, rob, screening
from nkdata.dictionary import FIELDS, SURVIVAL_FIELDS, field_label
from nkdata.paths import REGISTRY_SCREENING, SCREENING_DIR, SOURCE_DIR, registry_path
from nkdata.registry_dictionary import REGISTRY_RULES
from nkdata.repository import TrialsRepository
from nkdata.safe_text import md_text
from nkdata.slices import View
from nkdata.validation import RULES
from nkdata.vocabulary import REGISTRY_SCREENING_REASONS as SCREENING_REASONS

OPEN_DATA_FILES: tuple[tuple[str, str], ...] = (
    ("datapackage.json", "Data package descriptor"),
    ("publications.csv", "Publications (CSV)"),
    ("trials.csv", "Published cohorts (CSV)"),
    ("trials.parquet", "Published cohorts (Parquet)"),
    ("registry.csv", "Registered trials (CSV)"),
    ("registry.parquet", "Registered trials (Parquet)"),
    ("screening.csv", "Screening log (CSV)"),
    ("studies.bib", "All studies (BibTeX)"),
    ("studies.ris", "All studies (RIS)"),
    ("CITATION.cff", "How to cite the dataset"),
)


@st.cache_data(show_spinner=False)
def cached_flow() -> screening.Flow:
    return screening.flow(SCREENING_DIR, SOURCE_DIR)


@st.cache_data(show_spinner=False)
def cached_prisma(cohorts: int, primary: int, registry_trials: int) -> tuple[str, pd.DataFrame]:
    """The flow diagram (DOT) and the excluded records, read once per process from the logs."""
    entries, _ = screening.load_logs(SCREENING_DIR)
    registry_entries = prisma.registry_log(REGISTRY_SCREENING)
    counts = prisma.counts(cached_flow(), registry_entries, registry_trials, SCREENING_REASONS, cohorts, primary)
    return prisma.prisma_dot(counts), prisma.excluded_records(entries, registry_entries, SCREENING_REASONS)


def _registry_trials() -> int:
    """Registered trials in the dataset (0 when the registry file cannot be read)."""
    try:
        return int(pq.ParquetFile(registry_path()).metadata.num_rows)
    except (OSError, ValueError):
        return 0


def prisma_flow(repo: TrialsRepository, overview: dict) -> None:
    """The PRISMA 2020 flow diagram, then every excluded record with its reason: searchable and downloadable."""
    dot, records = cached_prisma(int(overview["cohorts"]), int(overview["primary_cohorts"]), _registry_trials())
    st.graphviz_chart(dot, width="stretch")
    st.caption(
        "PRISMA 2020 flow of this dataset. The curators' logs do not separate title-and-abstract screening from "
        "the reading of full reports, so the exclusions are drawn in one box with their reasons."
    )
    st.markdown(f"**Excluded records** ({len(records)}, with their reasons)")
    seed("w_excluded_search", "")
    text = st.text_input("Search the excluded records (record, title, author, reason or note)", key="w_excluded_search")
    shown = prisma.search_records(records, text)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        row_height=56,
        column_config={
            "Record": st.column_config.TextColumn(width="small", pinned=True),
            "Kind": st.column_config.TextColumn(width="small"),
            "Title": st.column_config.TextColumn(width="medium"),
            "Author, year": st.column_config.TextColumn(width="small"),
            "Reason": st.column_config.TextColumn(width="medium"),
            "Note": st.column_config.TextColumn(width="large"),
            "Link": st.column_config.LinkColumn(display_text="page", width=60),
        },
    )
    if text.strip():
        st.caption(f"{len(shown)} of {len(records)} records match '{md_text(text.strip())}'.")
    st.download_button(
        "Excluded records (CSV)",
        shown.to_csv(index=False).encode("utf-8"),
        "nk-aml_excluded-records.csv",
        "text/csv",
        key="download_excluded",
        icon=":material/download:",
    )


def render(repo: TrialsRepository, view: View) -> None:
    page_title("About & methods")
    _, _, overview = dataset_facts(repo)
    release = repo.release
    st.markdown(
        f"**Data version {md_text(release.get('version', 'unversioned (user-supplied file)'))}**"
        f"{', released ' + md_text(release['date']) if release.get('date') else ''}: "
        f"{int(overview['publications'])} publications, {int(overview['cohorts'])} cohorts "
        f"({int(overview['primary_cohorts'])} primary, the rest superseded), "
        f"{int(overview['patients_treated'])} patients counted across all reports, published "
        f"{int(overview['year_min'])}-{int(overview['year_max'])}. "
        f"Data licence: {md_text(release.get('licence', 'see data/LICENSE.md'))}; code: MIT."
    )
    st.caption(
        "Why other pages show fewer patients: this count adds up every report, superseded ones included, so patients "
        "reported twice count twice. The Overview and the sidebar count each patient once (primary reports only) "
        "and only in cohorts that say how many they treated. Publications: the dataset holds every publication; "
        "the Overview counts those with a primary cohort in the slice."
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
    st.header("Default inclusion, risk of bias and certainty")
    st.markdown(
        "**AML-only by default.** The question is NK cells in AML, so the default analysis keeps AML-only cohorts "
        "(a mixed cohort that reports its AML subset is recorded as an AML-only cohort of that subset); cohorts "
        "mixing AML with MDS, ALL or other diagnoses are a sensitivity analysis (`mixed=1`). **Co-interventions**: "
        "a relapsed/refractory cohort given an allogeneic transplant as part of the same treatment as the NK cells "
        "(`co_transplant`) does not enter the R/R pool by default, because a remission there cannot be attributed "
        "to the NK cells (`transplant=1` brings it back); anti-leukemic lymphodepletion (e.g. Flu/Ara-C, "
        "`antileukemic_lymphodepletion`) is coded and counts against directness in the certainty rating. "
        "**Most complete report per outcome** (the Cochrane rule): each outcome comes from the newest report of a "
        "trial that gives it; when that is an earlier report over a different number of patients, its own row "
        "enters that outcome's analyses with its own denominator, once, and the newer report's card names it."
    )
    st.markdown(
        f"**Risk of bias**: each publication is appraised with the {rob.INSTRUMENTS['jbi_case_series']} in "
        f"`data/rob/<study_id>.yaml` (each item judged yes / no / unclear / not applicable with a note). "
        f"{rob.OVERALL_RULE} The sensitivity choice 'low risk of bias only' (`exclude=rob`) keeps only "
        "publications appraised at low risk; the Risk of bias page shows the traffic-light table."
    )
    st.markdown(
        "**GRADE certainty** of each Summary-of-findings row:\n"
        + "\n".join(f"- **{name}**: {rule}" for name, rule in grade.GRADE_RULES)
    )
    st.header("Statistics")
    st.markdown(
        r"""
- **Per-cohort intervals**: Clopper-Pearson exact (default) or Wilson score 95% intervals for $k$ events in $n$ patients.
- **Default model: the binomial-normal GLMM** (random intercept on the logit, maximum likelihood), as metafor's
  `rma.glmm(measure="PLO")` (lme4, 7-node adaptive Gauss-Hermite quadrature; equal to it to 1e-4 on reference data
  sets including zero-event cohorts). Why the default: the cohorts are small (3-42 patients) and 0/n results are
  common, which is where inverse-variance pooling of logits is weakest (it needs a 0.5 correction and treats each
  tiny cohort's variance as known); the GLMM uses each cohort's exact binomial likelihood (Stijnen et al. 2010;
  Schwarzer et al. 2019). On relapsed/refractory CR it gives 34.5% where inverse variance gives 38.7%.
- **Inverse variance** (selectable): $y_i=\log\frac{k_i}{n_i-k_i}$, $v_i=\frac1{k_i}+\frac1{n_i-k_i}$, 0.5 added to events and
  non-events **only** for cohorts with 0 or all events; weights $w_i=1/(v_i+\tau^2)$, $\hat\mu=\sum w_i y_i/\sum w_i$,
  $SE=(\sum w_i)^{-1/2}$, back-transformed with the inverse logit. $\tau^2$ by REML (as metafor's `rma`), computed by
  fixed-point iteration $\tau^2 \leftarrow \max\!\big(0, \frac{\sum w_i^2((y_i-\hat\mu)^2-v_i)}{\sum w_i^2}+\frac1{\sum w_i}\big)$
  from the DerSimonian-Laird start, or DerSimonian-Laird.
- **Pooled interval, default: Knapp-Hartung below 10 cohorts.** Inverse variance: Knapp-Hartung with metafor's
  truncation `test="adhoc"` (the scale factor never below 1, so it never narrows the z interval) on $t_{k-1}$; the
  GLMM: its Wald interval on $t_{k-1}$ (`rma.glmm(test="t")`). From 10 cohorts the z interval; both can be chosen
  for every group. Why: z intervals are over-precise for the 2-9 cohorts most groups have (MRD negativity in
  consolidation, 2 cohorts: z 16-60%, Knapp-Hartung 0.1-99.8%).
- **Zero (or all) events in every cohort**: no model at all; the pooled count with its exact Clopper-Pearson interval
  (0/116: 0-3.1%), on the forest, the Summary of findings, Safety and every download. A logit pool would report a
  non-zero rate whose interval excludes the observed zero.
- **Heterogeneity**: Cochran's $Q$ with fixed-effect weights on $k-1$ df; $I^2=(Q-df)/Q$ (Q-based; it differs from metafor's
  $\tau^2$-based $I^2$ under REML). **Prediction interval** $\hat\mu\pm t_{k-2}\sqrt{SE^2+\tau^2}$ (Higgins et al. 2009;
  IntHout et al. 2016; where a new cohort's true rate may fall), shown only from 3 cohorts.
- **Subgroups**: each subgroup pooled alone (own $\tau^2$); the test for subgroup differences is $Q_{between}$ on the pooled
  subgroup estimates with $G-1$ df. A single-cohort group shows that cohort's own estimate and interval.
- **Relapse counts** (relapsed over patients at risk) are described per group, totals and the range of the cohorts,
  never pooled: they are counted over follow-up of different lengths.
- **Persistence**: per source median, quartiles (linear interpolation) and range of the longest detection; Spearman rank
  correlation with the CR rate across cohorts (tied values share their average rank; p from the t approximation, as
  scipy's `spearmanr`; descriptive only).
- Superseded reports never enter a pooled estimate (they are excluded by default; include them only to inspect them).
  A newer report takes from the reports it supersedes every group of fields it leaves empty (counts over all treated
  patients only when both reports treated the same number), and every time-to-event result it does not repeat; the
  cohort card names the report each value came from.
- **Defaults that keep estimates valid**: pooling happens within disease settings; an across-settings estimate appears
  only on request, with a warning. A group of one cohort shows that cohort, not a pooled diamond.
- **Fixed effect** (inverse variance on the logit scale, $\tau^2=0$) is shown beside random effects for comparison;
  it matches metafor's `rma(method="FE")` on the BCG data set, and REML/DL match metafor and Stata `metan`.
- **Leave-one-out** per group of at least 3 cohorts, as metafor's `leave1out()` (checked on the BCG data set);
  *influential* = standardized deleted residual (metafor's `rstudent`) beyond $\pm1.96$, which flags about 1 cohort
  in 20 by chance: a reason to look, not to remove.
- **Sensitivity exclusions** (in the link): counts only a review gave, counts converted from percentages, and conference
  abstracts or company reports can each be left out of every pooled estimate.
- **Summary of findings flags**: fewer than 3 cohorts; single-arm cohorts only; more than half from abstracts or company
  reports; heterogeneity ($I^2$ > 50% or $\tau^2$ > 0.25 on the logit scale, because with 5-20 patients per cohort
  $I^2$ stays low even when true rates differ); a 95% CI wider than 40 percentage points.
- **Time-to-event results** (OS, LFS, EFS, cumulative incidence of relapse...) are shown per cohort as reported. The
  Summary of findings pools a landmark only at that common landmark and only over cohorts whose median follow-up
  reaches it (at least 2), on the logit scale with the SE from the reported 95% CI, or from the number analysed;
  otherwise it gives the median and the range of the reported estimates, in columns named *Range*, never as a CI.
- **Meta-regression** (its own page): logit CR on NK dose per kg (log10), publication year, NK source, product class,
  lymphodepletion (fludarabine-based or other) and cytokine support (any or none), within one setting; REML with
  Knapp-Hartung tests, R² and the F test of moderators, as metafor's `rma(yi, vi, mods = ~ ..., test = "knha")`.
  Cohorts that do not report a moderator do not enter, and the page says how many.
- **Leave-one-out and influence** use inverse variance (REML when the GLMM is chosen), as metafor's `leave1out()` and
  `rstudent()` do.
"""
    )
    st.header("Data dictionary")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Label": field_label(f.name, unit=True),
                    "Column (Parquet name)": f.name,
                    "Group": f.group,
                    "Type (Parquet)": f.dtype,
                    "Unit": f.unit or "",
                    "Required": "yes" if f.required else "",
                    "Allowed values": ", ".join(f.allowed or ()),
                    "Description": f.description,
                }
                for f in FIELDS
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.markdown("Each entry of `survival` (time-to-event results) has these keys:")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Key (Parquet name)": f.name,
                    "Type (Parquet)": f.dtype,
                    "Unit": f.unit or "",
                    "Allowed values": ", ".join(f.allowed or ()),
                    "Description": f.description,
                }
                for f in SURVIVAL_FIELDS
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.header("Validation rules")
    rules = [("Publications", k, v) for k, v in RULES.items()] + [
        ("Registered trials", k, v) for k, v in REGISTRY_RULES.items()
    ]
    st.dataframe(pd.DataFrame(rules, columns=["Dataset", "Rule (code)", "Meaning"]), hide_index=True, width="stretch")
    st.caption("Rules marked 'Warning' are listed by `python -m nkdata validate` but do not stop the build.")
    st.header("Screening: how publications were found and selected")
    st.markdown(
        "Publications were found with searches of stored PubMed/PMC pages, journal pages, ASH/EHA/AACR "
        "abstracts, registry mirrors and review tables (trial tables of systematic reviews were read to find "
        "trials), and screened against the criteria above. Each curator logged every record looked at; "
        "records logged by two curators count once."
    )
    prisma_flow(repo, overview)
    st.markdown(
        "**Rebuild a published figure.** A 2025 systematic review of NK-cell trials in AML reports a "
        "pooled complete remission of 37.1% outside transplantation. To see the nearest figure these data "
        "give, with its inclusion explicit: choose the settings *Relapsed/refractory*, *Consolidation in CR* "
        "and *MRD-positive* in the sidebar, then on Remission switch on *Pool across groups too* "
        "(link: `outcomes?setting=relapsed_refractory&setting=consolidation_in_cr&setting=mrd_positive"
        "&overall=1`). Every cohort entering the estimate, its CR definition and its source are listed "
        "there; the review's own trial list and pooling method are not stored, so the two numbers need not "
        "agree."
    )
    st.header("Open data")
    st.markdown(
        "The published tables at stable addresses of this server (a Frictionless Data Package generated from the "
        "data dictionary; CSV copies with lists as JSON; the Parquet files; BibTeX/RIS; how to cite). Every "
        "release is dated and its changes are on the **What's new** page.\n\n"
        + "\n".join(f"- [{label}](app/static/{name}) (`/app/static/{name}`)" for name, label in OPEN_DATA_FILES)
    )
    st.header("How to cite")
    st.markdown(
        "Cite the dataset **and** the primary publications of the results you use (Studies page: BibTeX "
        "or RIS of the slice). The Share box at the top of every page cites the view you are looking at."
    )
    cite = dataset_citation()
    st.markdown(f"> {md_text(cite['apa'])}")
    st.code(cite["bibtex"], language="bibtex")
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
