//! What a sharded OCR job keeps on disk: its plan, each shard's record,
//! their folder and locks, and the job's record read back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_registry::{JobId, Registry, Status, StepName};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::StepError;
use crate::harness::{self, Step, StepMetadata};
use crate::ocr::plan::{Plan, recorded_plan, recorded_source};
use crate::ocr::types::{Ocr, OcrOutcome, OcrRunning};
pub use crate::sharding::{ShardRun, ShardState, ShardsInfo, SlurmIds};
use crate::sharding::{read_json, shard_path};

/// The plan of a sharded job, written once by whoever creates it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardPlan {
    pub job_id: String,
    pub shards: usize,
    pub created_at: String,
    /// Seconds since the epoch at creation: the job's duration runs from it.
    pub created_unix: f64,
    pub documents: Vec<PlannedDoc>,
    pub assignments: Vec<PlannedShard>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedDoc {
    pub citekey: String,
    pub pages: usize,
    /// Pages expected to need OCR (no usable text layer, or `force-ocr`).
    pub ocr_pages: usize,
    /// The citekey with the identical PDF (same sha256) read for both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
    /// Why the planner could not open it; its shard tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedShard {
    pub shard: usize,
    pub slices: Vec<Slice>,
    pub pages: usize,
    pub estimated_seconds: f64,
}

/// Pages `first..=last` of a citekey (`last` 0: every page, for a
/// document the planner could not open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    pub citekey: String,
    pub first: usize,
    pub last: usize,
}

/// One shard's own record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShardRecord {
    pub job_id: String,
    pub shard: usize,
    pub of: usize,
    pub status: String,
    /// Every run of this shard, the first one first.
    pub runs: Vec<ShardRun>,
    /// What the last run found per citekey.
    pub per_citekey: BTreeMap<String, ShardDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShardDoc {
    /// This shard's pages of the citekey, as `[first, last]` runs.
    pub slices: Vec<[usize; 2]>,
    pub done: usize,
    pub resumed: usize,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub page_failures: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one shard's run did.
#[derive(Debug, Clone)]
pub struct ShardOutcome {
    pub job_id: JobId,
    pub record: ShardRecord,
    /// The merge the shard ran as the last one to end, if it did.
    pub finalized: Option<Box<OcrOutcome>>,
}

/// The folder of a sharded job's plan and shard records.
pub fn shards_dir(registry: &Registry, job: &JobId) -> PathBuf {
    let step = StepName::parse(Ocr::NAME).expect("valid");
    registry
        .layout()
        .step_metadata_dir(&step)
        .join(format!("{job}.shards"))
}

pub(super) fn shard_lock(shard: usize) -> String {
    format!("ocr-shard{shard}")
}

pub fn read_plan(registry: &Registry, job: &JobId) -> Result<ShardPlan, StepError> {
    read_json(&shards_dir(registry, job).join("plan.json"))
}

/// A shard's record, `None` when it never started.
pub fn read_shard(
    registry: &Registry,
    job: &JobId,
    shard: usize,
) -> Result<Option<ShardRecord>, StepError> {
    let path = shard_path(&shards_dir(registry, job), shard);
    if !path.exists() {
        return Ok(None);
    }
    read_json(&path).map(Some)
}

pub(super) fn save_job<B: Serialize>(
    registry: &Registry,
    job: &JobId,
    meta: &StepMetadata<B>,
) -> Result<(), StepError> {
    let step = StepName::parse(Ocr::NAME).expect("valid");
    let value = serde_json::to_value(meta).expect("serialises");
    registry.save_step_metadata(&step, job, value)?;
    Ok(())
}

/// The job's record, read as a sharded job's.
pub(super) fn read_job(
    registry: &Registry,
    job: &JobId,
) -> Result<(StepMetadata<OcrRunning>, ShardsInfo, Option<Status>), StepError> {
    let meta = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    let status = meta
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse);
    let recorded: StepMetadata<OcrRunning> =
        harness::read_metadata(&harness::kind_of::<Ocr>(), job, meta)?;
    let info = recorded
        .body
        .shards
        .clone()
        .ok_or_else(|| StepError::NotSharded {
            step: Ocr::NAME.into(),
            job: job.clone(),
        })?;
    Ok((recorded, info, status))
}

pub(super) fn job_plan(
    registry: &Registry,
    job: &JobId,
    recorded: &StepMetadata<OcrRunning>,
) -> Result<Plan, StepError> {
    let source_job = recorded_source(job, recorded)?;
    recorded_plan(registry, job, recorded, source_job)
}

/// The state of each shard: `completed`, `failed`, `running` (its process
/// holds its lock), `interrupted` (its record says running, its lock is
/// free: killed, cancelled or pre-empted) or `not started`.
pub fn shard_state(
    registry: &Registry,
    job: &JobId,
    shard: usize,
) -> Result<(ShardState, Option<ShardRecord>), StepError> {
    let record = read_shard(registry, job, shard)?;
    let holder = registry.job_holder(&shard_lock(shard), job)?;
    let state = ShardState::of(holder, record.as_ref().map(|r| r.status.as_str()));
    Ok((state, record))
}
