"""Loading the named SQL queries of ``queries.sql``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

QUERIES_FILE = Path(__file__).with_name("queries.sql")
_NAME_RE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=1)
def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """name -> SQL text, in file order."""
    text = path.read_text(encoding="utf-8")
    matches = list(_NAME_RE.finditer(text))
    queries: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        queries[match.group(1)] = text[match.end():end].strip()
    return queries


def parameter_names(sql: str) -> frozenset[str]:
    """The $names a query binds; DuckDB rejects values for names a query does not use."""
    return frozenset(_PARAM_RE.findall(sql))
