"""Placeholder until the escaping module lands: formula-safe CSV cells (OWASP)."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Prefix a single quote to text a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
