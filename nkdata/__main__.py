"""Command line: ``python -m nkdata build`` and ``python -m nkdata validate [PATH]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nkdata.dataset import build, validate_path
from nkdata.issues import DatasetError
from nkdata.paths import DEFAULT_TRIALS_PATH, RELEASE_FILE, SOURCE_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nkdata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="validate data/studies and write data/trials.parquet")
    p_build.add_argument("--source", type=Path, default=SOURCE_DIR)
    p_build.add_argument("--out", type=Path, default=DEFAULT_TRIALS_PATH)
    p_validate = sub.add_parser("validate", help="check a Parquet file or a study folder (default: both bundled)")
    p_validate.add_argument("paths", type=Path, nargs="*")
    args = parser.parse_args(argv)

    if args.command == "build":
        try:
            table = build(args.source, args.out, RELEASE_FILE)
        except DatasetError as exc:
            print(f"build failed: {len(exc.issues)} problem(s); {exc.hint}", file=sys.stderr)
            print(str(exc), file=sys.stderr)
            return 1
        studies = len(set(table.column("study_id").to_pylist()))
        print(f"wrote {args.out}: {table.num_rows} cohorts from {studies} publications")
        return 0

    paths = args.paths or [SOURCE_DIR, DEFAULT_TRIALS_PATH]
    failed = False
    for path in paths:
        issues = validate_path(path)
        if issues:
            failed = True
            print(f"{path}: {len(issues)} problem(s)", file=sys.stderr)
            for issue in issues:
                print(f"  {issue}", file=sys.stderr)
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
