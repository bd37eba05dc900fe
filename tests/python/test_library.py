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


def test_every_step_runs_in_process_without_the_command(workdir, monkeypatch):
    """Each step's Python entry point calls the Rust steps directly: with no
    `recto` command reachable at all, upload -> OCR -> TOC -> segmentation
    -> export -> index -> sync run and report as `recto ... --json` does;
    bad requests and unknown citekeys raise typed exceptions."""
    import recto

    monkeypatch.setenv("RECTO_BIN", str(workdir / "no-such-recto"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    Path("pdfs").mkdir()
    Path("pdfs/inproc2024.pdf").write_bytes(text_pdf(["Steps called in the same process", "without any command"]))

    up = recto.upload("pdfs")
    assert (up["status"], up["uploaded"], up["exit_code"]) == ("completed", 1, 0), up
    assert recto.upload("pdfs")["skipped"] == 1

    ocr = recto.run_ocr(["inproc2024"], lang="eng")
    assert ocr["status"] == "completed" and ocr["per_citekey"]["inproc2024"]["pages"] == 1
    assert recto.run_ocr(pending=True)["nothing_to_do"]
    assert "failed" in recto.run_ocr(failed=True)["nothing_to_do"]
    toc = recto.extract_toc(["inproc2024"])
    assert toc["source_job_id"] == ocr["job_id"] and toc["failures"] == {}
    seg = recto.segment(["inproc2024"])
    assert seg["status"] == "completed" and seg["per_citekey"]["inproc2024"]["units"] >= 1
    out = recto.export(["txt"], ["inproc2024"])
    txt = Path("data") / out["per_citekey"]["inproc2024"]["dir"] / "inproc2024.txt"
    assert "same process" in txt.read_text()
    assert recto.index()["indexed"] == ["inproc2024"]
    assert recto.search("process")[0]["citekey"] == "inproc2024"
    synced = recto.sync_ocr(ocr["job_id"])
    assert synced["verified"] is True and synced["uploaded"] >= 2
    assert recto.citekey_status("inproc2024")["state"] == "done"

    with pytest.raises(recto.JobNotFoundError, match=r'unknown citekey "inproc2042" \(did you mean inproc2024\?\)'):
        recto.extract_toc(["inproc2042"])
    with pytest.raises(recto.InvalidInputError, match="unknown variant `fast`"):
        recto.run_ocr(["inproc2024"], mode="fast")
    with pytest.raises(recto.InvalidInputError, match='"docx" is not one of'):
        recto.export(["docx"], ["inproc2024"])
    # A run where no citekey could be read raises, as the command exits 1.
    Path("pdfs/second2024.pdf").write_bytes(text_pdf(["Only uploaded, never read"]))
    recto.upload("pdfs")
    with pytest.raises(recto.RectoError, match="no citekey could be read.*second2024"):
        recto.extract_toc(["second2024"])
    # And nothing above needed the command.
    with pytest.raises(recto.RectoError, match="recto command is not installed"):
        recto.run_cli(["status"])


def test_bib_fields_reach_status_and_search(workdir):
    import recto

    Path("pdfs").mkdir()
    Path("pdfs/bebel.pdf").write_bytes(text_pdf(["Die Frau und der Sozialismus, erste Seite"]))
    Path("library.bib").write_text(
        "@book{bebel1879, author = {Bebel, August}, title = {Die Frau und der Sozialismus},"
        " year = {1879}, file = {pdfs/bebel.pdf}}\n"
    )
    assert recto.upload(bib="library.bib")["uploaded"] == 1
    state = recto.citekey_status("bebel1879")
    assert state["bib"] == {"author": "Bebel, August", "title": "Die Frau und der Sozialismus", "year": "1879"}
    recto.run_ocr(["bebel1879"], lang="deu")
    recto.index()
    hits = recto.search("author:bebel sozialismus")
    assert [h["citekey"] for h in hits] == ["bebel1879"]
    assert hits[0]["bib"]["year"] == "1879"
