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
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional

# libtesseract (linked by the extension, which runs the steps in this
# process) uses OpenMP, which reads this when the library loads: recto runs
# one single-threaded engine per worker.
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
    "upload",
    "extract_toc",
    "segment",
    "export",
    "get_toc",
    "index",
    "search",
    "get_text",
    "citekey_status",
    "run_ocr",
    "sync_ocr",
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


def _recto_bin() -> str:
    """The ``recto`` command: ``RECTO_BIN``, else the one installed beside
    this Python (a virtualenv's ``bin``), else the first on ``PATH``."""
    exe = os.environ.get("RECTO_BIN")
    if exe:
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            raise RectoError(f"RECTO_BIN={exe}: the recto command is not installed there")
        return exe
    here = os.path.dirname(sys.executable)
    exe = shutil.which("recto", path=here) or shutil.which("recto")
    if not exe:
        raise RectoError(
            "the recto command is not installed: run_cli runs it (the steps' own "
            "functions do not need it); install it (cargo install --path crates/recto-cli) "
            "or set RECTO_BIN"
        )
    return exe


def _recto(argv: List[str], **kwargs: Any) -> "subprocess.CompletedProcess[str]":
    """``recto ARGV`` on this data directory (``RECTO_DATA_DIR``, which a
    ``--data-dir`` in ``argv`` overrides)."""
    env = dict(os.environ, RECTO_DATA_DIR=_data_dir())
    return subprocess.run([_recto_bin(), *argv], env=env, text=True, **kwargs)


def run_cli(argv: List[str]) -> int:
    """Run the ``recto`` command line (``argv`` without the program name) on
    this data directory; returns its exit code."""
    return _recto(argv).returncode


def get_text(citekey: str, pages: Any = None, job_id: Optional[str] = None) -> str:
    """The current OCR text of ``citekey`` (its newest completed OCR job, or
    ``job_id``), pages separated by form feeds. ``pages`` is a page number,
    a ``(first, last)`` pair (1-based, inclusive) or a ``range``."""
    first = last = None
    if isinstance(pages, int):
        first = last = pages
    elif isinstance(pages, range):
        first, last = pages.start, pages.stop - 1
    elif pages is not None:
        first, last = pages
    doc = json.loads(_call(_native.get_text, _data_dir(), _pipeline(), citekey, first, last, job_id))
    return "\f".join(text for _, text in doc["pages"])


def citekey_status(citekey: Optional[str] = None) -> Any:
    """The library view: for ``citekey`` (a dict) or every known citekey (a
    list of dicts), its ``state`` (done, failed, stale, running, outdated,
    pending), newest ``source``, per-step ``steps``, and ``bib`` (author,
    title, year) when an upload read them from a .bib."""
    keys = [citekey] if citekey is not None else []
    states = json.loads(_call(_native.citekey_status, _data_dir(), _pipeline(), keys))
    return states[0] if citekey is not None else states


def _step(name: str, /, **request: Any) -> Dict[str, Any]:
    """Run step ``name`` in this process (``_native.run_step``) with the request's
    fields that are set; returns its report (the dict ``recto STEP --json``
    prints) with ``exit_code``: 0 done, 3 some citekeys or files failed. A
    run where no citekey could be read raises :class:`RectoError`."""
    fields = {k: v for k, v in request.items() if v is not None}
    out, code = _call(_native.run_step, _data_dir(), _pipeline(), name, json.dumps(fields))
    result = json.loads(out)
    result["exit_code"] = code
    return result


def _store(store: Optional[str]) -> Optional[Dict[str, Any]]:
    """The store a call names (else ``RECTO_STORE``, else the step's
    default: the one the upload recorded, or ``<data dir>/store``)."""
    return {"url": store} if store else None


def upload(from_dir: Optional[str] = None, *, bib: Optional[str] = None,
           citekeys: Optional[List[str]] = None, recursive: bool = True,
           bib_path_map: Optional[Dict[str, str]] = None, dry_run: bool = False,
           store: Optional[str] = None) -> Dict[str, Any]:
    """Upload source PDFs (``recto upload``): the PDFs of folder ``from_dir``
    named by citekey (only ``citekeys`` when given), or the files of a
    BibTeX export ``bib`` (``bib_path_map`` rewrites path prefixes written
    on another machine). Returns the job id, status, store and counts
    (``uploaded``, ``skipped``, ``failed``, ``no_pdf``, ``failures``)."""
    return _step("upload", from_dir=from_dir, bib=bib, citekeys=citekeys or None,
                 recursive=recursive, bib_path_map=list((bib_path_map or {}).items()) or None,
                 dry_run=dry_run, store=_store(store))


def run_ocr(citekeys: Optional[List[str]] = None, *, pending: bool = False, failed: bool = False,
            all: bool = False, resume: Optional[str] = None,
            source_job_id: Optional[str] = None, lang: Optional[str] = None,
            mode: Optional[str] = None, dpi: Optional[int] = None,
            workers: Optional[int] = None, password: Optional[str] = None,
            dry_run: bool = False, store: Optional[str] = None) -> Dict[str, Any]:
    """Run the OCR step in this process on ``citekeys`` (or the ``pending``
    ones: no completed result on their newest upload; or the ``failed``
    ones; or ``all`` uploaded; or continue job ``resume``); returns the new
    job's id, status, citekey and page counts, failures and per-citekey
    results (``exit_code`` 3 when some citekeys failed). ``mode`` is
    ``auto``, ``force-ocr`` or ``text-layer-only``; ``lang`` Tesseract's
    languages (``eng+deu``). Nothing pending gives ``nothing_to_do``."""
    return _step("ocr", citekeys=citekeys or None, pending=pending, failed=failed, all=all, resume=resume,
                 source_job_id=source_job_id, lang=lang, mode=mode, dpi=dpi, workers=workers,
                 password=password, dry_run=dry_run, store=_store(store))


def sync_ocr(job_id: str = "latest", *, skip_images: bool = False, dry_run: bool = False,
             allow_incomplete: bool = False, store: Optional[str] = None,
             step: str = "ocr") -> Dict[str, Any]:
    """Sync an OCR job's results (or ``step``'s: ``toc``, ``segmentation``,
    ``export``) to its bucket; returns the job id, status and file counts
    (``uploaded``, ``skipped``, ``failed``, ``verified``)."""
    return _step("sync", step=step, job_id=job_id, skip_images=skip_images, dry_run=dry_run,
                 allow_incomplete=allow_incomplete, store=_store(store))


def extract_toc(citekeys: Optional[List[str]] = None, *, pending: bool = False, failed: bool = False,
                ocr_job_id: Optional[str] = None) -> Dict[str, Any]:
    """Run the TOC step (``recto toc``) on ``citekeys``, or on every citekey
    whose table of contents is pending (``pending=True``), or on all with an
    OCR result (neither); returns the job id, status, ``per_citekey``
    results and ``failures``. Each citekey's ``toc.json`` is in the folder
    its result names (``dir``, relative to the data directory)."""
    return _step("toc", citekeys=citekeys or None, pending=pending, failed=failed,
                 ocr_job_id=ocr_job_id)


def segment(citekeys: Optional[List[str]] = None, *, pending: bool = False, failed: bool = False,
            toc_job_id: Optional[str] = None,
            dictionaries: Optional[str] = None) -> Dict[str, Any]:
    """Run the segmentation step (``recto segment``): units, line roles and
    clean Markdown per unit, from each citekey's table of contents; returns
    what :func:`extract_toc` returns, for segmentation. ``dictionaries`` is
    the Hunspell folder (``RECTO_HUNSPELL_DIR``, else the system's)."""
    return _step("segmentation", citekeys=citekeys or None, pending=pending, failed=failed,
                 toc_job_id=toc_job_id, dictionaries=dictionaries)


def export(formats: List[str], citekeys: Optional[List[str]] = None, *,
           pending: bool = False, failed: bool = False, ocr_job_id: Optional[str] = None,
           out: Optional[str] = None, password: Optional[str] = None,
           decrypt: bool = False, bookmarks: bool = True) -> Dict[str, Any]:
    """Run the export step (``recto export``) in ``formats`` (``pdf``,
    ``txt``, ``md``, ``hocr``, ``alto``); each citekey's files are listed
    in its ``per_citekey`` entry (``files``, in ``dir``)."""
    return _step("export", citekeys=citekeys or None, pending=pending, failed=failed,
                 formats=list(formats),
                 ocr_job_id=ocr_job_id, out=out, password=password, decrypt=decrypt,
                 bookmarks=bookmarks)


def index(citekeys: Optional[List[str]] = None, *, rebuild: bool = False) -> Dict[str, Any]:
    """Bring the full-text index up to date (``recto index``): the citekeys
    indexed again, how many were unchanged, pages, failures."""
    return _step("index", citekeys=citekeys or None, rebuild=rebuild)


def search(query: str, limit: int = 20, citekey: Optional[str] = None,
           fuzzy: bool = False) -> List[Dict[str, Any]]:
    """Search the library's pages (``recto search``): ranked hits, each with
    ``citekey``, ``page``, ``label`` (printed page, when known), ``score``,
    ``snippet`` and ``highlights`` (byte ranges of the matches in it),
    ``marked`` (the snippet with matches in ``[[...]]``) and ``words``: the
    matching words of the page with their ``bbox`` in page pixels
    (``width_px`` x ``height_px``), and ``bib`` (author, title, year) when
    the upload read them. ``fuzzy``: words also match one edit away (OCR
    errors). Run :func:`index` first."""
    found = _call(_native.search, _data_dir(), query, int(limit), citekey, bool(fuzzy))
    return json.loads(found)["hits"]


def get_toc(citekey: str) -> Dict[str, Any]:
    """A citekey's current table of contents: the ``toc.json`` of the
    newest TOC job that completed it."""
    try:
        result = json.loads(_call(_native.step_result, _data_dir(), _pipeline(), "toc", citekey))
    except InvalidInputError:
        raise
    except RectoError as e:
        raise JobNotFoundError(
            f"{citekey} has no table of contents yet ({e}): run extract_toc([{citekey!r}])"
        ) from None
    with open(os.path.join(result["dir"], "toc.json"), encoding="utf-8") as f:
        return json.load(f)
