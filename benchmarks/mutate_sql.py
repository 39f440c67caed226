"""Hand-made mutants of nkdata/queries.sql (mutmut mutates Python only): each is a realistic bug, applied alone;
the fast tests must fail for it. Prints a Markdown table; exits non-zero if a mutant survives.

Usage: python benchmarks/mutate_sql.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "nkdata" / "queries.sql"
TESTS = [
    *("tests/test_queries.py", "tests/test_scale.py", "tests/test_pages.py", "tests/test_build.py"),
    *("tests/test_most_complete_report.py", "tests/test_rob.py", "tests/test_grade.py"),
]

# (what the bug is, text in queries.sql, its replacement)
MUTANTS: tuple[tuple[str, str, str], ...] = (
    (
        "superseded reports enter the pooling",
        "WHERE (superseded_by IS NULL AND NOT list_contains(coalesce(outcomes_elsewhere, []), events))\n"
        "   OR list_contains(coalesce(outcome_report_for, []), events);",
        "WHERE true;",
    ),
    (
        "a trial counted twice: the primary row does not stand aside for an earlier report's outcome",
        "(superseded_by IS NULL AND NOT list_contains(coalesce(outcomes_elsewhere, []), events))",
        "(superseded_by IS NULL)",
    ),
    (
        "the most complete earlier report is left out",
        "   OR list_contains(coalesce(outcome_report_for, []), events);",
        "   ;",
    ),
    (
        "'low risk of bias only' keeps every publication",
        "OR (list_contains(exclude, 'rob') AND coalesce(rob_overall, '') <> 'low')",
        "OR (list_contains(exclude, 'rob') AND coalesce(rob_overall, '') = 'nothing')",
    ),
    (
        "unappraised publications count as low risk",
        "coalesce(rob_overall, '') <> 'low'",
        "coalesce(rob_overall, 'low') <> 'low'",
    ),
    (
        "'review' exclusion tests the wrong list",
        "(list_contains(exclude, 'review') AND (list_contains(from_review",
        "(list_contains(exclude, 'review') AND (list_contains(converted_from_percent",
    ),
    (
        "grey literature never excluded",
        "OR (list_contains(exclude, 'grey') AND publication_type IN",
        "OR (list_contains(exclude, 'nothing') AND publication_type IN",
    ),
    (
        "funnel step skips its own condition",
        "list_bool_and(passes[1:step])) AS cohorts",
        "list_bool_and(passes[1:step - 1])) AS cohorts",
    ),
    (
        "first quartile is the median",
        "quantile_cont(max_persistence_days, 0.25)",
        "quantile_cont(max_persistence_days, 0.5)",
    ),
    (
        "capped points keep the smallest cohorts",
        "ORDER BY CASE WHEN $need_rate THEN total ELSE n_treated END DESC NULLS LAST",
        "ORDER BY CASE WHEN $need_rate THEN total ELSE n_treated END ASC NULLS LAST",
    ),
    (
        "survival entries of superseded reports shown",
        "    FROM slice(s)\n    WHERE superseded_by IS NULL\n)",
        "    FROM slice(s)\n)",
    ),
    (
        "not reported counted as reported in safety",
        "coalesce(sum(n_treated) FILTER (WHERE events IS NOT NULL), 0)::BIGINT  AS patients_reported",
        "coalesce(sum(n_treated), 0)::BIGINT  AS patients_reported",
    ),
    (
        "patients counted as cohorts",
        "    coalesce(sum(n_treated), 0)::BIGINT                                           AS patients_treated,\n    count(*) FILTER (WHERE n_treated IS NULL)",
        "    count(n_treated)::BIGINT                                           AS patients_treated,\n    count(*) FILTER (WHERE n_treated IS NULL)",
    ),
    ("grouping by product returns the setting", "WHEN 'product' THEN product", "WHEN 'product' THEN setting"),
    (
        "rank ties not averaged",
        "sum(count(*)) OVER (ORDER BY x) - (count(*) - 1) / 2.0 AS rank",
        "sum(count(*)) OVER (ORDER BY x) AS rank",
    ),
)


def run_tests() -> bool:
    """True when the fast tests pass."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def main() -> int:
    original = SQL.read_text(encoding="utf-8")
    rows, survived = [], 0
    try:
        for name, old, new in MUTANTS:
            if original.count(old) != 1:
                rows.append((name, "not applied (text not found once)"))
                survived += 1
                continue
            SQL.write_text(original.replace(old, new), encoding="utf-8")
            killed = not run_tests()
            survived += not killed
            rows.append((name, "killed" if killed else "SURVIVED"))
    finally:
        SQL.write_text(original, encoding="utf-8")
    print("| SQL mutant | result |\n|---|---|")
    for name, result in rows:
        print(f"| {name} | {result} |")
    print(f"\n{len(rows) - survived} of {len(rows)} killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
