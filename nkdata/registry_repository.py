"""The registered-trials dataset behind the Registered trials page: the trials' repository over a second spec.

Opening, the schema check, the view and the code check (generated from the registry dictionary) are
``DatasetRepository``'s; what is here are the registry's named queries over a ``RegistrySlice``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nkdata.repository import DatasetRepository
from nkdata.slices import RegistrySlice
from nkdata.source import notes_from_json
from nkdata.tablespec import REGISTRY


class RegistryRepository(DatasetRepository):
    """Named queries in, frames out; one DuckDB connection, a fresh cursor per query (callers cache it)."""

    spec = REGISTRY
    setup_query = "registry_setup_macro"

    def summary(self, slice_: RegistrySlice) -> dict[str, Any]:
        """trials, with_results, recruiting, completed_no_results, review_only, as_of_min, as_of_max,
        no_start_year and total (whole file)."""
        return self.query("registry_summary", slice_.sql_params()).iloc[0].to_dict()

    def facet_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        """Trials each option of the page's own filters would leave, every other choice kept."""
        return self.query("registry_facet_counts", slice_.sql_params())

    def source_phase_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_source_phase", slice_.sql_params())

    def car_targets_by_year(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_car_by_year", slice_.sql_params())

    def status_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_status", slice_.sql_params())

    def sponsor_type_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_sponsor_types", slice_.sql_params())

    def country_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_countries", slice_.sql_params())

    def unpublished_completed(self, slice_: RegistrySlice, this_year: int) -> pd.DataFrame:
        """Completed trials without published results, with the years since completion up to ``this_year``."""
        return self.query("registry_unpublished_completed", {**slice_.sql_params(), "this_year": this_year})

    def table(self, slice_: RegistrySlice) -> pd.DataFrame:
        """One row per trial of the slice, with its registry link and published cohort ids."""
        return self.query("registry_table", slice_.sql_params())

    def trials_by_id(self, ids: tuple[str, ...]) -> pd.DataFrame:
        """The registered trials with these ids (links from a publication's cohort to its trials)."""
        return self.query("registry_trials_by_id", {"ids": list(ids)})

    def parquet_bytes(self) -> bytes:
        return self.path.read_bytes()


def field_notes(record: dict[str, Any]) -> dict[str, Any]:
    """The per-field notes of a built row."""
    return notes_from_json(record.get("field_notes"))
