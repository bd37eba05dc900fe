"""recto: the spec's ETL metadata API (``scripts.etl_metadata``) on recto's Rust core.

The data directory is ``RECTO_DATA_DIR``, else ``./data``, read at each call;
``RECTO_PIPELINE`` (``ocr,sync_ocr`` by default) names the steps that count as
pending until completed. Errors raise :class:`RectoError` subclasses:
:class:`JobNotFoundError` (also a ``LookupError``) for a job, step or citekey
that does not exist, :class:`InvalidInputError` (also a ``ValueError``) for a
malformed job id, step name, citekey or metadata.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

# libtesseract (linked by the native module) uses OpenMP, which reads this
# when the library loads: recto runs one single-threaded engine per worker.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from . import _native  # noqa: E402

__all__ = [
    "RectoError",
    "JobNotFoundError",
    "InvalidInputError",
    "get_job_pipeline_status",
    "get_central_registry",
    "find_jobs_for_citekey",
    "list_all_jobs",
    "get_latest_job",
    "get_step_metadata",
    "save_step_metadata",
    "rebuild_central_registry",
    "new_job_id",
    "run_cli",
]


class RectoError(Exception):
    """Any error reported by recto's core."""


class JobNotFoundError(RectoError, LookupError):
    """The job, step or citekey asked for does not exist (the message names it)."""


class InvalidInputError(RectoError, ValueError):
    """A malformed job id, step name, citekey or metadata (the message says which)."""


def _data_dir() -> str:
    return os.environ.get("RECTO_DATA_DIR") or "data"


def _pipeline() -> Optional[str]:
    return os.environ.get("RECTO_PIPELINE") or None


def _call(fn, *args):
    try:
        return fn(*args)
    except _native.NotFoundError as e:
        raise JobNotFoundError(str(e)) from None
    except _native.InvalidInputError as e:
        raise InvalidInputError(str(e)) from None
    except _native.RectoError as e:
        raise RectoError(str(e)) from None


def get_job_pipeline_status(job_id: str) -> Dict[str, Any]:
    """Quick status of a job: ``steps_completed``, ``steps_pending``,
    ``steps_failed``, ``source_job_id`` (plus ``job_id``, ``steps_running``,
    ``steps_stale`` and per-step ``steps``). ``job_id`` may be ``"latest"``."""
    return json.loads(_call(_native.get_job_pipeline_status, _data_dir(), _pipeline(), job_id))


def get_central_registry(job_id: str) -> Dict[str, Any]:
    """The job's central registry: ``source``, ``pipeline_steps``, ``execution_trace``."""
    return json.loads(_call(_native.get_central_registry, _data_dir(), _pipeline(), job_id))


def find_jobs_for_citekey(citekey: str) -> List[Dict[str, Any]]:
    """Every job that touched ``citekey``: dicts with ``job_id``, ``step``
    (``"source (upload)"`` for the upload) and ``status``."""
    return json.loads(_call(_native.find_jobs_for_citekey, _data_dir(), citekey))


def list_all_jobs(step_name: Optional[str] = None) -> List[str]:
    """All job ids, oldest first; with ``step_name``, only jobs that ran it."""
    return _call(_native.list_all_jobs, _data_dir(), step_name)


def get_latest_job() -> Optional[str]:
    """The newest job id, or ``None`` when there is none."""
    return _call(_native.get_latest_job, _data_dir())


def get_step_metadata(step: str, job_id: str) -> Dict[str, Any]:
    """A step's metadata as saved (``"source"`` or ``"upload"`` for an upload
    job); ``job_id`` may be ``"latest"``, the newest job with that step."""
    return json.loads(_call(_native.get_step_metadata, _data_dir(), step, job_id))


def save_step_metadata(step: str, job_id: str, metadata: Dict[str, Any]) -> None:
    """Save a step's metadata (``status`` required) and update every affected
    central registry."""
    _call(_native.save_step_metadata, _data_dir(), _pipeline(), step, job_id, json.dumps(metadata))


def rebuild_central_registry() -> int:
    """Rescan all step and source metadata, rebuild every registry; returns
    the number of jobs."""
    return json.loads(_call(_native.rebuild_central_registry, _data_dir(), _pipeline()))["jobs"]


def new_job_id() -> str:
    """A fresh job id in the spec's format, unique across processes."""
    return _call(_native.new_job_id, _data_dir())


def run_cli(argv: List[str]) -> int:
    """Run the ``recto`` command line in this process (``argv`` without the
    program name); returns its exit code."""
    return _native.run_cli(["recto", *argv])
