"""Completeness of the dataset: per field, primary cohorts reporting it, before and after (Markdown table).

Usage: python benchmarks/completeness.py BEFORE.parquet [AFTER.parquet]   (after defaults to data/trials.parquet)
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nkdata.dictionary import FIELDS  # noqa: E402
from nkdata.paths import DEFAULT_TRIALS_PATH  # noqa: E402

GROUPS = ("population", "outcomes", "persistence", "safety")


def counts(path: Path) -> tuple[int, int, dict[str, int]]:
    """(publications, primary cohorts, {field: primary cohorts reporting it}) of one Parquet file."""
    con = duckdb.connect()
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    base = f"FROM read_parquet('{path}') WHERE superseded_by IS NULL"
    primary = con.execute(f"SELECT count(*) {base}").fetchone()[0]
    publications = con.execute(f"SELECT count(DISTINCT study_id) FROM read_parquet('{path}')").fetchone()[0]
    out = {}
    for f in FIELDS:
        if f.group not in GROUPS or f.name not in columns:
            continue
        test = f"len({f.name}) > 0" if f.dtype.endswith("list") else f"{f.name} IS NOT NULL"
        out[f.name] = con.execute(f"SELECT count(*) {base} AND {test}").fetchone()[0]
    return publications, primary, out


def main(argv: list[str]) -> None:
    before_path = Path(argv[0])
    after_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_TRIALS_PATH
    (pb, cb, before), (pa, ca, after) = counts(before_path), counts(after_path)
    print(
        f"| field | before ({pb} publications, {cb} primary cohorts) "
        f"| after ({pa} publications, {ca} primary cohorts) |"
    )
    print("|---|---|---|")
    for name, n in after.items():
        old = f"{before[name]}/{cb}" if name in before else "(no field)"
        print(f"| `{name}` | {old} | {n}/{ca} |")


if __name__ == "__main__":
    main(sys.argv[1:])
