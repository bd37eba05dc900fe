#!/usr/bin/env python3
"""Push an OCR job's results to the bucket (the same Rust code as `recto sync-ocr`).

    uv run scripts/sync_ocr.py --job-id latest
    uv run scripts/sync_ocr.py --job-id 2026-01-01_21-45-14 --skip-images --quiet
"""

import argparse
import os
import sys

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def main() -> int:
    p = argparse.ArgumentParser(
        description="Sync an OCR job's page JSON, images and full text to the bucket (recto sync-ocr).",
        epilog="Other recto sync-ocr options (--dry-run, --concurrency, --store, ...) "
        "can follow after `--`; see `recto sync-ocr --help`.",
    )
    p.add_argument("--job-id", required=True, help="an OCR job id, or 'latest'")
    p.add_argument("--skip-images", action="store_true", help="leave the page images out (faster)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args, rest = p.parse_known_args()
    if rest and rest[0] == "--":
        rest = rest[1:]
    argv = ["sync-ocr", "--job-id", args.job_id]
    if args.skip_images:
        argv.append("--skip-images")
    if args.quiet:
        argv.append("--quiet")
    from recto import run_cli

    return run_cli(argv + rest)


if __name__ == "__main__":
    sys.exit(main())
