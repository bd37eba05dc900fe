//! The sync step: push an OCR job's results to the bucket, incrementally.
//!
//! Keys mirror the local layout under the store's root:
//! `analytics/ocr/<citekey>/<job_id>/{page_NNNN.json, page_NNNN.jpg, fulltext.txt}`
//! and `analytics/ocr/job_metadata/<job_id>.json`. Each citekey folder also
//! gets `_manifest.json` ({file: {size, sha256}}), written after its files:
//! what to upload is decided from one listing and one manifest read per
//! folder, not one request per file. A file is skipped when the listing has
//! it with the same size and the manifest with the same sha256; anything
//! else (new, changed, or uploaded by a run that died before its manifest)
//! is uploaded again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use recto_registry::{Citekey, JobId, Registry, StepName, now_timestamp};
use recto_store::{Store, StoreConfig};
use serde_json::{Map, Value, json};

use crate::StepError;
use crate::hashcache::HashCache;
use crate::ocr::recorded_store;
use crate::progress::Progress;
use recto_store::error_chain;

/// The manifest object in each synced folder.
pub const MANIFEST: &str = "_manifest.json";

#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// `latest` or an OCR job id.
    pub job: String,
    pub skip_images: bool,
    pub dry_run: bool,
    pub concurrency: usize,
    /// Sync to this store instead of the one the source upload recorded.
    pub store: Option<StoreConfig>,
    /// Sync what is complete of a failed or unfinished OCR job.
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
    pub failures: BTreeMap<String, String>,
    /// Differences found by the final check (empty when the bucket matches).
    pub mismatches: Vec<String>,
    pub metadata: Option<Map<String, Value>>,
    pub target: String,
}

fn step(name: &str) -> StepName {
    StepName::parse(name).expect("valid step name")
}

/// Run the sync step.
pub async fn run_sync(
    registry: &Registry,
    req: &SyncRequest,
    progress: &dyn Progress,
) -> Result<SyncOutcome, StepError> {
    let started = Instant::now();
    let started_at = now_timestamp();
    let job = if req.job == "latest" {
        registry
            .latest_job_with_step("ocr")?
            .ok_or_else(|| StepError::NoInput("no OCR job to sync yet".into()))?
    } else {
        JobId::parse(&req.job)?
    };
    let ocr = registry.get_step_metadata(&step("ocr"), &job)?;
    let status = ocr
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("pending");
    if status != "completed" && !req.allow_incomplete {
        return Err(StepError::NoInput(format!(
            "OCR job {job} is {status}, not completed; finish it (recto ocr --resume {job}) or sync what is complete with --allow-incomplete"
        )));
    }
    let source_job = ocr
        .get("source_job_id")
        .and_then(Value::as_str)
        .map(JobId::parse)
        .transpose()?;
    let store = match (&req.store, &source_job) {
        (Some(cfg), _) => Store::open(cfg, Path::new("."))?,
        (None, Some(src)) => Store::open(
            &recorded_store(&registry.get_source_metadata(src)?, src)?,
            Path::new("."),
        )?,
        (None, None) => {
            return Err(StepError::NoInput(format!(
                "OCR job {job} records no source upload, so no target store; give --store"
            )));
        }
    };

    // Which folders: every citekey of the job, less the failed ones.
    let failed_keys: Vec<String> = ocr
        .get("failures")
        .and_then(Value::as_object)
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default();
    let output = ocr
        .get("output_dir")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .unwrap_or_else(|| registry.data_dir().join("analytics/ocr"));
    let keys: Vec<Citekey> = ocr
        .get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| Citekey::parse(v.as_str()?).ok())
                .collect()
        })
        .unwrap_or_default();

    let mut folders: Vec<(String, Vec<LocalEntry>)> = Vec::new();
    let mut images_skipped = 0;
    for k in keys
        .iter()
        .filter(|k| !failed_keys.iter().any(|f| f == k.as_str()))
    {
        let dir = output.join(k.file_stem()).join(job.as_str());
        let prefix = format!("analytics/ocr/{}/{job}", k.file_stem());
        let (files, skipped_images) = local_files(&dir, &prefix, req.skip_images)?;
        images_skipped += skipped_images;
        folders.push((prefix, files));
    }
    let meta_path = registry.layout().step_metadata_path(&step("ocr"), &job);
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
        "analytics/ocr/job_metadata".to_owned(),
        vec![LocalEntry {
            local: meta_path,
            key: format!("analytics/ocr/job_metadata/{job}.json"),
            size: meta_size,
            cache: internal_cache,
        }],
    ));

    store.check().await?;
    if !req.dry_run {
        registry.save_step_metadata(
            &step("sync_ocr"),
            &job,
            json!({"status": "running", "source_job_id": source_job.as_ref().map(JobId::as_str),
                   "ocr_job_id": job.as_str(), "target": target_json(&store), "started_at": started_at}),
        )?;
    }

    // Decide from one listing and one manifest per folder. Files the bucket
    // does not have (at that size) need no checksum to decide: they are
    // hashed while the uploads run.
    let mut to_upload: Vec<LocalEntry> = Vec::new();
    let mut skipped = 0;
    // The checksum of every file known to be in the bucket, for manifests.
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    // Folders with objects the manifest does not know of yet.
    let mut recovered: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut remote_manifests: BTreeMap<String, BTreeMap<String, (u64, String)>> = BTreeMap::new();
    for (prefix, files) in &folders {
        let listed: BTreeMap<String, u64> = store
            .list(&format!("{prefix}/"))
            .await?
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect();
        let manifest = if prefix.ends_with("job_metadata") {
            // One file, in a folder other jobs share: its own checksum
            // (object metadata) instead of a shared manifest.
            head_manifest(&store, files, &listed).await?
        } else {
            read_manifest(&store, prefix, &listed).await
        };
        let (present, absent): (Vec<&LocalEntry>, Vec<&LocalEntry>) = files
            .iter()
            .partition(|f| listed.get(&f.key) == Some(&f.size));
        to_upload.extend(absent.into_iter().cloned());
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
                skipped += 1;
                known.insert(f.key.clone(), sha);
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
            .buffer_unordered(req.concurrency.max(1))
            .collect()
            .await;
        for (f, sha, remote) in checked {
            if remote.as_deref() == Some(sha.as_str()) {
                recovered.insert(prefix.clone());
                skipped += 1;
                known.insert(f.key.clone(), sha);
            } else {
                to_upload.push(f);
            }
        }
        remote_manifests.insert(prefix.clone(), manifest);
    }

    if req.dry_run {
        return Ok(SyncOutcome {
            job_id: job,
            uploaded: to_upload
                .into_iter()
                .map(|f| SyncFile {
                    local: f.local,
                    key: f.key,
                    size: f.size,
                    sha256: String::new(),
                })
                .collect(),
            skipped,
            images_skipped,
            failures: BTreeMap::new(),
            mismatches: Vec::new(),
            metadata: None,
            target: store.url(),
        });
    }

    progress.begin(
        "sync",
        to_upload.len() as u64,
        Some(to_upload.iter().map(|f| f.size).sum()),
    );
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<String>> = Mutex::new(None);
    let results: Vec<(SyncFile, Result<(), String>)> = futures::stream::iter(to_upload)
        .map(|f| {
            let store = &store;
            let stop = &stop;
            let first_error = &first_error;
            async move {
                if stop.load(Ordering::Relaxed) {
                    let why = first_error
                        .lock()
                        .expect("not poisoned")
                        .clone()
                        .unwrap_or_default();
                    let f = f.unhashed();
                    return (
                        f,
                        Err(format!("not attempted: the store failed earlier ({why})")),
                    );
                }
                let sha = match f.sha256().await {
                    Ok(sha) => sha,
                    Err(e) => return (f.unhashed(), Err(e.to_string())),
                };
                let r = store
                    .put_file(&f.key, &f.local, &sha, &|n| progress.bytes(n))
                    .await;
                let f = SyncFile {
                    local: f.local,
                    key: f.key,
                    size: f.size,
                    sha256: sha,
                };
                let r = r.map_err(|e| {
                    if e.is_store_wide() {
                        stop.store(true, Ordering::Relaxed);
                        first_error
                            .lock()
                            .expect("not poisoned")
                            .get_or_insert_with(|| e.to_string());
                    }
                    error_chain(&e)
                });
                progress.item_done(&f.key, r.is_ok());
                (f, r)
            }
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    progress.end();

    let mut uploaded = Vec::new();
    let mut failures = BTreeMap::new();
    for (f, r) in results {
        match r {
            Ok(()) => {
                known.insert(f.key.clone(), f.sha256.clone());
                uploaded.push(f);
            }
            Err(why) => {
                failures.insert(f.key.clone(), why);
            }
        }
    }

    // New manifests: what was there and still matches, plus what went up.
    if !stop.load(Ordering::Relaxed) {
        for (prefix, files) in &folders {
            if prefix.ends_with("job_metadata") {
                continue;
            }
            let mut manifest = Map::new();
            for f in files {
                if let Some(sha) = known.get(&f.key) {
                    manifest.insert(
                        file_name(&f.key).to_owned(),
                        json!({"size": f.size, "sha256": sha}),
                    );
                }
            }
            let old = remote_manifests.get(prefix);
            let changed = old.is_none_or(|o| {
                o.len() != manifest.len()
                    || manifest.iter().any(|(k, v)| {
                        o.get(k)
                            .is_none_or(|(s, h)| v["size"] != json!(s) || v["sha256"] != json!(h))
                    })
            });
            if changed || recovered.contains(prefix) {
                let bytes =
                    serde_json::to_vec_pretty(&json!({"schema_version": 1, "files": manifest}))
                        .expect("manifest serialises");
                if let Err(e) = store
                    .put_bytes(&format!("{prefix}/{MANIFEST}"), bytes.into())
                    .await
                {
                    failures.insert(format!("{prefix}/{MANIFEST}"), error_chain(&e));
                }
            }
        }
    }

    // Final check: every local file is in the bucket with its size (listing)
    // and checksum (manifest).
    let mut mismatches = Vec::new();
    if failures.is_empty() {
        for (prefix, files) in &folders {
            let listed: BTreeMap<String, u64> = match store.list(&format!("{prefix}/")).await {
                Ok(l) => l.into_iter().map(|o| (o.key, o.size)).collect(),
                Err(e) => {
                    mismatches.push(format!("{prefix}/: {}", error_chain(&e)));
                    continue;
                }
            };
            let manifest = if prefix.ends_with("job_metadata") {
                head_manifest(&store, files, &listed).await?
            } else {
                read_manifest(&store, prefix, &listed).await
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
                    .is_none_or(|(_, sha)| Some(sha) != known.get(&f.key))
                {
                    mismatches.push(format!(
                        "{}: checksum in the bucket's manifest differs",
                        f.key
                    ));
                }
            }
        }
    }

    for (_, files) in &folders {
        if let Some(f) = files.first() {
            f.cache.save();
        }
    }
    let files_total: usize = folders.iter().map(|(_, f)| f.len()).sum();
    let status = if failures.is_empty() && mismatches.is_empty() {
        "completed"
    } else {
        "failed"
    };
    let meta = json!({
        "status": status,
        "source_job_id": source_job.as_ref().map(JobId::as_str),
        "ocr_job_id": job.as_str(),
        "citekeys": {"total": keys.len(), "list": keys.iter().map(Citekey::as_str).collect::<Vec<_>>()},
        "files_total": files_total,
        "files_uploaded": uploaded.len(),
        "files_skipped": skipped,
        "bytes_uploaded": uploaded.iter().map(|f| f.size).sum::<u64>(),
        "images_skipped": images_skipped,
        "skip_images": req.skip_images,
        "allow_incomplete": req.allow_incomplete,
        "ocr_status": status_of(&ocr),
        "target": target_json(&store),
        "verified": mismatches.is_empty() && failures.is_empty(),
        "mismatches": mismatches,
        "failures": failures,
        "started_at": started_at,
        "duration_seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
    });
    let metadata = registry.save_step_metadata(&step("sync_ocr"), &job, meta)?;
    Ok(SyncOutcome {
        job_id: job,
        uploaded,
        skipped,
        images_skipped,
        failures,
        mismatches,
        metadata: Some(metadata),
        target: store.url(),
    })
}

fn status_of(m: &Map<String, Value>) -> Value {
    m.get("status").cloned().unwrap_or(Value::Null)
}

fn target_json(store: &Store) -> Value {
    let loc = store.location();
    let prefix = match loc {
        recto_store::StoreLocation::S3 { prefix, .. } => prefix.clone(),
        recto_store::StoreLocation::Local { .. } => String::new(),
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
