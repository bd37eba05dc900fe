//! recto's metadata registry: the spec's API (`save_step_metadata`,
//! `get_central_registry`, `find_jobs_for_citekey`, ...) over a data directory.
//!
//! Step and source metadata files are the truth. Central registries
//! (`analytics/job_registry/<job_id>.json`), `latest.json` and the SQLite
//! index under `.recto/` are derived from them and rebuilt on demand. This
//! crate does no network I/O, knows nothing of OCR, storage or the CLI, and
//! never prints.

mod changes;
mod citekey;
mod error;
mod fsutil;
mod ids;
mod index;
mod layout;
mod library;
mod process;
mod record;
mod registry;
mod trace;

pub use citekey::{Citekey, MAX_CITEKEY_LEN};
pub use error::{Error, Result};
pub use fsutil::{atomic_write, sync_filesystem};
pub use ids::{JOB_ID_FORMAT, JobId, Status, StepName};
pub use ids::{RecordKind, SOURCE_STEP_LABEL};
pub use layout::{Layout, relative_metadata_path};
pub use library::{CitekeyState, STATE_ORDER, SourceState, StepOnCitekey};
pub use process::{hostname, process_alive};
pub use record::{SCHEMA_VERSION, now_timestamp};
pub use registry::{
    CitekeyJob, DEFAULT_PIPELINE, JobLock, JobSummary, MAX_IDS_AHEAD, PipelineStatus, Problem,
    RebuildReport, Registry, StepCounts, StepState, parse_pipeline,
};
