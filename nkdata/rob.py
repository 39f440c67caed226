"""Risk of bias: one appraisal per publication (``data/rob/<study_id>.yaml``), validated and built to Parquet.

Every included publication is a single-arm or non-comparative study, so the instrument is the JBI Critical
Appraisal Checklist for Case Series (Munn et al. 2020, JBI Evidence Synthesis 18:2127), 10 items. The table is
described once (``ROB_FIELDS``, the same ``Field`` type as the trials' dictionary) and checked with the same
``check_fields`` and ``Issue``, so a curator's mistake reads like any other dataset error.

The overall judgement follows one written rule (:func:`overall_by_rule`, shown on About and in README): an
appraiser may be stricter than the rule, never more lenient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from nkdata import vocabulary
from nkdata.dictionary import Field
from nkdata.issues import Issue
from nkdata.source import Record, StudyLoader
from nkdata.validation import check_fields

INSTRUMENTS: dict[str, str] = {
    "jbi_case_series": "JBI Critical Appraisal Checklist for Case Series (Munn et al. 2020), 10 items",
}
JUDGEMENTS = vocabulary.ROB_JUDGEMENTS
OVERALL = vocabulary.ROB_OVERALL
_SEVERITY = {"low": 0, "some_concerns": 1, "high": 2}


@dataclass(frozen=True)
class RobItem:
    key: str  # YAML key under ``items``
    short: str  # column header of the traffic-light table
    question: str


JBI_ITEMS: tuple[RobItem, ...] = (
    RobItem("q1_inclusion_criteria", "Q1", "Were there clear criteria for inclusion in the case series?"),
    RobItem("q2_condition_measured", "Q2", "Was the condition measured in a standard, reliable way for all?"),
    RobItem("q3_condition_identified", "Q3", "Were valid methods used to identify the condition for all?"),
    RobItem("q4_consecutive", "Q4", "Did the case series have consecutive inclusion of participants?"),
    RobItem("q5_complete_inclusion", "Q5", "Did the case series have complete inclusion of participants?"),
    RobItem("q6_demographics", "Q6", "Was there clear reporting of the participants' demographics?"),
    RobItem("q7_clinical_info", "Q7", "Was there clear reporting of the participants' clinical information?"),
    RobItem("q8_outcomes_reported", "Q8", "Were the outcomes or follow-up results clearly reported?"),
    RobItem("q9_site_info", "Q9", "Was there clear reporting of the presenting sites' or clinics' information?"),
    RobItem("q10_statistics", "Q10", "Was the statistical analysis appropriate?"),
)
ITEMS_BY_KEY: dict[str, RobItem] = {i.key: i for i in JBI_ITEMS}
# Items whose failure biases a case series' outcome proportions most directly: who was included (Q1), whether
# they were consecutive and complete (Q4, Q5: selection), and whether the outcome was reported for them (Q8).
KEY_ITEMS: tuple[str, ...] = (
    "q1_inclusion_criteria",
    "q4_consecutive",
    "q5_complete_inclusion",
    "q8_outcomes_reported",
)
MAX_UNCLEAR_FOR_LOW = 2

OVERALL_RULE = (
    "High when any key item (Q1 inclusion criteria, Q4 consecutive inclusion, Q5 complete inclusion, Q8 outcomes "
    "reported) is 'no' or when 3 or more items are 'no'; low when no item is 'no', no key item is 'unclear' and at "
    f"most {MAX_UNCLEAR_FOR_LOW} items are 'unclear'; some concerns otherwise ('not applicable' counts as neither). "
    "An appraiser may judge more severely than the rule (saying why in overall_note), never less."
)


def judgement_column(item: str) -> str:
    return item


def note_column(item: str) -> str:
    return f"{item}_note"


ROB_FIELDS: tuple[Field, ...] = (
    Field(
        "study_id", "string", "rob", "The appraised publication (names its study file and this file).", required=True
    ),
    Field("instrument", "string", "rob", "Appraisal instrument.", allowed=tuple(INSTRUMENTS), required=True),
    Field("appraised_by", "string", "rob", "Who appraised the publication.", required=True),
    Field("appraised_on", "string", "rob", "Date of the appraisal (YYYY-MM-DD).", required=True),
    Field("source_url", "string", "rob", "The page(s) read for the appraisal.", required=True),
    *(
        f
        for item in JBI_ITEMS
        for f in (
            Field(
                judgement_column(item.key),
                "string",
                "rob",
                f"{item.short}: {item.question}",
                allowed=tuple(JUDGEMENTS),
                required=True,
            ),
            Field(note_column(item.key), "string", "rob", f"Why {item.short} was so judged.", required=True),
        )
    ),
    Field("overall", "string", "rob", "Overall risk of bias.", allowed=tuple(OVERALL), required=True),
    Field("overall_note", "string", "rob", "The reason for the overall judgement.", required=True),
    Field(
        "overall_by_rule",
        "string",
        "rob",
        "The overall judgement the written rule gives (set by the build).",
        allowed=tuple(OVERALL),
    ),
)
ROB_COLUMNS: tuple[str, ...] = tuple(f.name for f in ROB_FIELDS)
ROB_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field(f.name, f.arrow_type, nullable=not f.required, metadata={b"description": f.description.encode()})
        for f in ROB_FIELDS
    ]
)
_TOP_KEYS = frozenset({"study_id", "instrument", "appraised_by", "appraised_on", "source_url", "items", "overall"})
_TOP_KEYS = _TOP_KEYS | {"overall_note"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_RE = re.compile(r"^https?://\S+$")

ROB_RULES: dict[str, str] = {
    "rob_item_complete": "Every checklist item is present, with a known judgement and a note; no unknown items.",
    "rob_overall_rule": "overall is at least as severe as the written rule gives. " + OVERALL_RULE,
    "rob_study_exists": "study_id names a publication of data/studies and the file is named after it.",
    "rob_format": "appraised_on is a date (YYYY-MM-DD); source_url is an http(s) address.",
    "rob_coverage": "Every included publication has an appraisal (a warning until the appraisals are complete).",
}
# Missing appraisals are warnings for any dataset; the bundled one is held to full coverage by a test
# (tests/test_rob.py::test_every_bundled_publication_has_an_appraisal), not by failing every user's build.
COVERAGE_IS_ERROR = False


def overall_by_rule(judgements: dict[str, Any]) -> str:
    """The overall risk of bias the written rule gives for item judgements (see OVERALL_RULE)."""
    noes = [k for k in ITEMS_BY_KEY if judgements.get(k) == "no"]
    unclear = [k for k in ITEMS_BY_KEY if judgements.get(k) == "unclear"]
    if any(k in KEY_ITEMS for k in noes) or len(noes) >= 3:
        return "high"
    if not noes and not any(k in KEY_ITEMS for k in unclear) and len(unclear) <= MAX_UNCLEAR_FOR_LOW:
        return "low"
    return "some_concerns"


def appraisal_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


def load_appraisal(path: Path) -> tuple[Record | None, list[Issue]]:
    """One appraisal flattened to the table's columns (``_file`` added), and the issues of its shape."""
    name = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=StudyLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Issue(name, path.stem, None, None, "yaml_syntax", f"cannot parse YAML: {exc}")]
    if not isinstance(doc, dict):
        return None, [Issue(name, path.stem, None, None, "yaml_structure", "the file must hold a mapping")]
    study = str(doc.get("study_id") or path.stem)
    issues = [
        Issue(name, study, None, str(k), "unknown_field", f"{k!r} is not a key of a risk-of-bias appraisal")
        for k in doc
        if k not in _TOP_KEYS
    ]
    record: Record = {k: doc.get(k) for k in ("study_id", "instrument", "appraised_by", "source_url", "overall")}
    record["overall_note"] = doc.get("overall_note")
    on = doc.get("appraised_on")
    record["appraised_on"] = on.isoformat() if hasattr(on, "isoformat") else on
    items = doc.get("items") if isinstance(doc.get("items"), dict) else {}
    if not isinstance(doc.get("items"), dict):
        issues.append(
            Issue(name, study, None, "items", "rob_item_complete", "items must be a mapping of the checklist")
        )
    for key, value in items.items():
        if key not in ITEMS_BY_KEY:
            issues.append(Issue(name, study, None, str(key), "rob_item_complete", f"{key!r} is not a checklist item"))
        elif not isinstance(value, dict) or set(value) - {"judgement", "note"}:
            issues.append(Issue(name, study, None, key, "rob_item_complete", "give {judgement: ..., note: ...}"))
    for item in JBI_ITEMS:
        value = items.get(item.key) if isinstance(items.get(item.key), dict) else {}
        record[judgement_column(item.key)] = value.get("judgement")
        record[note_column(item.key)] = value.get("note")
    record["_file"] = name
    return record, issues


def check_appraisal(record: Record, study_ids: frozenset[str] | None) -> Iterable[tuple[str | None, str, str]]:
    """(field, rule, message) for each problem of one flattened appraisal."""
    for field, rule, message in check_fields(record, ROB_FIELDS):
        is_item = field is not None and (field in ITEMS_BY_KEY or field.removesuffix("_note") in ITEMS_BY_KEY)
        yield field, "rob_item_complete" if is_item else rule, message
    study = record.get("study_id")
    stem = Path(str(record.get("_file", ""))).stem
    if isinstance(study, str) and stem and study != stem:
        yield "study_id", "rob_study_exists", f"study_id {study!r} differs from the file name {stem!r}"
    if study_ids is not None and isinstance(study, str) and study not in study_ids:
        yield "study_id", "rob_study_exists", f"{study!r} is not a publication of the dataset"
    on, url = record.get("appraised_on"), record.get("source_url")
    if isinstance(on, str) and not _DATE_RE.match(on):
        yield "appraised_on", "rob_format", f"{on!r} is not a YYYY-MM-DD date"
    if isinstance(url, str) and not _URL_RE.match(url):
        yield "source_url", "rob_format", f"{url!r} is not an http(s) address"
    overall = record.get("overall")
    judgements = {k: record.get(k) for k in ITEMS_BY_KEY}
    if all(v in JUDGEMENTS for v in judgements.values()) and overall in _SEVERITY:
        rule = overall_by_rule(judgements)
        if _SEVERITY[overall] < _SEVERITY[rule]:
            yield "overall", "rob_overall_rule", f"overall {overall!r} is more lenient than the rule's {rule!r}"


def load_rob_folder(folder: Path, study_ids: Iterable[str] | None) -> tuple[list[Record], list[Issue]]:
    """Every appraisal of ``folder`` (none when it does not exist) and every issue, one study_id per file."""
    known = frozenset(study_ids) if study_ids is not None else None
    records: list[Record] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for path in appraisal_files(folder):
        record, file_issues = load_appraisal(path)
        issues += file_issues
        if record is None:
            continue
        study = record.get("study_id")
        for field, rule, message in check_appraisal(record, known):
            issues.append(Issue(str(path), str(study or path.stem), None, field, rule, message))
        if isinstance(study, str) and study in seen:
            issues.append(Issue(str(path), study, None, "study_id", "unique_id", f"{study!r} is appraised twice"))
        seen.add(str(study))
        records.append({**record, "overall_by_rule": _rule_or_none(record)})
    return records, sorted(issues)


def _rule_or_none(record: Record) -> str | None:
    judgements = {k: record.get(k) for k in ITEMS_BY_KEY}
    return overall_by_rule(judgements) if all(v in JUDGEMENTS for v in judgements.values()) else None


def coverage_issues(records: list[Record], study_ids: Iterable[str], folder: Path) -> list[Issue]:
    """A ``rob_coverage`` issue per included publication without an appraisal (warnings until COVERAGE_IS_ERROR)."""
    appraised = {r.get("study_id") for r in records}
    return [
        Issue(
            str(folder / f"{s}.yaml"), s, None, None, "rob_coverage", "this publication has no risk-of-bias appraisal"
        )
        for s in sorted(set(study_ids) - appraised)
    ]


def records_to_table(records: list[Record]) -> pa.Table:
    """The appraisals as one Arrow table, rows sorted by study_id: same files, same bytes."""
    ordered = sorted(records, key=lambda r: str(r["study_id"]))
    return pa.table({f.name: [r.get(f.name) for r in ordered] for f in ROB_FIELDS}, schema=ROB_SCHEMA)


def overall_by_study(records: list[Record]) -> dict[str, str]:
    """study_id -> overall risk of bias, carried into the trials table so a pool can keep low risk only."""
    return {str(r["study_id"]): str(r["overall"]) for r in records if r.get("overall") in OVERALL}


# ----- Presentation: the traffic-light table (robvis convention) ----------------------------------------------

NOT_APPRAISED = "not_appraised"
# robvis colours: green low / yes, yellow some concerns / unclear, red high / no, grey not applicable or none.
LIGHTS: dict[str, tuple[str, str, str]] = {  # code -> (label, colour, symbol)
    "yes": ("Yes (low risk)", "#2e9e44", "+"),
    "low": ("Low risk of bias", "#2e9e44", "+"),
    "unclear": ("Unclear", "#e6c229", "?"),
    "some_concerns": ("Some concerns", "#e6c229", "!"),
    "no": ("No (high risk)", "#c62828", "−"),
    "high": ("High risk of bias", "#c62828", "x"),
    "not_applicable": ("Not applicable", "#9e9e9e", ""),
    NOT_APPRAISED: ("Not yet appraised", "#d0d0d0", ""),
}
OVERALL_COLUMN = "Overall"
# Publications in one traffic-light plot: 11 circles each, so 150 stay under Altair's 5,000-row limit and the
# chart readable; a larger slice is narrowed by the reader (the page says how many are shown).
TRAFFIC_LIGHT_MAX_PUBLICATIONS = 150


def publication_label(first_author: Any, year: Any) -> str:
    return f"{first_author} {int(year)}" if year is not None and year == year else str(first_author)


def traffic_light_frame(appraisals: Any) -> Any:
    """One row per publication and column (Q1-Q10, Overall): its judgement code, label, colour and note."""
    import pandas as pd

    rows = []
    labels = _unique_labels(appraisals)
    for (_, r), label in zip(appraisals.iterrows(), labels, strict=True):
        appraised = bool(r.get("appraised"))
        for item in JBI_ITEMS:
            code = r.get(item.key) if appraised else NOT_APPRAISED
            rows.append(_light(label, r["study_id"], item.short, item.question, code, r.get(note_column(item.key))))
        code = r.get("overall") if appraised else NOT_APPRAISED
        rows.append(_light(label, r["study_id"], OVERALL_COLUMN, "Overall risk of bias", code, r.get("overall_note")))
    return pd.DataFrame(
        rows, columns=["Publication", "study_id", "Item", "Question", "code", "Judgement", "colour", "symbol", "Note"]
    )


def _unique_labels(appraisals: Any) -> list[str]:
    """'Author year', with the study_id added where two publications would share a label."""
    base = [publication_label(a, y) for a, y in zip(appraisals["first_author"], appraisals["year"], strict=True)]
    return [b if base.count(b) == 1 else f"{b} ({s})" for b, s in zip(base, appraisals["study_id"], strict=True)]


def _light(label: str, study_id: str, item: str, question: str, code: Any, note: Any) -> dict[str, Any]:
    code = code if isinstance(code, str) and code in LIGHTS else NOT_APPRAISED
    name, colour, symbol = LIGHTS[code]
    return {
        "Publication": label,
        "study_id": study_id,
        "Item": item,
        "Question": question,
        "code": code,
        "Judgement": name,
        "colour": colour,
        "symbol": symbol,
        "Note": note if isinstance(note, str) else "",
    }
