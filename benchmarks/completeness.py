"""Completeness of the dataset: per field, primary cohorts reporting it, before and after (Markdown table).

Usage: python benchmarks/completeness.py BEFORE.parquet [AFTER.parquet]   (after defaults to data/trials.parquet)

A first table counts the evidence base itself (identifiers, canonical links, trials, registry size, second reads;
each registry.parquet is read from beside its trials file); a second one the fields, per primary cohort.
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


def evidence_base(path: Path) -> dict[str, str]:
    """Identifiers, canonical links, trials, registered trials and second reads of one dataset, as table cells."""
    from nkdata.links import non_canonical_reason

    con = duckdb.connect()
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    pubs = con.execute(
        f"SELECT study_id, any_value(publication_type), any_value(doi), any_value(pmid), any_value(source_url) "
        f"FROM read_parquet('{path}') GROUP BY study_id"
    ).fetchall()
    citable = [p for p in pubs if p[1] in ("journal_article", "conference_abstract", "case_report")]
    with_id = sum(1 for p in citable if p[2] or p[3])
    canonical = sum(1 for p in pubs if not non_canonical_reason(p[4]))
    trials = (
        con.execute(f"SELECT count(DISTINCT coalesce(trial_id, study_id)) FROM read_parquet('{path}')").fetchone()[0]
        if "trial_id" in columns
        else None
    )
    primary = con.execute(f"SELECT count(*) FROM read_parquet('{path}') WHERE superseded_by IS NULL").fetchone()[0]
    read_twice = (
        con.execute(
            f"SELECT count(*) FROM read_parquet('{path}') WHERE superseded_by IS NULL AND verified_by IS NOT NULL"
        ).fetchone()[0]
        if "verified_by" in columns
        else 0
    )
    registry = path.with_name("registry.parquet")
    registered = (
        con.execute(f"SELECT count(*) FROM read_parquet('{registry}')").fetchone()[0] if registry.exists() else 0
    )
    pct = lambda k, n: f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0"  # noqa: E731
    captured, found = depth_captured(path)
    return {
        "publications": str(len(pubs)),
        "trials (trial_id; a publication without one counts as its own)": str(trials) if trials else "(no field)",
        "articles, abstracts and case reports with DOI or PMID": pct(with_id, len(citable)),
        "publications whose source link is canonical": pct(canonical, len(pubs)),
        "registered trials": str(registered),
        "primary cohorts read twice (blind second read)": pct(read_twice, primary),
        "findable survival, expansion and safety facts captured (blind depth audit, data/audit/)": pct(captured, found),
    }


def depth_captured(path: Path) -> tuple[int, int]:
    """(facts the depth audit found that this dataset holds, facts found): benchmarks/depth.py's scoring."""
    import pandas as pd
    import yaml

    from benchmarks.depth import load_facts, score

    audit = Path(__file__).resolve().parent.parent / "data" / "audit" / "depth_audit.yaml"
    facts = load_facts(yaml.safe_load(audit.read_text(encoding="utf-8")))
    trials = pd.read_parquet(path)
    known = [f for f in facts if f.cohort_id in set(trials["cohort_id"])]
    scored = score(known, trials)
    return sum(status != "missed" for _, status, _ in scored), len(facts)


def main(argv: list[str]) -> None:
    before_path = Path(argv[0])
    after_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_TRIALS_PATH
    base_before, base_after = evidence_base(before_path), evidence_base(after_path)
    print("| evidence base | before | after |\n|---|---|---|")
    for name, value in base_after.items():
        print(f"| {name} | {base_before[name]} | {value} |")
    print()
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
