//! The sync step: push a step's results (OCR's by default) to the bucket,
//! incrementally; recorded as step `sync_<step>` (`sync_ocr`, the spec's).
//!
//! Keys mirror the local layout under the store's root:
//! `analytics/<step>/<citekey>/<job_id>/{page_NNNN.json, page_NNNN.jpg, fulltext.txt}`
//! and `analytics/<step>/job_metadata/<job_id>.json`. Each citekey folder also
//! gets `_manifest.json` ({file: {size, sha256}}), written after its files:
//! what to upload is decided from one listing and one manifest read per
//! folder, not one request per file. A file is skipped when the listing has
//! it with the same size and the manifest with the same sha256; anything
//! else (new, changed, or uploaded by a run that died before its manifest)
//! is uploaded again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use recto_registry::{Citekey, JobId, Registry, Status, StepName};
use recto_store::{Store, StoreConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::StepError;
use crate::fetch::recorded_store;
use crate::harness::{self, Citekeys, Start, StepRun};
use crate::hashcache::HashCache;
use crate::progress::Progress;
use recto_store::error_chain;

/// The manifest object in each synced folder.
pub const MANIFEST: &str = "_manifest.json";

#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// The step whose results to push (`ocr` by default; `toc`,
    /// `segmentation`, `export`, ...). Recorded as step `sync_<step>`.
    pub step: String,
    /// `latest` (the newest job with that step) or a job id.
    pub job: String,
    pub skip_images: bool,
    pub dry_run: bool,
    pub concurrency: usize,
    /// Sync to this store instead of the one the source upload recorded.
    pub store: Option<StoreConfig>,
    /// Sync what is complete of a failed or unfinished job.
    pub allow_incomplete: bool,
}

/// One file to sync.
#[derive(Debug, Clone)]
pub struct SyncFile {
    pub local: PathBuf,
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub job_id: JobId,
    pub uploaded: Vec<SyncFile>,
    pub skipped: usize,
    pub images_skipped: usize,
    /// `{object key: reason}` for files that could not be uploaded.
    pub failures: BTreeMap<String, String>,
    /// Differences found by the final check (empty when the bucket matches).
    pub mismatches: Vec<String>,
    pub metadata: Option<Map<String, Value>>,
    pub target: String,
}

/// What a sync records besides the common header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncBody {
    /// The synced job's id under the synced step's name (`ocr_job_id`).
    #[serde(flatten)]
    pub synced_job: Map<String, Value>,
    pub files_total: usize,
    pub files_uploaded: usize,
    pub files_skipped: usize,
    pub bytes_uploaded: u64,
    pub images_skipped: usize,
    pub skip_images: bool,
    pub allow_incomplete: bool,
    /// The synced step's status when it was synced (`ocr_status`).
    #[serde(flatten)]
    pub synced_status: Map<String, Value>,
    pub target: Value,
    pub verified: bool,
    pub mismatches: Vec<String>,
    /// `{object key: reason}` for files that could not be uploaded.
    pub file_failures: BTreeMap<String, String>,
}

/// What a sync records while it runs.
#[derive(Debug, Clone, Serialize)]
struct SyncRunning {
    #[serde(flatten)]
    synced_job: Map<String, Value>,
    target: Value,
}

/// The job, its step record and where its files go, resolved once.
struct Resolved {
    step: StepName,
    sync_step: StepName,
    job: JobId,
    step_meta: Map<String, Value>,
    source_job: Option<JobId>,
    store: Store,
    keys: Vec<Citekey>,
    folders: Vec<(String, Vec<LocalEntry>)>,
    images_skipped: usize,
}

/// What to upload, decided from one listing and one manifest per folder.
struct Decision {
    to_upload: Vec<LocalEntry>,
    skipped: usize,
    /// The checksum of every file known to be in the bucket, for manifests.
    known: BTreeMap<String, String>,
    /// Folders with objects the manifest does not know of yet.
    recovered: BTreeSet<String>,
    remote_manifests: BTreeMap<String, BTreeMap<String, (u64, String)>>,
}

/// Run the sync step.
pub async fn run_sync(
    registry: &Registry,
    req: &SyncRequest,
    progress: &dyn Progress,
) -> Result<SyncOutcome, StepError> {
    let r = resolve(registry, req)?;
    tracing::debug!("checking the store {}", r.store.url());
    r.store.check().await?;
    if req.dry_run {
        let d = decide(&r, req.concurrency).await?;
        return Ok(SyncOutcome {
            job_id: r.job,
            uploaded: d.to_upload.into_iter().map(LocalEntry::unhashed).collect(),
            skipped: d.skipped,
            images_skipped: r.images_skipped,
            failures: BTreeMap::new(),
            mismatches: Vec::new(),
            metadata: None,
            target: r.store.url(),
        });
    }
    let synced_job = synced_field(&r.step, "job_id", r.job.as_str().into());
    let list: Vec<String> = r.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let run = begin_sync(
        registry,
        &r,
        Citekeys::new(list.clone()),
        &SyncRunning {
            synced_job: synced_job.clone(),
            target: target_json(&r.store),
        },
    )?;
    let mut d = match decide(&r, req.concurrency).await {
        Ok(d) => d,
        Err(e) => {
            let body = json!({});
            return Err(run.abort(r.source_job.as_ref(), Citekeys::new(list), body, e));
        }
    };
    let (uploaded, failures, stopped) = upload_all(&r, &mut d, req.concurrency, progress).await;
    let mut failures = failures;
    if !stopped {
        write_manifests(&r, &d, &mut failures).await;
    }
    let mismatches = if failures.is_empty() {
        verify(&r, &d).await?
    } else {
        Vec::new()
    };
    for (_, files) in &r.folders {
        if let Some(f) = files.first() {
            f.cache.save();
        }
    }

    let files_total: usize = r.folders.iter().map(|(_, f)| f.len()).sum();
    let ok = failures.is_empty() && mismatches.is_empty();
    // Per citekey, the first file that failed says why.
    let mut by_citekey: BTreeMap<String, String> = BTreeMap::new();
    for (key, why) in &failures {
        let citekey = r
            .keys
            .iter()
            .find(|k| key.starts_with(&format!("analytics/{}/{}/", r.step, k.file_stem())));
        if let Some(k) = citekey {
            by_citekey
                .entry(k.as_str().to_owned())
                .or_insert_with(|| format!("{key}: {why}"));
        }
    }
    let body = SyncBody {
        synced_job,
        files_total,
        files_uploaded: uploaded.len(),
        files_skipped: d.skipped,
        bytes_uploaded: uploaded.iter().map(|f| f.size).sum::<u64>(),
        images_skipped: r.images_skipped,
        skip_images: req.skip_images,
        allow_incomplete: req.allow_incomplete,
        synced_status: synced_field(&r.step, "status", status_of(&r.step_meta)),
        target: target_json(&r.store),
        verified: ok,
        mismatches: mismatches.clone(),
        file_failures: failures.clone(),
    };
    let status = Status::ended(ok);
    let metadata = run.finish_with(
        status,
        r.source_job.as_ref(),
        Citekeys::new(list),
        by_citekey,
        body,
    )?;
    Ok(SyncOutcome {
        job_id: r.job,
        uploaded,
        skipped: d.skipped,
        images_skipped: r.images_skipped,
        failures,
        mismatches,
        metadata: Some(metadata),
        target: r.store.url(),
    })
}

/// `{"<step>_<field>": value}`, e.g. `ocr_job_id`.
fn synced_field(step: &StepName, field: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(format!("{step}_{field}"), value);
    m
}

/// The harness's run for `sync_<step>`: the sync is generic over the step
/// it pushes, so its name is only known at run time.
fn begin_sync<'r>(
    registry: &'r Registry,
    r: &Resolved,
    citekeys: Citekeys,
    running: &SyncRunning,
) -> Result<StepRun<'r>, StepError> {
    StepRun::begin_named(
        registry,
        r.sync_step.as_str(),
        Start::Job(r.job.clone()),
        r.source_job.as_ref(),
        citekeys,
        running,
    )
}

/// Which job, which store, which folders.
fn resolve(registry: &Registry, req: &SyncRequest) -> Result<Resolved, StepError> {
    let step = StepName::parse(&req.step)?;
    let sync_step = StepName::parse(&format!("sync_{step}"))?;
    let job = recto_library::resolve_job(registry, step.as_str(), &req.job)?;
    let step_meta = registry.get_step_metadata(&step, &job)?;
    let status = step_meta
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or(Status::Pending.as_str());
    if status != Status::Completed.as_str() && !req.allow_incomplete {
        return Err(StepError::NotCompleted {
            step: step.to_string(),
            job,
            status: status.to_owned(),
        });
    }
    let source_job = step_meta
        .get("source_job_id")
        .and_then(Value::as_str)
        .map(JobId::parse)
        .transpose()?;
    // The store: the one given, else the one the upload at the root of the
    // job's lineage recorded.
    let store = match &req.store {
        Some(cfg) => Store::open(cfg, Path::new("."))?,
        None => {
            let root = root_upload(registry, &job)?
                .ok_or_else(|| StepError::NoStoreRecorded { job: job.clone() })?;
            Store::open(
                &recorded_store(&registry.get_source_metadata(&root)?, &root)?,
                Path::new("."),
            )?
        }
    };
    tracing::debug!("syncing {step} job {job} to {}", store.url());

    // Which folders: every citekey of the job, less the failed ones.
    let failed_keys: Vec<String> = step_meta
        .get("failures")
        .and_then(Value::as_object)
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default();
    let output = step_meta
        .get("output_dir")
        .and_then(Value::as_str)
        .map(|d| harness::recorded_path(registry, d))
        .unwrap_or_else(|| registry.layout().step_dir(&step));
    let keys: Vec<Citekey> = step_meta
        .get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str())
                .map(Citekey::parse)
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    // The sync names only what it pushes: a citekey whose step failed has
    // nothing synced, and stays pending for the sync of a later run.
    let keys: Vec<Citekey> = keys
        .into_iter()
        .filter(|k| !failed_keys.iter().any(|f| f == k.as_str()))
        .collect();

    let mut folders: Vec<(String, Vec<LocalEntry>)> = Vec::new();
    let mut images_skipped = 0;
    for k in &keys {
        let dir = harness::output_dir(&output, k, &job);
        let prefix = format!("analytics/{step}/{}/{job}", k.file_stem());
        let (files, skipped_images) = local_files(&dir, &prefix, req.skip_images)?;
        images_skipped += skipped_images;
        folders.push((prefix, files));
    }
    let meta_path = registry.layout().step_metadata_path(&step, &job);
    let meta_size = std::fs::metadata(&meta_path)
        .map_err(|e| StepError::Input {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?
        .len();
    let internal_cache = Arc::new(HashCache::load(
        registry.layout().internal_dir().join("sha256-cache.json"),
    ));
    folders.push((
        format!("analytics/{step}/job_metadata"),
        vec![LocalEntry {
            local: meta_path,
            key: format!("analytics/{step}/job_metadata/{job}.json"),
            size: meta_size,
            cache: internal_cache,
        }],
    ));
    Ok(Resolved {
        step,
        sync_step,
        job,
        step_meta,
        source_job,
        store,
        keys,
        folders,
        images_skipped,
    })
}

/// The upload at the root of `job`'s lineage (ocr -> upload; toc -> ocr ->
/// upload), from the job's registry.
fn root_upload(registry: &Registry, job: &JobId) -> Result<Option<JobId>, StepError> {
    let reg = registry.get_central_registry(job)?;
    Ok(reg
        .get("source")
        .and_then(|s| s.get("job_id"))
        .and_then(Value::as_str)
        .and_then(|s| JobId::parse(s).ok())
        .filter(|j| registry.get_source_metadata(j).is_ok()))
}

/// Decide from one listing and one manifest per folder. Files the bucket
/// does not have (at that size) need no checksum to decide: they are hashed
/// while the uploads run.
async fn decide(r: &Resolved, concurrency: usize) -> Result<Decision, StepError> {
    let store = &r.store;
    let mut d = Decision {
        to_upload: Vec::new(),
        skipped: 0,
        known: BTreeMap::new(),
        recovered: BTreeSet::new(),
        remote_manifests: BTreeMap::new(),
    };
    for (prefix, files) in &r.folders {
        let listed: BTreeMap<String, u64> = store
            .list(&format!("{prefix}/"))
            .await?
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect();
        let manifest = if prefix.ends_with("job_metadata") {
            // One file, in a folder other jobs share: its own checksum
            // (object metadata) instead of a shared manifest.
            head_manifest(store, files, &listed).await?
        } else {
            read_manifest(store, prefix, &listed).await
        };
        let (present, absent): (Vec<&LocalEntry>, Vec<&LocalEntry>) = files
            .iter()
            .partition(|f| listed.get(&f.key) == Some(&f.size));
        d.to_upload.extend(absent.into_iter().cloned());
        let hashed: Vec<Result<(LocalEntry, String), StepError>> = futures::stream::iter(present)
            .map(|f| async move { Ok((f.clone(), f.sha256().await?)) })
            .buffered(hash_parallelism())
            .collect()
            .await;
        let mut unsure = Vec::new();
        for h in hashed {
            let (f, sha) = h?;
            let in_manifest = manifest
                .get(file_name(&f.key))
                .is_some_and(|(size, m)| *size == f.size && *m == sha);
            if in_manifest {
                d.skipped += 1;
                d.known.insert(f.key.clone(), sha);
            } else {
                unsure.push((f, sha));
            }
        }
        // Listed with the right size but not in the manifest: a run that was
        // interrupted before writing it. The object's own checksum decides.
        let checked: Vec<(LocalEntry, String, Option<String>)> = futures::stream::iter(unsure)
            .map(|(f, sha)| async {
                let remote = store
                    .head(&f.key, true)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|i| i.sha256);
                (f, sha, remote)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for (f, sha, remote) in checked {
            if remote.as_deref() == Some(sha.as_str()) {
                d.recovered.insert(prefix.clone());
                d.skipped += 1;
                d.known.insert(f.key.clone(), sha);
            } else {
                d.to_upload.push(f);
            }
        }
        d.remote_manifests.insert(prefix.clone(), manifest);
    }
    tracing::debug!(
        "{} files to upload, {} unchanged",
        d.to_upload.len(),
        d.skipped
    );
    Ok(d)
}

/// Upload what was decided, at bounded concurrency; a store-wide failure
/// stops the files not yet started. Returns the uploaded files, the
/// failures, and whether the store failed as a whole.
async fn upload_all(
    r: &Resolved,
    d: &mut Decision,
    concurrency: usize,
    progress: &dyn Progress,
) -> (Vec<SyncFile>, BTreeMap<String, String>, bool) {
    let to_upload = std::mem::take(&mut d.to_upload);
    progress.begin(
        "sync",
        to_upload.len() as u64,
        Some(to_upload.iter().map(|f| f.size).sum()),
    );
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<String>> = Mutex::new(None);
    let store = &r.store;
    let results: Vec<(SyncFile, Result<(), PutError>)> = futures::stream::iter(to_upload)
        .map(|f| {
            let stop = &stop;
            let first_error = &first_error;
            async move {
                if stop.load(Ordering::Relaxed) {
                    let why = first_error
                        .lock()
                        .expect("not poisoned")
                        .clone()
                        .unwrap_or_default();
                    return (f.unhashed(), Err(PutError::NotAttempted(why)));
                }
                let sha = match f.sha256().await {
                    Ok(sha) => sha,
                    Err(e) => return (f.unhashed(), Err(PutError::Hash(Box::new(e)))),
                };
                tracing::trace!("put {}", f.key);
                recto_fs::hold::point("sync-put");
                let res = store
                    .put_file(&f.key, &f.local, &sha, &|n| progress.bytes(n))
                    .await;
                let f = SyncFile {
                    local: f.local,
                    key: f.key,
                    size: f.size,
                    sha256: sha,
                };
                let res = res.map_err(|e| {
                    if e.is_store_wide() {
                        stop.store(true, Ordering::Relaxed);
                        first_error
                            .lock()
                            .expect("not poisoned")
                            .get_or_insert_with(|| e.to_string());
                    }
                    PutError::Store(Box::new(e))
                });
                progress.item_done(&f.key, res.is_ok());
                (f, res)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.end();

    let mut uploaded = Vec::new();
    let mut failures = BTreeMap::new();
    for (f, res) in results {
        match res {
            Ok(()) => {
                d.known.insert(f.key.clone(), f.sha256.clone());
                uploaded.push(f);
            }
            Err(why) => {
                failures.insert(f.key.clone(), why.to_string());
            }
        }
    }
    (uploaded, failures, stop.load(Ordering::Relaxed))
}

/// Why one file did not go up.
#[derive(Debug, thiserror::Error)]
enum PutError {
    /// The store failed for every file before this one's turn.
    #[error("not attempted: the store failed earlier ({0})")]
    NotAttempted(String),
    /// Its local file could not be hashed.
    #[error(transparent)]
    Hash(Box<StepError>),
    /// Boxed: object_store's errors are large.
    #[error("{}", error_chain(.0))]
    Store(Box<recto_store::StoreError>),
}

/// New manifests: what was there and still matches, plus what went up.
async fn write_manifests(r: &Resolved, d: &Decision, failures: &mut BTreeMap<String, String>) {
    for (prefix, files) in &r.folders {
        if prefix.ends_with("job_metadata") {
            continue;
        }
        let mut manifest = Map::new();
        for f in files {
            if let Some(sha) = d.known.get(&f.key) {
                manifest.insert(
                    file_name(&f.key).to_owned(),
                    json!({"size": f.size, "sha256": sha}),
                );
            }
        }
        let old = d.remote_manifests.get(prefix);
        let changed = old.is_none_or(|o| {
            o.len() != manifest.len()
                || manifest.iter().any(|(k, v)| {
                    o.get(k)
                        .is_none_or(|(s, h)| v["size"] != json!(s) || v["sha256"] != json!(h))
                })
        });
        if changed || d.recovered.contains(prefix) {
            let bytes = serde_json::to_vec_pretty(&json!({"schema_version": 1, "files": manifest}))
                .expect("manifest serialises");
            if let Err(e) = r
                .store
                .put_bytes(&format!("{prefix}/{MANIFEST}"), bytes.into())
                .await
            {
                failures.insert(format!("{prefix}/{MANIFEST}"), error_chain(&e));
            }
        }
    }
}

/// Final check: every local file is in the bucket with its size (listing)
/// and checksum (manifest).
async fn verify(r: &Resolved, d: &Decision) -> Result<Vec<String>, StepError> {
    let mut mismatches = Vec::new();
    for (prefix, files) in &r.folders {
        let listed: BTreeMap<String, u64> = match r.store.list(&format!("{prefix}/")).await {
            Ok(l) => l.into_iter().map(|o| (o.key, o.size)).collect(),
            Err(e) => {
                mismatches.push(format!("{prefix}/: {}", error_chain(&e)));
                continue;
            }
        };
        let manifest = if prefix.ends_with("job_metadata") {
            head_manifest(&r.store, files, &listed).await?
        } else {
            read_manifest(&r.store, prefix, &listed).await
        };
        for f in files {
            match listed.get(&f.key) {
                None => mismatches.push(format!("{}: missing from the bucket", f.key)),
                Some(s) if *s != f.size => mismatches.push(format!(
                    "{}: size {s} in the bucket, {} here",
                    f.key, f.size
                )),
                _ => {}
            }
            if manifest
                .get(file_name(&f.key))
                .is_none_or(|(_, sha)| Some(sha) != d.known.get(&f.key))
            {
                mismatches.push(format!(
                    "{}: checksum in the bucket's manifest differs",
                    f.key
                ));
            }
        }
    }
    Ok(mismatches)
}

fn status_of(m: &Map<String, Value>) -> Value {
    m.get("status").cloned().unwrap_or(Value::Null)
}

fn target_json(store: &Store) -> Value {
    let loc = store.location();
    let prefix = match loc {
        recto_store::StoreLocation::S3 { prefix, .. } => prefix.clone(),
        recto_store::StoreLocation::Local { .. } | recto_store::StoreLocation::Memory { .. } => {
            String::new()
        }
    };
    json!({"store": store.url(), "bucket": loc.bucket(), "endpoint_url": loc.endpoint_url(), "prefix": prefix})
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// The folder's manifest, when it is listed; a missing or unreadable one
/// means "nothing known", so everything is uploaded again.
async fn read_manifest(
    store: &Store,
    prefix: &str,
    listed: &BTreeMap<String, u64>,
) -> BTreeMap<String, (u64, String)> {
    let key = format!("{prefix}/{MANIFEST}");
    if !listed.contains_key(&key) {
        return BTreeMap::new();
    }
    let Ok(bytes) = store.get_bytes(&key).await else {
        return BTreeMap::new();
    };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        return BTreeMap::new();
    };
    v.get("files")
        .and_then(Value::as_object)
        .map(|files| {
            files
                .iter()
                .filter_map(|(name, e)| {
                    Some((
                        name.clone(),
                        (
                            e.get("size")?.as_u64()?,
                            e.get("sha256")?.as_str()?.to_owned(),
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checksums of `files` from their own object metadata (a HEAD each), for
/// the listed ones.
async fn head_manifest(
    store: &Store,
    files: &[LocalEntry],
    listed: &BTreeMap<String, u64>,
) -> Result<BTreeMap<String, (u64, String)>, StepError> {
    let mut out = BTreeMap::new();
    for f in files.iter().filter(|f| listed.contains_key(&f.key)) {
        if let Some(info) = store.head(&f.key, true).await?
            && let Some(sha) = info.sha256
        {
            out.insert(file_name(&f.key).to_owned(), (info.size, sha));
        }
    }
    Ok(out)
}

/// Local checksums remembered between runs, one cache per folder; the file
/// starts with '.', so it is never synced.
const HASH_CACHE: &str = ".recto-sha256.json";

/// A local file to sync; its checksum is computed (or remembered) on demand.
#[derive(Debug, Clone)]
struct LocalEntry {
    local: PathBuf,
    key: String,
    size: u64,
    cache: Arc<HashCache>,
}

impl LocalEntry {
    async fn sha256(&self) -> Result<String, StepError> {
        Ok(self.cache.sha256(&self.local).await?.0)
    }

    fn unhashed(self) -> SyncFile {
        SyncFile {
            local: self.local,
            key: self.key,
            size: self.size,
            sha256: String::new(),
        }
    }
}

fn hash_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        * 2
}

/// The files of one citekey's OCR folder, with their sizes; images left out
/// (and counted) with `skip_images`.
fn local_files(
    dir: &Path,
    prefix: &str,
    skip_images: bool,
) -> Result<(Vec<LocalEntry>, usize), StepError> {
    let io = |e: std::io::Error| StepError::Input {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    let cache = Arc::new(HashCache::load(dir.join(HASH_CACHE)));
    let mut out = Vec::new();
    let mut skipped = 0;
    for e in std::fs::read_dir(dir).map_err(io)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let meta = e.metadata().map_err(io)?;
        if !meta.is_file() || name.starts_with('.') {
            continue;
        }
        if skip_images && (name.ends_with(".jpg") || name.ends_with(".png")) {
            skipped += 1;
            continue;
        }
        out.push(LocalEntry {
            local: e.path(),
            key: format!("{prefix}/{name}"),
            size: meta.len(),
            cache: cache.clone(),
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((out, skipped))
}
