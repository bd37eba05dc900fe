#!/usr/bin/env python3
"""Run the OCR step (the same Rust code as `recto ocr`).

    uv run scripts/run_ocr.py --citekeys test_v04 --output data/analytics/ocr
    uv run scripts/run_ocr.py --citekeys test_v04 --source-job-id 2026-01-01_20-48-14 --output data/analytics/ocr
"""

import argparse
import os
import sys

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def main() -> int:
    p = argparse.ArgumentParser(
        description="OCR every page of uploaded sources into page JSON (recto ocr).",
        epilog="Other recto ocr options (--lang, --dpi, --mode, --workers, --resume, ...) "
        "can follow after `--`; see `recto ocr --help`.",
    )
    p.add_argument("--citekeys", required=True, help="citekeys, comma-separated, e.g. smith2020,doe2019")
    p.add_argument("--source-job-id", help="the upload job to read from (default: the newest holding every citekey)")
    p.add_argument("--output", default=None, help="where page results go (default: data/analytics/ocr)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args, rest = p.parse_known_args()
    if rest and rest[0] == "--":
        rest = rest[1:]
    argv = ["ocr", "--citekeys", args.citekeys]
    if args.source_job_id:
        argv += ["--source-job-id", args.source_job_id]
    if args.output:
        argv += ["--output", args.output]
    if args.quiet:
        argv.append("--quiet")
    from recto import run_cli

    return run_cli(argv + rest)


if __name__ == "__main__":
    sys.exit(main())
