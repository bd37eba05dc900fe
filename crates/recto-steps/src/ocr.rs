//! The OCR step: find the source upload, fetch and verify each PDF from its
//! store, run the page engine, record `analytics/ocr/job_metadata/<job>.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use recto_ocr::{DocTask, OcrConfig, PageObserver};
use recto_registry::{Citekey, JobId, Registry, StepName, now_timestamp};
use recto_store::{Store, StoreConfig};
use serde_json::{Map, Value, json};

use crate::StepError;
use crate::progress::Progress;
use recto_store::error_chain;

#[derive(Debug, Clone)]
pub struct OcrRequest {
    pub citekeys: Vec<String>,
    pub source_job_id: Option<JobId>,
    /// `data/analytics/ocr` by default; pages go to `<output>/<citekey>/<job>/`.
    pub output: PathBuf,
    /// Continue this job instead of starting a new one.
    pub resume: Option<JobId>,
    pub password: Option<String>,
    pub engine: OcrConfig,
    /// Read sources from this store instead of the one the upload recorded.
    pub store: Option<StoreConfig>,
    /// Where to keep fetched source PDFs (content-addressed).
    pub cache_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct OcrOutcome {
    pub job_id: JobId,
    pub metadata: Map<String, Value>,
    pub failures: BTreeMap<String, String>,
}

fn ocr_step() -> StepName {
    StepName::parse("ocr").expect("valid")
}

/// Run the OCR step.
pub async fn run_ocr(
    registry: &Registry,
    mut req: OcrRequest,
    progress: &dyn Progress,
) -> Result<OcrOutcome, StepError> {
    let started = Instant::now();
    let started_at = now_timestamp();
    // Resume: the job's own citekeys and source unless given again.
    let resumed_meta = match &req.resume {
        Some(job) => Some(registry.get_step_metadata(&ocr_step(), job)?),
        None => None,
    };
    if let Some(meta) = &resumed_meta {
        if req.citekeys.is_empty() {
            req.citekeys = meta
                .get("citekeys")
                .and_then(|c| c.get("list"))
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
        }
        if req.source_job_id.is_none() {
            req.source_job_id = meta
                .get("source_job_id")
                .and_then(Value::as_str)
                .and_then(|s| JobId::parse(s).ok());
        }
    }
    if req.citekeys.is_empty() {
        return Err(StepError::NoInput(
            "no citekeys given (--citekeys KEY[,KEY...])".into(),
        ));
    }
    let keys: Vec<Citekey> = req
        .citekeys
        .iter()
        .map(|k| Citekey::parse(k))
        .collect::<Result<_, _>>()?;
    recto_ocr::validate_languages(&req.engine).map_err(|e| StepError::Input {
        path: PathBuf::from("--lang"),
        reason: e.to_string(),
    })?;

    let (source_job, source_meta) = find_source(registry, &keys, req.source_job_id.as_ref())?;
    let store = match &req.store {
        Some(cfg) => Store::open(cfg, Path::new("."))?,
        None => Store::open(&recorded_store(&source_meta, &source_job)?, Path::new("."))?,
    };

    let job = match &req.resume {
        Some(j) => j.clone(),
        None => registry.new_job_id()?,
    };
    let key_list: Vec<&str> = keys.iter().map(Citekey::as_str).collect();
    let config = json!({
        "dpi": req.engine.dpi,
        "image_dpi": req.engine.image_dpi,
        "languages": req.engine.languages,
        "mode": req.engine.mode,
        "jobs": req.engine.workers,
        "page_timeout_seconds": req.engine.page_timeout.map(|d| d.as_secs()),
        "detect_rotation": req.engine.detect_rotation,
        "engines": {"tesseract": recto_ocr::tess::version(), "mupdf": recto_ocr::render::MUPDF_VERSION},
    });
    registry.save_step_metadata(
        &ocr_step(),
        &job,
        json!({
            "status": "running",
            "source_job_id": source_job.as_str(),
            "citekeys": {"total": keys.len(), "successful": 0, "failed": 0, "list": key_list},
            "config": config,
            "output_dir": req.output.display().to_string(),
            "started_at": resumed_meta.as_ref().and_then(|m| m.get("started_at")).cloned().unwrap_or(started_at.clone().into()),
        }),
    )?;

    // Fetch and verify each source; a failure here fails that citekey only.
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut tasks = Vec::new();
    for k in &keys {
        match fetch_source(&store, &source_meta, k, &req.cache_dir).await {
            Ok(pdf) => tasks.push(DocTask {
                citekey: k.as_str().to_owned(),
                pdf,
                password: req.password.clone(),
                out_dir: req.output.join(k.file_stem()).join(job.as_str()),
            }),
            Err(why) => {
                failures.insert(k.as_str().to_owned(), why);
            }
        }
    }

    let engine = req.engine.clone();
    let observer = Observer(progress);
    let reports = tokio::task::block_in_place(|| recto_ocr::run(&tasks, &engine, &observer));
    progress.end();

    let mut pages_total = 0;
    let (mut text_layer, mut ocr, mut failed, mut resumed) = (0, 0, 0, 0);
    let mut page_failures: Map<String, Value> = Map::new();
    let mut per_key: Map<String, Value> = Map::new();
    for r in &reports {
        pages_total += r.page_count;
        let mut pf = Map::new();
        let (mut tl, mut oc, mut confs) = (0, 0, Vec::new());
        for p in &r.pages {
            match &p.result {
                Ok(s) => {
                    match s.source {
                        recto_ocr::page::TextSource::TextLayer => tl += 1,
                        recto_ocr::page::TextSource::Ocr => oc += 1,
                    }
                    resumed += usize::from(s.resumed);
                    confs.extend(s.mean_confidence);
                }
                Err(why) => {
                    pf.insert(p.page.to_string(), why.clone().into());
                }
            }
        }
        text_layer += tl;
        ocr += oc;
        failed += pf.len();
        if let Some(e) = &r.error {
            failures.insert(r.citekey.clone(), e.clone());
        } else if !pf.is_empty() {
            failures.insert(
                r.citekey.clone(),
                format!("{} of {} pages failed", pf.len(), r.page_count),
            );
            page_failures.insert(r.citekey.clone(), Value::Object(pf));
        }
        let mean = if confs.is_empty() {
            Value::Null
        } else {
            json!(round2(confs.iter().sum::<f32>() / confs.len() as f32))
        };
        per_key.insert(
            r.citekey.clone(),
            json!({"pages": r.page_count, "text_layer": tl, "ocr": oc, "mean_confidence": mean,
                   "dir": req.output.join(Citekey::parse(&r.citekey).map(|c| c.file_stem()).unwrap_or_default()).join(job.as_str()).display().to_string()}),
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let successful: Vec<&str> = key_list
        .iter()
        .copied()
        .filter(|k| !failures.contains_key(*k))
        .collect();
    let status = if failures.is_empty() {
        "completed"
    } else {
        "failed"
    };
    let meta = json!({
        "status": status,
        "source_job_id": source_job.as_str(),
        "citekeys": {"total": keys.len(), "successful": successful.len(), "failed": failures.len(), "list": key_list},
        "pages": {"total": pages_total, "text_layer": text_layer, "ocr": ocr, "failed": failed, "resumed": resumed},
        "config": config,
        "failures": failures,
        "page_failures": page_failures,
        "per_citekey": per_key,
        "output_dir": req.output.display().to_string(),
        "source_store": store.url(),
        "started_at": resumed_meta.as_ref().and_then(|m| m.get("started_at")).cloned().unwrap_or(started_at.into()),
        "duration_seconds": (seconds * 100.0).round() / 100.0,
        "pages_per_second": if seconds > 0.0 { ((text_layer + ocr - resumed) as f64 / seconds * 100.0).round() / 100.0 } else { 0.0 },
    });
    let metadata = registry.save_step_metadata(&ocr_step(), &job, meta)?;
    Ok(OcrOutcome {
        job_id: job,
        metadata,
        failures,
    })
}

struct Observer<'a>(&'a dyn Progress);

impl PageObserver for Observer<'_> {
    fn begin(&self, total: u64) {
        self.0.begin("ocr", total, None);
    }
    fn page_done(&self, citekey: &str, page: usize, ok: bool) {
        self.0.item_done(&format!("{citekey} p{page}"), ok);
    }
}

/// The source upload to read from: the one named, or the newest that holds
/// every citekey.
fn find_source(
    registry: &Registry,
    keys: &[Citekey],
    named: Option<&JobId>,
) -> Result<(JobId, Map<String, Value>), StepError> {
    let holds = |meta: &Map<String, Value>, k: &Citekey| {
        meta.get("citekeys")
            .and_then(|c| c.get("list"))
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(k.as_str())))
            && meta
                .get("objects")
                .and_then(|o| o.get(k.as_str()))
                .is_some()
    };
    if let Some(job) = named {
        let meta = registry.get_source_metadata(job)?;
        let missing: Vec<&str> = keys
            .iter()
            .filter(|k| !holds(&meta, k))
            .map(Citekey::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(StepError::NoInput(format!(
                "source job {job} does not hold citekey(s) {}",
                missing.join(", ")
            )));
        }
        return Ok((job.clone(), meta));
    }
    let mut jobs = registry.list_all_jobs(Some("source"))?;
    jobs.reverse();
    let mut holders: BTreeMap<&str, Vec<String>> =
        keys.iter().map(|k| (k.as_str(), Vec::new())).collect();
    for job in &jobs {
        let Ok(meta) = registry.get_source_metadata(job) else {
            continue;
        };
        if meta.get("status").and_then(Value::as_str) == Some("running") {
            continue;
        }
        if keys.iter().all(|k| holds(&meta, k)) {
            return Ok((job.clone(), meta));
        }
        for k in keys {
            if holds(&meta, k) {
                holders
                    .get_mut(k.as_str())
                    .expect("key")
                    .push(job.to_string());
            }
        }
    }
    let detail: Vec<String> = holders
        .iter()
        .map(|(k, jobs)| {
            if jobs.is_empty() {
                format!("{k}: in no upload job")
            } else {
                format!("{k}: in {}", jobs.join(", "))
            }
        })
        .collect();
    Err(StepError::NoInput(format!(
        "no single upload job holds all of these citekeys; upload them together or name one with --source-job-id ({})",
        detail.join("; ")
    )))
}

/// The store an upload job recorded (its URL, endpoint, region, addressing).
pub fn recorded_store(meta: &Map<String, Value>, job: &JobId) -> Result<StoreConfig, StepError> {
    let url = meta.get("store").and_then(Value::as_str).ok_or_else(|| {
        StepError::NoInput(format!("source job {job} records no store; give --store"))
    })?;
    Ok(StoreConfig {
        url: url.to_owned(),
        endpoint_url: meta
            .get("endpoint_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        region: meta
            .get("region")
            .and_then(Value::as_str)
            .map(str::to_owned),
        path_style: meta.get("path_style").and_then(Value::as_bool),
    })
}

/// The source PDF of `key`, verified against the recorded sha256: read in
/// place from a local store, downloaded into the cache from S3.
async fn fetch_source(
    store: &Store,
    meta: &Map<String, Value>,
    key: &Citekey,
    cache: &Path,
) -> Result<PathBuf, String> {
    let object = meta
        .get("objects")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key}: the source job records no object"))?;
    let expected = meta
        .get("checksums")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key}: the source job records no checksum"))?;
    let mismatch = |actual: &str| {
        format!(
            "{key}: checksum mismatch for {object} in {}: recorded sha256 {expected}, found {actual}",
            store.url()
        )
    };
    if let recto_store::StoreLocation::Local { root } = store.location() {
        let path = root.join(object);
        let (actual, _) = recto_store::sha256_file(&path)
            .await
            .map_err(|e| format!("{key}: {e}"))?;
        return if actual == expected {
            Ok(path)
        } else {
            Err(mismatch(&actual))
        };
    }
    let cached = cache.join(format!("{expected}.pdf"));
    if cached.is_file()
        && let Ok((actual, _)) = recto_store::sha256_file(&cached).await
        && actual == expected
    {
        return Ok(cached);
    }
    match store.get_to_file(object, &cached, Some(expected)).await {
        Ok(_) => Ok(cached),
        Err(recto_store::StoreError::ChecksumMismatch { actual, .. }) => Err(mismatch(&actual)),
        Err(e) => Err(format!("{key}: {}", error_chain(&e))),
    }
}

fn round2(v: f32) -> f64 {
    (f64::from(v) * 100.0).round() / 100.0
}
