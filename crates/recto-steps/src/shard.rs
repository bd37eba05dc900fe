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

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_ocr::{DocReport, DocTask, Mode, PageOutcome};
use recto_registry::{Citekey, JobId, Registry, Status, StepName, now_timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::StepError;
use crate::harness::{self, Citekeys, Step, StepMetadata};
use crate::ocr::{self, Ocr, OcrBody, OcrOutcome, OcrRequest, OcrRunning, Plan, round2};
use crate::progress::Progress;
pub use crate::sharding::{ShardRun, ShardState, ShardsInfo, SlurmIds};
use crate::sharding::{read_json, shard_path, unix_now, wait_for_lock, write_json};

/// Seconds a page costs in the plan's balance: OCR (measured on the corpus,
/// docs/benchmarks.md) and a text-layer page.
const OCR_PAGE_SECONDS: f64 = 1.6;
const TEXT_LAYER_PAGE_SECONDS: f64 = 0.01;

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

fn shard_lock(shard: usize) -> String {
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

/// Cut the pages (in citekey order, each with its cost) into chunks of
/// consecutive pages, about `50 n` of them, and deal each chunk to the
/// shard with the least cost so far: shards then differ by at most one
/// chunk, 2% of a shard (or one page, on small jobs), and a plan of 10
/// million pages over 1,000 shards has 50,000 slices. Consecutive pages keep a shard on few
/// documents; many chunks average out what the estimate cannot see (a dense
/// page costs twice a sparse one). Every shard derives the same cut from
/// the same plan.
pub fn balance(costs: &[(String, Vec<f64>)], n: usize) -> Vec<Vec<Slice>> {
    let total: f64 = costs.iter().flat_map(|(_, c)| c).sum();
    let target = total / (50 * n) as f64;
    let mut out: Vec<Vec<Slice>> = vec![Vec::new(); n];
    let mut load = vec![0.0f64; n];
    let mut chunk: Vec<Slice> = Vec::new();
    let mut chunk_cost = 0.0;
    let mut deal = |chunk: &mut Vec<Slice>, cost: &mut f64, out: &mut Vec<Vec<Slice>>| {
        if chunk.is_empty() {
            return;
        }
        let shard = (0..n)
            .min_by(|a, b| load[*a].total_cmp(&load[*b]).then(a.cmp(b)))
            .expect("n >= 1");
        load[shard] += *cost;
        for s in chunk.drain(..) {
            match out[shard].last_mut() {
                Some(last) if last.citekey == s.citekey && last.last + 1 == s.first => {
                    last.last = s.last;
                }
                _ => out[shard].push(s),
            }
        }
        *cost = 0.0;
    };
    for (key, pages) in costs {
        for (i, cost) in pages.iter().enumerate() {
            let page = i + 1;
            match chunk.last_mut() {
                Some(s) if s.citekey == *key && s.last + 1 == page => s.last = page,
                _ => chunk.push(Slice {
                    citekey: key.clone(),
                    first: page,
                    last: page,
                }),
            }
            chunk_cost += cost;
            if chunk_cost >= target {
                deal(&mut chunk, &mut chunk_cost, &mut out);
            }
        }
    }
    deal(&mut chunk, &mut chunk_cost, &mut out);
    out
}

/// A new sharded job: its record (`running`, no process of its own) and
/// its plan. `req` selects citekeys and settings as for `recto ocr`.
pub async fn plan_sharded(
    registry: &Registry,
    req: &OcrRequest,
    shards: usize,
) -> Result<(JobId, ShardPlan), StepError> {
    if !(1..=10_000).contains(&shards) {
        return Err(StepError::InvalidSetting {
            name: "shards".into(),
            reason: format!("{shards} is outside 1..=10000"),
        });
    }
    let plan = match ocr::plan(registry, req)? {
        Ok(p) => p,
        Err(_) => {
            return Err(StepError::InvalidSetting {
                name: "resume".into(),
                reason: "a sharded job is planned anew; resume a shard with --job-id and --shard"
                    .into(),
            });
        }
    };
    let engine = ocr::engine_config(&plan.settings, req.workers);
    recto_ocr::validate_languages(&engine)?;
    let stores = ocr::open_stores(&plan, req.store.as_ref())?;
    let job = registry.new_job_id()?;
    let keys: Vec<&Citekey> = plan.keys.iter().collect();
    let (tasks, failures, dups) = ocr::fetch_sources(
        &plan,
        &stores,
        &keys,
        &req.cache_dir,
        &job,
        req.password.as_deref(),
    )
    .await;
    let mut documents = Vec::new();
    let mut costs = Vec::new();
    let mut unopened = Vec::new();
    let tasks: BTreeMap<&str, &DocTask> = tasks.iter().map(|t| (t.citekey.as_str(), t)).collect();
    for k in &plan.keys {
        let key = k.as_str();
        if let Some((_, first)) = dups.iter().find(|(d, _)| d == k) {
            documents.push(PlannedDoc {
                citekey: key.to_owned(),
                pages: 0,
                ocr_pages: 0,
                same_as: Some(first.as_str().to_owned()),
                note: None,
            });
            continue;
        }
        let layers = match tasks.get(key) {
            Some(t) => recto_ocr::text_layer_pages(&t.pdf, req.password.as_deref())
                .map_err(|e| e.to_string()),
            None => Err(failures.get(key).cloned().unwrap_or_default()),
        };
        match layers {
            Ok(layers) => {
                let page_costs: Vec<f64> = layers
                    .iter()
                    .map(|usable| match (plan.settings.mode, usable) {
                        (Mode::TextLayerOnly, _) | (Mode::Auto, true) => TEXT_LAYER_PAGE_SECONDS,
                        _ => OCR_PAGE_SECONDS,
                    })
                    .collect();
                documents.push(PlannedDoc {
                    citekey: key.to_owned(),
                    pages: layers.len(),
                    ocr_pages: page_costs
                        .iter()
                        .filter(|c| **c == OCR_PAGE_SECONDS)
                        .count(),
                    same_as: None,
                    note: None,
                });
                costs.push((key.to_owned(), page_costs));
            }
            Err(why) => {
                tracing::warn!("{key}: {why} (its shard tries again)");
                documents.push(PlannedDoc {
                    citekey: key.to_owned(),
                    pages: 0,
                    ocr_pages: 0,
                    same_as: None,
                    note: Some(why),
                });
                unopened.push(key.to_owned());
            }
        }
    }
    let cut = balance(&costs, shards);
    let cost_of = |slices: &[Slice]| -> f64 {
        slices
            .iter()
            .map(|s| {
                let c = &costs
                    .iter()
                    .find(|(k, _)| *k == s.citekey)
                    .expect("planned")
                    .1;
                c[s.first - 1..s.last].iter().sum::<f64>()
            })
            .sum()
    };
    let mut assignments: Vec<PlannedShard> = cut
        .into_iter()
        .enumerate()
        .map(|(i, slices)| PlannedShard {
            shard: i,
            pages: slices.iter().map(|s| s.last - s.first + 1).sum(),
            estimated_seconds: round2(cost_of(&slices)),
            slices,
        })
        .collect();
    // A document the planner could not open goes whole to the least
    // loaded shard, which fetches and opens it again (and fails it, naming
    // itself, if it still cannot).
    for key in unopened {
        let s = assignments
            .iter_mut()
            .min_by(|a, b| a.estimated_seconds.total_cmp(&b.estimated_seconds))
            .expect("at least one shard");
        s.slices.push(Slice {
            citekey: key,
            first: 1,
            last: 0,
        });
    }
    let shard_plan = ShardPlan {
        job_id: job.to_string(),
        shards,
        created_at: now_timestamp(),
        created_unix: unix_now(),
        documents,
        assignments,
    };
    let dir = shards_dir(registry, &job);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    // The plan before the record: a shard that sees the job finds its plan.
    write_json(&dir.join("plan.json"), &shard_plan)?;
    let mut settings = plan.settings.clone();
    settings.workers = engine.workers;
    let running = running_body(&plan, settings, registry, &job, shards, None);
    let list: Vec<String> = plan.keys.iter().map(|k| k.as_str().to_owned()).collect();
    save_job(
        registry,
        &job,
        &StepMetadata {
            status: Status::Running,
            source_job_id: Some(plan.source_job.to_string()),
            citekeys: Citekeys::new(list),
            body: running,
            failures: None,
            error: None,
            started_at: Some(shard_plan.created_at.clone()),
            duration_seconds: None,
        },
    )?;
    Ok((job, shard_plan))
}

fn running_body(
    plan: &Plan,
    settings: ocr::OcrSettings,
    registry: &Registry,
    job: &JobId,
    count: usize,
    previous: Option<ShardsInfo>,
) -> OcrRunning {
    let sources: BTreeMap<String, String> = plan
        .sources
        .iter()
        .map(|(k, j)| (k.clone(), j.to_string()))
        .collect();
    let ids: Vec<String> = plan.source_metas.keys().map(|j| j.to_string()).collect();
    let dir = shards_dir(registry, job);
    let dir = dir
        .strip_prefix(registry.data_dir())
        .unwrap_or(&dir)
        .display()
        .to_string();
    OcrRunning {
        config: settings,
        output_dir: plan.output.display().to_string(),
        sources,
        source_job_ids: if ids.len() > 1 { ids } else { Vec::new() },
        citekey_languages: plan.languages.clone(),
        shards: Some(ShardsInfo {
            count,
            dir,
            ..previous.unwrap_or_default()
        }),
    }
}

fn save_job<B: Serialize>(
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
fn read_job(
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

fn job_plan(
    registry: &Registry,
    job: &JobId,
    recorded: &StepMetadata<OcrRunning>,
) -> Result<Plan, StepError> {
    let source_job = recorded
        .source_job_id
        .as_deref()
        .map(JobId::parse)
        .transpose()?
        .ok_or_else(|| StepError::BadRecord {
            step: Ocr::NAME.into(),
            job: job.clone(),
            reason: "no source_job_id".into(),
        })?;
    ocr::recorded_plan(registry, job, recorded, source_job)
}

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
    let dir = shards_dir(registry, job);
    let path = shard_path(&dir, shard);
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
    let engine = ocr::engine_config(&plan.settings, req.workers);
    let slices = &shard_plan.assignments[shard].slices;
    let mut lang_failures = ocr::language_failures(&plan, &engine);
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
    let stores = ocr::open_stores(&plan, req.store.as_ref())?;
    let (mut tasks, mut fetch_failures, _) = ocr::fetch_sources(
        &plan,
        &stores,
        &todo,
        &req.cache_dir,
        job,
        req.password.as_deref(),
    )
    .await;
    fetch_failures.extend(lang_failures);
    for t in &mut tasks {
        t.pages = Some(
            slices
                .iter()
                .filter(|s| s.citekey == t.citekey)
                .map(|s| (s.first, if s.last == 0 { usize::MAX } else { s.last }))
                .collect(),
        );
    }
    let observer = ocr::Observer(progress);
    let reports = tokio::task::block_in_place(|| recto_ocr::run(&tasks, &engine, &observer));
    progress.end();
    // Pages durable before the shard's record says they are done.
    if !tasks.is_empty()
        && let Err(e) = recto_registry::sync_filesystem(&plan.output)
    {
        record.status = Status::Failed.as_str().to_owned();
        record.error = Some(e.to_string());
        write_json(&path, &record)?;
        return Err(e.into());
    }
    record.per_citekey.clear();
    let run = record.runs.last_mut().expect("pushed");
    for key in &keys {
        let key = key.as_str();
        let mut doc = ShardDoc {
            slices: slices
                .iter()
                .filter(|s| s.citekey == key)
                .map(|s| [s.first, s.last])
                .collect(),
            error: fetch_failures.get(key).cloned(),
            ..ShardDoc::default()
        };
        if let Some(r) = reports.iter().find(|r| r.citekey == key) {
            doc.error = r.error.clone();
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
                        doc.page_failures.insert(p.page.to_string(), why.clone());
                    }
                }
            }
        }
        run.done += doc.done;
        run.resumed += doc.resumed;
        run.failed += doc.page_failures.len() + usize::from(doc.error.is_some());
        record.per_citekey.insert(key.to_owned(), doc);
    }
    run.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    run.ended_at = Some(now_timestamp());
    let failed = run.failed > 0;
    record.status = Status::ended(!failed).as_str().to_owned();
    write_json(&path, &record)?;
    drop(hold);

    // The last shard to end merges the job (another process doing the
    // same at the same moment is harmless: one waits, then finds it done).
    let mut finalized = None;
    let ended = (0..of).all(|i| {
        i == shard
            || read_shard(registry, job, i)
                .ok()
                .flatten()
                .is_some_and(|r| r.status != Status::Running.as_str())
    });
    if ended {
        match finalize(registry, job).await {
            Ok(o) => finalized = Some(Box::new(o)),
            Err(e) => tracing::info!("job {job} not merged by shard {shard}: {e}"),
        }
    }
    Ok(ShardOutcome {
        job_id: job.clone(),
        record,
        finalized,
    })
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

/// Merge a sharded job's shards into its record.
pub async fn finalize(registry: &Registry, job: &JobId) -> Result<OcrOutcome, StepError> {
    read_job(registry, job)?;
    let _hold = tokio::task::block_in_place(|| wait_for_lock(registry, "ocr-finalize", job))?;
    let (recorded, info, status) = read_job(registry, job)?;
    if status == Some(Status::Completed) {
        return Ok(OcrOutcome::AlreadyCompleted {
            job_id: job.clone(),
        });
    }
    let shard_plan = read_plan(registry, job)?;
    let mut states = BTreeMap::new();
    let mut records = Vec::new();
    for i in 0..info.count {
        let (state, record) = shard_state(registry, job, i)?;
        if let ShardState::Running(holder) = state {
            return Err(StepError::ShardRunning {
                step: Ocr::NAME.to_owned(),
                job: job.clone(),
                shard: i,
                holder,
            });
        }
        states.insert(i.to_string(), state.to_string());
        records.push(record);
    }
    let plan = job_plan(registry, job, &recorded)?;
    let engine = ocr::engine_config(&plan.settings, None);
    // Who had each page, for the messages.
    let owner = |key: &str, page: usize| -> Option<usize> {
        shard_plan.assignments.iter().position(|a| {
            a.slices
                .iter()
                .any(|s| s.citekey == key && s.first <= page && (s.last == 0 || page <= s.last))
        })
    };
    let mut reports = Vec::new();
    let mut not_done: BTreeMap<String, BTreeMap<usize, Vec<usize>>> = BTreeMap::new();
    let mut dups = Vec::new();
    for doc in &shard_plan.documents {
        let key = Citekey::parse(&doc.citekey)?;
        if let Some(first) = &doc.same_as {
            dups.push((key, Citekey::parse(first)?));
            continue;
        }
        let task = DocTask {
            citekey: doc.citekey.clone(),
            pdf: PathBuf::new(),
            password: None,
            out_dir: harness::output_dir(&plan.output, &key, job),
            languages: plan.languages.get(&doc.citekey).cloned(),
            pages: None,
        };
        // What the shards said of this document.
        let said: Vec<(usize, &ShardDoc)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.as_ref()?.per_citekey.get(&doc.citekey)?)))
            .collect();
        let error = said
            .iter()
            .find_map(|(i, d)| d.error.as_ref().map(|e| format!("shard {i}: {e}")));
        let pages = if doc.pages == 0 {
            said.iter()
                .flat_map(|(_, d)| d.slices.iter().map(|s| s[1]))
                .max()
                .unwrap_or(0)
        } else {
            doc.pages
        };
        let mut report = DocReport {
            citekey: doc.citekey.clone(),
            page_count: pages,
            error: error.clone(),
            pages: Vec::new(),
            fulltext: None,
        };
        if pages == 0 && error.is_none() {
            let shard = owner(&doc.citekey, 1).unwrap_or(0);
            report.error = Some(format!(
                "shard {shard} ({}) did not read it",
                states.get(&shard.to_string()).map_or("?", String::as_str)
            ));
        }
        if report.error.is_none() {
            for p in 1..=pages {
                let result = match recto_ocr::completed_page(&task, p, &engine) {
                    Some(summary) => Ok(summary),
                    None => {
                        let shard = owner(&doc.citekey, p);
                        let failed = said
                            .iter()
                            .find_map(|(_, d)| d.page_failures.get(&p.to_string()));
                        match (failed, shard) {
                            (Some(why), Some(s)) => Err(format!("shard {s}: {why}")),
                            (Some(why), None) => Err(why.clone()),
                            (None, s) => {
                                let s = s.unwrap_or(0);
                                not_done
                                    .entry(doc.citekey.clone())
                                    .or_default()
                                    .entry(s)
                                    .or_default()
                                    .push(p);
                                Err(format!(
                                    "not done: shard {s} {}",
                                    states.get(&s.to_string()).map_or("?", String::as_str)
                                ))
                            }
                        }
                    }
                };
                report.pages.push(PageOutcome { page: p, result });
            }
            match recto_ocr::write_fulltext(&task, pages) {
                Ok(path) => report.fulltext = Some(path),
                Err(e) => report.error = Some(e),
            }
        }
        reports.push(report);
    }
    if let Err(e) = recto_registry::sync_filesystem(&plan.output) {
        return Err(e.into());
    }
    let mut failures = BTreeMap::new();
    let store_url = ocr::open_stores(&plan, None)
        .ok()
        .and_then(|s| s.values().next().map(recto_store::Store::url));
    let seconds = round2((unix_now() - shard_plan.created_unix).max(0.0));
    let previous = recorded.body.shards.clone();
    let mut running = running_body(
        &plan,
        recorded.body.config.clone(),
        registry,
        job,
        info.count,
        previous,
    );
    if let Some(s) = running.shards.as_mut() {
        s.states = states.clone();
    }
    let mut body: OcrBody = ocr::summarise(
        &plan,
        &reports,
        &mut failures,
        running,
        store_url,
        job,
        seconds,
    );
    ocr::link_duplicates(&plan, job, &dups, &mut body, &mut failures);
    body.pages.resumed = records
        .iter()
        .flatten()
        .flat_map(|r| &r.runs)
        .map(|r| r.resumed)
        .sum();
    // Pages no shard did: say which shard, and how to finish.
    for (key, by_shard) in &not_done {
        let parts: Vec<String> = by_shard
            .iter()
            .map(|(s, pages)| {
                format!(
                    "shard {s} ({}) did not do {} of its pages",
                    states.get(&s.to_string()).map_or("?", String::as_str),
                    pages.len()
                )
            })
            .collect();
        let first = by_shard.keys().next().copied().unwrap_or(0);
        failures.insert(
            key.clone(),
            format!(
                "{}; run it again (recto ocr --job-id {job} --shard {first}/{}), then recto ocr --finalize {job}",
                parts.join(", "),
                info.count
            ),
        );
    }
    let list = recorded.citekeys.list.clone();
    let successful = list.len() - failures.len();
    let citekeys = Citekeys::new(list)
        .count("successful", successful)
        .count("failed", failures.len());
    let done: Vec<Citekey> = plan
        .keys
        .iter()
        .filter(|k| !failures.contains_key(k.as_str()))
        .cloned()
        .collect();
    let status = Status::ended(failures.is_empty());
    save_job(
        registry,
        job,
        &StepMetadata {
            status,
            source_job_id: recorded.source_job_id.clone(),
            citekeys,
            body: &body,
            failures: Some(failures.clone()),
            error: None,
            started_at: recorded.started_at.clone(),
            duration_seconds: Some(seconds),
        },
    )?;
    for k in &done {
        if let Err(e) = harness::point_current(&plan.output, k, job) {
            tracing::warn!("{k}: could not update its current link: {e}");
        }
    }
    let metadata = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    Ok(OcrOutcome::Ran {
        job_id: job.clone(),
        metadata,
        failures,
    })
}

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
    let output = PathBuf::from(&recorded.body.output_dir);
    let queue = info
        .slurm
        .as_ref()
        .map(|s| crate::slurm::task_states(&s.array_job_id))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_deals_runs_of_pages_of_equal_cost() {
        // 10 scanned pages, then 100 text-layer pages, then 10 scanned.
        let costs = vec![
            ("a".to_owned(), vec![OCR_PAGE_SECONDS; 10]),
            ("b".to_owned(), vec![TEXT_LAYER_PAGE_SECONDS; 100]),
            ("c".to_owned(), vec![OCR_PAGE_SECONDS; 10]),
        ];
        let cut = balance(&costs, 2);
        let cost = |slices: &[Slice]| -> f64 {
            slices
                .iter()
                .map(|s| {
                    let c = &costs.iter().find(|(k, _)| *k == s.citekey).unwrap().1;
                    c[s.first - 1..s.last].iter().sum::<f64>()
                })
                .sum()
        };
        let (a, b) = (cost(&cut[0]), cost(&cut[1]));
        assert!((a - b).abs() <= OCR_PAGE_SECONDS, "{a} vs {b}");
        // Every page exactly once.
        let mut seen: Vec<(String, usize)> = Vec::new();
        for s in cut.iter().flatten() {
            for p in s.first..=s.last {
                seen.push((s.citekey.clone(), p));
            }
        }
        let mut want = Vec::new();
        for (k, c) in &costs {
            for p in 1..=c.len() {
                want.push((k.clone(), p));
            }
        }
        seen.sort();
        want.sort();
        assert_eq!(seen, want);
        // The same cut every time, and more shards than pages leaves some
        // empty rather than splitting a page.
        assert_eq!(balance(&costs, 2), cut);
        let many = balance(&[("a".to_owned(), vec![1.0; 3])], 5);
        assert_eq!(many.len(), 5);
        assert_eq!(many.iter().map(Vec::len).sum::<usize>(), 3);
    }
}
