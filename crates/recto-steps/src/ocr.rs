//! The OCR step: find the source upload, fetch and verify each PDF from its
//! store, run the page engine, record `analytics/ocr/job_metadata/<job>.json`.
//!
//! Phases: [`plan`] (new job or resume: which job, citekeys, settings and
//! source), [`fetch_sources`] (each PDF verified against its recorded
//! checksum), the engine, then [`summarise`] into the typed record.
//!
//! A resume continues the job as recorded: every setting that shapes the
//! output (citekeys, languages, resolutions, mode, output folder, source) is
//! taken from the record, and one given that differs is refused. Citekeys
//! the record already counts as done are left as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use recto_ocr::{DocReport, DocTask, Mode, OcrConfig, PageObserver};
use recto_registry::{Citekey, JobId, Registry, Status};
use recto_store::{Store, StoreConfig, error_chain};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::StepError;
use crate::harness::{self, Citekeys, Start, Step, StepRun};
use crate::progress::Progress;

/// The OCR step.
#[derive(Debug)]
pub struct Ocr;

impl Step for Ocr {
    const NAME: &'static str = "ocr";
    const INPUT: Option<&'static str> = Some("source");
}

/// Settings that shape the output; `None` means "not given" (the default
/// for a new job, the recorded value on resume).
#[derive(Debug, Clone, Default)]
pub struct OcrOptions {
    pub languages: Option<String>,
    /// Languages of single citekeys (`--lang smith2020=deu+frk`).
    pub citekey_languages: BTreeMap<String, String>,
    pub dpi: Option<u32>,
    pub image_dpi: Option<u32>,
    pub mode: Option<Mode>,
    pub page_timeout: Option<Duration>,
    pub detect_rotation: Option<bool>,
    pub max_megapixels: Option<f64>,
    pub native_resolution: Option<bool>,
    pub deskew: Option<bool>,
    pub detect_fraktur: Option<bool>,
    pub thresholding: Option<recto_ocr::Thresholding>,
    pub retry_low_confidence: Option<bool>,
}

/// Which citekeys a new OCR job takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Exactly these (an unknown one is an error naming the nearest known).
    #[default]
    Given,
    /// These, leaving out (with a warning) those never uploaded, as a
    /// BibTeX export lists entries without a PDF.
    GivenSkippingUnknown,
    /// Every uploaded citekey whose OCR is pending or outdated (never run
    /// on its newest upload).
    Pending,
    /// Every uploaded citekey.
    All,
}

#[derive(Debug, Clone)]
pub struct OcrRequest {
    pub citekeys: Vec<String>,
    /// How `citekeys` is read, or which citekeys to take instead.
    pub selection: Selection,
    /// Only say what would be done: no job, no pages.
    pub dry_run: bool,
    /// An upload job id or `latest`.
    pub source_job_id: Option<String>,
    /// `data/analytics/ocr` by default; pages go to `<output>/<citekey>/<job>/`.
    pub output: Option<PathBuf>,
    /// Continue this job (an id or `latest`) instead of starting a new one.
    pub resume: Option<String>,
    pub password: Option<String>,
    pub options: OcrOptions,
    /// Pages at once; does not change the output.
    pub workers: Option<usize>,
    /// Read sources from this store instead of the one the upload recorded.
    pub store: Option<StoreConfig>,
    /// Where to keep fetched source PDFs (content-addressed).
    pub cache_dir: PathBuf,
}

/// Resolutions accepted for `dpi`: below 70 Tesseract reads little, above
/// 1200 no scan has more detail to give (and the megapixel cap applies).
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 70..=1200;

/// Resolutions accepted for the page images (`image_dpi`, at most `dpi`).
pub const IMAGE_DPI_RANGE: std::ops::RangeInclusive<u32> = 20..=1200;

/// The settings an OCR job records under `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrSettings {
    pub dpi: u32,
    pub image_dpi: u32,
    pub languages: String,
    pub mode: Mode,
    /// Worker threads of the run that recorded this (`jobs` in older records).
    #[serde(alias = "jobs")]
    pub workers: usize,
    pub page_timeout_seconds: Option<u64>,
    pub detect_rotation: bool,
    #[serde(default = "default_megapixels")]
    pub max_megapixels: f64,
    /// Scans finer than `dpi` are read at their own resolution.
    #[serde(default = "yes")]
    pub native_resolution: bool,
    /// OCRed pages are levelled (small-angle skew) before recognition.
    #[serde(default = "yes")]
    pub deskew: bool,
    /// Pages OSD reads as Fraktur are read with a Fraktur model added.
    #[serde(default = "yes")]
    pub detect_fraktur: bool,
    /// Tesseract's binarisation.
    #[serde(default)]
    pub thresholding: recto_ocr::Thresholding,
    /// Low-confidence pages are read once more (the other way round when
    /// their orientation was in doubt, else with the other binarisation).
    #[serde(default = "yes")]
    pub retry_low_confidence: bool,
    #[serde(default)]
    pub engines: Map<String, Value>,
}

fn yes() -> bool {
    true
}

fn default_megapixels() -> f64 {
    recto_ocr::DEFAULT_MAX_MEGAPIXELS
}

/// What an OCR job records while it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrRunning {
    pub config: OcrSettings,
    pub output_dir: String,
    /// The upload each citekey is read from (a job may take citekeys from
    /// several upload batches: each from its newest upload).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Every upload job read from; `source_job_id` is the newest of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_job_ids: Vec<String>,
    /// Citekeys read with languages other than `config.languages`: from
    /// their BibTeX entry's `langid` when no languages were given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub citekey_languages: BTreeMap<String, String>,
    /// A job run by shards (`recto ocr --shards N`, `recto slurm ocr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<crate::sharding::ShardsInfo>,
}

/// Page counts of a job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PageCounts {
    pub total: usize,
    pub text_layer: usize,
    pub ocr: usize,
    pub failed: usize,
    pub resumed: usize,
    /// `text-layer-only` pages that had no text layer (no text recorded).
    #[serde(default)]
    pub no_text: usize,
    /// Pages read a second time for low confidence (the other orientation).
    #[serde(default)]
    pub retried: usize,
}

/// One citekey's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CitekeyResult {
    pub pages: usize,
    pub text_layer: usize,
    pub ocr: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_text: usize,
    pub mean_confidence: Option<f64>,
    pub dir: String,
    /// The upload the citekey's PDF was read from, and its checksum: what
    /// `recto status` compares with the newest upload to call it outdated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The citekey whose identical PDF (same sha256) was read once for both;
    /// this citekey's folder links to that result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
}

/// What a finished OCR job records besides the common header: what it
/// recorded while running, and its results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrBody {
    pub pages: PageCounts,
    #[serde(flatten)]
    pub running: OcrRunning,
    #[serde(default)]
    pub page_failures: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub per_citekey: BTreeMap<String, CitekeyResult>,
    #[serde(default)]
    pub source_store: Option<String>,
    #[serde(default)]
    pub pages_per_second: f64,
    /// Seconds spent on second readings (`pages.retried`).
    #[serde(default)]
    pub retry_seconds: f64,
}

#[derive(Debug, Clone)]
pub enum OcrOutcome {
    /// The job ran (or resumed) and was recorded.
    Ran {
        job_id: JobId,
        metadata: Map<String, Value>,
        failures: BTreeMap<String, String>,
    },
    /// `--resume` of a job that is already completed: nothing was done.
    AlreadyCompleted { job_id: JobId },
    /// `--dry-run`: what a run would do.
    DryRun(DryRun),
}

/// What a run would do, per citekey.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub citekeys: Vec<DryRunCitekey>,
    pub pages: usize,
    pub pages_text_layer: usize,
    pub pages_ocr: usize,
    /// A rough estimate on `workers` cores: 0.01 s a text-layer page,
    /// 1.6 s an OCRed one (as measured on the corpus, docs/benchmarks.md).
    pub estimated_seconds: f64,
    pub workers: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DryRunCitekey {
    pub citekey: String,
    pub source_job_id: String,
    pub pages: Option<usize>,
    pub text_layer: Option<usize>,
    /// Why the PDF could not be looked at (not fetched yet, encrypted, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything a run needs, decided before any work.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) start: Start,
    pub(crate) keys: Vec<Citekey>,
    /// Citekeys a resumed job already completed, with their results.
    pub(crate) kept: BTreeMap<String, CitekeyResult>,
    pub(crate) settings: OcrSettings,
    pub(crate) output: PathBuf,
    /// The upload each citekey is read from.
    pub(crate) sources: BTreeMap<String, JobId>,
    /// Those uploads' metadata.
    pub(crate) source_metas: BTreeMap<JobId, Map<String, Value>>,
    /// The newest of them: the job's `source_job_id`.
    pub(crate) source_job: JobId,
    /// Citekeys read with their own languages (BibTeX `langid`).
    pub(crate) languages: BTreeMap<String, String>,
}

/// Run the OCR step.
pub async fn run_ocr(
    registry: &Registry,
    req: OcrRequest,
    progress: &dyn Progress,
) -> Result<OcrOutcome, StepError> {
    let plan = match plan(registry, &req)? {
        Ok(plan) => plan,
        Err(done) => return Ok(done),
    };
    let engine = engine_config(&plan.settings, req.workers);
    recto_ocr::validate_languages(&engine)?;
    let stores = open_stores(&plan, req.store.as_ref())?;
    if req.dry_run {
        return Ok(OcrOutcome::DryRun(
            dry_run(
                &plan,
                &stores,
                &req.cache_dir,
                engine.workers,
                req.password.as_deref(),
            )
            .await,
        ));
    }
    let mut settings = plan.settings.clone();
    settings.workers = engine.workers;

    let list: Vec<String> = plan.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let sources: BTreeMap<String, String> = plan
        .sources
        .iter()
        .map(|(k, j)| (k.clone(), j.to_string()))
        .collect();
    let source_job_ids: Vec<String> = plan.source_metas.keys().map(|j| j.to_string()).collect();
    let running = OcrRunning {
        config: settings.clone(),
        output_dir: plan.output.display().to_string(),
        sources: sources.clone(),
        source_job_ids: if source_job_ids.len() > 1 {
            source_job_ids.clone()
        } else {
            Vec::new()
        },
        citekey_languages: plan.languages.clone(),
        shards: None,
    };
    let run = StepRun::begin::<Ocr, _>(
        registry,
        plan.start.clone(),
        Some(&plan.source_job),
        Citekeys::new(list.clone()),
        &running,
    )?;
    let job = run.job().clone();

    let todo: Vec<&Citekey> = plan
        .keys
        .iter()
        .filter(|k| !plan.kept.contains_key(k.as_str()))
        .collect();
    if !plan.kept.is_empty() {
        tracing::info!(
            "resuming job {job}: {} citekeys already done are kept, {} to do",
            plan.kept.len(),
            todo.len()
        );
    }
    let lang_failures = language_failures(&plan, &engine);
    let todo: Vec<&Citekey> = todo
        .into_iter()
        .filter(|k| !lang_failures.contains_key(k.as_str()))
        .collect();
    let (tasks, mut failures, dups) = fetch_sources(
        &plan,
        &stores,
        &todo,
        &req.cache_dir,
        &job,
        req.password.as_deref(),
    )
    .await;
    failures.extend(lang_failures);

    let observer = Observer(progress);
    let reports = tokio::task::block_in_place(|| recto_ocr::run(&tasks, &engine, &observer));
    progress.end();

    // Pages are renamed into place but not fsynced one by one; one sync of
    // their filesystem before the record says `completed` makes the record
    // never claim pages a power cut could still take away.
    if !tasks.is_empty()
        && let Err(e) = recto_registry::sync_filesystem(&plan.output)
    {
        let list = Citekeys::new(list);
        return Err(run.abort(Some(&plan.source_job), list, running, e.into()));
    }
    let store_url = stores.values().next().map(Store::url);
    let mut body = summarise(
        &plan,
        &reports,
        &mut failures,
        running,
        store_url,
        &job,
        run.elapsed_seconds(),
    );
    link_duplicates(&plan, &job, &dups, &mut body, &mut failures);
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
    let metadata = run.finish(Some(&plan.source_job), citekeys, failures.clone(), body)?;
    // Only once the record says so: `current` never points at a result the
    // record does not call done.
    for k in &done {
        if let Err(e) = harness::point_current(&plan.output, k, &job) {
            tracing::warn!("{k}: could not update its current link: {e}");
        }
    }
    Ok(OcrOutcome::Ran {
        job_id: job,
        metadata,
        failures,
    })
}

/// The engine's settings for a plan's recorded settings.
pub(crate) fn engine_config(settings: &OcrSettings, workers: Option<usize>) -> OcrConfig {
    OcrConfig {
        languages: settings.languages.clone(),
        dpi: settings.dpi,
        image_dpi: settings.image_dpi,
        mode: settings.mode,
        workers: workers.unwrap_or_else(all_cores).max(1),
        page_timeout: settings.page_timeout_seconds.map(Duration::from_secs),
        detect_rotation: settings.detect_rotation,
        max_megapixels: settings.max_megapixels,
        native_resolution: settings.native_resolution,
        deskew: settings.deskew,
        detect_fraktur: settings.detect_fraktur,
        thresholding: settings.thresholding,
        retry_low_confidence: settings.retry_low_confidence,
        ..OcrConfig::default()
    }
}

/// One store per distinct recorded store (usually one for all), or the
/// one given instead.
pub(crate) fn open_stores(
    plan: &Plan,
    given: Option<&StoreConfig>,
) -> Result<BTreeMap<JobId, Store>, StepError> {
    let mut stores = BTreeMap::new();
    for (job, meta) in &plan.source_metas {
        let store = match given {
            Some(cfg) => Store::open(cfg, Path::new("."))?,
            None => Store::open(&recorded_store(meta, job)?, Path::new("."))?,
        };
        stores.insert(job.clone(), store);
    }
    Ok(stores)
}

/// Citekeys whose own languages are not installed: each fails alone.
/// Checked once per language set (loading an engine takes a while), not
/// once per citekey.
pub(crate) fn language_failures(plan: &Plan, engine: &OcrConfig) -> BTreeMap<String, String> {
    let mut checked: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for (k, l) in &plan.languages {
        let problem = checked.entry(l.as_str()).or_insert_with(|| {
            let cfg = OcrConfig {
                languages: l.clone(),
                ..engine.clone()
            };
            recto_ocr::validate_languages(&cfg)
                .err()
                .map(|e| e.to_string())
        });
        if let Some(e) = problem {
            tracing::warn!("{k}: {e}");
            failures.insert(k.clone(), e.clone());
        }
    }
    failures
}

pub(crate) fn all_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Decide what to run. `Err(outcome)` when there is nothing to do.
pub(crate) fn plan(
    registry: &Registry,
    req: &OcrRequest,
) -> Result<Result<Plan, OcrOutcome>, StepError> {
    let given = &req.options;
    if let Some(dpi) = given.dpi {
        check_range("dpi", dpi, &DPI_RANGE)?;
    }
    if let Some(dpi) = given.image_dpi {
        check_range("image_dpi", dpi, &IMAGE_DPI_RANGE)?;
    }
    if let (Some(image), dpi) = (
        given.image_dpi,
        given.dpi.unwrap_or(OcrConfig::default().dpi),
    ) && image > dpi
    {
        return Err(StepError::InvalidSetting {
            name: "image_dpi".into(),
            reason: format!("{image} is above the OCR resolution dpi {dpi}"),
        });
    }
    if req.workers == Some(0) {
        return Err(StepError::InvalidSetting {
            name: "workers".into(),
            reason: "must be at least 1".into(),
        });
    }
    if let Some(mp) = given.max_megapixels
        && !(1.0..=recto_ocr::HARD_MAX_MEGAPIXELS).contains(&mp)
    {
        return Err(StepError::InvalidSetting {
            name: "max_megapixels".into(),
            reason: format!("{mp} is outside 1..={}", recto_ocr::HARD_MAX_MEGAPIXELS),
        });
    }
    let Some(resume) = &req.resume else {
        return plan_new(registry, req).map(Ok);
    };
    let job = recto_library::resolve_job(registry, Ocr::NAME, resume)?;
    let meta = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    let status = meta
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse);
    if status == Some(Status::Completed) {
        tracing::info!("job {job} is already completed; nothing to resume");
        return Ok(Err(OcrOutcome::AlreadyCompleted { job_id: job }));
    }
    let kind = harness::kind_of::<Ocr>();
    let recorded: harness::StepMetadata<OcrRunning> =
        harness::read_metadata(&kind, &job, meta.clone())?;
    // A sharded job is finished by its shards and its merge, not by one
    // process: a resume here would record it as a one-machine job.
    if let Some(shards) = &recorded.body.shards {
        return Err(StepError::InvalidSetting {
            name: "resume".into(),
            reason: format!(
                "job {job} runs in {} shards: run its unfinished shards (recto ocr --job-id {job} --shard I/{}), then recto ocr --finalize {job}",
                shards.count, shards.count
            ),
        });
    }
    let failures = recorded.failures.clone().unwrap_or_default();
    let per_citekey: BTreeMap<String, CitekeyResult> = meta
        .get("per_citekey")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let settings = recorded.body.config.clone();
    let output = PathBuf::from(&recorded.body.output_dir);

    // Anything given that differs from the record is refused, not applied.
    let mut differences = Vec::new();
    let mut differs = |name: &str, given: String, recorded: String| {
        if given != recorded {
            differences.push(format!("{name}: given {given}, recorded {recorded}"));
        }
    };
    if !req.citekeys.is_empty() {
        let mut a = req.citekeys.clone();
        let mut b = recorded.citekeys.list.clone();
        a.sort();
        a.dedup();
        b.sort();
        differs("citekeys", a.join(","), b.join(","));
    }
    if let Some(v) = &given.languages {
        differs("languages", v.clone(), settings.languages.clone());
    }
    for (k, l) in &given.citekey_languages {
        let recorded = recorded
            .body
            .citekey_languages
            .get(k)
            .cloned()
            .unwrap_or_else(|| settings.languages.clone());
        differs(&format!("languages of {k}"), l.clone(), recorded);
    }
    if let Some(v) = given.dpi {
        differs("dpi", v.to_string(), settings.dpi.to_string());
    }
    if let Some(v) = given.image_dpi {
        differs("image_dpi", v.to_string(), settings.image_dpi.to_string());
    }
    if let Some(v) = given.mode {
        differs("mode", mode_name(v), mode_name(settings.mode));
    }
    if let Some(v) = given.detect_rotation {
        differs(
            "detect_rotation",
            v.to_string(),
            settings.detect_rotation.to_string(),
        );
    }
    if let Some(v) = given.page_timeout {
        differs(
            "page_timeout_seconds",
            v.as_secs().to_string(),
            settings
                .page_timeout_seconds
                .map_or("none".into(), |s| s.to_string()),
        );
    }
    if let Some(v) = given.thresholding {
        differs(
            "thresholding",
            format!("{v:?}"),
            format!("{:?}", settings.thresholding),
        );
    }
    if let Some(v) = given.retry_low_confidence {
        differs(
            "retry_low_confidence",
            v.to_string(),
            settings.retry_low_confidence.to_string(),
        );
    }
    if let Some(v) = given.deskew {
        differs("deskew", v.to_string(), settings.deskew.to_string());
    }
    if let Some(v) = given.detect_fraktur {
        differs(
            "detect_fraktur",
            v.to_string(),
            settings.detect_fraktur.to_string(),
        );
    }
    if let Some(v) = given.native_resolution {
        differs(
            "native_resolution",
            v.to_string(),
            settings.native_resolution.to_string(),
        );
    }
    if let Some(v) = given.max_megapixels {
        differs(
            "max_megapixels",
            v.to_string(),
            settings.max_megapixels.to_string(),
        );
    }
    if let Some(v) = &req.output
        && !same_path(v, &output)
    {
        differs(
            "output",
            v.display().to_string(),
            output.display().to_string(),
        );
    }
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
    if let Some(v) = &req.source_job_id {
        let given = recto_library::resolve_job(registry, "source", v)?;
        differs("source_job_id", given.to_string(), source_job.to_string());
    }
    if !differences.is_empty() {
        return Err(StepError::ResumeConflict { job, differences });
    }

    // A failed run recorded which citekeys it finished; those stay as they
    // are. A killed run recorded none, so all are done again (their pages
    // on disk are kept by the engine's own resume).
    let kept: BTreeMap<String, CitekeyResult> = if status == Some(Status::Failed) {
        per_citekey
            .into_iter()
            .filter(|(k, _)| !failures.contains_key(k))
            .collect()
    } else {
        BTreeMap::new()
    };
    tracing::debug!(
        "resuming job {job} ({}), source {source_job}, settings as recorded",
        status.map_or("unknown", Status::as_str)
    );
    let plan = recorded_plan(registry, &job, &recorded, source_job)?;
    Ok(Ok(Plan { kept, ..plan }))
}

/// The plan of a job as its record says: citekeys, settings, output, each
/// citekey's upload (older records name one upload for all) and languages.
pub(crate) fn recorded_plan(
    registry: &Registry,
    job: &JobId,
    recorded: &harness::StepMetadata<OcrRunning>,
    source_job: JobId,
) -> Result<Plan, StepError> {
    let keys: Vec<Citekey> = recorded
        .citekeys
        .list
        .iter()
        .map(|k| Citekey::parse(k))
        .collect::<Result<_, _>>()?;
    let mut sources = BTreeMap::new();
    for k in &keys {
        let job = match recorded.body.sources.get(k.as_str()) {
            Some(j) => JobId::parse(j)?,
            None => source_job.clone(),
        };
        sources.insert(k.as_str().to_owned(), job);
    }
    let source_metas = load_sources(registry, &sources)?;
    Ok(Plan {
        start: Start::Resume(job.clone()),
        keys,
        kept: BTreeMap::new(),
        settings: recorded.body.config.clone(),
        output: PathBuf::from(&recorded.body.output_dir),
        sources,
        source_metas,
        source_job,
        languages: recorded.body.citekey_languages.clone(),
    })
}

fn plan_new(registry: &Registry, req: &OcrRequest) -> Result<Plan, StepError> {
    let (keys, sources) = select(registry, req)?;
    let given = &req.options;
    let defaults = OcrConfig::default();
    let settings = OcrSettings {
        dpi: given.dpi.unwrap_or(defaults.dpi),
        // The default image resolution follows a lower --dpi down.
        image_dpi: given
            .image_dpi
            .unwrap_or_else(|| defaults.image_dpi.min(given.dpi.unwrap_or(defaults.dpi))),
        languages: given
            .languages
            .clone()
            .unwrap_or_else(|| DEFAULT_LANGUAGES.to_owned()),
        mode: given.mode.unwrap_or(Mode::Auto),
        workers: 0,
        page_timeout_seconds: given
            .page_timeout
            .or(defaults.page_timeout)
            .map(|d| d.as_secs()),
        detect_rotation: given.detect_rotation.unwrap_or(true),
        max_megapixels: given.max_megapixels.unwrap_or(defaults.max_megapixels),
        native_resolution: given.native_resolution.unwrap_or(true),
        deskew: given.deskew.unwrap_or(true),
        detect_fraktur: given.detect_fraktur.unwrap_or(true),
        thresholding: given.thresholding.unwrap_or_default(),
        retry_low_confidence: given.retry_low_confidence.unwrap_or(true),
        engines: serde_json::json!({
            "tesseract": recto_ocr::tess::version(),
            "mupdf": recto_ocr::render::MUPDF_VERSION,
        })
        .as_object()
        .expect("object")
        .clone(),
    };
    let source_metas = load_sources(registry, &sources)?;
    let source_job = source_metas
        .keys()
        .next_back()
        .cloned()
        .expect("at least one citekey, so one source");
    // A citekey's own --lang first, else (with no --lang for all) its
    // BibTeX entry's language.
    let mut languages = if req.options.languages.is_none() {
        entry_languages(&keys, &sources, &source_metas)
    } else {
        BTreeMap::new()
    };
    for (k, l) in &req.options.citekey_languages {
        if !keys.iter().any(|c| c.as_str() == k) {
            return Err(StepError::InvalidSetting {
                name: "lang".into(),
                reason: format!("{k}={l} names a citekey this job does not take"),
            });
        }
        languages.insert(k.clone(), l.clone());
    }
    Ok(Plan {
        start: Start::New,
        keys,
        kept: BTreeMap::new(),
        settings,
        output: req
            .output
            .clone()
            .unwrap_or_else(|| harness::default_output_base::<Ocr>(registry)),
        sources,
        source_metas,
        source_job,
        languages,
    })
}

/// The languages of citekeys whose upload recorded one (a BibTeX `langid`):
/// that language with English (scholarly texts quote it), or English alone.
/// A language whose Tesseract data is not installed fails that citekey
/// alone, naming the package to install.
fn entry_languages(
    keys: &[Citekey],
    sources: &BTreeMap<String, JobId>,
    metas: &BTreeMap<JobId, Map<String, Value>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for k in keys {
        let Some(code) = sources
            .get(k.as_str())
            .and_then(|j| metas.get(j))
            .and_then(|m| m.get("languages")?.get(k.as_str())?.as_str())
        else {
            continue;
        };
        let langs = if code == "eng" {
            "eng".to_owned()
        } else {
            format!("{code}+eng")
        };
        tracing::debug!("{k}: read with {langs}, from its BibTeX entry's language");
        out.insert(k.as_str().to_owned(), langs);
    }
    out
}

/// The citekeys of a new job and the upload each is read from: the one
/// named, or each citekey's newest upload (several batches may meet in
/// one job).
fn select(
    registry: &Registry,
    req: &OcrRequest,
) -> Result<(Vec<Citekey>, BTreeMap<String, JobId>), StepError> {
    let ocr = [recto_registry::StepName::parse(Ocr::NAME).expect("valid")];
    let mut keys: Vec<Citekey> = Vec::new();
    match req.selection {
        Selection::Pending | Selection::All => {
            for s in registry.citekey_states(&[], Some(&ocr))? {
                let wanted = s.source.is_some()
                    && (req.selection == Selection::All || s.steps[0].needs_run());
                if wanted {
                    keys.push(Citekey::parse(&s.citekey)?);
                }
            }
            if keys.is_empty() {
                return Err(StepError::NothingToDo {
                    what: if req.selection == Selection::All {
                        "no uploaded citekeys".into()
                    } else {
                        "every uploaded citekey's OCR is done on its newest upload".into()
                    },
                });
            }
        }
        Selection::Given | Selection::GivenSkippingUnknown => {
            if req.citekeys.is_empty() {
                return Err(StepError::NoCitekeys);
            }
            for k in &req.citekeys {
                let k = Citekey::parse(k)?;
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    let named = req
        .source_job_id
        .as_deref()
        .map(|s| recto_library::resolve_job(registry, "source", s))
        .transpose()?;
    let mut sources = BTreeMap::new();
    if let Some(job) = named {
        let meta = registry.get_source_metadata(&job)?;
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !holds(&meta, k))
            .map(|k| k.as_str().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(StepError::NotInSource {
                job,
                citekeys: missing,
            });
        }
        tracing::debug!(
            "source: upload job {job}, as named, for all {} citekeys",
            keys.len()
        );
        for k in &keys {
            sources.insert(k.as_str().to_owned(), job.clone());
        }
        return Ok((keys, sources));
    }
    // Each citekey's newest upload, from one query of the index (unknown
    // citekeys are an error with the nearest known ones, or skipped for a
    // BibTeX list).
    let newest: BTreeMap<String, Option<String>> = registry
        .citekey_states(&[], Some(&[]))?
        .into_iter()
        .map(|s| (s.citekey, s.source.map(|src| src.job_id)))
        .collect();
    let mut known = Vec::new();
    for k in keys {
        match newest.get(k.as_str()) {
            Some(Some(job)) => {
                tracing::debug!("source of {k}: upload job {job}, its newest");
                sources.insert(k.as_str().to_owned(), JobId::parse(job)?);
                known.push(k);
            }
            _ if req.selection == Selection::GivenSkippingUnknown => {
                tracing::warn!("{k}: skipped: no upload holds it");
            }
            Some(None) => {
                return Err(StepError::NoCommonSource {
                    holders: vec![(k.as_str().to_owned(), vec![])],
                });
            }
            // Asked alone, the registry names the nearest known citekeys.
            None => {
                registry.citekey_states(&[k.as_str().to_owned()], Some(&[]))?;
                return Err(StepError::NoCommonSource {
                    holders: vec![(k.as_str().to_owned(), vec![])],
                });
            }
        }
    }
    if known.is_empty() {
        return Err(StepError::NothingToDo {
            what: "none of the listed citekeys has been uploaded".into(),
        });
    }
    Ok((known, sources))
}

/// The metadata of every upload in `sources`.
fn load_sources(
    registry: &Registry,
    sources: &BTreeMap<String, JobId>,
) -> Result<BTreeMap<JobId, Map<String, Value>>, StepError> {
    let mut out = BTreeMap::new();
    for job in sources.values() {
        if !out.contains_key(job) {
            out.insert(job.clone(), registry.get_source_metadata(job)?);
        }
    }
    Ok(out)
}

/// Open each source PDF the plan can see without downloading (local
/// stores, or copies already in the cache) and count its pages and those
/// with a usable text layer.
async fn dry_run(
    plan: &Plan,
    stores: &BTreeMap<JobId, Store>,
    cache: &Path,
    workers: usize,
    password: Option<&str>,
) -> DryRun {
    let mut out = Vec::new();
    for k in &plan.keys {
        let job = &plan.sources[k.as_str()];
        let meta = &plan.source_metas[job];
        let local = meta
            .get("objects")
            .and_then(|o| o.get(k.as_str()))
            .and_then(Value::as_str)
            .and_then(|obj| stores[job].local_path(obj).ok().flatten())
            .or_else(|| {
                let sha = meta.get("checksums")?.get(k.as_str())?.as_str()?;
                let p = cache.join(format!("{sha}.pdf"));
                p.is_file().then_some(p)
            });
        let mut item = DryRunCitekey {
            citekey: k.as_str().to_owned(),
            source_job_id: job.to_string(),
            pages: None,
            text_layer: None,
            note: None,
        };
        match local {
            None => item.note = Some("not fetched yet: pages unknown".into()),
            Some(p) => match recto_ocr::count_text_layer_pages(&p, password) {
                Ok((pages, tl)) => {
                    let tl = match plan.settings.mode {
                        Mode::ForceOcr => 0,
                        Mode::TextLayerOnly => pages,
                        Mode::Auto => tl,
                    };
                    item.pages = Some(pages);
                    item.text_layer = Some(tl);
                }
                Err(e) => item.note = Some(e.to_string()),
            },
        }
        out.push(item);
    }
    let pages: usize = out.iter().filter_map(|c| c.pages).sum();
    let tl: usize = out.iter().filter_map(|c| c.text_layer).sum();
    let est = (tl as f64 * 0.01 + (pages - tl) as f64 * 1.6) / workers.max(1) as f64;
    DryRun {
        citekeys: out,
        pages,
        pages_text_layer: tl,
        pages_ocr: pages - tl,
        estimated_seconds: round2(est),
        workers,
    }
}

/// The languages a new job reads when none are given.
pub const DEFAULT_LANGUAGES: &str = "eng+deu+fra";

fn check_range(
    name: &str,
    value: u32,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<(), StepError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(StepError::InvalidSetting {
            name: name.into(),
            reason: format!("{value} is outside {}-{}", range.start(), range.end()),
        })
    }
}

fn mode_name(m: Mode) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Fetch and verify each source; a failure here fails that citekey only.
pub(crate) async fn fetch_sources(
    plan: &Plan,
    stores: &BTreeMap<JobId, Store>,
    keys: &[&Citekey],
    cache_dir: &Path,
    job: &JobId,
    password: Option<&str>,
) -> (
    Vec<DocTask>,
    BTreeMap<String, String>,
    Vec<(Citekey, Citekey)>,
) {
    let mut failures = BTreeMap::new();
    let mut tasks = Vec::new();
    // Identical PDFs under several citekeys are read once.
    let mut by_sha: BTreeMap<String, Citekey> = BTreeMap::new();
    let mut dups = Vec::new();
    for k in keys {
        let src = &plan.sources[k.as_str()];
        let meta = &plan.source_metas[src];
        let sha = meta
            .get("checksums")
            .and_then(|c| c.get(k.as_str()))
            .and_then(Value::as_str);
        let twin = sha.and_then(|sha| by_sha.get(sha)).cloned();
        match fetch_source(&stores[src], meta, k, cache_dir).await {
            // Verified like any source, then read once with its twin.
            Ok(_) if twin.is_some() => {
                let first = twin.expect("checked");
                tracing::info!("{k}: the same PDF as {first}; read once");
                dups.push(((*k).clone(), first));
            }
            Ok(pdf) => {
                if let Some(sha) = sha {
                    by_sha.insert(sha.to_owned(), (*k).clone());
                }
                tasks.push(DocTask {
                    citekey: k.as_str().to_owned(),
                    pdf,
                    password: password.map(str::to_owned),
                    out_dir: harness::output_dir(&plan.output, k, job),
                    languages: plan.languages.get(k.as_str()).cloned(),
                    pages: None,
                })
            }
            Err(why) => {
                // Name the user's own file too: the stored copy's path means
                // little to them.
                let why = match meta
                    .get("files")
                    .and_then(|f| f.get(k.as_str()))
                    .and_then(Value::as_str)
                {
                    Some(orig) => format!("{why} (uploaded from {orig})"),
                    None => why,
                };
                tracing::warn!("{k}: {why}");
                failures.insert(k.as_str().to_owned(), why);
            }
        }
    }
    (tasks, failures, dups)
}

/// Each duplicate's folder becomes a link to its twin's result (or fails
/// with its twin), and its record entry a copy naming the twin.
pub(crate) fn link_duplicates(
    plan: &Plan,
    job: &JobId,
    dups: &[(Citekey, Citekey)],
    body: &mut OcrBody,
    failures: &mut BTreeMap<String, String>,
) {
    for (dup, first) in dups {
        if let Some(why) = failures.get(first.as_str()).cloned() {
            failures.insert(
                dup.as_str().to_owned(),
                format!("the same PDF as {first}, which failed: {why}"),
            );
            continue;
        }
        let Some(result) = body.per_citekey.get(first.as_str()).cloned() else {
            continue;
        };
        let dir = harness::output_dir(&plan.output, dup, job);
        let target = PathBuf::from("..")
            .join(first.file_stem())
            .join(job.as_str());
        let linked = dir
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| match std::fs::symlink_metadata(&dir) {
                Ok(_) => Ok(()),
                Err(_) => std::os::unix::fs::symlink(&target, &dir),
            });
        if let Err(e) = linked {
            failures.insert(
                dup.as_str().to_owned(),
                format!("{}: could not link to {first}'s result: {e}", dir.display()),
            );
            continue;
        }
        body.pages.total += result.pages;
        body.pages.text_layer += result.text_layer;
        body.pages.ocr += result.ocr;
        body.per_citekey.insert(
            dup.as_str().to_owned(),
            CitekeyResult {
                dir: dir.display().to_string(),
                same_as: Some(first.as_str().to_owned()),
                source_job_id: plan.sources.get(dup.as_str()).map(|j| j.to_string()),
                ..result
            },
        );
    }
}

/// Turn the engine's reports (and the citekeys a resume kept) into the record.
pub(crate) fn summarise(
    plan: &Plan,
    reports: &[DocReport],
    failures: &mut BTreeMap<String, String>,
    running: OcrRunning,
    store_url: Option<String>,
    job: &JobId,
    seconds: f64,
) -> OcrBody {
    let mut pages = PageCounts::default();
    let mut page_failures = BTreeMap::new();
    let mut per_citekey = plan.kept.clone();
    for kept in plan.kept.values() {
        pages.total += kept.pages;
        pages.text_layer += kept.text_layer;
        pages.ocr += kept.ocr;
    }
    let mut resumed = 0;
    let mut retry_seconds = 0.0;
    for r in reports {
        pages.total += r.page_count;
        let mut pf = BTreeMap::new();
        let (mut tl, mut oc, mut nt, mut confs) = (0, 0, 0, Vec::new());
        for p in &r.pages {
            match &p.result {
                Ok(s) => {
                    match s.source {
                        recto_ocr::page::TextSource::TextLayer => tl += 1,
                        recto_ocr::page::TextSource::Ocr => oc += 1,
                        recto_ocr::page::TextSource::NoText => nt += 1,
                    }
                    resumed += usize::from(s.resumed);
                    pages.retried += usize::from(s.retried);
                    retry_seconds += s.retry_seconds;
                    confs.extend(s.mean_confidence);
                }
                Err(why) => {
                    pf.insert(p.page.to_string(), why.clone());
                }
            }
        }
        pages.text_layer += tl;
        pages.ocr += oc;
        pages.no_text += nt;
        pages.failed += pf.len();
        if let Some(e) = &r.error {
            // Name the user's own file besides the stored copy.
            let orig = plan
                .sources
                .get(&r.citekey)
                .and_then(|j| plan.source_metas.get(j))
                .and_then(|m| m.get("files")?.get(&r.citekey)?.as_str());
            let e = match orig {
                Some(o) => format!("{e} (uploaded from {o})"),
                None => e.clone(),
            };
            failures.insert(r.citekey.clone(), e);
        } else if !pf.is_empty() {
            failures.insert(
                r.citekey.clone(),
                format!("{} of {} pages failed", pf.len(), r.page_count),
            );
            page_failures.insert(r.citekey.clone(), pf);
        }
        let mean = (!confs.is_empty())
            .then(|| round2(f64::from(confs.iter().sum::<f32>()) / confs.len() as f64));
        let dir = Citekey::parse(&r.citekey)
            .map(|c| harness::output_dir(&plan.output, &c, job))
            .unwrap_or_default();
        per_citekey.insert(
            r.citekey.clone(),
            CitekeyResult {
                pages: r.page_count,
                text_layer: tl,
                ocr: oc,
                no_text: nt,
                mean_confidence: mean,
                dir: dir.display().to_string(),
                source_job_id: plan.sources.get(&r.citekey).map(|j| j.to_string()),
                sha256: plan
                    .sources
                    .get(&r.citekey)
                    .and_then(|j| plan.source_metas.get(j))
                    .and_then(|m| m.get("checksums")?.get(&r.citekey)?.as_str())
                    .map(str::to_owned),
                same_as: None,
            },
        );
    }
    pages.resumed = resumed;
    let done_now = reports
        .iter()
        .flat_map(|r| &r.pages)
        .filter(|p| p.result.is_ok())
        .count()
        - resumed;
    OcrBody {
        pages,
        running,
        page_failures,
        per_citekey,
        source_store: store_url,
        pages_per_second: if seconds > 0.0 {
            round2(done_now as f64 / seconds)
        } else {
            0.0
        },
        retry_seconds: round2(retry_seconds),
    }
}

/// The engine's page events, as progress (shared with the shards).
pub(crate) struct Observer<'a>(pub(crate) &'a dyn Progress);

impl PageObserver for Observer<'_> {
    fn begin(&self, total: u64) {
        self.0.begin("ocr", total, None);
    }
    fn page_done(&self, citekey: &str, page: usize, ok: bool) {
        self.0.item_done(&format!("{citekey} p{page}"), ok);
    }
}

fn holds(meta: &Map<String, Value>, k: &Citekey) -> bool {
    meta.get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(k.as_str())))
        && meta
            .get("objects")
            .and_then(|o| o.get(k.as_str()))
            .is_some()
}

/// The source PDF the OCR read, verified against its checksum.
pub(crate) async fn source_pdf(
    registry: &Registry,
    key: &Citekey,
    ocr: &recto_library::StepResult,
    stores: &mut BTreeMap<String, Store>,
    cache: &Path,
) -> Result<PathBuf, String> {
    let upload = ocr
        .entry
        .as_ref()
        .and_then(|e| e.get("source_job_id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let (_, meta) = registry.metadata_by_name("ocr", ocr.job_id.as_str()).ok()?;
            meta.get("sources")
                .and_then(|s| s.get(key.as_str()))
                .or_else(|| meta.get("source_job_id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or("the OCR job records no upload for it")?;
    let job = JobId::parse(&upload).map_err(|e| e.to_string())?;
    let (_, meta) = registry
        .metadata_by_name("source", job.as_str())
        .map_err(|e| e.to_string())?;
    if !stores.contains_key(&upload) {
        let cfg = recorded_store(&meta, &job).map_err(|e| e.to_string())?;
        let store = Store::open(&cfg, Path::new(".")).map_err(|e| e.to_string())?;
        stores.insert(upload.clone(), store);
    }
    fetch_source(&stores[&upload], &meta, key, cache).await
}

/// The store an upload job recorded (its URL, endpoint, region, addressing).
pub fn recorded_store(meta: &Map<String, Value>, job: &JobId) -> Result<StoreConfig, StepError> {
    let url = meta
        .get("store")
        .and_then(Value::as_str)
        .ok_or_else(|| StepError::NoStoreRecorded { job: job.clone() })?;
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
/// place from a local store, downloaded into the cache from S3. The object
/// key comes from metadata, so it goes through the store's own key checks
/// like any other key: a key that would leave the store is refused.
pub(crate) async fn fetch_source(
    store: &Store,
    meta: &Map<String, Value>,
    key: &Citekey,
    cache: &Path,
) -> Result<PathBuf, String> {
    let object = meta
        .get("objects")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .ok_or_else(|| "the source job records no object".to_owned())?;
    let expected = meta
        .get("checksums")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| "the source job records no valid sha256 checksum".to_owned())?;
    let mismatch = |actual: &str| {
        format!(
            "checksum mismatch for {object} in {}: recorded sha256 {expected}, found {actual}",
            store.url()
        )
    };
    let local = store.local_path(object).map_err(|e| e.to_string())?;
    if let Some(path) = local {
        tracing::debug!("{key}: reading {} in place", path.display());
        let (actual, _) = recto_store::sha256_file(&path)
            .await
            .map_err(|e| e.to_string())?;
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
        tracing::debug!("{key}: using the cached copy {}", cached.display());
        return Ok(cached);
    }
    tracing::debug!("{key}: downloading {object} from {}", store.url());
    match store.get_to_file(object, &cached, Some(expected)).await {
        Ok(_) => Ok(cached),
        Err(recto_store::StoreError::ChecksumMismatch { actual, .. }) => Err(mismatch(&actual)),
        Err(e) => Err(error_chain(&e)),
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
