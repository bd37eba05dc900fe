//! A step's job cut into shards of citekeys, run by several processes or
//! machines (docs/scale.md): [`plan`] fixes each citekey's input and cuts
//! the citekeys into `n` runs, [`run_shard`] does one of them and merges
//! when it is the last to end, [`merge`] puts the shards' results into the
//! job's record exactly as a whole run would have (plus `shards`).
//!
//! Layout: the plan and shard records in
//! `analytics/<step>/job_metadata/<job>.shards/` (`plan.json`,
//! `shard-<i>.json`); locks `.recto/running/<step>-shard<i>-<job>.lock`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use recto_registry::{Citekey, JobId, Registry, Status, StepName, now_timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::step::{CitekeyStep, Failure, Outcome, Recorded, Request};
use super::whole::new_record;
use super::work;
use crate::StepError;
use crate::harness::{self, Citekeys, StepMetadata};
use crate::progress::Progress;
use crate::sharding::{
    ShardRun, ShardState, ShardsInfo, read_json, shard_path, unix_now, wait_for_lock, write_json,
};

/// The plan of a job in citekey shards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CitekeyPlan {
    pub job_id: String,
    pub shards: usize,
    pub created_at: String,
    pub created_unix: f64,
    /// The input job each citekey is read from (its OCR or TOC result).
    pub inputs: BTreeMap<String, String>,
    /// Citekeys without an input: failed from the start, with why.
    #[serde(default)]
    pub failures: BTreeMap<String, String>,
    /// Each shard's citekeys.
    pub assignments: Vec<Vec<String>>,
}

/// One shard's record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CitekeyShardRecord {
    pub job_id: String,
    pub shard: usize,
    pub of: usize,
    pub status: String,
    pub runs: Vec<ShardRun>,
    /// Each citekey's entry, as the step records it in `per_citekey`.
    #[serde(default)]
    pub results: BTreeMap<String, Value>,
    #[serde(default)]
    pub failures: BTreeMap<String, String>,
}

fn step_name(step: &str) -> StepName {
    StepName::parse(step).expect("step names are valid")
}

/// The folder of a sharded job's plan and shard records.
pub fn shards_dir(registry: &Registry, step: &str, job: &JobId) -> PathBuf {
    registry
        .layout()
        .step_metadata_dir(&step_name(step))
        .join(format!("{job}.shards"))
}

type Meta<S> = StepMetadata<Recorded<<S as CitekeyStep>::Body, <S as CitekeyStep>::Entry>>;

/// The outcome of a job whose record is already complete.
fn recorded_outcome<S: CitekeyStep>(
    registry: &Registry,
    job: &JobId,
) -> Result<Outcome<S>, StepError> {
    let (meta, _, _) = read_job::<S>(registry, job)?;
    let metadata = registry.metadata_by_name(S::NAME, job.as_str())?.1;
    Ok(Outcome {
        job_id: job.clone(),
        recorded: meta.body,
        metadata,
        failures: meta
            .failures
            .unwrap_or_default()
            .into_iter()
            .map(|(k, m)| (k, Failure::recorded(m)))
            .collect(),
    })
}

/// Plan a new job in `n` shards: each citekey's input fixed, the citekeys
/// cut into `n` runs of about equal count, the job recorded `running` with
/// `shards` and no process of its own.
pub(crate) fn plan<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    req: &Request,
    n: usize,
) -> Result<Outcome<S>, StepError> {
    if !(1..=10_000).contains(&n) {
        return Err(StepError::InvalidSetting {
            name: "shards".into(),
            reason: format!("{n} is outside 1..=10000"),
        });
    }
    let inputs = work::gather(registry, step, req)?;
    let job = registry.new_job_id()?;
    let found: Vec<(String, String)> = inputs
        .found
        .iter()
        .map(|(k, t)| (k.as_str().to_owned(), S::input_job(t).to_string()))
        .collect();
    let assignments: Vec<Vec<String>> = (0..n)
        .map(|i| {
            found[i * found.len() / n..(i + 1) * found.len() / n]
                .iter()
                .map(|(k, _)| k.clone())
                .collect()
        })
        .collect();
    let plan = CitekeyPlan {
        job_id: job.to_string(),
        shards: n,
        created_at: now_timestamp(),
        created_unix: unix_now(),
        inputs: found.into_iter().collect(),
        failures: work::messages(&inputs.failures),
        assignments,
    };
    let dir = shards_dir(registry, S::NAME, &job);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    write_json(&dir.join("plan.json"), &plan)?;
    let list: Vec<String> = inputs.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let info = ShardsInfo {
        count: n,
        dir: harness::recorded_dir(registry, &dir),
        ..ShardsInfo::default()
    };
    let meta = StepMetadata {
        status: Status::Running,
        source_job_id: inputs.source_job.as_ref().map(JobId::to_string),
        citekeys: Citekeys::new(list),
        body: new_record(registry, step, req),
        failures: None,
        error: None,
        started_at: Some(plan.created_at.clone()),
        duration_seconds: None,
    };
    let metadata = save(registry, S::NAME, &job, &meta, &info)?;
    Ok(Outcome {
        job_id: job,
        recorded: meta.body,
        metadata,
        failures: inputs.failures,
    })
}

/// Run shard `index` of the `of` shards of `job`; the last shard to end
/// merges the job.
pub(crate) async fn run_shard<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    job: &JobId,
    (index, of): (usize, usize),
    progress: &dyn Progress,
) -> Result<Outcome<S>, StepError> {
    let (recorded, info, status) = read_job::<S>(registry, job)?;
    if info.count != of || index >= of {
        return Err(StepError::InvalidSetting {
            name: "shard".into(),
            reason: format!(
                "{index}/{of}: {} job {job} was planned in {} shards, numbered 0 to {}",
                S::NAME,
                info.count,
                info.count.saturating_sub(1)
            ),
        });
    }
    if status == Some(Status::Completed) {
        return recorded_outcome(registry, job);
    }
    let hold = registry.lock_job(&shard_lock(S::NAME, index), job)?;
    let dir = shards_dir(registry, S::NAME, job);
    let plan: CitekeyPlan = read_json(&dir.join("plan.json"))?;
    let path = shard_path(&dir, index);
    let mut record: CitekeyShardRecord = if path.exists() {
        read_json(&path)?
    } else {
        CitekeyShardRecord {
            job_id: job.to_string(),
            shard: index,
            of,
            ..CitekeyShardRecord::default()
        }
    };
    record.status = Status::Running.as_str().to_owned();
    record.runs.push(ShardRun::start());
    write_json(&path, &record)?;
    if status != Some(Status::Running) {
        save(registry, S::NAME, job, &recorded.reopened(), &info)?;
    }
    let started = Instant::now();
    let mut found = Vec::new();
    let mut failures = BTreeMap::new();
    for key in &plan.assignments[index] {
        let k = Citekey::parse(key)?;
        let input = plan.inputs.get(key).map(|j| JobId::parse(j)).transpose()?;
        match step.lookup(registry, &k, input.as_ref()) {
            Ok(t) => found.push((k, t)),
            Err(e) => {
                failures.insert(key.clone(), e.to_string());
            }
        }
    }
    let results = work::execute(registry, step, &recorded.body, found, job, progress).await;
    if !results.is_empty() {
        let output = harness::recorded_path(registry, &recorded.body.output_dir);
        recto_registry::sync_filesystem(&output)?;
    }
    record.results.clear();
    record.failures = failures;
    for (k, r) in results {
        match r {
            Ok(e) => {
                let v = serde_json::to_value(&e).expect("entries serialise");
                record.results.insert(k.as_str().to_owned(), v);
            }
            Err(f) => {
                record.failures.insert(k.as_str().to_owned(), f.message);
            }
        }
    }
    let run = record.runs.last_mut().expect("pushed");
    run.done = record.results.len();
    run.failed = record.failures.len();
    run.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    run.ended_at = Some(now_timestamp());
    record.status = Status::ended(record.failures.is_empty())
        .as_str()
        .to_owned();
    write_json(&path, &record)?;
    drop(hold);
    let ended = (0..of).all(|i| {
        i == index
            || read_json::<CitekeyShardRecord>(&shard_path(&dir, i))
                .is_ok_and(|r| r.status != Status::Running.as_str())
    });
    if ended {
        match merge::<S>(registry, job) {
            Ok(out) => return Ok(out),
            Err(e) => tracing::info!("job {job} not merged by shard {index}: {e}"),
        }
    }
    let mut out = recorded_outcome::<S>(registry, job)?;
    out.failures = record
        .failures
        .into_iter()
        .map(|(k, m)| (k, Failure::recorded(m)))
        .collect();
    Ok(out)
}

/// Save a sharded job's record: the step's metadata with `shards`.
fn save<B: Serialize>(
    registry: &Registry,
    step: &str,
    job: &JobId,
    meta: &StepMetadata<B>,
    info: &ShardsInfo,
) -> Result<Map<String, Value>, StepError> {
    let mut value = serde_json::to_value(meta).expect("serialises");
    value.as_object_mut().expect("an object").insert(
        "shards".into(),
        serde_json::to_value(info).expect("serialises"),
    );
    Ok(registry.save_step_metadata(&step_name(step), job, value)?)
}

fn read_job<S: CitekeyStep>(
    registry: &Registry,
    job: &JobId,
) -> Result<(Meta<S>, ShardsInfo, Option<Status>), StepError> {
    read_any(registry, S::NAME, job)
}

fn read_any<B: DeserializeOwned>(
    registry: &Registry,
    step: &str,
    job: &JobId,
) -> Result<(StepMetadata<B>, ShardsInfo, Option<Status>), StepError> {
    let meta = registry.metadata_by_name(step, job.as_str())?.1;
    let status = meta
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse);
    let info: ShardsInfo = meta
        .get("shards")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| StepError::NotSharded {
            step: step.to_owned(),
            job: job.clone(),
        })?;
    let kind = recto_registry::RecordKind::from_user(step)?;
    let recorded: StepMetadata<B> = harness::read_metadata(&kind, job, meta)?;
    Ok((recorded, info, status))
}

/// Merge the shards of `job`: refused while one runs; what a shard did not
/// do fails naming it.
pub(crate) fn merge<S: CitekeyStep>(
    registry: &Registry,
    job: &JobId,
) -> Result<Outcome<S>, StepError> {
    read_job::<S>(registry, job)?;
    let _hold = wait_for_lock(registry, &format!("{}-finalize", S::NAME), job)?;
    let (recorded, mut info, status) = read_job::<S>(registry, job)?;
    if status == Some(Status::Completed) {
        return recorded_outcome(registry, job);
    }
    let dir = shards_dir(registry, S::NAME, job);
    let plan: CitekeyPlan = read_json(&dir.join("plan.json"))?;
    let mut results = Vec::new();
    let mut failures: BTreeMap<String, Failure> = plan
        .failures
        .iter()
        .map(|(k, m)| (k.clone(), Failure::recorded(m.clone())))
        .collect();
    info.states.clear();
    for (i, keys) in plan.assignments.iter().enumerate() {
        let (state, record) = shard_state(registry, S::NAME, job, &dir, i)?;
        if let ShardState::Running(holder) = state {
            return Err(StepError::ShardRunning {
                step: S::NAME.to_owned(),
                job: job.clone(),
                shard: i,
                holder,
            });
        }
        let path = shard_path(&dir, i);
        let done = record.as_ref().filter(|_| state != ShardState::Interrupted);
        for key in keys {
            let k = Citekey::parse(key)?;
            let r = if let Some(v) = done.and_then(|r| r.results.get(key)) {
                Ok(
                    serde_json::from_value::<S::Entry>(v.clone()).map_err(|e| {
                        StepError::Input {
                            path: path.clone(),
                            reason: format!("{key}: {e}"),
                        }
                    })?,
                )
            } else if let Some(why) = done.and_then(|r| r.failures.get(key)) {
                Err(Failure::recorded(format!("shard {i}: {why}")))
            } else {
                Err(Failure::recorded(format!(
                    "shard {i} ({state}) did not do it; run shard {i} of {} of job {job} again, then merge the job",
                    plan.shards
                )))
            };
            results.push((k, r));
        }
        info.states.insert(i.to_string(), state.to_string());
    }
    let mut body = recorded.body.clone();
    let seconds = (unix_now() - plan.created_unix).max(0.0);
    let (citekeys, done) = work::collect::<S>(
        &mut body,
        results,
        &mut failures,
        &recorded.citekeys.list,
        seconds,
    );
    let output = harness::recorded_path(registry, &body.output_dir);
    if !done.is_empty() {
        recto_registry::sync_filesystem(&output)?;
    }
    let meta = StepMetadata {
        status: crate::sharding::merged_status(info.states.values(), done.len(), failures.len()),
        source_job_id: recorded.source_job_id.clone(),
        citekeys,
        body,
        failures: Some(work::messages(&failures)),
        error: None,
        started_at: recorded.started_at.clone(),
        duration_seconds: Some((seconds * 1000.0).round() / 1000.0),
    };
    let metadata = save(registry, S::NAME, job, &meta, &info)?;
    super::point_current::<S>(&output, &meta.body.per_citekey, &done, job);
    Ok(Outcome {
        job_id: job.clone(),
        recorded: meta.body,
        metadata,
        failures,
    })
}

/// Shard `i`'s state and record.
fn shard_state(
    registry: &Registry,
    step: &str,
    job: &JobId,
    dir: &Path,
    i: usize,
) -> Result<(ShardState, Option<CitekeyShardRecord>), StepError> {
    let path = shard_path(dir, i);
    let record: Option<CitekeyShardRecord> = path.exists().then(|| read_json(&path)).transpose()?;
    let holder = registry.job_holder(&shard_lock(step, i), job)?;
    let state = ShardState::of(holder, record.as_ref().map(|r| r.status.as_str()));
    Ok((state, record))
}

fn shard_lock(step: &str, i: usize) -> String {
    format!("{step}-shard{i}")
}

/// One shard of a per-citekey step's sharded job, for `recto jobs status`.
#[derive(Debug, Clone, Serialize)]
pub struct CitekeyShardStatus {
    pub shard: usize,
    /// `running (pid on host)`, `interrupted`, `not started`, `completed`
    /// or `failed`.
    pub state: String,
    pub citekeys_done: usize,
    pub citekeys: usize,
}

/// The shards of `step` in `job`, or `None` when that record is not sharded.
pub fn status(
    registry: &Registry,
    step: &str,
    job: &JobId,
) -> Result<Option<Vec<CitekeyShardStatus>>, StepError> {
    if read_any::<Value>(registry, step, job).is_err() {
        return Ok(None);
    }
    let dir = shards_dir(registry, step, job);
    let plan: CitekeyPlan = read_json(&dir.join("plan.json"))?;
    let mut out = Vec::new();
    for (i, keys) in plan.assignments.iter().enumerate() {
        let (state, record) = shard_state(registry, step, job, &dir, i)?;
        out.push(CitekeyShardStatus {
            shard: i,
            state: state.to_string(),
            citekeys_done: record.as_ref().map_or(0, |r| r.results.len()),
            citekeys: keys.len(),
        });
    }
    Ok(Some(out))
}
