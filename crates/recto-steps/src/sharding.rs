//! What every sharded job shares, whether its shards are slices of pages
//! (OCR) or sets of citekeys (toc, segmentation, export): the job record's
//! `shards` field, a shard run's record and state, the merge's wait for the
//! shards' locks, and the JSON files of the shards' folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use recto_registry::{JobId, Registry, Status, now_timestamp};
use serde::{Deserialize, Serialize};

use crate::StepError;

/// What a sharded job's record says about its shards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardsInfo {
    pub count: usize,
    /// The folder of the plan and the shard records, under the data dir.
    pub dir: String,
    /// Each shard's state when the job was last merged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub states: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmIds>,
}

/// The Slurm jobs that run a sharded job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlurmIds {
    pub array_job_id: String,
    pub finalize_job_id: String,
    pub script: String,
    pub finalize_script: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShardRun {
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    pub host: String,
    pub pid: u32,
    /// `SLURM_JOB_ID` (and the array's id and task) when run by Slurm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_restart_count: Option<u32>,
    /// Pages this run did, and those it found done by an earlier run.
    pub done: usize,
    pub resumed: usize,
    pub failed: usize,
    pub seconds: f64,
}

impl ShardRun {
    /// A run starting now in this process (and, under Slurm, its task).
    pub fn start() -> Self {
        ShardRun {
            started_at: now_timestamp(),
            host: recto_registry::hostname(),
            pid: std::process::id(),
            slurm_job_id: std::env::var("SLURM_JOB_ID").ok(),
            slurm_restart_count: std::env::var("SLURM_RESTART_COUNT")
                .ok()
                .and_then(|v| v.parse().ok()),
            ..ShardRun::default()
        }
    }
}

/// Where a shard is, from who holds its lock and what its record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardState {
    /// Its process holds its lock (`pid on host`).
    Running(String),
    /// Its record says running, its lock is free: killed, cancelled or
    /// pre-empted.
    Interrupted,
    NotStarted,
    /// `completed` or `failed`, as its record says.
    Ended(String),
}

impl ShardState {
    pub fn of(holder: Option<String>, recorded: Option<&str>) -> Self {
        match (holder, recorded) {
            (Some(h), _) => ShardState::Running(h),
            (None, None) => ShardState::NotStarted,
            (None, Some(s)) if s == Status::Running.as_str() => ShardState::Interrupted,
            (None, Some(s)) => ShardState::Ended(s.to_owned()),
        }
    }
}

impl std::fmt::Display for ShardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShardState::Running(h) => write!(f, "running ({h})"),
            ShardState::Interrupted => f.write_str("interrupted"),
            ShardState::NotStarted => f.write_str("not started"),
            ShardState::Ended(s) => f.write_str(s),
        }
    }
}

/// How a sharded job's merge is recorded: as a run that reached its end
/// (completed, its failures beside, unless every citekey failed) only when
/// every shard ended; a shard not started, interrupted or still running
/// means the job did not finish: failed, each of its citekeys naming the
/// shard to run again.
pub fn merged_status<'a>(
    states: impl IntoIterator<Item = &'a String>,
    done: usize,
    failed: usize,
) -> recto_registry::Status {
    use recto_registry::Status;
    let ended = |s: &str| s == Status::Completed.as_str() || s == Status::Failed.as_str();
    if states.into_iter().all(|s| ended(s)) {
        Status::ended_with(done, failed)
    } else {
        Status::Failed
    }
}

/// Take `lock` of `job`, waiting while another process holds it (two
/// merges at once: the last shard's and Slurm's finalize job; the second
/// then finds the job merged). Gives up after ten minutes.
pub fn wait_for_lock(
    registry: &Registry,
    lock: &str,
    job: &JobId,
) -> Result<recto_registry::JobLock, StepError> {
    let started = std::time::Instant::now();
    loop {
        match registry.lock_job(lock, job) {
            Ok(hold) => return Ok(hold),
            Err(recto_registry::Error::JobBusy { .. })
                if started.elapsed() < std::time::Duration::from_secs(600) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A shard's record in the shards' folder.
pub fn shard_path(dir: &Path, shard: usize) -> PathBuf {
    dir.join(format!("shard-{shard}.json"))
}

/// A JSON file of the shards' folder, read.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, StepError> {
    let bytes = std::fs::read(path).map_err(|e| StepError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| StepError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// A JSON file of the shards' folder, written atomically and durably.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StepError> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serialises");
    bytes.push(b'\n');
    recto_fs::write_atomic(path, &bytes, recto_fs::Durability::Synced).map_err(|e| {
        StepError::Input {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    })
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The states of an array's tasks still in Slurm's queue, by task index
/// (empty when `squeue` is missing or the array has left the queue).
pub fn task_states(array_job_id: &str) -> BTreeMap<usize, String> {
    let Ok(out) = Command::new("squeue")
        .args(["-h", "-r", "-j", array_job_id, "-o", "%K %T"])
        .output()
    else {
        return BTreeMap::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (task, state) = l.trim().split_once(' ')?;
            Some((task.parse().ok()?, state.trim().to_owned()))
        })
        .collect()
}
