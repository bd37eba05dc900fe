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

use futures::StreamExt;
use recto_registry::{Citekey, JobId, Registry, Status};
use recto_store::{Store, error_chain};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::StepError;
use crate::harness::{Citekeys, Start, Step, StepRun};
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
    /// The entry has no PDF (a BibTeX entry without a file): not uploaded,
    /// not a failure.
    NoPdf(String),
    Failed(FileError),
}

/// Why one file was not uploaded (the other files go on). Reasons from
/// the store are kept as their message chain, so a report can be cloned
/// and compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A file whose name is not a citekey: how to make it one.
    #[error(
        "{}: the file name is not a valid citekey ({reason}); rename it (e.g. {suggested}.pdf) or name it in a BibTeX file",
        .path.display()
    )]
    NotACitekeyName {
        path: PathBuf,
        reason: String,
        suggested: String,
    },
    /// A citekey given (in a list or a BibTeX file) that is not valid.
    #[error("{0}")]
    BadCitekey(String),
    /// No PDF could be found for the entry.
    #[error(transparent)]
    NoFile(crate::sources::NoSource),
    #[error("file not found: {}", .0.display())]
    NotFound(PathBuf),
    #[error("{}: not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("{}: empty file", .0.display())]
    Empty(PathBuf),
    #[error("{}: not a PDF (no %PDF- header in the first 1024 bytes)", .0.display())]
    NotPdf(PathBuf),
    #[error("{}: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// The store refused or could not be reached.
    #[error("{0}")]
    Store(String),
    /// The store failed for every file before this one's turn.
    #[error("not attempted: the store failed earlier ({0})")]
    NotAttempted(String),
}

#[derive(Debug, Clone)]
pub struct FileResult {
    pub citekey: String,
    pub language: Option<String>,
    pub bib: Option<recto_library::Bib>,
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

    pub fn failed(&self) -> impl Iterator<Item = (&str, &FileError)> {
        self.files.iter().filter_map(|f| match &f.outcome {
            FileOutcome::Failed(why) => Some((f.citekey.as_str(), why)),
            _ => None,
        })
    }

    /// The citekeys skipped because they name no PDF, and why.
    pub fn no_pdf(&self) -> BTreeMap<&str, &str> {
        self.files
            .iter()
            .filter_map(|f| match &f.outcome {
                FileOutcome::NoPdf(why) => Some((f.citekey.as_str(), why.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// The source upload step.
#[derive(Debug)]
pub struct Upload;

impl Step for Upload {
    const NAME: &'static str = "source";
    const INPUT: Option<&'static str> = None;
}

/// Where an upload went; recorded while it runs and after.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadTarget {
    pub bucket: Option<String>,
    pub endpoint_url: Option<String>,
    pub store: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    pub key_layout: String,
}

/// What a finished upload records besides the common header: the spec's
/// `checksums` and recto's object keys, sizes and local files per citekey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadBody {
    #[serde(flatten)]
    pub target: UploadTarget,
    pub checksums: BTreeMap<String, Option<String>>,
    pub objects: BTreeMap<String, Option<String>>,
    pub sizes: BTreeMap<String, u64>,
    pub files: BTreeMap<String, Option<String>>,
    pub bytes_uploaded: u64,
    /// The Tesseract language of each citekey whose BibTeX entry names one
    /// (`langid` / `language`); OCR reads with it when no language is given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, String>,
    /// Entries without a PDF, skipped: `{citekey: reason}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub no_pdf: BTreeMap<String, String>,
    /// Author, title and year of each entry of a .bib (stored, failed or
    /// without a PDF alike), for the read side to show.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bib: BTreeMap<String, recto_library::Bib>,
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
        return Err(StepError::NoSources);
    }
    // Wrong credentials, a missing bucket or a dead server stop the step
    // here, before anything is recorded.
    tracing::debug!("checking the store {}", store.url());
    store.check().await?;

    let target = target(store);
    let run = if opts.dry_run {
        None
    } else {
        let planned: Vec<String> = inputs
            .iter()
            .filter(|i| Citekey::parse(&i.citekey).is_ok())
            .map(|i| i.citekey.clone())
            .collect();
        let citekeys = Citekeys {
            total: inputs.len(),
            ..Citekeys::new(planned)
        }
        .count("uploaded", 0)
        .count("skipped", 0)
        .count("failed", 0);
        let run = StepRun::begin::<Upload, _>(registry, Start::New, None, citekeys, &target)?;
        remove_staging_leftovers(registry, store, run.job());
        Some(run)
    };

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

    let (job_id, metadata) = match run {
        None => (None, None),
        Some(run) => {
            let job = run.job().clone();
            let (citekeys, failures, body) = summarise(target, &files);
            // A store that failed as a whole (unreachable, refused) stopped
            // the run: it did not finish, whatever reached the store.
            let saved = if aborted.lock().expect("not poisoned").is_some() {
                run.finish_with(Status::Failed, None, citekeys, failures, body)?
            } else {
                run.finish(None, citekeys, failures, body)?
            };
            (Some(job), Some(saved))
        }
    };
    Ok(UploadReport {
        job_id,
        files,
        metadata,
    })
}

/// A local store's partial files (`<key>#<n>`, object_store's staging
/// names) left by an upload that was killed mid-file. Removed when no other
/// upload is running, since a live one may be writing them.
fn remove_staging_leftovers(registry: &Registry, store: &Store, job: &JobId) {
    let recto_store::StoreLocation::Local { root } = store.location() else {
        return;
    };
    let sources = root.join("sources");
    let others_running = registry
        .job_summaries(Some("source"))
        .map(|jobs| {
            jobs.iter().any(|j| {
                j.job_id != job.as_str()
                    && j.steps.iter().any(|(_, st)| st == Status::Running.as_str())
            })
        })
        .unwrap_or(true);
    if others_running {
        return;
    }
    let Ok(folders) = std::fs::read_dir(&sources) else {
        return;
    };
    for folder in folders.flatten() {
        let Ok(entries) = std::fs::read_dir(folder.path()) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let is_staging = name
                .to_str()
                .and_then(|n| n.rsplit_once('#'))
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if is_staging && std::fs::remove_file(e.path()).is_ok() {
                tracing::info!(
                    "removed {}, a partial file of an interrupted upload",
                    e.path().display()
                );
            }
        }
    }
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
            language: input.language.clone(),
            bib: input.bib.clone(),
            path: input.file.as_ref().ok().cloned(),
            sha256: None,
            size: 0,
            key: None,
            outcome: FileOutcome::WouldUpload,
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
    ) -> Result<FileOutcome, FileError> {
        if input.no_pdf {
            return Ok(FileOutcome::NoPdf(
                input
                    .file
                    .as_ref()
                    .err()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ));
        }
        let citekey = Citekey::parse(&input.citekey).map_err(|e| match &input.file {
            Ok(p) => FileError::NotACitekeyName {
                path: p.clone(),
                reason: e.to_string(),
                suggested: suggested_name(&input.citekey),
            },
            Err(_) => FileError::BadCitekey(e.to_string()),
        })?;
        let path = input.file.clone().map_err(FileError::NoFile)?;
        r.size = check_pdf(&path).await?;
        let (sha, _) = self
            .hashes
            .sha256(&path)
            .await
            .map_err(|e| FileError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
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
            return Err(FileError::NotAttempted(why));
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
        recto_fs::hold::point("upload-put");
        self.store
            .put_file(&key, &path, &sha, &|n| progress.bytes(n))
            .await
            .map_err(|e| self.fail(e))?;
        Ok(FileOutcome::Uploaded)
    }

    /// Turn a store error into a reason; a store-wide failure stops the
    /// files not yet started, instead of each retrying for minutes.
    fn fail(&self, e: recto_store::StoreError) -> FileError {
        let why = error_chain(&e);
        if e.is_store_wide() {
            self.abort_flag.store(true, Ordering::Relaxed);
            self.aborted
                .lock()
                .expect("not poisoned")
                .get_or_insert_with(|| e.to_string());
        }
        FileError::Store(why)
    }
}

/// A citekey-safe name for a file stem: `Dupont 1962` -> `Dupont_1962`.
fn suggested_name(stem: &str) -> String {
    let mut out = String::new();
    for c in stem.chars() {
        if c.is_whitespace() || matches!(c, '/' | '\\') || c.is_control() {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    }
    let out = out.replace("..", ".");
    out.trim_matches('_').to_owned()
}

/// Check that `path` is a non-empty PDF; returns its size.
async fn check_pdf(path: &Path) -> Result<u64, FileError> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let unreadable = |e: std::io::Error| FileError::Unreadable {
            path: p.clone(),
            reason: e.to_string(),
        };
        let meta = std::fs::metadata(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound(p.clone()),
            _ => unreadable(e),
        })?;
        if !meta.is_file() {
            return Err(FileError::NotAFile(p.clone()));
        }
        if meta.len() == 0 {
            return Err(FileError::Empty(p.clone()));
        }
        let mut head = [0u8; 1024];
        let mut f = std::fs::File::open(&p).map_err(unreadable)?;
        let n = f.read(&mut head).map_err(unreadable)?;
        // The PDF spec allows junk before the header within the first 1 KiB.
        if !head[..n].windows(5).any(|w| w == b"%PDF-") {
            return Err(FileError::NotPdf(p.clone()));
        }
        Ok(meta.len())
    })
    .await
    .map_err(|e| FileError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?
}

fn target(store: &Store) -> UploadTarget {
    let loc = store.location();
    let (region, path_style) = match loc {
        recto_store::StoreLocation::S3 {
            region, path_style, ..
        } => (Some(region.clone()), Some(*path_style)),
        recto_store::StoreLocation::Local { .. } | recto_store::StoreLocation::Memory { .. } => {
            (None, None)
        }
    };
    UploadTarget {
        bucket: loc.bucket().map(str::to_owned),
        endpoint_url: loc.endpoint_url().map(str::to_owned),
        store: store.url(),
        region,
        path_style,
        key_layout: "sources/<citekey>/<sha256>.pdf".into(),
    }
}

fn summarise(
    target: UploadTarget,
    files: &[FileResult],
) -> (Citekeys, BTreeMap<String, String>, UploadBody) {
    let stored: Vec<&FileResult> = files
        .iter()
        .filter(|f| matches!(f.outcome, FileOutcome::Uploaded | FileOutcome::Skipped))
        .collect();
    let count = |o: FileOutcome| files.iter().filter(|f| f.outcome == o).count();
    let failures: BTreeMap<String, String> = files
        .iter()
        .filter_map(|f| match &f.outcome {
            FileOutcome::Failed(why) => Some((f.citekey.clone(), why.to_string())),
            _ => None,
        })
        .collect();
    let citekeys = Citekeys {
        total: files.len(),
        ..Citekeys::new(stored.iter().map(|f| f.citekey.clone()).collect())
    }
    .count("uploaded", count(FileOutcome::Uploaded))
    .count("skipped", count(FileOutcome::Skipped))
    .count(
        "no_pdf",
        files
            .iter()
            .filter(|f| matches!(f.outcome, FileOutcome::NoPdf(_)))
            .count(),
    )
    .count("failed", failures.len());
    let per = |f: &dyn Fn(&FileResult) -> Option<String>| -> BTreeMap<String, Option<String>> {
        stored.iter().map(|r| (r.citekey.clone(), f(r))).collect()
    };
    let body = UploadBody {
        target,
        checksums: per(&|r| r.sha256.clone()),
        objects: per(&|r| r.key.clone()),
        sizes: stored.iter().map(|r| (r.citekey.clone(), r.size)).collect(),
        // The user's own file, absolute, so that later messages about this
        // source can name it wherever they are run from.
        files: per(&|r| {
            r.path.as_ref().map(|p| {
                std::fs::canonicalize(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            })
        }),
        bytes_uploaded: files
            .iter()
            .filter(|f| f.outcome == FileOutcome::Uploaded)
            .map(|f| f.size)
            .sum(),
        languages: stored
            .iter()
            .filter_map(|r| Some((r.citekey.clone(), r.language.clone()?)))
            .collect(),
        no_pdf: files
            .iter()
            .filter_map(|f| match &f.outcome {
                FileOutcome::NoPdf(why) => Some((f.citekey.clone(), why.clone())),
                _ => None,
            })
            .collect(),
        bib: files
            .iter()
            .filter_map(|f| Some((f.citekey.clone(), f.bib.clone()?)))
            .collect(),
    };
    (citekeys, failures, body)
}
