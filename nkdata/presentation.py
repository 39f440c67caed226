"""How values read on a page: integers as integers, "not reported" only where a value could exist, "—" where
a field does not apply, and the cohort card with every number's provenance. No Streamlit, so it is tested
directly and every page formats the same way.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from nkdata import vocabulary as voc
from nkdata.dictionary import FIELDS, FIELDS_BY_NAME, SURVIVAL_FIELDS, field_label
from nkdata.safe_text import csv_bytes, md_text
from nkdata.source import notes_from_json

NOT_REPORTED = voc.NOT_REPORTED_LABEL.lower()
NOT_APPLICABLE = "—"
_HIDDEN = frozenset(
    {"field_notes", "from_review", "unverified", "converted_from_percent", "inherited_from", "survival"}
)
_CODED: dict[str, dict[str, str]] = {
    "nk_source": voc.NK_SOURCES,
    "product_class": voc.PRODUCT_CLASSES,
    "setting": voc.SETTINGS,
    "population": voc.POPULATIONS,
    "donor_type": voc.DONOR_TYPES,
    "publication_type": voc.PUBLICATION_TYPES,
    "design": voc.DESIGNS,
    "phase": voc.PHASES,
}


def cohort_labels(frame: pd.DataFrame) -> list[str]:
    """The one way a cohort is named in tables and charts: "author year - product"."""
    return [f"{a} {y} - {p}" for a, y, p in zip(frame["first_author"], frame["year"], frame["product"], strict=True)]


def is_missing(value: Any) -> bool:
    """None, pandas NA and NaN are all 'no value'."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays
        return False


def is_true(value: Any) -> bool:
    """True only for a true boolean (Python, NumPy or pandas), never for null."""
    return not is_missing(value) and bool(value) is True


def as_list(value: Any) -> list[Any]:
    """A list column's value as a list: null is an empty list."""
    if is_missing(value):
        return []
    if isinstance(value, str):
        return [value]
    try:
        return list(value)
    except TypeError:
        return []


def number(value: Any, digits: int = 1) -> str:
    """A number as text: whole numbers without a decimal point, others with at most ``digits`` decimals."""
    if is_missing(value):
        return NOT_REPORTED
    x = float(value)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}".replace(",", " ") if abs(x) >= 10_000 else str(int(x))
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def applies(name: str, row: pd.Series | dict) -> bool:
    """False where a field cannot have a value for this cohort (a CAR target without a CAR...)."""
    get = row.get
    if name == "car_target":
        return get("product_class") == "car_engineered" or not is_missing(get("car_target"))
    if name in ("diagnosis_mix", "n_aml"):
        aml_only = get("aml_only")
        return is_missing(aml_only) or not bool(aml_only)
    if name in ("persistence_lower_bound", "persistence_method", "persistence_note"):
        return not (
            is_missing(get("max_persistence_days"))
            and is_missing(get("median_persistence_days"))
            and is_missing(get(name))
        )
    if name in ("peak_unit", "peak_day"):
        return not is_missing(get("peak_count")) or not is_missing(get(name))
    if name == "superseded_by":
        return not is_missing(get("superseded_by"))
    return True


def format_value(name: str, value: Any, row: pd.Series | dict | None = None) -> str:
    """One field's value for display."""
    if row is not None and not applies(name, row):
        return NOT_APPLICABLE
    field = FIELDS_BY_NAME.get(name)
    if field is not None and field.dtype == "string_list":
        items = [str(v) for v in as_list(value)]
        return ", ".join(items) if items else NOT_REPORTED
    if is_missing(value):
        return NOT_REPORTED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in _CODED:
        return voc.label(_CODED[name], str(value))
    if isinstance(value, (int, float)):
        return number(value)
    return str(value)


def not_reported_text(table: pd.DataFrame, columns: list[str], digits: int = 1) -> pd.DataFrame:
    """Numbers as text with "not reported" where the value is missing, so a blank never reads as zero."""
    out = table.copy()
    for column in columns:
        out[column] = [number(v, digits) for v in out[column]]
    return out


def not_applicable_text(table: pd.DataFrame, columns: list[str], digits: int = 1) -> pd.DataFrame:
    """Numbers as text with "—" where a value does not apply (a prediction interval of a single cohort)."""
    out = table.copy()
    for column in columns:
        out[column] = [NOT_APPLICABLE if is_missing(v) else f"{float(v):.{digits}f}" for v in out[column]]
    return out


def inherited_sources(row: pd.Series | dict) -> dict[str, str]:
    """field -> cohort_id of the earlier report a value was carried over from (field-level supersession)."""
    raw = row.get("inherited_from")
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def survival_text(entry: dict[str, Any]) -> str:
    """One time-to-event result in words: '2-year (24 mo) OS 45% (95% CI 30-60), n = 20'."""
    endpoint = voc.ENDPOINTS.get(entry.get("endpoint") or "", str(entry.get("endpoint")))
    parts = []
    if not is_missing(entry.get("landmark_months")):
        text = f"{endpoint} at {number(entry['landmark_months'])} months: {number(entry.get('estimate_pct'))}%"
        if not is_missing(entry.get("ci_low_pct")):
            text += f" (95% CI {number(entry['ci_low_pct'])}-{number(entry['ci_high_pct'])}%)"
        parts.append(text)
    if not is_missing(entry.get("median_months")):
        parts.append(f"median {endpoint} {number(entry['median_months'])} months")
    elif entry.get("median_not_reached") is True:
        parts.append(f"median {endpoint} not reached")
    if not is_missing(entry.get("n_analysed")):
        parts.append(f"n = {number(entry['n_analysed'])}")
    if not is_missing(entry.get("comparator_pct")):
        parts.append(f"vs {number(entry['comparator_pct'])}% in {entry.get('comparator_label') or 'the comparator'}")
    return "; ".join(parts)


def _flags(name: str, row: pd.Series | dict, inherited: dict[str, str]) -> str:
    tags = []
    if name in {str(v) for v in as_list(row.get("from_review"))}:
        tags.append("from a review table")
    if name in {str(v) for v in as_list(row.get("converted_from_percent"))}:
        tags.append("converted from a percentage")
    if name in {str(v) for v in as_list(row.get("unverified"))}:
        tags.append("not confirmed on a page read: verify")
    if name in inherited:
        tags.append(f"from the earlier report {inherited[name]}")
    return "".join(f"[{t}] " for t in tags)


def cohort_card(row: pd.Series | dict) -> pd.DataFrame:
    """Every field of one cohort (time-to-event entries one per row) with its value and where it came from."""
    notes = notes_from_json(row.get("field_notes"))
    inherited = inherited_sources(row)
    elsewhere = {str(v) for v in as_list(row.get("outcomes_elsewhere"))}
    rows = []
    for field in FIELDS:
        if field.name in _HIDDEN:
            continue
        value = format_value(field.name, row.get(field.name), row)
        if field.name in elsewhere and is_missing(row.get(field.name)):
            # the most complete report of this outcome is an earlier one with another n: its own row is pooled
            value = f"from the earlier report {inherited.get(field.name, '?')}, over its own patients"
        rows.append(
            {
                "Group": field.group,
                "Field": field.name,
                "Value": value,
                "Where it came from": (_flags(field.name, row, inherited) + str(notes.get(field.name, ""))).strip(),
            }
        )
    own = row.get("cohort_id")
    for entry in as_list(row.get("survival")):
        entry = dict(entry)
        source = entry.get("source_cohort")
        tags = "[from a review table] " if entry.get("from_review") is True else ""
        if isinstance(source, str) and source != own:
            tags += f"[from the earlier report {source}] "
        rows.append(
            {
                "Group": "survival",
                "Field": entry.get("endpoint") or "",
                "Value": survival_text(entry),
                "Where it came from": (tags + str(entry.get("note") or "")).strip(),
            }
        )
    return pd.DataFrame(rows)


SURVIVAL_COLUMNS: tuple[str, ...] = tuple(f.name for f in SURVIVAL_FIELDS)


def describe_slice(slice_: Any, year_bounds: tuple[int, int] | None = None) -> str:
    """The slice in words, for figure captions, exports and citations."""
    from nkdata.filterspec import FILTERS, TOGGLES

    parts = []
    years = slice_.years or year_bounds
    if years:
        parts.append(f"published {years[0]}-{years[1]}")
    for spec in FILTERS:
        chosen = getattr(slice_, spec.field)
        if chosen:
            parts.append(f"{spec.label.lower()}: {', '.join(spec.code_label(c) for c in chosen)}")
    for toggle in TOGGLES:
        if getattr(slice_, toggle.field) != toggle.default:
            parts.append(
                ("with " if getattr(slice_, toggle.field) else "without ")
                + toggle.label.lower().replace("include ", "")
            )
    return "; ".join(parts) if parts else "all cohorts"


def download_name(view_name: str, version: str, link: str, extension: str) -> str:
    """A file name that says what it holds: the view, the data version and a short hash of the link."""
    import hashlib

    digest = hashlib.sha256(link.encode("utf-8")).hexdigest()[:8]
    safe_version = "".join(c if c.isalnum() or c in ".-" else "-" for c in version) or "unversioned"
    return f"nk-aml_{view_name}_v{safe_version}_{digest}.{extension}"


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table ready for CSV/JSON: lists joined with '; ', coded fields as labels beside their codes."""
    out = frame.copy()
    for column in out.columns:
        if (
            out[column]
            .map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str))
            .any()
        ):
            out[column] = [
                ("; ".join(str(x) for x in as_list(v)) if not isinstance(v, str) else v) for v in out[column]
            ]
    for column, vocabulary in _CODED.items():
        if column in out.columns:
            out.insert(
                out.columns.get_loc(column) + 1,
                f"{column}_label",
                [voc.label(vocabulary, c) if isinstance(c, str) else "" for c in out[column]],
            )
    return out


def export_csv(frame: pd.DataFrame) -> bytes:
    """The CSV download of a view's rows: ``export_frame`` with every text cell formula-safe (``csv_safe``)."""
    return csv_bytes(export_frame(frame))


def capped_note(shown: int, total: int, what: str) -> str:
    """The sentence a capped chart or table owes its reader ("" when nothing was left out)."""
    if total <= shown:
        return ""
    return f"Only the first {shown:,} of {total:,} {what} (reading order) are shown; narrow the slice for the rest."


# Columns of the analysis tables (forest rows, rates) that are proportions: exported as percentages, rounded.
_PROPORTION_COLUMNS: dict[str, str] = {
    "estimate": "Estimate %",
    "ci_low": "95% CI low %",
    "ci_high": "95% CI high %",
    "pi_low": "Prediction interval low %",
    "pi_high": "Prediction interval high %",
    "weight": "Weight in group %",
    "rate": "Rate %",
    "i2": "I² %",
}
_ANALYSIS_HEADERS: dict[str, str] = {
    "kind": "Row",
    "group": "Group",
    "group_label": "Group label",
    "label": "Label",
    "events": "Events",
    "total": "Denominator",
    "flags": "Cautions",
    "order": "Order",
    "k": "Cohorts (k)",
    "n_total": "Patients (N)",
}


def reader_export(frame: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """A download as a reader sees the page: the dictionary's labels (with units) as headers, coded values as
    their labels, proportions as percentages rounded as shown. The raw values stay in the Parquet download."""
    out = frame.copy()
    for column in list(out.columns):
        if f"{column}_label" in out.columns:  # export_frame put the label beside its code: keep the label
            out[column] = out.pop(f"{column}_label")
    headers = {}
    for column in out.columns:
        if column in _PROPORTION_COLUMNS:
            out[column] = (100 * pd.to_numeric(out[column], errors="coerce")).round(digits)
            headers[column] = _PROPORTION_COLUMNS[column]
        elif column in FIELDS_BY_NAME:
            headers[column] = field_label(column, unit=True)
        else:
            headers[column] = _ANALYSIS_HEADERS.get(column, str(column).replace("_", " ").capitalize())
        if column not in _PROPORTION_COLUMNS and pd.api.types.is_float_dtype(out[column]):
            values = out[column].dropna()
            whole = bool(len(values)) and bool((values == values.round()).all())
            out[column] = out[column].astype("Int64") if whole else out[column].round(digits)
    used: set[str] = set()
    for column, header in headers.items():  # two columns with one label (a survival entry's n and the cohort's)
        if header in used:
            headers[column] = f"{header} ({str(column).replace('_', ' ')})"
        used.add(headers[column])
    return out.rename(columns=headers)


def _md_cell(text: object) -> str:
    """A table cell's text through the one escaping boundary, with the table's column separator escaped too."""
    return md_text(text).replace("|", "\\|")


def markdown_link_table(frame: pd.DataFrame, link_column: str, linked: str) -> str:
    """``frame`` as a Markdown table whose ``linked`` column links to ``link_column`` (an app-relative link made
    by the code from the view's codes); every other cell escaped. Markdown wraps long cells, so a table of
    reasons reads without sideways scrolling where a data grid would cut them off."""
    columns = [c for c in frame.columns if c != link_column]
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = []
        for c in columns:
            text = _md_cell(row[c])
            if c == linked:
                target = str(row[link_column]).replace(" ", "%20").replace(")", "%29").replace("(", "%28")
                text = f"[{text}]({target})"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
