"""Hostile values for every way in (link parameters, the Studies search, the path, every data field a card, table,
caption or export shows) and the checks that none of them comes out as live Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq

from nkdata.dataset import records_to_table
from nkdata.dictionary import FIELDS

EVIL = "https://evil.example"
MD_LINK = f"[Sign in again]({EVIL}/a)"
MD_IMAGE = f"![]({EVIL}/banner.png) **Dataset withdrawn**"
HOSTILE_TEXT = f"{MD_IMAGE} {MD_LINK} :red[alert] $x^2$ <img src={EVIL}/i.png> www.evil.example"
HOSTILE_ID = "hostile2020-a"

# Link parameters: one hostile value for each key of the link contract, the search and unknown keys.
HOSTILE_LINK: dict[str, str | list[str]] = {
    "source": MD_LINK,
    "product": MD_IMAGE,
    "car_target": MD_LINK,
    "setting": MD_LINK,
    "years": [MD_LINK, MD_IMAGE],
    "pool": MD_LINK,
    "ci": MD_IMAGE,
    "denom": MD_LINK,
    "group": MD_LINK,
    "model": MD_LINK,
    "exclude": MD_IMAGE,
    "mixed": MD_LINK,
    "superseded": MD_IMAGE,
    "overall": MD_LINK,
    "endpoint": MD_LINK,
    "landmark": MD_IMAGE,
    "rows": MD_LINK,
    "cohort": MD_IMAGE,
    "q": MD_IMAGE,
    MD_LINK: MD_IMAGE,  # an unknown key that is itself Markdown
}


def hostile_record() -> dict:
    """A cohort whose every free-text field, identifier and note tries to write Markdown or a formula."""
    return {
        "cohort_id": HOSTILE_ID,
        "study_id": "hostile2020",
        "first_author": f"Evil{MD_LINK}",
        "year": 2020,
        "title": HOSTILE_TEXT + "\nTY  - JOUR\nER  - ",
        "journal": "@SUM(1,2) {\\bf journal}} \\input{/etc/passwd}",
        "doi": f"10.1182/x)[Verify]({EVIL}/doi",
        "pmid": f"1)[p]({EVIL}/p",
        "nct_ids": [f"NCT0000000]({EVIL}/nct)"],
        "publication_type": "journal_article",
        "design": "prospective_trial",
        "nk_source": "peripheral_blood",
        "product": '=HYPERLINK("https://evil.example","click")',
        "product_class": "activated",
        "setting": "relapsed_refractory",
        "aml_only": True,
        "n_treated": 10,
        "n_evaluable": 10,
        "cr_count": 4,
        "cr_definition": "-2+3 " + MD_LINK,
        "source_url": f"https://ok.example/a)[Verify]({EVIL}/u",
        "source_section": f"abstract]({EVIL}/s) [x",
        "extraction_note": "Line one\n# Heading " + MD_IMAGE,
        "citation_detail": "+cmd|' /C calc'!A0",
        "field_notes": json.dumps({"n_treated": "\t" + MD_LINK, "cr_count": "=1+1 " + MD_IMAGE}),
    }


def write_dataset(path: Path, records: list[dict]) -> Path:
    """A Parquet of ``records`` (missing fields null), as an operator's own file would arrive: not validated."""
    full = [{f.name: r.get(f.name, [] if f.dtype.endswith("list") else None) for f in FIELDS} for r in records]
    pq.write_table(records_to_table(full), path)
    return path


_ESCAPED = re.compile(r"\\.")
_TARGET = re.compile(r"\]\(([^)\s]*)")


def live_markdown(markdown: str) -> list[str]:
    """What of ``markdown`` would render as a link to the attacker, an image, bold text from the input, a colour or
    a formula: escaped characters removed first (they read as text)."""
    live = _ESCAPED.sub("", markdown).replace("\u2060", " ")
    problems = [t for t in _TARGET.findall(live) if "evil" in (urlsplit(t).hostname or "")]  # links to doi.org stay
    problems += [m for m in ("![", "**Dataset withdrawn**", ":red[", "$x^2$", "<img") if m in live]
    problems += re.findall(r"(?<![\w/.])(?:https?://|www\.)evil\S*", live)  # a bare address GFM would link
    return problems
