"""The library functions beside the spec's: per-citekey state, text at
hand, and OCR/sync runs that return the new job id and counts."""

from pathlib import Path

import pytest

from conftest import text_pdf


def test_run_ocr_status_text_and_sync(workdir):
    import recto

    Path("pdfs").mkdir()
    Path("pdfs/test_v04.pdf").write_bytes(text_pdf(["A test source for the library view", "with a second line"]))
    Path("pdfs/other2020.pdf").write_bytes(text_pdf(["Another paper entirely, long enough"]))
    assert recto.run_cli(["upload", "--from", "pdfs", "--quiet"]) == 0

    # Before OCR: pending.
    assert recto.citekey_status("test_v04")["steps"][0] == {"step": "ocr", "state": "pending"}

    result = recto.run_ocr(["test_v04"], lang="eng")
    assert result["status"] == "completed" and result["exit_code"] == 0
    assert result["citekeys"]["successful"] == 1
    assert result["pages"]["total"] == 1
    job = result["job_id"]
    assert recto.list_all_jobs("ocr") == [job]

    state = recto.citekey_status("test_v04")
    ocr = state["steps"][0]
    assert (ocr["step"], ocr["state"], ocr["job_id"], ocr["pages"]) == ("ocr", "done", job, 1)
    assert state["state"] == "pending"  # sync_ocr is still to do
    every = {s["citekey"]: s["state"] for s in recto.citekey_status()}
    assert every == {"test_v04": "pending", "other2020": "pending"}

    text = recto.get_text("test_v04")
    assert "library view" in text and "\f" not in text
    assert recto.get_text("test_v04", 1) == text
    assert (Path("data/analytics/ocr/test_v04/current") / "page_0001.json").is_file()

    synced = recto.sync_ocr(job)
    assert synced["status"] == "completed" and synced["verified"] is True
    assert synced["uploaded"] == 4
    assert recto.citekey_status("test_v04")["state"] == "done"

    with pytest.raises(recto.JobNotFoundError, match=r'unknown citekey "test_v40" \(did you mean test_v04\?\)'):
        recto.citekey_status("test_v40")
    with pytest.raises(recto.JobNotFoundError, match="no ocr result yet"):
        recto.get_text("other2020")
    with pytest.raises(recto.InvalidInputError, match="pages"):
        recto.get_text("test_v04", (2, 3))
