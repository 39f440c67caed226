"""Command line: ``python -m nkdata build | validate | docs | compare-reads | diff OLD NEW | release | publish``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

from nkdata.dataset import build, rob_warnings, validate_path
from nkdata.issues import DatasetError, Issue, is_warning
from nkdata.paths import (
    DEFAULT_REGISTRY_PATH,
    DEFAULT_TRIALS_PATH,
    REGISTRY_DIR,
    REGISTRY_SCREENING,
    RELEASE_FILE,
    SCREENING_DIR,
    SECOND_READS_DIR,
    SOURCE_DIR,
)
from nkdata.registry_validation import PublicationLinks, build_registry, validate_registry
from nkdata.screening import validate_registry_screening, validate_screening_folder
from nkdata.second_read_report import validate_second_reads


def _report(label: str, issues: list[Issue]) -> bool:
    """Print a check's outcome, warnings after the problems; True when it found problems (warnings do not count)."""
    errors = [i for i in issues if not is_warning(i)]
    warnings = [i for i in issues if is_warning(i)]
    if errors:
        print(f"{label}: {len(errors)} problem(s)", file=sys.stderr)
        for issue in errors:
            print(f"  {issue}", file=sys.stderr)
    else:
        print(f"{label}: ok")
    if warnings:
        print(f"{label}: {len(warnings)} warning(s)", file=sys.stderr)
        for issue in warnings:
            print(f"  {issue}", file=sys.stderr)
    return bool(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nkdata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="validate data/studies and write data/trials.parquet")
    p_build.add_argument("--source", type=Path, default=SOURCE_DIR)
    p_build.add_argument("--out", type=Path, default=DEFAULT_TRIALS_PATH)
    p_validate = sub.add_parser("validate", help="check a Parquet file or a study folder (default: both bundled)")
    p_validate.add_argument("paths", type=Path, nargs="*")
    p_build.add_argument(
        "--second-reads", type=Path, default=None, help="default: data/second_reads when --source is data/studies"
    )
    sub.add_parser("docs", help="rewrite the generated tables in README.md and data/CURATION.md")
    p_compare = sub.add_parser("compare-reads", help="compare data/second_reads with the study files, field by field")
    p_compare.add_argument("--source", type=Path, default=SOURCE_DIR)
    p_compare.add_argument("--second-reads", type=Path, default=SECOND_READS_DIR)
    p_diff = sub.add_parser("diff", help="what changed between two releases (Parquet files or git revisions)")
    p_diff.add_argument("old", help="a trials Parquet file or a git revision (e.g. a9ec84b, v2.0.0)")
    p_diff.add_argument("new", nargs="?", default=str(DEFAULT_TRIALS_PATH), help="default: data/trials.parquet")
    p_diff.add_argument("--json", action="store_true", help="print the changelog as JSON")
    p_release = sub.add_parser("release", help="validate, build, write the changelog and bump the version")
    p_release.add_argument("--version", required=True)
    p_release.add_argument("--date", default=None, help="release date (default: today)")
    p_release.add_argument("--searched", default=None, help="date of the last literature search (default: as is)")
    sub.add_parser("publish", help="write the data package, CSV, Parquet, BibTeX/RIS and CITATION.cff into static/")
    args = parser.parse_args(argv)

    if args.command == "diff":
        return _diff(args.old, args.new, args.json)
    if args.command == "release":
        return _release(args.version, args.date, args.searched)
    if args.command == "publish":
        return _publish()

    if args.command == "docs":
        from nkdata.docs import update
        from nkdata.paths import REPO_ROOT

        for path in update(REPO_ROOT):
            print(f"updated {path}")
        return 0

    if args.command == "compare-reads":
        from nkdata.second_read_report import print_report

        return print_report(args.source, args.second_reads)

    if args.command == "build":
        try:
            reads = args.second_reads or (SECOND_READS_DIR if args.source == SOURCE_DIR else None)
            table = build(args.source, args.out, RELEASE_FILE, reads)
        except DatasetError as exc:
            print(f"build failed: {len(exc.issues)} problem(s); {exc.hint}", file=sys.stderr)
            print(str(exc), file=sys.stderr)
            return 1
        studies = len(set(table.column("study_id").to_pylist()))
        print(f"wrote {args.out}: {table.num_rows} cohorts from {studies} publications")
        if args.out == DEFAULT_TRIALS_PATH:  # the bundled registry links to the bundled cohorts
            try:
                trials = build_registry(REGISTRY_DIR, DEFAULT_REGISTRY_PATH, PublicationLinks.from_parquet(args.out))
            except DatasetError as exc:
                print(f"registry build failed: {len(exc.issues)} problem(s); {exc.hint}", file=sys.stderr)
                print(str(exc), file=sys.stderr)
                return 1
            print(f"wrote {DEFAULT_REGISTRY_PATH}: {trials.num_rows} registered trials")
            return _publish()
        return 0

    if not args.paths:  # the bundled data: studies, Parquet, the registry, both screening logs
        return 1 if _validate_bundled() else 0
    failed = False
    for path in args.paths:
        failed |= _report(str(path), validate_path(path))
        if path.is_dir() and (missing := rob_warnings(path)):  # warnings: they do not fail validation (yet)
            print(f"warning: {len(missing)} publication(s) without a risk-of-bias appraisal", file=sys.stderr)
            for issue in missing:
                print(f"  {issue}", file=sys.stderr)
    return 1 if failed else 0


def _validate_bundled() -> bool:
    """Every check of the bundled data; True when any failed."""
    failed = False
    for path in (SOURCE_DIR, DEFAULT_TRIALS_PATH):
        failed |= _report(str(path), validate_path(path))
    links = PublicationLinks.from_parquet(DEFAULT_TRIALS_PATH)
    failed |= _report(str(REGISTRY_DIR), validate_registry(REGISTRY_DIR, links))
    failed |= _report(str(REGISTRY_SCREENING), validate_registry_screening(REGISTRY_SCREENING, REGISTRY_DIR))
    failed |= _report(str(SCREENING_DIR), validate_screening_folder(SCREENING_DIR, SOURCE_DIR))
    failed |= _report(str(SECOND_READS_DIR), validate_second_reads(SOURCE_DIR, SECOND_READS_DIR))
    return failed


def _diff(old: str, new: str, as_json: bool) -> int:
    from nkdata.releases import ReleaseError, changelog_text, diff, load_snapshot

    try:
        log = diff(load_snapshot(old), load_snapshot(new))
    except ReleaseError as exc:
        print(f"diff failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(log.as_dict(), indent=2, default=str) if as_json else changelog_text(log))
    return 0


def _publish() -> int:
    from nkdata.datapackage import STATIC_DIR, publish
    from nkdata.dataset import release_of

    written = publish(DEFAULT_TRIALS_PATH, DEFAULT_REGISTRY_PATH, release_of(DEFAULT_TRIALS_PATH))
    print(f"published {len(written)} files into {STATIC_DIR}")
    return 0


def _release(version: str, date: str | None, searched: str | None) -> int:
    """Refuse a non-increasing version or data that does not validate; else bump, build, log and publish."""
    from nkdata import releases
    from nkdata.dataset import load_release
    from nkdata.paths import CITATION_FILE, RELEASES_DIR, ZENODO_FILE

    try:
        releases.check_new_version(version, RELEASES_DIR)
    except releases.ReleaseError as exc:
        print(f"release refused: {exc}", file=sys.stderr)
        return 1
    if _validate_bundled():
        print("release refused: the data does not validate (see above)", file=sys.stderr)
        return 1
    history = releases.load_releases(RELEASES_DIR)
    try:
        old = releases.previous_snapshot(history[0]) if history else releases.Snapshot("nothing", [], [])
    except releases.ReleaseError as exc:
        print(f"release refused: the previous release's data cannot be found ({exc})", file=sys.stderr)
        return 1
    day = date or _dt.date.today().isoformat()
    searched_on = searched or str(load_release(RELEASE_FILE).get("searched") or day)
    releases.update_release_file(RELEASE_FILE, version, day, searched_on)
    if main(["build"]) != 0:
        return 1
    log = releases.diff(old, releases.load_snapshot(str(DEFAULT_TRIALS_PATH)))
    record = releases.release_record(version, day, searched_on, log, releases.blob_ids())
    path = releases.write_release(RELEASES_DIR, record)
    releases.update_citation_file(CITATION_FILE, version, day)
    releases.update_zenodo_file(ZENODO_FILE, version, day)
    _publish()
    print(f"release {version} ({day}, searched {searched_on}): {path}")
    print(releases.changelog_text(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
