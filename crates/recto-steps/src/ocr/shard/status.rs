//! A sharded job's shards for `recto jobs status`, its abandonment, and
//! the Slurm jobs that run it.

use recto_registry::{Citekey, JobId, Registry, Status, StepName};
use serde::Serialize;
use serde_json::Value;

use super::record::{read_job, read_plan, shard_state};
use crate::StepError;
use crate::harness::{self, Step};
use crate::ocr::types::Ocr;
pub use crate::sharding::SlurmIds;

/// Each shard's progress, for `recto jobs status`.
#[derive(Debug, Clone, Serialize)]
pub struct ShardStatus {
    pub shard: usize,
    pub state: String,
    /// Pages of its slices complete on disk, of its pages.
    pub pages_done: usize,
    pub pages: usize,
    pub runs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_job_id: Option<String>,
    /// The task's state in Slurm's queue (`PENDING`, `RUNNING`, ...), while
    /// it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_state: Option<String>,
}

/// The shards of `job` and how far each is, or `None` for a job that was
/// not sharded. Pages are counted from the files on disk.
pub fn status(registry: &Registry, job: &JobId) -> Result<Option<Vec<ShardStatus>>, StepError> {
    let Ok((recorded, info, _)) = read_job(registry, job) else {
        return Ok(None);
    };
    let shard_plan = read_plan(registry, job)?;
    let output = crate::harness::recorded_path(registry, &recorded.body.output_dir);
    let queue = info
        .slurm
        .as_ref()
        .map(|s| crate::sharding::task_states(&s.array_job_id))
        .unwrap_or_default();
    let mut out = Vec::new();
    for a in &shard_plan.assignments {
        let (state, record) = shard_state(registry, job, a.shard)?;
        let mut done = 0;
        for s in &a.slices {
            let Ok(key) = Citekey::parse(&s.citekey) else {
                continue;
            };
            let dir = harness::output_dir(&output, &key, job);
            let last = if s.last == 0 { s.first } else { s.last };
            done += (s.first..=last)
                .filter(|p| dir.join(format!("page_{p:04}.json")).is_file())
                .count();
        }
        let last_run = record.as_ref().and_then(|r| r.runs.last());
        out.push(ShardStatus {
            shard: a.shard,
            state: state.to_string(),
            pages_done: done,
            pages: a.pages,
            runs: record.as_ref().map_or(0, |r| r.runs.len()),
            host: last_run.map(|r| r.host.clone()),
            slurm_job_id: last_run.and_then(|r| r.slurm_job_id.clone()),
            slurm_state: queue.get(&a.shard).cloned(),
        });
    }
    Ok(Some(out))
}

/// Record that a planned job will not run (its submission failed): `failed`
/// with why, so the record does not say `running` for a job nothing runs.
pub fn abandon(registry: &Registry, job: &JobId, reason: &str) -> Result<(), StepError> {
    let mut meta = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    meta.insert("status".into(), Status::Failed.as_str().into());
    meta.insert("error".into(), reason.into());
    let step = StepName::parse(Ocr::NAME).expect("valid");
    registry.save_step_metadata(&step, job, Value::Object(meta))?;
    Ok(())
}

/// Record the Slurm jobs that run `job`.
pub fn record_slurm(registry: &Registry, job: &JobId, ids: SlurmIds) -> Result<(), StepError> {
    let (mut recorded, _, _) = read_job(registry, job)?;
    if let Some(s) = recorded.body.shards.as_mut() {
        s.slurm = Some(ids);
    }
    // Keep every other field as recorded (a merge may have run already).
    let mut meta = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    meta.insert(
        "shards".into(),
        serde_json::to_value(&recorded.body.shards).expect("serialises"),
    );
    let step = StepName::parse(Ocr::NAME).expect("valid");
    registry.save_step_metadata(&step, job, Value::Object(meta))?;
    Ok(())
}
