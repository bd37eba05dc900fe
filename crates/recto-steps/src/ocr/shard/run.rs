//! [`run_shard`]: one shard's pages, skipping those complete on disk;
//! the last shard to end merges the job.

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_ocr::{DocReport, DocTask};
use recto_registry::{Citekey, JobId, Registry, Status, now_timestamp};

use super::merge::finalize;
use super::record::{
    ShardDoc, ShardOutcome, ShardRecord, Slice, job_plan, read_job, read_plan, read_shard,
    save_job, shard_lock, shards_dir,
};
use crate::StepError;
use crate::ocr::engine::{engine_config, language_failures, open_stores};
use crate::ocr::plan::Plan;
use crate::ocr::sources::fetch_sources;
use crate::ocr::summary::Observer;
use crate::ocr::types::OcrOutcome;
use crate::progress::Progress;
pub use crate::sharding::ShardRun;
use crate::sharding::{shard_path, write_json};

/// How to run a shard.
#[derive(Debug, Clone, Default)]
pub struct ShardRequest {
    pub workers: Option<usize>,
    pub password: Option<String>,
    pub store: Option<recto_store::StoreConfig>,
    pub cache_dir: PathBuf,
}

/// Run shard `shard` (0-based) of the `of` shards of `job`.
pub async fn run_shard(
    registry: &Registry,
    job: &JobId,
    shard: usize,
    of: usize,
    req: &ShardRequest,
    progress: &dyn Progress,
) -> Result<ShardOutcome, StepError> {
    let (recorded, info, status) = read_job(registry, job)?;
    if info.count != of || shard >= of {
        return Err(StepError::InvalidSetting {
            name: "shard".into(),
            reason: format!(
                "{shard}/{of}: job {job} was planned in {} shards, numbered 0 to {}",
                info.count,
                info.count.saturating_sub(1)
            ),
        });
    }
    if status == Some(Status::Completed) {
        tracing::info!("job {job} is already completed; shard {shard} has nothing to do");
        return Ok(ShardOutcome {
            job_id: job.clone(),
            record: read_shard(registry, job, shard)?.unwrap_or_default(),
            finalized: None,
        });
    }
    let hold = registry.lock_job(&shard_lock(shard), job)?;
    let shard_plan = read_plan(registry, job)?;
    let path = shard_path(&shards_dir(registry, job), shard);
    let mut record = read_shard(registry, job, shard)?.unwrap_or_else(|| ShardRecord {
        job_id: job.to_string(),
        shard,
        of,
        ..ShardRecord::default()
    });
    let started = std::time::Instant::now();
    record.status = Status::Running.as_str().to_owned();
    record.error = None;
    record.runs.push(ShardRun::start());
    write_json(&path, &record)?;
    // A job merged while this shard was away (cancelled, then sent again)
    // runs again until the next merge.
    if status != Some(Status::Running) {
        save_job(registry, job, &recorded.reopened())?;
    }

    let plan = job_plan(registry, job, &recorded)?;
    let engine = engine_config(&plan.settings, req.workers);
    let slices = &shard_plan.assignments[shard].slices;
    let work = shard_tasks(&plan, &engine, slices, req, job).await?;
    // Waits for the engine's threads in place; see `run_ocr` for why.
    let reports = recto_ocr::run(&work.tasks, &engine, &Observer(progress));
    progress.end();
    // Pages durable before the shard's record says they are done.
    if !work.tasks.is_empty()
        && let Err(e) = recto_registry::sync_filesystem(&plan.output)
    {
        record.status = Status::Failed.as_str().to_owned();
        record.error = Some(e.to_string());
        write_json(&path, &record)?;
        return Err(e.into());
    }
    record_results(&mut record, &work, slices, &reports);
    let run = record.runs.last_mut().expect("pushed");
    run.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    run.ended_at = Some(now_timestamp());
    let failed = run.failed > 0;
    record.status = Status::ended(!failed).as_str().to_owned();
    write_json(&path, &record)?;
    drop(hold);
    Ok(ShardOutcome {
        job_id: job.clone(),
        record,
        finalized: merge_if_last(registry, job, shard, of).await,
    })
}

/// A shard's work: its citekeys, the documents fetched with the pages of
/// its slices, and the citekeys that failed before any page.
struct ShardWork {
    keys: Vec<Citekey>,
    tasks: Vec<DocTask>,
    failures: BTreeMap<String, String>,
}

/// Fetch the sources of the shard's slices (a citekey whose languages are
/// not installed fails here, without a fetch).
async fn shard_tasks(
    plan: &Plan,
    engine: &recto_ocr::OcrConfig,
    slices: &[Slice],
    req: &ShardRequest,
    job: &JobId,
) -> Result<ShardWork, StepError> {
    let mut lang_failures = language_failures(plan, engine);
    let mut keys: Vec<Citekey> = Vec::new();
    for s in slices {
        let k = Citekey::parse(&s.citekey)?;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    lang_failures.retain(|k, _| keys.iter().any(|c| c.as_str() == k));
    let todo: Vec<&Citekey> = keys
        .iter()
        .filter(|k| !lang_failures.contains_key(k.as_str()))
        .collect();
    let stores = open_stores(plan, req.store.as_ref())?;
    let (mut tasks, mut failures, _) = fetch_sources(
        plan,
        &stores,
        &todo,
        &req.cache_dir,
        job,
        req.password.as_deref(),
    )
    .await;
    failures.extend(lang_failures);
    for t in &mut tasks {
        t.pages = Some(
            slices
                .iter()
                .filter(|s| s.citekey == t.citekey)
                .map(|s| (s.first, if s.last == 0 { usize::MAX } else { s.last }))
                .collect(),
        );
    }
    Ok(ShardWork {
        keys,
        tasks,
        failures,
    })
}

/// Each citekey's pages done, resumed and failed into the shard's record
/// and its last run.
fn record_results(
    record: &mut ShardRecord,
    work: &ShardWork,
    slices: &[Slice],
    reports: &[DocReport],
) {
    record.per_citekey.clear();
    let run = record.runs.last_mut().expect("pushed");
    for key in &work.keys {
        let key = key.as_str();
        let mut doc = ShardDoc {
            slices: slices
                .iter()
                .filter(|s| s.citekey == key)
                .map(|s| [s.first, s.last])
                .collect(),
            error: work.failures.get(key).cloned(),
            ..ShardDoc::default()
        };
        if let Some(r) = reports.iter().find(|r| r.citekey == key) {
            doc.error = r.error.as_ref().map(ToString::to_string);
            for s in &mut doc.slices {
                if s[1] == 0 {
                    s[1] = r.page_count;
                }
            }
            for p in &r.pages {
                match &p.result {
                    Ok(sum) if sum.resumed => doc.resumed += 1,
                    Ok(_) => doc.done += 1,
                    Err(why) => {
                        doc.page_failures
                            .insert(p.page.to_string(), why.to_string());
                    }
                }
            }
        }
        run.done += doc.done;
        run.resumed += doc.resumed;
        run.failed += doc.page_failures.len() + usize::from(doc.error.is_some());
        record.per_citekey.insert(key.to_owned(), doc);
    }
}

/// The last shard to end merges the job (another process doing the same
/// at the same moment is harmless: one waits, then finds it done).
async fn merge_if_last(
    registry: &Registry,
    job: &JobId,
    shard: usize,
    of: usize,
) -> Option<Box<OcrOutcome>> {
    let ended = (0..of).all(|i| {
        i == shard
            || read_shard(registry, job, i)
                .ok()
                .flatten()
                .is_some_and(|r| r.status != Status::Running.as_str())
    });
    if !ended {
        return None;
    }
    match finalize(registry, job).await {
        Ok(o) => Some(Box::new(o)),
        Err(e) => {
            tracing::info!("job {job} not merged by shard {shard}: {e}");
            None
        }
    }
}
