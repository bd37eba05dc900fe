"""The spec's ETL metadata API, backed by recto's Rust core.

    from scripts.etl_metadata import get_job_pipeline_status, save_step_metadata
"""

from recto import (  # noqa: F401
    InvalidInputError,
    JobNotFoundError,
    RectoError,
    find_jobs_for_citekey,
    get_central_registry,
    get_job_pipeline_status,
    get_latest_job,
    get_step_metadata,
    list_all_jobs,
    new_job_id,
    rebuild_central_registry,
    save_step_metadata,
)
