"""Command line: ``python -m nkdata build`` and ``python -m nkdata validate [PATH]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nkdata.dataset import build, rob_warnings, validate_path
from nkdata.issues import DatasetError, Issue
from nkdata.paths import (
    DEFAULT_REGISTRY_PATH,
    DEFAULT_TRIALS_PATH,
    REGISTRY_DIR,
    REGISTRY_SCREENING,
    RELEASE_FILE,
    SCREENING_DIR,
    SOURCE_DIR,
)
from nkdata.registry import build_registry, known_cohort_ids, validate_registry, validate_screening
from nkdata.screening import validate_screening_folder


def _report(label: str, issues: list[Issue]) -> bool:
    """Print a check's outcome; True when it found problems."""
    if issues:
        print(f"{label}: {len(issues)} problem(s)", file=sys.stderr)
        for issue in issues:
            print(f"  {issue}", file=sys.stderr)
        return True
    print(f"{label}: ok")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nkdata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="validate data/studies and write data/trials.parquet")
    p_build.add_argument("--source", type=Path, default=SOURCE_DIR)
    p_build.add_argument("--out", type=Path, default=DEFAULT_TRIALS_PATH)
    p_validate = sub.add_parser("validate", help="check a Parquet file or a study folder (default: both bundled)")
    p_validate.add_argument("paths", type=Path, nargs="*")
    sub.add_parser("docs", help="rewrite the generated tables in README.md and data/CURATION.md")
    args = parser.parse_args(argv)

    if args.command == "docs":
        from nkdata.docs import update
        from nkdata.paths import REPO_ROOT

        for path in update(REPO_ROOT):
            print(f"updated {path}")
        return 0

    if args.command == "build":
        try:
            table = build(args.source, args.out, RELEASE_FILE)
        except DatasetError as exc:
            print(f"build failed: {len(exc.issues)} problem(s); {exc.hint}", file=sys.stderr)
            print(str(exc), file=sys.stderr)
            return 1
        studies = len(set(table.column("study_id").to_pylist()))
        print(f"wrote {args.out}: {table.num_rows} cohorts from {studies} publications")
        if args.out == DEFAULT_TRIALS_PATH:  # the bundled registry links to the bundled cohorts
            try:
                trials = build_registry(REGISTRY_DIR, DEFAULT_REGISTRY_PATH, known_cohort_ids(args.out))
            except DatasetError as exc:
                print(f"registry build failed: {len(exc.issues)} problem(s); {exc.hint}", file=sys.stderr)
                print(str(exc), file=sys.stderr)
                return 1
            print(f"wrote {DEFAULT_REGISTRY_PATH}: {trials.num_rows} registered trials")
        return 0

    failed = False
    for path in args.paths or [SOURCE_DIR, DEFAULT_TRIALS_PATH]:
        failed |= _report(str(path), validate_path(path))
        if path.is_dir() and (missing := rob_warnings(path)):  # warnings: they do not fail validation (yet)
            print(f"warning: {len(missing)} publication(s) without a risk-of-bias appraisal", file=sys.stderr)
            for issue in missing:
                print(f"  {issue}", file=sys.stderr)
    if not args.paths:  # the bundled data: also the registry, both screening logs
        failed |= _report(str(REGISTRY_DIR), validate_registry(REGISTRY_DIR, known_cohort_ids(DEFAULT_TRIALS_PATH)))
        failed |= _report(str(REGISTRY_SCREENING), validate_screening(REGISTRY_SCREENING, REGISTRY_DIR))
        failed |= _report(str(SCREENING_DIR), validate_screening_folder(SCREENING_DIR, SOURCE_DIR))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
