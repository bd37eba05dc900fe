"""The Rust CLI and Python share one data directory, at the same time."""

import json
import subprocess
import threading
from pathlib import Path

from conftest import recto_bin


def test_cli_and_python_write_concurrently_and_read_each_other(workdir):
    from scripts.etl_metadata import find_jobs_for_citekey, get_step_metadata, save_step_metadata

    recto = recto_bin()
    source = "2026-02-01_00-00-00"
    save_step_metadata("source", source, {"citekeys": {"total": 1, "uploaded": 1, "skipped": 0, "list": ["k"]}, "checksums": {}})

    def cli_writer(w):
        for i in range(15):
            meta = {"status": "completed", "source_job_id": source, "by": "cli", "citekeys": {"list": [f"cli{w}_{i}"]}}
            subprocess.run(
                [recto, "step", "save", f"cli{w}", f"2026-02-0{2 + w}_00-00-{i:02d}", "--metadata", "-"],
                input=json.dumps(meta), text=True, check=True, capture_output=True,
            )

    def py_writer(w):
        for i in range(15):
            save_step_metadata(f"py{w}", f"2026-02-0{6 + w}_00-00-{i:02d}",
                               {"status": "completed", "source_job_id": source, "by": "python",
                                "citekeys": {"list": [f"py{w}_{i}"]}})

    threads = [threading.Thread(target=cli_writer, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=py_writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Python reads what the CLI wrote ...
    for w in range(3):
        for i in range(15):
            hits = find_jobs_for_citekey(f"cli{w}_{i}")
            assert [(h["step"], h["status"]) for h in hits] == [(f"cli{w}", "completed")]
            assert get_step_metadata(f"cli{w}", hits[0]["job_id"])["by"] == "cli"
    # ... and the CLI reads what Python wrote, in the source's registry too.
    out = subprocess.run([recto, "jobs", "show", source], capture_output=True, text=True, check=True, env={"RECTO_DATA_DIR": "data", "PATH": "/usr/bin:/bin"})
    registry = json.loads(out.stdout)
    assert len(registry["execution_trace"]) == 1 + 6 * 15
    out = subprocess.run([recto, "jobs", "citekey", "py2_14"], capture_output=True, text=True, check=True, env={"RECTO_DATA_DIR": "data", "PATH": "/usr/bin:/bin"})
    assert out.stdout == "2026-02-08_00-00-14 > py2: completed\n"
    assert not list(Path("data").rglob(".tmp-*"))
