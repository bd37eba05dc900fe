"""Shared fixtures: a temporary working directory with ./data, as the spec's
relative paths assume, and the spec's example pipeline recorded in it."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # `from scripts.etl_metadata import ...`


def recto_bin() -> str:
    for candidate in (os.environ.get("RECTO_BIN"), REPO / "target/release/recto", REPO / "target/debug/recto"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("no recto binary: build it with `cargo build --release` or set RECTO_BIN")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECTO_DATA_DIR", raising=False)
    monkeypatch.delenv("RECTO_PIPELINE", raising=False)
    return tmp_path


SOURCE = "2026-01-01_20-48-14"
JOB = "2026-01-01_21-45-14"


@pytest.fixture
def spec_pipeline(workdir):
    """The spec's example: an upload, its OCR job and that job's sync."""
    from scripts.etl_metadata import save_step_metadata

    save_step_metadata(
        "source",
        SOURCE,
        {
            "status": "completed",
            "timestamp": "2026-01-01T20:48:14+00:00",
            "bucket": "my-b2-bucket",
            "endpoint_url": "https://s3.eu-central-003.backblazeb2.com",
            "citekeys": {"total": 1, "uploaded": 1, "skipped": 0, "list": ["test_v04"]},
            "checksums": {"test_v04": "ab" * 32},
        },
    )
    save_step_metadata(
        "ocr",
        JOB,
        {
            "status": "completed",
            "timestamp": "2026-01-01T21:50:00+00:00",
            "source_job_id": SOURCE,
            "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]},
            "pages": {"total": 12, "text_layer": 4, "ocr": 8, "failed": 0},
            "config": {"dpi": 300, "languages": "eng+deu+fra", "mode": "auto"},
        },
    )
    save_step_metadata(
        "sync_ocr",
        JOB,
        {"status": "completed", "timestamp": "2026-01-01T21:55:00+00:00", "source_job_id": SOURCE, "files_uploaded": 25},
    )
    return workdir


def text_pdf(lines):
    """A one-page PDF with a Helvetica text layer."""
    return pages_pdf([lines])


def pages_pdf(pages):
    """A PDF with one page per list of lines, Helvetica from the top."""
    n = len(pages)
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{4 + 2 * i} 0 R" for i in range(n)), n),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        stream = "BT /F1 14 Tf 72 720 Td 18 TL\n" + "".join(f"({l}) Tj T*\n" for l in lines) + "ET"
        objs.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>"
        )
        objs.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
