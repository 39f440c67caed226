"""The escaping boundary: text from a link, a search or the data as inert Markdown, CSV cells, RIS and BibTeX values.

A shared link and a contributed dataset are this app's ways in, so every such string passes one of these
functions before it reaches an output that interprets it: ``md_text`` before any Markdown element (and
``md_link`` for a link built from data), ``csv_safe`` for every export cell (OWASP's formula-injection rule),
``line_safe``/``bibtex_value`` for reference files. No Streamlit here, so each rule is tested directly.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

import pandas as pd

# Characters that open Markdown syntax anywhere in a line (emphasis, code, links and images, autolinks and HTML,
# strikethrough, tables) or Streamlit's own (`$...$` formulas, `:red[...]` colours, `:material/...:` icons).
# Escaped with a backslash they read as themselves; dates, numbers and plain words are left alone.
_MD_INLINE = frozenset("\\`*[]<>~$@|")
# "_" emphasises only at a word's edge (never inside nk_source).
_MD_CONTEXT = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# GFM turns "https://...", "www...." and "name@host.org" into links after parsing (escapes are gone by then), and
# Streamlit turns ":material/...:" into icons: an invisible word joiner after ":", "www" or "@" breaks each pattern.
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:(?=/|[a-z_]+/)|\bwww(?=\.)|@)")
# Characters that start a block (heading, list, quote, setext line, table) where a value begins a line.
_MD_LINE_START = re.compile(r"^(\s*)([#>+=|-]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
# What a Markdown link target may hold: RFC 3986 characters without the ones that end or open Markdown syntax.
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#@!$&*+,;=%]*)?$")


def one_line(value: Any) -> str:
    """Text on one line: line breaks (any kind) folded to a space, control characters dropped."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value)))


def md_text(value: Any) -> str:
    """``value`` as Markdown that renders as exactly its text: no link, image, emphasis, heading, list,
    colour, icon, formula or autolink can come out of it, and it stays on one line."""
    if value is None:
        return ""
    text = "".join("\\" + c if c in _MD_INLINE else c for c in one_line(value))
    text = _MD_CONTEXT.sub(lambda m: "\\" + m.group(0), text)
    text = _AUTOLINK.sub(lambda m: m.group(0) + _JOINER, text)
    return _MD_LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    lead, opener = match.group(1), match.group(2)
    return lead + (opener + "\\" if opener[0].isdigit() else "\\" + opener)  # "12\. x", "\- x"


def md_plain(markdown: str) -> str:
    """What a reader sees of ``md_text`` output: its backslash escapes removed (for tests and logs)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(_JOINER, "")


def md_url(url: Any) -> str | None:
    """A URL that can stand as a Markdown link target (http(s), nothing that breaks out), else None."""
    if not isinstance(url, str) or not _SAFE_URL.match(url):
        return None
    return url


def md_link(label: Any, url: Any) -> str:
    """A Markdown link to a data URL with an escaped label; only the escaped label when the URL is not safe."""
    target = md_url(url)
    text = md_text(label)
    return f"[{text}]({target})" if target else text


def url_part(value: Any) -> str:
    """A value from the data as one path segment of a URL (DOI, PMID, NCT id): percent-encoded."""
    return quote(str(value), safe="/:;.-_~")


def csv_safe(value: Any) -> Any:
    """An export cell a spreadsheet will not run: text starting with =, +, -, @, tab or carriage return gets a
    leading single quote (OWASP); numbers, booleans and nulls stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of ``frame`` through ``csv_safe`` (numeric columns are left untouched)."""
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(csv_safe)
    out.columns = [csv_safe(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV download of ``frame``: formula-safe cells, UTF-8, no index. Every CSV the app offers is this."""
    return csv_frame(frame).to_csv(index=False).encode("utf-8")


def is_formula_like(value: Any) -> bool:
    """Whether a free-text value would be run as a formula by a spreadsheet (validation warns on it)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def line_safe(value: Any) -> str:
    """A RIS value: one line, so a value can never start a new tag."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return one_line(value).strip()


_BIB_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def bibtex_value(value: Any) -> str:
    """A BibTeX field value: one line, with braces, backslashes and TeX's special characters escaped, so a value
    can neither close its field nor run a command."""
    return "".join(_BIB_SPECIAL.get(c, c) for c in line_safe(value))


def bibtex_url(url: Any) -> str:
    """A URL inside ``\\url{...}``: one line, with the characters that would end the group percent-encoded."""
    return quote(line_safe(url), safe=":/?#[]@!$&'()*+,;=%-._~")
