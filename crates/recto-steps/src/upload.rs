//! The source upload step: put each citekey's PDF into the store under a
//! content-addressed key, skipping what is already there, and record the
//! upload job (`data/sources/job_metadata/<job_id>.json`).
//!
//! Object keys are `sources/<citekey>/<sha256>.pdf` (citekey percent-encoded
//! where needed): a changed PDF gets a new key, so every upload job's
//! recorded version stays fetchable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::StreamExt;
use recto_registry::{Citekey, JobId, Registry, Status, now_timestamp};
use recto_store::{Store, error_chain};
use serde_json::{Map, Value, json};

use crate::StepError;
use crate::progress::Progress;
use crate::sources::SourceInput;

/// The key of a source PDF in the store.
pub fn source_object_key(citekey: &Citekey, sha256: &str) -> String {
    format!("sources/{}/{sha256}.pdf", citekey.file_stem())
}

#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Look at everything, upload and record nothing.
    pub dry_run: bool,
    /// Files in flight at once.
    pub concurrency: usize,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            dry_run: false,
            concurrency: 8,
        }
    }
}

/// What happened to one citekey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Uploaded,
    /// The object with this checksum was already in the store.
    Skipped,
    /// `--dry-run`: would be uploaded.
    WouldUpload,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct FileResult {
    pub citekey: String,
    pub path: Option<PathBuf>,
    pub sha256: Option<String>,
    pub size: u64,
    pub key: Option<String>,
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone)]
pub struct UploadReport {
    /// `None` for a dry run.
    pub job_id: Option<JobId>,
    pub files: Vec<FileResult>,
    /// The source metadata as recorded.
    pub metadata: Option<Map<String, Value>>,
}

impl UploadReport {
    pub fn count(&self, pred: impl Fn(&FileOutcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().filter_map(|f| match &f.outcome {
            FileOutcome::Failed(why) => Some((f.citekey.as_str(), why.as_str())),
            _ => None,
        })
    }
}

/// Run the upload step.
pub async fn upload(
    registry: &Registry,
    store: &Store,
    inputs: Vec<SourceInput>,
    opts: &UploadOptions,
    progress: &dyn Progress,
) -> Result<UploadReport, StepError> {
    if inputs.is_empty() {
        return Err(StepError::NoInput("no source PDFs given".into()));
    }
    let started = Instant::now();
    let started_at = now_timestamp();
    // Wrong credentials, a missing bucket or a dead server stop the step
    // here, before anything is recorded.
    store.check().await?;

    let job = if opts.dry_run {
        None
    } else {
        Some(registry.new_job_id()?)
    };
    if let Some(job) = &job {
        let planned: Vec<&str> = inputs
            .iter()
            .filter(|i| Citekey::parse(&i.citekey).is_ok())
            .map(|i| i.citekey.as_str())
            .collect();
        let mut meta = base_metadata(store, Status::Running);
        meta.insert(
            "citekeys".into(),
            json!({"total": inputs.len(), "uploaded": 0, "skipped": 0, "failed": 0, "list": planned}),
        );
        meta.insert("started_at".into(), started_at.clone().into());
        registry.save_source_metadata(job, Value::Object(meta))?;
    }

    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| i.file.as_ref().ok())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    progress.begin("upload", inputs.len() as u64, Some(total_bytes));
    let aborted: Mutex<Option<String>> = Mutex::new(None);
    let abort_flag = AtomicBool::new(false);
    let hashes = crate::hashcache::HashCache::load(
        registry.layout().internal_dir().join("sha256-cache.json"),
    );
    let ctx = FileCtx {
        store,
        hashes: &hashes,
        dry_run: opts.dry_run,
        progress,
        aborted: &aborted,
        abort_flag: &abort_flag,
    };
    let mut files: Vec<FileResult> = futures::stream::iter(inputs)
        .map(|input| ctx.one(input))
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    progress.end();
    hashes.save();
    files.sort_by(|a, b| a.citekey.cmp(&b.citekey));

    let metadata = match &job {
        None => None,
        Some(job) => {
            let meta = final_metadata(store, &files, &started_at, started.elapsed().as_secs_f64());
            let saved = registry.save_source_metadata(job, Value::Object(meta))?;
            Some(saved)
        }
    };
    Ok(UploadReport {
        job_id: job,
        files,
        metadata,
    })
}

struct FileCtx<'a> {
    store: &'a Store,
    hashes: &'a crate::hashcache::HashCache,
    dry_run: bool,
    progress: &'a dyn Progress,
    aborted: &'a Mutex<Option<String>>,
    abort_flag: &'a AtomicBool,
}

impl FileCtx<'_> {
    async fn one(&self, input: SourceInput) -> FileResult {
        let mut r = FileResult {
            citekey: input.citekey.clone(),
            path: input.file.as_ref().ok().cloned(),
            sha256: None,
            size: 0,
            key: None,
            outcome: FileOutcome::Failed(String::new()),
        };
        r.outcome = match self.process(&input, &mut r).await {
            Ok(o) => o,
            Err(why) => FileOutcome::Failed(why),
        };
        let ok = !matches!(r.outcome, FileOutcome::Failed(_));
        self.progress.item_done(&r.citekey, ok);
        r
    }

    async fn process(
        &self,
        input: &SourceInput,
        r: &mut FileResult,
    ) -> Result<FileOutcome, String> {
        let citekey = Citekey::parse(&input.citekey).map_err(|e| e.to_string())?;
        let path = input.file.clone()?;
        r.size = check_pdf(&path).await?;
        let (sha, _) = self.hashes.sha256(&path).await.map_err(|e| e.to_string())?;
        let key = source_object_key(&citekey, &sha);
        r.sha256 = Some(sha.clone());
        r.key = Some(key.clone());
        if self.abort_flag.load(Ordering::Relaxed) {
            let why = self
                .aborted
                .lock()
                .expect("not poisoned")
                .clone()
                .unwrap_or_default();
            return Err(format!("not attempted: the store failed earlier ({why})"));
        }
        let existing = self
            .store
            .head(&key, false)
            .await
            .map_err(|e| self.fail(e))?;
        if let Some(info) = existing
            && info.size == r.size
            && info.sha256.as_deref().is_none_or(|s| s == sha)
        {
            self.progress.bytes(r.size);
            return Ok(FileOutcome::Skipped);
        }
        if self.dry_run {
            self.progress.bytes(r.size);
            return Ok(FileOutcome::WouldUpload);
        }
        let progress = self.progress;
        self.store
            .put_file(&key, &path, &sha, &|n| progress.bytes(n))
            .await
            .map_err(|e| self.fail(e))?;
        Ok(FileOutcome::Uploaded)
    }

    /// Turn a store error into a reason; a store-wide failure stops the
    /// files not yet started, instead of each retrying for minutes.
    fn fail(&self, e: recto_store::StoreError) -> String {
        let why = error_chain(&e);
        if e.is_store_wide() {
            self.abort_flag.store(true, Ordering::Relaxed);
            self.aborted
                .lock()
                .expect("not poisoned")
                .get_or_insert_with(|| e.to_string());
        }
        why
    }
}

/// Check that `path` is a non-empty PDF; returns its size.
async fn check_pdf(path: &Path) -> Result<u64, String> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let shown = p.display();
        let meta = std::fs::metadata(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("file not found: {shown}"),
            _ => format!("{shown}: {e}"),
        })?;
        if !meta.is_file() {
            return Err(format!("{shown}: not a regular file"));
        }
        if meta.len() == 0 {
            return Err(format!("{shown}: empty file"));
        }
        let mut head = [0u8; 1024];
        let mut f = std::fs::File::open(&p).map_err(|e| format!("{shown}: {e}"))?;
        let n = f.read(&mut head).map_err(|e| format!("{shown}: {e}"))?;
        // The PDF spec allows junk before the header within the first 1 KiB.
        if !head[..n].windows(5).any(|w| w == b"%PDF-") {
            return Err(format!(
                "{shown}: not a PDF (no %PDF- header in the first 1024 bytes)"
            ));
        }
        Ok(meta.len())
    })
    .await
    .map_err(|e| format!("{}: {e}", path.display()))?
}

fn base_metadata(store: &Store, status: Status) -> Map<String, Value> {
    let loc = store.location();
    let mut m = Map::new();
    m.insert("status".into(), status.as_str().into());
    m.insert(
        "bucket".into(),
        loc.bucket().map(Value::from).unwrap_or(Value::Null),
    );
    m.insert(
        "endpoint_url".into(),
        loc.endpoint_url().map(Value::from).unwrap_or(Value::Null),
    );
    m.insert("store".into(), store.url().into());
    if let recto_store::StoreLocation::S3 {
        region, path_style, ..
    } = loc
    {
        m.insert("region".into(), region.clone().into());
        m.insert("path_style".into(), (*path_style).into());
    }
    m.insert("key_layout".into(), "sources/<citekey>/<sha256>.pdf".into());
    m
}

fn final_metadata(
    store: &Store,
    files: &[FileResult],
    started_at: &str,
    seconds: f64,
) -> Map<String, Value> {
    let stored: Vec<&FileResult> = files
        .iter()
        .filter(|f| matches!(f.outcome, FileOutcome::Uploaded | FileOutcome::Skipped))
        .collect();
    let uploaded = files
        .iter()
        .filter(|f| f.outcome == FileOutcome::Uploaded)
        .count();
    let skipped = files
        .iter()
        .filter(|f| f.outcome == FileOutcome::Skipped)
        .count();
    let failures: BTreeMap<&str, &str> = files
        .iter()
        .filter_map(|f| match &f.outcome {
            FileOutcome::Failed(why) => Some((f.citekey.as_str(), why.as_str())),
            _ => None,
        })
        .collect();
    let status = if failures.is_empty() {
        Status::Completed
    } else {
        Status::Failed
    };
    let mut m = base_metadata(store, status);
    m.insert(
        "citekeys".into(),
        json!({
            "total": files.len(),
            "uploaded": uploaded,
            "skipped": skipped,
            "failed": failures.len(),
            "list": stored.iter().map(|f| f.citekey.as_str()).collect::<Vec<_>>(),
        }),
    );
    let per = |f: &dyn Fn(&FileResult) -> Value| -> Map<String, Value> {
        stored.iter().map(|r| (r.citekey.clone(), f(r))).collect()
    };
    m.insert(
        "checksums".into(),
        Value::Object(per(&|r| r.sha256.clone().into())),
    );
    m.insert(
        "objects".into(),
        Value::Object(per(&|r| r.key.clone().into())),
    );
    m.insert("sizes".into(), Value::Object(per(&|r| r.size.into())));
    m.insert(
        "files".into(),
        Value::Object(per(&|r| {
            r.path.as_ref().map(|p| p.display().to_string()).into()
        })),
    );
    m.insert("failures".into(), json!(failures));
    m.insert(
        "bytes_uploaded".into(),
        files
            .iter()
            .filter(|f| f.outcome == FileOutcome::Uploaded)
            .map(|f| f.size)
            .sum::<u64>()
            .into(),
    );
    m.insert("started_at".into(), started_at.into());
    m.insert(
        "duration_seconds".into(),
        json!((seconds * 1000.0).round() / 1000.0),
    );
    m
}
