#!/usr/bin/env python3
"""Each citekey's table of contents (the same Rust code as `recto toc`).

    uv run scripts/extract_toc.py --citekeys smith2020,doe2019
    uv run scripts/extract_toc.py --pending
    uv run scripts/extract_toc.py --all --ocr-job-id 2026-01-01_21-45-14

Writes data/analytics/toc/<citekey>/<job_id>/toc.json and the step metadata
data/analytics/toc/job_metadata/<job_id>.json.
"""

import argparse
import os
import sys

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def main() -> int:
    p = argparse.ArgumentParser(
        description="Extract tables of contents from OCR results (recto toc).",
        epilog="Other recto toc options can follow after `--`; see `recto toc --help`.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--citekeys", help="comma-separated citekeys")
    which.add_argument("--pending", action="store_true", help="citekeys with OCR and no TOC yet")
    which.add_argument("--all", action="store_true", help="every citekey with an OCR result")
    p.add_argument("--ocr-job-id", help="the OCR job to read (an id or 'latest')")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args, rest = p.parse_known_args()
    if rest and rest[0] == "--":
        rest = rest[1:]
    argv = ["toc"]
    if args.citekeys:
        argv += ["--citekeys", args.citekeys]
    elif args.pending:
        argv.append("--pending")
    else:
        argv.append("--all")
    if args.ocr_job_id:
        argv += ["--ocr-job-id", args.ocr_job_id]
    if args.json:
        argv.append("--json")
    if args.quiet:
        argv.append("--quiet")
    from recto import run_cli

    return run_cli(argv + rest)


if __name__ == "__main__":
    sys.exit(main())
