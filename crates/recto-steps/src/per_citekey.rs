//! The run of a step that reads another step's results citekey by citekey
//! (toc, segmentation, export): whole in one process, or as one job in
//! shards over several processes or machines, like the OCR step's sharded
//! jobs (`shard`), with citekeys instead of pages as the unit.
//!
//! A step gives [`run`] its lookup of each citekey's input, its work over
//! the citekeys found (`execute`) and the summary of the results into its
//! body (`summarise`); recording, the plan, shard records, locks and the
//! merge are here. The merge records exactly what a whole run would have
//! (the same `summarise` over the same results), plus `shards`.
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

use crate::StepError;
use crate::harness::{self, Citekeys, Selection, Start, StepMetadata, StepOutcome, StepRun};
use crate::sharding::{
    ShardRun, ShardState, ShardsInfo, read_json, shard_path, unix_now, wait_for_lock, write_json,
};

/// How a per-citekey step runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sharding {
    /// In this process, as one job (the usual run).
    #[default]
    Whole,
    /// Plan a new job in this many shards and run nothing.
    Plan(usize),
    /// Run shard `index` (0-based) of the `of` shards of `job`.
    Shard { job: JobId, index: usize, of: usize },
    /// Merge the shards of `job` into its record.
    Merge(JobId),
}

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

/// What the step is and what it reads.
#[derive(Debug)]
pub struct StepSpec<'a> {
    pub step: &'static str,
    pub input: &'static str,
    pub selection: &'a Selection,
    /// The input job the user named (an id or `latest`), if any.
    pub input_job: Option<&'a str>,
    /// What is missing when no citekey is selected.
    pub nothing: &'a str,
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

/// Run a per-citekey step as `sharding` says.
///
/// - `lookup(key, job)`: the citekey's input, of `job` when given.
/// - `output_of(body)`: where results go, from the (recorded) running body.
/// - `execute(items, body, job)`: the work over the citekeys found, each
///   citekey's entry or why it failed.
/// - `summarise(body, results, failures, list, seconds)`: the results into
///   the body; returns the `citekeys` header and the citekeys done.
#[allow(clippy::too_many_arguments)]
pub async fn run<T, E, B>(
    registry: &Registry,
    spec: StepSpec<'_>,
    sharding: &Sharding,
    running: B,
    lookup: impl Fn(&Citekey, Option<&JobId>) -> Result<T, StepError>,
    job_of: impl Fn(&T) -> &JobId,
    output_of: impl Fn(&B) -> PathBuf,
    execute: impl AsyncFnOnce(Vec<(Citekey, T)>, &B, &JobId) -> Vec<(Citekey, Result<E, String>)>,
    summarise: impl Fn(
        &mut B,
        Vec<(Citekey, Result<E, String>)>,
        &mut BTreeMap<String, String>,
        &[String],
        f64,
    ) -> (Citekeys, Vec<Citekey>),
) -> Result<StepOutcome, StepError>
where
    E: Serialize + DeserializeOwned,
    B: Serialize + DeserializeOwned + Clone,
{
    match sharding {
        Sharding::Whole => {
            let inputs = gather(registry, &spec, &lookup, &job_of)?;
            let list: Vec<String> = inputs.keys.iter().map(|k| k.as_str().to_owned()).collect();
            let run = StepRun::begin_named(
                registry,
                spec.step,
                Start::New,
                inputs.source_job.as_ref(),
                Citekeys::new(list.clone()),
                &running,
            )?;
            let job = run.job().clone();
            let started = Instant::now();
            let results = execute(inputs.found, &running, &job).await;
            let mut body = running;
            let mut failures = inputs.failures;
            let (citekeys, done) = summarise(
                &mut body,
                results,
                &mut failures,
                &list,
                started.elapsed().as_secs_f64(),
            );
            let output = output_of(&body);
            harness::finish_with_results(
                run,
                &output,
                inputs.source_job.as_ref(),
                citekeys,
                failures,
                body,
                &done,
            )
        }
        Sharding::Plan(n) => plan(registry, &spec, *n, running, &lookup, &job_of),
        Sharding::Shard { job, index, of } => {
            let (recorded, info, status) = read_job::<B>(registry, spec.step, job)?;
            if info.count != *of || index >= of {
                return Err(StepError::InvalidSetting {
                    name: "shard".into(),
                    reason: format!(
                        "{index}/{of}: {} job {job} was planned in {} shards, numbered 0 to {}",
                        spec.step,
                        info.count,
                        info.count.saturating_sub(1)
                    ),
                });
            }
            if status == Some(Status::Completed) {
                let metadata = registry.metadata_by_name(spec.step, job.as_str())?.1;
                return Ok(StepOutcome {
                    job_id: job.clone(),
                    metadata,
                    failures: BTreeMap::new(),
                });
            }
            let hold = registry.lock_job(&shard_lock(spec.step, *index), job)?;
            let dir = shards_dir(registry, spec.step, job);
            let plan: CitekeyPlan = read_json(&dir.join("plan.json"))?;
            let path = shard_path(&dir, *index);
            let mut record: CitekeyShardRecord = if path.exists() {
                read_json(&path)?
            } else {
                CitekeyShardRecord {
                    job_id: job.to_string(),
                    shard: *index,
                    of: *of,
                    ..CitekeyShardRecord::default()
                }
            };
            record.status = Status::Running.as_str().to_owned();
            record.runs.push(ShardRun::start());
            write_json(&path, &record)?;
            if status != Some(Status::Running) {
                save(registry, spec.step, job, &recorded.reopened(), &info)?;
            }
            let started = Instant::now();
            let mut found = Vec::new();
            let mut failures = BTreeMap::new();
            for key in &plan.assignments[*index] {
                let k = Citekey::parse(key)?;
                let input = plan.inputs.get(key).map(|j| JobId::parse(j)).transpose()?;
                match lookup(&k, input.as_ref()) {
                    Ok(t) => found.push((k, t)),
                    Err(e) => {
                        failures.insert(key.clone(), e.to_string());
                    }
                }
            }
            let results = execute(found, &recorded.body, job).await;
            if !results.is_empty() {
                recto_registry::sync_filesystem(&output_of(&recorded.body))?;
            }
            record.results.clear();
            record.failures = failures;
            for (k, r) in results {
                match r {
                    Ok(e) => {
                        record.results.insert(
                            k.as_str().to_owned(),
                            serde_json::to_value(&e).expect("entries serialise"),
                        );
                    }
                    Err(why) => {
                        record.failures.insert(k.as_str().to_owned(), why);
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
            let ended = (0..*of).all(|i| {
                i == *index
                    || read_json::<CitekeyShardRecord>(&shard_path(&dir, i))
                        .is_ok_and(|r| r.status != Status::Running.as_str())
            });
            if ended {
                match merge(registry, &spec, job, &output_of, &summarise) {
                    Ok(out) => return Ok(out),
                    Err(e) => tracing::info!("job {job} not merged by shard {index}: {e}"),
                }
            }
            let metadata = registry.metadata_by_name(spec.step, job.as_str())?.1;
            Ok(StepOutcome {
                job_id: job.clone(),
                metadata,
                failures: record.failures.clone(),
            })
        }
        Sharding::Merge(job) => merge(registry, &spec, job, &output_of, &summarise),
    }
}

/// Plan a new job in `n` shards: each citekey's input fixed, the citekeys
/// cut into `n` runs of about equal count, the job recorded `running` with
/// `shards` and no process of its own.
fn plan<T, B: Serialize>(
    registry: &Registry,
    spec: &StepSpec<'_>,
    n: usize,
    running: B,
    lookup: impl Fn(&Citekey, Option<&JobId>) -> Result<T, StepError>,
    job_of: impl Fn(&T) -> &JobId,
) -> Result<StepOutcome, StepError> {
    if !(1..=10_000).contains(&n) {
        return Err(StepError::InvalidSetting {
            name: "shards".into(),
            reason: format!("{n} is outside 1..=10000"),
        });
    }
    let inputs = gather(registry, spec, &lookup, &job_of)?;
    let job = registry.new_job_id()?;
    let found: Vec<(String, String)> = inputs
        .found
        .iter()
        .map(|(k, t)| (k.as_str().to_owned(), job_of(t).to_string()))
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
        failures: inputs.failures.clone(),
        assignments,
    };
    let dir = shards_dir(registry, spec.step, &job);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    write_json(&dir.join("plan.json"), &plan)?;
    let list: Vec<String> = inputs.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let info = ShardsInfo {
        count: n,
        dir: rel(registry, &dir),
        ..ShardsInfo::default()
    };
    let meta = StepMetadata {
        status: Status::Running,
        source_job_id: inputs.source_job.as_ref().map(JobId::to_string),
        citekeys: Citekeys::new(list),
        body: running,
        failures: None,
        error: None,
        started_at: Some(plan.created_at.clone()),
        duration_seconds: None,
    };
    let metadata = save(registry, spec.step, &job, &meta, &info)?;
    Ok(StepOutcome {
        job_id: job,
        metadata,
        failures: BTreeMap::new(),
    })
}

/// The citekeys `spec` selects and each one's input.
fn gather<T>(
    registry: &Registry,
    spec: &StepSpec<'_>,
    lookup: impl Fn(&Citekey, Option<&JobId>) -> Result<T, StepError>,
    job_of: impl Fn(&T) -> &JobId,
) -> Result<harness::Inputs<T>, StepError> {
    harness::gather_inputs(
        registry,
        spec.selection,
        spec.input,
        spec.step,
        spec.input_job,
        spec.nothing,
        lookup,
        job_of,
    )
}

fn rel(registry: &Registry, dir: &Path) -> String {
    dir.strip_prefix(registry.data_dir())
        .unwrap_or(dir)
        .display()
        .to_string()
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

fn read_job<B: DeserializeOwned>(
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
fn merge<E, B>(
    registry: &Registry,
    spec: &StepSpec<'_>,
    job: &JobId,
    output_of: &impl Fn(&B) -> PathBuf,
    summarise: &impl Fn(
        &mut B,
        Vec<(Citekey, Result<E, String>)>,
        &mut BTreeMap<String, String>,
        &[String],
        f64,
    ) -> (Citekeys, Vec<Citekey>),
) -> Result<StepOutcome, StepError>
where
    E: DeserializeOwned,
    B: Serialize + DeserializeOwned + Clone,
{
    read_job::<B>(registry, spec.step, job)?;
    let _hold = wait_for_lock(registry, &format!("{}-finalize", spec.step), job)?;
    let (recorded, mut info, status) = read_job::<B>(registry, spec.step, job)?;
    if status == Some(Status::Completed) {
        let metadata = registry.metadata_by_name(spec.step, job.as_str())?.1;
        return Ok(StepOutcome {
            job_id: job.clone(),
            metadata,
            failures: BTreeMap::new(),
        });
    }
    let dir = shards_dir(registry, spec.step, job);
    let plan: CitekeyPlan = read_json(&dir.join("plan.json"))?;
    let mut results = Vec::new();
    let mut failures = plan.failures.clone();
    info.states.clear();
    for (i, keys) in plan.assignments.iter().enumerate() {
        let (state, record) = shard_state(registry, spec.step, job, &dir, i)?;
        if let ShardState::Running(holder) = state {
            return Err(StepError::ShardRunning {
                step: spec.step.to_owned(),
                job: job.clone(),
                shard: i,
                holder,
            });
        }
        let path = shard_path(&dir, i);
        for key in keys {
            let k = Citekey::parse(key)?;
            let done = record.as_ref().filter(|_| state != ShardState::Interrupted);
            if let Some(v) = done.and_then(|r| r.results.get(key)) {
                let entry: E = serde_json::from_value(v.clone()).map_err(|e| StepError::Input {
                    path: path.clone(),
                    reason: format!("{key}: {e}"),
                })?;
                results.push((k, Ok(entry)));
            } else if let Some(why) = done.and_then(|r| r.failures.get(key)) {
                results.push((k, Err(format!("shard {i}: {why}"))));
            } else {
                results.push((
                    k,
                    Err(format!(
                        "shard {i} ({state}) did not do it; run it again ({} --job-id {job} --shard {i}/{}), then --finalize {job}",
                        spec.step, plan.shards
                    )),
                ));
            }
        }
        info.states.insert(i.to_string(), state.to_string());
    }
    let mut body = recorded.body.clone();
    let seconds = (unix_now() - plan.created_unix).max(0.0);
    let (citekeys, done) = summarise(
        &mut body,
        results,
        &mut failures,
        &recorded.citekeys.list,
        seconds,
    );
    let output = output_of(&body);
    if !done.is_empty() {
        recto_registry::sync_filesystem(&output)?;
    }
    let meta = StepMetadata {
        status: Status::ended(failures.is_empty()),
        source_job_id: recorded.source_job_id.clone(),
        citekeys,
        body,
        failures: Some(failures.clone()),
        error: None,
        started_at: recorded.started_at.clone(),
        duration_seconds: Some((seconds * 1000.0).round() / 1000.0),
    };
    let metadata = save(registry, spec.step, job, &meta, &info)?;
    for k in &done {
        if let Err(e) = harness::point_current(&output, k, job) {
            tracing::warn!("{k}: could not update its current link: {e}");
        }
    }
    Ok(StepOutcome {
        job_id: job.clone(),
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
    let Ok((_, _, _)) = read_job::<Value>(registry, step, job) else {
        return Ok(None);
    };
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
