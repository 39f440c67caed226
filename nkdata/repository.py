"""Access to the trials dataset through DuckDB and the named queries.

One connection per dataset and process (callers cache the repository), a fresh
cursor per query: measured here, a connection shared by threads returned other
threads' rows. Opening checks the file's schema and codes, so a broken dataset
fails once, with a DatasetError that says what is wrong, instead of in a chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nkdata.dataset import open_parquet_schema, release_of, schema_issues
from nkdata.dictionary import FIELDS, RATE_EVENTS, RATE_TOTALS
from nkdata.issues import DatasetError, Issue
from nkdata.queries import coded_values_query, load_queries, parameter_names
from nkdata.slices import Slice, Vocabulary
from nkdata.tablespec import TRIALS, TableSpec, duckdb_type

_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
GROUP_COLUMNS = ("nk_source", "product_class", "product", "setting", "car_target")


def _rate_params(
    slice_: Slice, group_by: str, events: str, totals: str, exclude: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Slice parameters plus the column choices of the rate_inputs macro, checked here: an unknown
    name would otherwise select NULL silently (the SQL CASE has no ELSE)."""
    for value, allowed in ((group_by, GROUP_COLUMNS), (events, RATE_EVENTS), (totals, RATE_TOTALS)):
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return {**slice_.sql_params(), "group_by": group_by, "events": events, "totals": totals, "exclude": list(exclude)}


def _words(text: str) -> list[str]:
    """Search words: lowercase, at most 20 (a pasted paragraph is not a search)."""
    return [w for w in text.lower().split() if w][:20]


def search_key(text: str) -> str:
    """The search as a cache key: the words it matches on, lowercase, sorted and once each, so equivalent searches
    ('nk', 'NK', 'nk  nk') share one cache entry and a crawler cannot churn the cache with variants."""
    return " ".join(sorted(set(_words(text))))


def _split_count(rows: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """A capped query repeats on every row how many rows qualified; keep the rows and that number once."""
    return rows.drop(columns=[column]), int(rows[column].iloc[0]) if len(rows) else 0


@dataclass(frozen=True)
class DatasetIdentity:
    """What a cache keys on: changes whenever the file's content may have (a replaced file keeps its mtime
    under `cp -p` or `rsync -t`, but gets a new ctime or inode)."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> DatasetIdentity:
        try:
            st = path.stat()
        except OSError:
            return cls(str(path), -1, -1, -1, -1)
        return cls(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def unreadable(path: Path, exc: Exception, hint: str) -> DatasetError:
    """The error for a file DuckDB cannot read: its first line only (no stack, no SQL)."""
    return DatasetError(
        [
            Issue(
                str(path),
                None,
                None,
                None,
                "parquet_readable",
                f"the data cannot be read ({exc.__class__.__name__}: {str(exc).splitlines()[0]})",
            )
        ],
        hint=hint,
    )


class NamedQueryRunner:
    """Runs the named queries of queries.sql on one DuckDB connection, a fresh cursor per query."""

    _con: duckdb.DuckDBPyConnection
    _queries: dict[str, str]

    def query(self, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a named query with bound parameters on its own cursor; the result is read in full."""
        sql = self._queries[name]
        wanted = parameter_names(sql)
        bound = {k: v for k, v in (params or {}).items() if k in wanted}
        missing = wanted - bound.keys()
        if missing:
            raise KeyError(f"query {name!r} needs parameters {sorted(missing)}")
        with self._con.cursor() as cursor:
            # Via Arrow: half the time and a lower memory peak than .df() at 10^6 rows (docs/decisions.md);
            # integer columns stay nullable integers, so null stays null and 0 stays 0.
            table = cursor.sql(sql, params=bound).to_arrow_table()
        return table.to_pandas(types_mapper=_PANDAS_TYPES.get, self_destruct=True)

    def close(self) -> None:
        self._con.close()


class DatasetRepository(NamedQueryRunner):
    """A dataset of the stack (``spec``: the trials or the registry) opened for named queries.

    Reads a Parquet file (``path``) or, for tests and stubs, an Arrow table held in memory (``table``). Opening
    checks the columns against the dictionary, creates the view (optional columns a file lacks read as null),
    and checks every coded field's values against the dictionary's codes, so a broken file fails here, once,
    with readable issues instead of in a chart."""

    spec: TableSpec = TRIALS
    setup_query: str = "setup_slice_macro"

    def __init__(self, path: Path | None = None, *, table: pa.Table | None = None) -> None:
        if (path is None) == (table is None):
            raise ValueError("give a path or a table")
        self.path = Path(path) if path is not None else Path("<memory>")
        self.identity = (
            DatasetIdentity.of(self.path)
            if path is not None
            else DatasetIdentity(f"<memory:{id(table)}>", table.nbytes, 0, 0, id(table))
        )
        self._queries = load_queries()
        try:
            schema = open_parquet_schema(self.path) if table is None else table.schema
        except DatasetError as exc:
            if self.spec is TRIALS:
                raise
            raise DatasetError(exc.issues, hint=self.spec.hint) from exc
        problems = schema_issues(schema, str(self.path), self.spec)
        if problems:
            raise DatasetError(
                problems, hint=f"The file does not follow the {self.spec.name} dictionary. {self.spec.hint}"
            )
        self._con = duckdb.connect()
        try:
            self._create_view(set(schema.names), table)
            self._con.execute(f"SELECT count(*) FROM {self.spec.name}").fetchall()
        except duckdb.Error as exc:
            self._con.close()
            raise unreadable(self.path, exc, self.spec.hint) from exc
        self._con.execute(self._queries[self.setup_query])
        self._check_codes()

    def _create_view(self, present: set[str], table: pa.Table | None) -> None:
        """The view is over the file: DuckDB reads only the columns and row groups a query needs, so a
        million-row dataset is not copied into memory. Optional columns a user's file lacks read as null
        ('not reported'). The path is the operator's setting, not user input; a view cannot take a bound
        parameter, so it is written as a quoted SQL string literal."""
        missing = "".join(
            f', CAST(NULL AS {duckdb_type(f)}) AS "{f.name}"' for f in self.spec.fields if f.name not in present
        )  # names and types from the dictionary
        if table is not None:
            self._con.from_arrow(table).to_table(f"{self.spec.name}_table")  # an in-memory copy: stubs are small
            source = f"{self.spec.name}_table"
        else:
            source = "read_parquet('" + str(self.path).replace("'", "''") + "')"
        self._con.execute(f"CREATE VIEW {self.spec.name} AS SELECT *{missing} FROM {source}")

    def _check_codes(self) -> None:
        """Coded fields hold the dictionary's codes and required fields are present, or a DatasetError."""
        issues = []
        for row in self.query(coded_values_query(self.spec)).itertuples(index=False):
            f = self.spec.by_name[row.field]
            missing = not isinstance(row.value, str)  # null arrives as NaN in a pandas string column
            if missing and f.required:
                issues.append(
                    Issue(
                        str(self.path),
                        *self.spec.where(row.example),
                        row.field,
                        "required",
                        f"{row.field} is missing in {row.rows} row(s)",
                    )
                )
            elif not missing and f.allowed and row.value not in f.allowed:
                issues.append(
                    Issue(
                        str(self.path),
                        *self.spec.where(row.example),
                        row.field,
                        "allowed_values",
                        f"{row.value!r} is not one of {', '.join(f.allowed)} ({row.rows} row(s))",
                    )
                )
        if issues:
            self.close()
            raise DatasetError(issues, hint="Use the dataset's codes (see About & methods). " + self.spec.hint)


class TrialsRepository(DatasetRepository):
    """The dataset behind every page: named queries in, pandas frames out."""

    def __init__(self, path: Path | None = None, *, table: pa.Table | None = None, rob: pa.Table | None = None) -> None:
        super().__init__(path, table=table)
        self._create_rob_view(rob)
        self.release: dict[str, Any] = release_of(self.path) if table is None else {}

    @classmethod
    def from_records(
        cls, records: list[dict[str, Any]], appraisals: list[dict[str, Any]] | None = None
    ) -> TrialsRepository:
        """A repository over cohort records (missing fields are null) and risk-of-bias appraisals held in memory:
        the stub of page tests."""
        from nkdata import rob
        from nkdata.dataset import records_to_table

        full = [{f.name: r.get(f.name, [] if f.dtype.endswith("list") else None) for f in FIELDS} for r in records]
        return cls(table=records_to_table(full), rob=rob.records_to_table(appraisals or []))

    def _create_rob_view(self, table: pa.Table | None) -> None:
        """`rob`: the risk-of-bias appraisals, from ``rob.parquet`` beside the dataset (built with it); a dataset
        without one has no appraisals (an empty table), so every page still opens."""
        from nkdata import rob
        from nkdata.dataset import ROB_PARQUET_NAME

        sibling = self.path.with_name(ROB_PARQUET_NAME)
        if table is None and self.path.name != "<memory>" and sibling.is_file():
            try:
                table = pq.read_table(sibling, schema=rob.ROB_SCHEMA)
            except (pa.ArrowException, OSError, ValueError):
                table = None  # a damaged appraisal file must not take the publication data down with it
        self._con.from_arrow(table if table is not None else rob.records_to_table([])).to_table("rob")

    # Named queries over a slice -------------------------------------------------------------

    def cohorts(self, slice_: Slice) -> pd.DataFrame:
        return self.query("slice_cohorts", slice_.sql_params())

    def search_cohorts(self, slice_: Slice, text: str, limit: int) -> tuple[pd.DataFrame, int]:
        """The Studies table's columns for the rows of the slice matching every word of ``text``
        (at most ``limit``), and how many match."""
        return _split_count(
            self.query("slice_cohorts_search", {**slice_.sql_params(), "words": _words(text), "limit": limit}),
            "matches",
        )

    def found_cohorts(self, slice_: Slice, text: str) -> pd.DataFrame:
        """Every column of every row the same search finds (for downloads)."""
        return self.query("slice_cohorts_found", {**slice_.sql_params(), "words": _words(text)})

    def grade_inputs(self, slice_: Slice, events: str, totals: str, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
        """Per setting, the shares of patients GRADE's risk-of-bias and indirectness domains read (one outcome)."""
        return self.query("grade_inputs", _rate_params(slice_, "setting", events, totals, exclude))

    def grade_survival_inputs(self, slice_: Slice, endpoint: str, landmark: float) -> pd.DataFrame:
        """The same for the time-to-event entries of ``endpoint`` at ``landmark`` months."""
        return self.query(
            "grade_survival_inputs", {**slice_.sql_params(), "endpoint": endpoint, "landmark": float(landmark)}
        )

    def rob_appraisals(self, slice_: Slice, limit: int | None = None) -> pd.DataFrame:
        """The risk-of-bias table of the slice's publications (appraisal columns null where not appraised), at
        most ``limit`` rows in reading order; ``publications`` and ``publications_appraised`` count them all."""
        from nkdata.rob import TRAFFIC_LIGHT_MAX_PUBLICATIONS

        return self.query("rob_appraisals", {**slice_.sql_params(), "limit": limit or TRAFFIC_LIGHT_MAX_PUBLICATIONS})

    def cohort(self, cohort_id: str) -> pd.Series | None:
        """One cohort's whole record, or None if the dataset has no such cohort."""
        rows = self.query("cohort_record", {"cohort_id": cohort_id})
        return rows.iloc[0] if len(rows) else None

    def rate_counts(
        self, slice_: Slice, group_by: str, events: str, totals: str, exclude: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        """Primary cohorts as distinct (grp, events, total, excluded) rows with a ``cohorts`` count."""
        return self.query("rate_counts", _rate_params(slice_, group_by, events, totals, exclude))

    def persistence_rank_correlation(
        self, slice_: Slice, events: str, totals: str, exclude: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """n, distinct values on each side, and Spearman's rho of persistence against events / total (rates a
        sensitivity choice leaves out are left out here too)."""
        return (
            self.query("persistence_rank_correlation", _rate_params(slice_, "nk_source", events, totals, exclude))
            .iloc[0]
            .to_dict()
        )

    def cohort_points(
        self,
        slice_: Slice,
        group_by: str,
        events: str,
        totals: str,
        *,
        limit: int,
        need_rate: bool = True,
        need_persistence: bool = False,
        need_followup: bool = False,
        groups: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
    ) -> tuple[pd.DataFrame, int]:
        """The largest qualifying primary cohorts (at most ``limit``), and how many qualified."""
        return _split_count(
            self.query(
                "cohort_points",
                {
                    **_rate_params(slice_, group_by, events, totals, exclude),
                    "limit": limit,
                    "need_rate": need_rate,
                    "need_persistence": need_persistence,
                    "need_followup": need_followup,
                    "groups": list(groups),
                },
            ),
            "qualified",
        )

    def metaregression_cohorts(
        self, slice_: Slice, setting: str, events: str, totals: str, *, limit: int, exclude: tuple[str, ...] = ()
    ) -> tuple[pd.DataFrame, int]:
        """The cohorts of one setting reporting the rate, with the moderator columns (at most ``limit``)."""
        params = {**_rate_params(slice_, "setting", events, totals, exclude), "setting": setting, "limit": limit}
        return _split_count(self.query("metaregression_cohorts", params), "qualified")

    def persistence_by_group(self, slice_: Slice, group_by: str) -> pd.DataFrame:
        return self.query("persistence_by_group", _rate_params(slice_, group_by, "cr_count", "n_treated"))

    def survival_entries(
        self,
        slice_: Slice,
        endpoint: str | None = None,
        landmark: float | None = None,
        medians_only: bool = False,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Time-to-event entries of the slice's primary cohorts (one endpoint or all, one landmark or all, or only
        median-only entries), one row each, at most ``limit`` of them in reading order."""
        params = {"endpoint": endpoint, "landmark": landmark, "medians_only": medians_only, "limit": limit}
        return self.query("survival_entries", {**slice_.sql_params(), **params})

    def survival_counts(self, slice_: Slice, endpoint: str, landmark: float) -> dict[str, int]:
        """Totals behind the capped survival rows: entries, reporting cohorts, entries at the landmark, medians."""
        row = self.query("survival_counts", {**slice_.sql_params(), "endpoint": endpoint, "landmark": landmark})
        return {k: int(v) for k, v in row.iloc[0].items()}

    def survival_landmark_summary(self, slice_: Slice, endpoint: str, landmark: float) -> pd.DataFrame:
        """Per setting: entries, patients analysed, median/lowest/highest estimate of ``endpoint`` at ``landmark``."""
        return self.query(
            "survival_landmark_summary", {**slice_.sql_params(), "endpoint": endpoint, "landmark": landmark}
        )

    def survival_landmark_inputs(self, slice_: Slice, endpoint: str, landmark: float) -> pd.DataFrame:
        """Per setting, the distinct entries of ``endpoint`` at ``landmark`` months with their multiplicities."""
        return self.query(
            "survival_landmark_inputs", {**slice_.sql_params(), "endpoint": endpoint, "landmark": landmark}
        )

    def summary(self, slice_: Slice) -> dict[str, Any]:
        return self.query("slice_summary", slice_.sql_params()).iloc[0].to_dict()

    def identity_counts(self, slice_: Slice) -> dict[str, int]:
        """Trials (by trial_id), publications and cohorts of the slice, counted apart."""
        return {k: int(v) for k, v in self.query("identity_counts", slice_.sql_params()).iloc[0].items()}

    def cohorts_per_year(self, slice_: Slice) -> pd.DataFrame:
        return self.query("cohorts_per_year_by_source", slice_.sql_params())

    def source_by_setting(self, slice_: Slice) -> pd.DataFrame:
        return self.query("source_by_setting", slice_.sql_params())

    def group_summary(self, slice_: Slice, group_by: str) -> pd.DataFrame:
        return self.query("group_summary", _rate_params(slice_, group_by, "cr_count", "n_treated"))

    def safety_by_source(self, slice_: Slice) -> pd.DataFrame:
        return self.query("safety_by_source", slice_.sql_params())

    def filter_funnel(self, slice_: Slice) -> pd.DataFrame:
        return self.query("filter_funnel", slice_.sql_params())

    # Whole-dataset facts ---------------------------------------------------------------------

    def filter_options(self) -> pd.DataFrame:
        return self.query("filter_options")

    def overview(self) -> dict[str, Any]:
        return self.query("dataset_overview").iloc[0].to_dict()

    def vocabulary(self) -> Vocabulary:
        """Codes a shared link may use for this dataset."""
        options = self.filter_options()
        overview = self.overview()
        year_min = int(overview["year_min"]) if pd.notna(overview["year_min"]) else 2005
        year_max = int(overview["year_max"]) if pd.notna(overview["year_max"]) else year_min
        codes = {name: frozenset(group["code"].dropna()) for name, group in options.groupby("field")}
        return Vocabulary(data_codes=codes, year_bounds=(year_min, year_max))

    def products_by_source(self) -> dict[str, list[str]]:
        options = self.filter_options()
        products = options[options["field"] == "products"]
        return {src: sorted(group["code"].dropna().unique()) for src, group in products.groupby("parent")}

    def facet_counts(self, slice_: Slice) -> pd.DataFrame:
        """Cohorts and patients each filter option would leave, every other choice kept."""
        return self.query("facet_counts", slice_.sql_params())

    def has_cohort(self, cohort_id: str) -> bool:
        return not self.query("cohort_record", {"cohort_id": cohort_id}).empty
