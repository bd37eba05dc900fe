"""Every snippet of the spec's "Python API Usage", "Common Patterns",
"Troubleshooting" and "Integration with New Steps" sections, run against a
temporary ./data, with their results checked."""

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from conftest import JOB, REPO, SOURCE, pages_pdf, recto_bin, text_pdf


def test_check_job_status(spec_pipeline, capsys):
    from scripts.etl_metadata import get_central_registry, get_job_pipeline_status

    status = get_job_pipeline_status("2026-01-01_21-45-14")
    print(f"Completed steps: {status['steps_completed']}")
    print(f"Pending steps: {status['steps_pending']}")
    print(f"Source: {status['source_job_id']}")
    registry = get_central_registry("2026-01-01_21-45-14")
    print(registry["pipeline_steps"]["ocr"]["citekeys"])
    print(registry["pipeline_steps"]["sync_ocr"]["files_uploaded"])

    assert status["steps_completed"] == ["ocr", "sync_ocr"]
    assert status["steps_pending"] == []
    assert status["source_job_id"] == SOURCE
    assert registry["pipeline_steps"]["ocr"]["citekeys"]["list"] == ["test_v04"]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Completed steps: ['ocr', 'sync_ocr']"
    assert out[-1] == "25"


def test_find_jobs_processing_a_citekey(spec_pipeline, capsys):
    from scripts.etl_metadata import find_jobs_for_citekey

    jobs = find_jobs_for_citekey("test_v04")
    for job in jobs:
        print(f"  {job['job_id']} > {job['step']}: {job['status']}")
    assert capsys.readouterr().out.splitlines() == [
        f"  {SOURCE} > source (upload): completed",
        f"  {JOB} > ocr: completed",
        f"  {JOB} > sync_ocr: completed",
    ]


def test_find_jobs_matches_the_spec_output_when_ids_coincide(workdir):
    # In the spec's example output the upload shares the OCR job's id.
    from scripts.etl_metadata import find_jobs_for_citekey, save_step_metadata

    save_step_metadata("source", JOB, {"citekeys": {"total": 1, "uploaded": 1, "skipped": 0, "list": ["test_v04"]}, "checksums": {}})
    for step in ("ocr", "sync_ocr"):
        save_step_metadata(step, JOB, {"status": "completed", "source_job_id": JOB, "citekeys": {"list": ["test_v04"]}})
    assert [f"{j['job_id']} > {j['step']}: {j['status']}" for j in find_jobs_for_citekey("test_v04")] == [
        "2026-01-01_21-45-14 > source (upload): completed",
        "2026-01-01_21-45-14 > ocr: completed",
        "2026-01-01_21-45-14 > sync_ocr: completed",
    ]


def test_list_all_jobs(spec_pipeline):
    from scripts.etl_metadata import get_latest_job, list_all_jobs

    all_jobs = list_all_jobs()
    assert len(all_jobs) == 2
    assert all_jobs == [SOURCE, JOB]
    assert get_latest_job() == JOB
    ocr_jobs = list_all_jobs(step_name="ocr")
    assert ocr_jobs == [JOB]
    assert list_all_jobs(step_name="toc") == []


def test_access_task_specific_metadata(spec_pipeline):
    from scripts.etl_metadata import get_step_metadata

    ocr_meta = get_step_metadata("ocr", "2026-01-01_21-45-14")
    assert ocr_meta["pages"]["total"] == 12
    assert ocr_meta["config"] == {"dpi": 300, "languages": "eng+deu+fra", "mode": "auto"}
    sync_meta = get_step_metadata("sync_ocr", "2026-01-01_21-45-14")
    assert sync_meta["files_uploaded"] == 25


def test_record_new_pipeline_step_results(spec_pipeline):
    from scripts.etl_metadata import get_central_registry, save_step_metadata

    metadata = {
        "status": "completed",
        "source_job_id": "2026-01-01_21-45-14",
        "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]},
        "custom_metric": 95.2,
    }
    assert save_step_metadata("toc", "2026-01-01_22-30-00", metadata) is None
    on_disk = json.loads(Path("data/analytics/toc/job_metadata/2026-01-01_22-30-00.json").read_text())
    assert on_disk["custom_metric"] == 95.2
    # The central registry was updated automatically, the OCR job's too.
    assert get_central_registry("2026-01-01_22-30-00")["pipeline_steps"]["toc"]["custom_metric"] == 95.2
    assert get_central_registry(JOB)["pipeline_steps"]["toc"]["job_id"] == "2026-01-01_22-30-00"
    assert Path("data/analytics/job_registry/latest.json").resolve().name == "2026-01-01_22-30-00.json"


def test_check_if_ocr_is_done(spec_pipeline, capsys):
    from scripts.etl_metadata import get_job_pipeline_status, save_step_metadata

    status = get_job_pipeline_status("2026-01-01_21-45-14")
    if "ocr" in status["steps_completed"]:
        print("OCR is complete")
    else:
        print("OCR pending or not started")
    save_step_metadata("ocr", "2026-01-03_00-00-00", {"status": "running", "source_job_id": SOURCE})
    status = get_job_pipeline_status("2026-01-03_00-00-00")
    if "ocr" in status["steps_completed"]:
        print("OCR is complete")
    else:
        print("OCR pending or not started")
    assert capsys.readouterr().out.splitlines() == ["OCR is complete", "OCR pending or not started"]
    assert "ocr" in status["steps_pending"] and status["steps_running"] == ["ocr"]


def run_script(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600)


def test_get_all_ocr_results_for_a_citekey_via_the_spec_scripts(workdir):
    """Upload a PDF, then `run_ocr.py` and `sync_ocr.py` with the spec's flags."""
    from recto import run_cli
    from scripts.etl_metadata import get_central_registry, list_all_jobs

    Path("pdfs").mkdir()
    Path("pdfs/test_v04.pdf").write_bytes(text_pdf(["A test source for the OCR step", "with a text layer of its own"]))
    assert run_cli(["upload", "--from", "pdfs", "--quiet"]) == 0
    r = run_script(str(REPO / "scripts/run_ocr.py"), "--citekeys", "test_v04", "--output", "data/analytics/ocr", "--", "--lang", "eng")
    assert r.returncode == 0, r.stderr
    job_id = list_all_jobs(step_name="ocr")[-1]

    citekey = "test_v04"
    ocr_dir = Path(f"data/analytics/ocr/{citekey}/{job_id}")
    pages = sorted(ocr_dir.glob("page_*.json"))
    assert [p.name for p in pages] == ["page_0001.json"]
    assert "OCR step" in json.loads(pages[0].read_text())["text"]

    r = run_script(str(REPO / "scripts/sync_ocr.py"), "--job-id", "latest", "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    registry = get_central_registry(job_id)
    assert registry["pipeline_steps"]["sync_ocr"]["files_uploaded"] == 4  # page, image, full text, metadata
    r = run_script(str(REPO / "scripts/sync_ocr.py"), "--job-id", job_id, "--skip-images")
    assert r.returncode == 0, r.stderr
    assert get_central_registry(job_id)["pipeline_steps"]["sync_ocr"]["files_uploaded"] == 0


def test_extract_toc_script_and_api(workdir):
    """`extract_toc.py --citekeys` as the spec's scripts run, then the
    Python API: the contents page found, its entries linked to pages."""
    from recto import extract_toc, get_toc, run_cli
    from scripts.etl_metadata import get_step_metadata, list_all_jobs

    prose = [f"An ordinary line of prose, number {i}, on this page." for i in range(10)]
    book = [
        ["A Short Book"],
        ["Contents", "", "1 Beginnings . . . . . . . . . 1", "2 Middles . . . . . . . . . . 2", "3 Endings . . . . . . . . . . 3", "", "ii"],
        ["1 Beginnings", *prose, "", "1"],
        ["2 Middles", *prose, "", "2"],
        ["3 Endings", *prose, "", "3"],
    ]
    Path("pdfs").mkdir()
    Path("pdfs/short2021.pdf").write_bytes(pages_pdf(book))
    assert run_cli(["upload", "--from", "pdfs", "--quiet"]) == 0
    assert run_cli(["ocr", "--citekeys", "short2021", "--quiet", "--lang", "eng"]) == 0
    r = run_script(str(REPO / "scripts/extract_toc.py"), "--citekeys", "short2021")
    assert r.returncode == 0, r.stderr
    assert "short2021: 3 entries from printed_toc" in r.stdout
    job = list_all_jobs(step_name="toc")[-1]
    meta = get_step_metadata("toc", job)
    assert meta["status"] == "completed"
    assert meta["source_job_id"] == list_all_jobs(step_name="ocr")[-1]
    toc = get_toc("short2021")
    assert [(e["title"], e["page"], e["label"]) for e in toc["entries"]] == [
        ("1 Beginnings", 3, "1"), ("2 Middles", 4, "2"), ("3 Endings", 5, "3")]
    assert toc["page_labels"] == ["i", "ii", "1", "2", "3"]
    # Again through the API: a new job, the same table of contents.
    result = extract_toc(["short2021"])
    assert result["status"] == "completed" and result["job_id"] != job
    assert result["per_citekey"]["short2021"]["entries"] == 3
    with pytest.raises(Exception, match="no table of contents"):
        get_toc("nobody1999")
    # Every step has its entry point: segmentation from that table of
    # contents, export from the OCR result; paths relative to the data dir.
    from recto import export, segment
    seg = segment(["short2021"])
    assert seg["status"] == "completed", seg
    assert seg["per_citekey"]["short2021"]["units"] >= 3
    out = export(["txt", "md"], ["short2021"])
    entry = out["per_citekey"]["short2021"]
    assert sorted(entry["files"]) == ["short2021.md", "short2021.txt"]
    assert "Beginnings" in (Path("data") / entry["dir"] / "short2021.md").read_text()


def test_hocr_and_alto_exports_read_back_with_an_xml_parser(workdir):
    """`recto export --format hocr,alto`: an independent reader (the
    standard library's XML parser) reads every word back, with its box."""
    import xml.etree.ElementTree as ET

    from recto import run_cli

    Path("pdfs").mkdir()
    Path("pdfs/words2022.pdf").write_bytes(pages_pdf([["Alpha beta gamma", "delta & <epsilon>"], ["zeta eta"]]))
    assert run_cli(["upload", "--from", "pdfs", "--quiet"]) == 0
    assert run_cli(["ocr", "--citekeys", "words2022", "--quiet", "--lang", "eng"]) == 0
    assert run_cli(["export", "--format", "hocr,alto", "--citekeys", "words2022", "--quiet"]) == 0
    out = Path("data/analytics/export/words2022/current")
    hocr = ET.parse(out / "words2022.hocr")
    words = [e for e in hocr.iter() if e.get("class") == "ocrx_word"]
    assert [w.text for w in words] == ["Alpha", "beta", "gamma", "delta", "&", "<epsilon>", "zeta", "eta"]
    assert all(w.get("title").startswith("bbox ") for w in words)
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    alto = ET.parse(out / "words2022.alto.xml")
    strings = alto.findall(".//a:String", ns)
    assert [s.get("CONTENT") for s in strings] == [w.text for w in words]
    assert all(int(s.get("WIDTH")) > 0 and int(s.get("HEIGHT")) > 0 for s in strings)
    assert len(alto.findall(".//a:Page", ns)) == 2
    # Readers from PyPI (scripts/test.sh installs them): hocr-spec checks the
    # hOCR against the specification, alto-tools reads the ALTO's text back.
    spec = subprocess.run(["hocr-spec", str(out / "words2022.hocr")], capture_output=True, text=True)
    assert "Document is valid" in spec.stdout + spec.stderr, spec.stdout + spec.stderr
    assert "[WARN]" not in spec.stdout + spec.stderr, spec.stdout + spec.stderr
    alto_text = subprocess.run(
        ["alto-tools", "-t", str(out / "words2022.alto.xml")], capture_output=True, text=True, check=True
    ).stdout
    assert alto_text.split() == [w.text for w in words]


def test_scripts_help():
    for script in ("run_ocr.py", "sync_ocr.py", "extract_toc.py"):
        r = run_script(str(REPO / "scripts" / script), "--help")
        assert r.returncode == 0
        assert "--citekeys" in r.stdout or "--job-id" in r.stdout or "--pending" in r.stdout


def test_monitor_pipeline_progress(spec_pipeline, capsys):
    from scripts.etl_metadata import get_central_registry

    registry = get_central_registry("2026-01-01_21-45-14")
    print("=== Pipeline Progress ===")
    for step, info in registry["pipeline_steps"].items():
        print(f"{step}: {info['status']}")
    print("\n=== Execution Order ===")
    for i, trace in enumerate(registry["execution_trace"], 1):
        print(f"{i}. {trace['step']} at {trace['timestamp']}")
    assert capsys.readouterr().out.splitlines() == [
        "=== Pipeline Progress ===",
        "ocr: completed",
        "sync_ocr: completed",
        "",
        "=== Execution Order ===",
        "1. source (upload) at 2026-01-01T20:48:14+00:00",
        "2. ocr at 2026-01-01T21:50:00+00:00",
        "3. sync_ocr at 2026-01-01T21:55:00+00:00",
    ]


def test_rebuild_registry_if_corrupted(spec_pipeline):
    from scripts.etl_metadata import get_central_registry, rebuild_central_registry

    before = Path(f"data/analytics/job_registry/{JOB}.json").read_bytes()
    shutil.rmtree("data/analytics/job_registry")
    count = rebuild_central_registry()
    assert count == 2
    assert Path(f"data/analytics/job_registry/{JOB}.json").read_bytes() == before
    Path(f"data/analytics/job_registry/{JOB}.json").write_text('{"job_id": "2026-01-01_21-4')
    assert get_central_registry(JOB)["pipeline_steps"]["sync_ocr"]["files_uploaded"] == 25


def test_troubleshooting(spec_pipeline, capsys):
    from scripts.etl_metadata import find_jobs_for_citekey, get_central_registry, get_step_metadata, rebuild_central_registry

    # Registry missing a step: metadata written by hand, outside the API.
    d = Path("data/analytics/toc/job_metadata")
    d.mkdir(parents=True)
    (d / "2026-01-02_08-00-00.json").write_text(json.dumps({"status": "failed", "source_job_id": JOB}))
    assert "toc" not in get_central_registry(JOB)["pipeline_steps"]
    rebuild_central_registry()
    assert get_central_registry(JOB)["pipeline_steps"]["toc"]["status"] == "failed"

    jobs = find_jobs_for_citekey("problematic_citekey")
    assert jobs == []

    meta = get_step_metadata("ocr", "2026-01-01_21-45-14")
    print(json.dumps(meta["config"], indent=2))
    assert json.loads(capsys.readouterr().out) == {"dpi": 300, "languages": "eng+deu+fra", "mode": "auto"}


def test_integration_with_new_steps(workdir):
    from scripts.etl_metadata import get_central_registry, save_step_metadata

    job_id = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    metadata = {
        "status": "completed",
        "source_job_id": "2026-01-01_21-45-14",
        "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["citekey1"]},
        "custom_metric": 42.5,
    }
    save_step_metadata("my_step", job_id, metadata)
    registry = get_central_registry(job_id)
    step = registry["pipeline_steps"]["my_step"]
    assert step["custom_metric"] == 42.5
    assert step["citekeys"]["list"] == ["citekey1"]
    assert step["status"] == "completed"
    assert registry["source"] == {"job_id": "2026-01-01_21-45-14", "recorded": False}


def test_errors_are_python_exceptions(spec_pipeline):
    from scripts.etl_metadata import (
        InvalidInputError,
        JobNotFoundError,
        get_central_registry,
        get_step_metadata,
        save_step_metadata,
    )

    with pytest.raises(JobNotFoundError, match="2026-01-01_21-45-15.*nearest known jobs: 2026-01-01_21-45-14"):
        get_central_registry("2026-01-01_21-45-15")
    with pytest.raises(LookupError):
        get_step_metadata("toc", JOB)
    with pytest.raises(InvalidInputError, match="status"):
        save_step_metadata("toc", JOB, {"custom": 1})
    with pytest.raises(ValueError, match="invalid step name"):
        save_step_metadata("../etc", JOB, {"status": "completed"})
    with pytest.raises(ValueError, match="invalid job id"):
        get_central_registry("../../etc/passwd")
    # Metadata must be JSON: json.dumps refuses other objects before recto sees them.
    with pytest.raises(TypeError):
        save_step_metadata("toc", JOB, {"status": "completed", "when": datetime.now()})
    assert not Path("data/analytics/toc").exists()


def test_uv_run_works_from_the_repository(tmp_path):
    """`uv run scripts/run_ocr.py --help`, as the spec writes it, from the
    repository root (uv builds and installs the package from pyproject.toml)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (scripts/test.sh installs it)")
    for script, flag in (("scripts/run_ocr.py", "--citekeys"), ("scripts/sync_ocr.py", "--skip-images"),
                         ("scripts/extract_toc.py", "--pending")):
        r = subprocess.run([uv, "run", script, "--help"], cwd=REPO, capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, r.stderr[-3000:]
        assert flag in r.stdout


def test_a_killed_run_is_stale_from_python_and_the_source_step_has_its_names(spec_pipeline):
    """What the CLI shows, Python shows: a dead process's running step is
    `stale`; the upload is reachable as `source` or `upload`, by id or `latest`."""
    from scripts.etl_metadata import get_job_pipeline_status, get_step_metadata, save_step_metadata

    dead = subprocess.Popen(["true"])
    dead.wait()
    save_step_metadata("ocr", "2026-01-04_00-00-00", {"status": "running", "source_job_id": SOURCE, "pid": dead.pid})
    status = get_job_pipeline_status("2026-01-04_00-00-00")
    assert status["steps_stale"] == ["ocr"]
    assert "ocr" in status["steps_pending"]
    listed = json.loads(subprocess.run([recto_bin(), "jobs", "list", "--json", "--long"],
                                       capture_output=True, text=True, check=True).stdout)
    entry = next(j for j in listed if j["job_id"] == "2026-01-04_00-00-00")
    assert entry["steps"] == [["ocr", "stale"]]
    for name in ("source", "upload"):
        for job in (SOURCE, "latest"):
            assert get_step_metadata(name, job)["citekeys"]["list"] == ["test_v04"]


def test_search_returns_ranked_pages_with_word_boxes(workdir):
    """`recto.index()` then `recto.search(query, limit)`: the same records
    as `recto search --json`, each hit with the matching words' boxes."""
    from recto import InvalidInputError, index, run_cli, search

    Path("pdfs").mkdir()
    Path("pdfs/zariski1958.pdf").write_bytes(
        pages_pdf([["Commutative algebra and its uses"], ["The Zariski topology is coarse", "and Zariski was right"]])
    )
    Path("pdfs/other2001.pdf").write_bytes(pages_pdf([["Nothing about topologies of spaces here"]]))
    assert run_cli(["upload", "--from", "pdfs", "--quiet"]) == 0
    assert run_cli(["ocr", "--all", "--quiet", "--lang", "eng"]) == 0
    done = index()
    assert sorted(done["indexed"]) == ["other2001", "zariski1958"]
    assert done["pages_in_index"] == 3
    hits = search("zariski", limit=5)
    assert [(h["citekey"], h["page"]) for h in hits] == [("zariski1958", 2)]
    words = [w["text"] for w in hits[0]["words"]]
    assert words == ["Zariski", "Zariski"]
    x0, y0, x1, y1 = hits[0]["words"][0]["bbox"]
    assert 0 <= x0 < x1 <= hits[0]["width_px"] and 0 <= y0 < y1 <= hits[0]["height_px"]
    assert "[[Zariski]]" in hits[0]["marked"]
    # Stemming: "topology" finds the plural on the other citekey too.
    assert {h["citekey"] for h in search("topology")} == {"zariski1958", "other2001"}
    assert search("topology", citekey="other2001")[0]["citekey"] == "other2001"
    # Nothing changed: nothing indexed again.
    assert index()["indexed"] == []
    with pytest.raises(InvalidInputError):
        search("publisher:foo")
