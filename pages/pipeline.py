"""Registered trials of NK cells in AML (data/registry.parquet): the page's own filters plus the sidebar filters
that the filter table maps to registry columns (the page names those it does not apply).

``render(registry, view)`` lays the page out; the entry script wires it into navigation and passes
the repository and the current view. Data come from RegistryRepository queries, charts from
nkdata.charts; the page only arranges them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.filters import registry_filters
from nkdata import charts, filterspec
from nkdata import vocabulary as voc
from nkdata.charts import MIN_CHART_POINTS
from nkdata.ctgov import to_ctgov_frame
from nkdata.registry_repository import RegistryRepository
from nkdata.safe_text import csv_bytes, md_text
from nkdata.slices import RegistrySlice

TABLE_COLUMNS: dict[str, str] = {
    "registry_url": "Registry",
    "title": "Title",
    "Phase": "Phase",
    "Status": "Status",
    "Results": "Results",
    "status_as_of": "Status as of",
    "other_statuses_text": "Other statuses seen",
    "NK source": "NK source",
    "product": "Product",
    "car_target": "CAR target",
    "Setting": "Setting",
    "Population": "Population",
    "sponsor": "Sponsor",
    "Start year": "Start",
    "completion_year": "Completion",
    "enrollment": "Enrollment",
    "published": "Published cohorts",
    "Known from": "Known from",
    "source_url": "Page read",
}


def _codes_present(registry: RegistryRepository) -> dict[str, list[str]]:
    """The dataset's values of each page filter (CAR targets have no fixed vocabulary)."""
    facets = cached(registry, RegistryRepository.facet_counts, RegistrySlice())
    return {
        name: sorted(g["code"].dropna(), key=lambda c: (c != voc.NO_CAR_CODE, c)) for name, g in facets.groupby("field")
    }


def _which_filters_apply() -> str:
    applied = [f.label for f in filterspec.registry_mapped_filters()]
    applied += [t.label for t in filterspec.registry_mapped_toggles()]
    skipped = "; ".join(f"{label} ({why})" for label, why in filterspec.registry_not_applied())
    return (
        f"Sidebar filters applied to these trials: {', '.join(applied)}. Not applied: {skipped}. "
        "Counts beside the options below are trials."
    )


def _small_table(frame: pd.DataFrame, columns: dict[str, str]) -> None:
    st.dataframe(frame[list(columns)].rename(columns=columns), hide_index=True, width="stretch")


def render(registry: RegistryRepository, view: Any = None) -> None:
    st.title("Registered trials")
    st.caption(
        "Interventional trials giving NK cells to patients with AML, as their registry records (or mirrors of "
        "them) showed them on the date given. A registry record states plans and status, not results; "
        "published results are on the other pages."
    )
    slice_ = registry_filters(registry, view, _codes_present(registry))
    st.caption(_which_filters_apply())

    k = cached(registry, RegistryRepository.summary, slice_)
    if int(k["trials"]) == 0:
        st.info(f"No registered trial matches the current filters ({int(k['total'])} in the dataset).")
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Registered trials", int(k["trials"]), help=f"{int(k['total'])} in the dataset before filters.")
    c2.metric(
        "With published results",
        int(k["with_results"]),
        help="Trials whose NCT number appears in a publication of this dashboard.",
    )
    c3.metric(
        "Recruiting now",
        int(k["recruiting"]),
        help="Recruiting or enrolling by invitation on the status date of each record.",
    )
    first, last = str(k["as_of_min"]), str(k["as_of_max"])
    c4.metric(
        "Statuses as of",
        first[:4] if first[:4] == last[:4] else f"{first[:4]}–{last[:4]}",
        help="Each status is as of its own date: the page's last update, else the day it was read.",
    )
    st.caption(f"Status dates run from {md_text(first)} to {md_text(last)}; a registry status can be years old.")
    if int(k["completed_no_results"]):
        st.caption(
            f"{int(k['completed_no_results'])} completed trial(s) have no results published in this dataset "
            "(listed below with the years since completion)."
        )
    if slice_.start_years and int(k["no_start_year"]):
        st.caption(
            f"A start-year range is set, so the {int(k['no_start_year'])} trial(s) whose start year was not "
            "reported are left out."
        )

    st.subheader("NK source by phase")
    by_phase = cached(registry, RegistryRepository.source_phase_counts, slice_)
    if len(by_phase) < MIN_CHART_POINTS:
        _small_table(
            charts.with_registry_labels(by_phase), {"NK source": "NK source", "Phase": "Phase", "trials": "Trials"}
        )
    else:
        show_chart(charts.registry_source_phase, by_phase)
    st.caption("Phase as registered; grey = the page read did not name the phase or the NK source.")

    st.subheader("CAR targets by start year")
    car = cached(registry, RegistryRepository.car_targets_by_year, slice_)
    if car.empty:
        st.write("No CAR-NK trial in the current selection.")
    elif len(car) < MIN_CHART_POINTS:
        _small_table(
            charts.with_registry_labels(car),
            {"car_target": "CAR target", "Start year": "Start year", "trials": "Trials"},
        )
    else:
        show_chart(charts.registry_car_targets, car)
        st.caption("Dot size and number: trials. 'Not reported' collects CAR trials whose start year was not shown.")

    st.subheader("Recruitment status")
    status = cached(registry, RegistryRepository.status_counts, slice_)
    if len(status) < MIN_CHART_POINTS:
        _small_table(
            charts.with_registry_labels(status),
            {
                "Status": "Status",
                "trials": "Trials",
                "as_of_min": "Earliest status date",
                "as_of_max": "Latest status date",
            },
        )
    else:
        show_chart(charts.registry_status, status)
    st.caption(
        "Statuses go stale: a record not updated for years may still say 'recruiting'. Where pages disagreed, "
        "the other statuses are listed in the table below."
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Sponsor type")
        sponsors = charts.with_registry_labels(cached(registry, RegistryRepository.sponsor_type_counts, slice_))
        if len(sponsors) < MIN_CHART_POINTS:
            _small_table(sponsors, {"Sponsor type": "Sponsor type", "trials": "Trials"})
        else:
            show_chart(charts.registry_count_bars, sponsors, column="Sponsor type", title="Sponsor type")
    with right:
        st.subheader("Countries")
        countries = cached(registry, RegistryRepository.country_counts, slice_)
        if len(countries) < MIN_CHART_POINTS:
            _small_table(countries.fillna({"country": "Not reported"}), {"country": "Country", "trials": "Trials"})
        else:
            show_chart(charts.registry_count_bars, countries, column="country", title="Country")
        st.caption("Countries only where a page named a site; a multinational trial counts in each country.")

    st.subheader("Completed, no published results")
    waste = cached(registry, RegistryRepository.unpublished_completed, slice_, dt.date.today().year)
    if waste.empty:
        st.write("Every completed trial in the current selection has results published in this dataset.")
    else:
        shown_waste = waste.assign(
            sponsor=[v if isinstance(v, str) else "Not reported" for v in waste["sponsor"]],
            completion_year=[str(int(y)) if pd.notna(y) else "Not reported" for y in waste["completion_year"]],
            years_since_completion=[
                str(int(y)) if pd.notna(y) else "Not reported" for y in waste["years_since_completion"]
            ],
        )
        _small_table(
            shown_waste,
            {
                "registry_id": "Trial",
                "title": "Title",
                "sponsor": "Sponsor",
                "completion_year": "Completed",
                "years_since_completion": "Years since completion",
                "status_as_of": "Status as of",
            },
        )
        st.caption(
            "Completion year as registered (primary completion, else study completion). A trial whose results "
            "appeared outside this dataset's publications is also listed: the dataset covers NK-cell results in "
            "AML only."
        )

    st.subheader("Trials")
    rows = cached(registry, RegistryRepository.table, slice_)
    shown = charts.with_registry_labels(rows)
    shown["published"] = [", ".join(v) if v is not None and len(v) else "" for v in shown["cohort_ids"]]
    st.dataframe(
        shown[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS),
        hide_index=True,
        width="stretch",
        column_config={
            "Registry": st.column_config.LinkColumn("Registry", display_text=r"https://[^/]+/(?:study/)?(.*)"),
            "Enrollment": st.column_config.NumberColumn(format="%d"),
            "Page read": st.column_config.LinkColumn("Page read", display_text=r"https?://([^/]+)/.*"),
        },
    )
    st.caption(
        "Registry: the canonical record (ClinicalTrials.gov, or the page read for other registries); Page read: "
        "where the values were read (a mirror may be). Published cohorts: cohort ids of this dashboard's "
        "publications that report the trial; Results: also counts publications whose NCT ids cite it."
    )

    d1, d2 = st.columns(2)
    d1.download_button(
        "Trials (CSV, ClinicalTrials.gov-style columns)",
        lambda: csv_bytes(to_ctgov_frame(rows)),
        "nk_aml_registered_trials.csv",
        mime="text/csv",
    )
    d2.download_button(
        "Whole registry dataset (Parquet)", registry.parquet_bytes, "registry.parquet", mime="application/octet-stream"
    )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
