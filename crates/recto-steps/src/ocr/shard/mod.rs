//! One OCR job spread over several processes (the tasks of a Slurm array,
//! or any N processes on machines sharing the data directory).
//!
//! Whoever creates the job ([`plan_sharded`]) fetches and weighs every
//! source once and writes the job's plan, read-only after:
//! `analytics/ocr/job_metadata/<job>.shards/plan.json`, each shard's page
//! slices balanced by estimated cost (a page to OCR costs about a hundred
//! times a page with a usable text layer). The job's record says `running`
//! with a `shards` field and no process of its own (no pid: its shards'
//! records say who runs).
//!
//! A shard ([`run_shard`]) reads the plan, writes only its own pages and
//! its own record (`shard-<i>.json` in the same folder), and holds its own
//! lock (`.recto/running/ocr-shard<i>-<job>.lock`, `flock`) while it runs.
//! A shard run again (requeued, pre-empted, cancelled and resubmitted)
//! skips the pages already complete on disk, so nothing is done twice.
//!
//! The merge ([`finalize`]) reads the plan, the shard records and the page
//! files (the truth of what was done) and records the job as a one-machine
//! run would: `completed` or `failed` with the same fields. It refuses while
//! any shard holds its lock. The last shard to end runs it, and
//! `recto slurm ocr` submits it as a job that depends on the array
//! (`afterany`); running it twice is harmless.

mod merge;
mod plan;
mod record;
mod run;
mod status;

pub use merge::finalize;
pub use plan::{balance, plan_sharded};
pub use record::*;
pub use run::{ShardRequest, run_shard};
pub use status::{ShardStatus, abandon, record_slurm, status};
