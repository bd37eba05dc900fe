//! The registry API: the spec's functions over one data directory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::changes::{self, Change};
use crate::citekey::Citekey;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::ids::{JobId, Status, StepName};
use crate::index::Index;
use crate::layout::Layout;
use crate::process;
use crate::record::{Record, RecordKind, SCHEMA_VERSION, prepare_for_save};
use crate::trace::{self, Lookup};

/// How far ahead of the clock `new_job_id` may run under bursts, in seconds.
pub const MAX_IDS_AHEAD: i64 = 2;

/// The pipeline whose steps count as pending until completed.
pub const DEFAULT_PIPELINE: &[&str] = &["ocr", "sync_ocr"];

/// Parse a pipeline such as `ocr,sync_ocr,toc`.
pub fn parse_pipeline(s: &str) -> Result<Vec<StepName>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(StepName::parse)
        .collect()
}

/// The metadata registry rooted at one data directory.
///
/// Metadata files are the truth; the central registries and the index under
/// `.recto/` are derived from them and can be rebuilt at any time. All
/// writes happen under one inter-process lock, so any number of processes can
/// use the same data directory at once.
#[derive(Debug)]
pub struct Registry {
    layout: Layout,
    pipeline: Vec<StepName>,
    index: Mutex<Option<Index>>,
}

/// A running step's hold on its job; see [`Registry::lock_job`].
#[derive(Debug)]
pub struct JobLock {
    _lock: FileLock,
}

/// A file the rebuild could not use, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub path: PathBuf,
    pub reason: String,
}

/// What `rebuild_central_registry` did.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    /// Registries written, one per job.
    pub jobs: usize,
    /// Metadata files read.
    pub records: usize,
    pub problems: Vec<Problem>,
}

/// One entry of `find_jobs_for_citekey`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CitekeyJob {
    pub job_id: String,
    pub step: String,
    pub status: String,
    pub timestamp: String,
    pub source_job_id: Option<String>,
}

/// One job and the records under its id, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    pub job_id: String,
    /// `(step label, status)` in time order; the source upload is `source (upload)`.
    pub steps: Vec<(String, String)>,
    pub source_job_id: Option<String>,
}

/// The state of one step in a job's trace, for `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StepState {
    pub step: String,
    pub job_id: String,
    /// The recorded status, or `stale` for a running step whose process is gone.
    pub status: String,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
}

/// `get_job_pipeline_status`: the spec's four keys, then extensions.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineStatus {
    pub steps_completed: Vec<String>,
    pub steps_pending: Vec<String>,
    pub steps_failed: Vec<String>,
    pub source_job_id: Option<String>,
    pub job_id: String,
    pub steps_running: Vec<String>,
    pub steps_stale: Vec<String>,
    pub steps: Vec<StepState>,
    /// For each pipeline step, the job's citekeys that are not `done` for
    /// it in the library view, with their state (`pending`, `failed`,
    /// `outdated`, ...): a job-level `completed` does not hide a PDF that
    /// was never processed.
    pub citekeys_missing: BTreeMap<String, Vec<(String, String)>>,
}

impl Registry {
    /// A registry over `data_dir`. Does no I/O; the directory is created by
    /// the first write.
    pub fn open(data_dir: impl Into<PathBuf>) -> Self {
        // On a cluster the derived index belongs on each node's local disk
        // (docs/scale.md); the metadata and the change log stay shared.
        let index_dir = std::env::var_os("RECTO_INDEX_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Registry {
            layout: Layout::new(data_dir).with_index_dir(index_dir),
            pipeline: DEFAULT_PIPELINE
                .iter()
                .map(|s| StepName::parse(s).expect("valid default step"))
                .collect(),
            index: Mutex::new(None),
        }
    }

    pub fn with_pipeline(mut self, pipeline: Vec<StepName>) -> Self {
        self.pipeline = pipeline;
        self
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn data_dir(&self) -> &Path {
        self.layout.root()
    }

    pub fn pipeline(&self) -> &[StepName] {
        &self.pipeline
    }

    // ----- index management -------------------------------------------------

    fn lock(&self) -> Result<FileLock> {
        FileLock::exclusive(&self.layout.lock_path())
    }

    /// The index, ready for queries: opened, and rebuilt first when it is
    /// missing or when a writer died between writing metadata and updating
    /// the index (the `dirty` marker says so).
    fn index(&self) -> Result<MutexGuard<'_, Option<Index>>> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if self.layout.dirty_path().exists() {
            // A writer is mid-save (it holds the lock: its index is consistent
            // up to its last commit) or died (nobody holds it: repair).
            if let Some(lock) = FileLock::try_exclusive(&self.layout.lock_path())? {
                self.ensure_index_locked(&lock, &mut guard)?;
                return Ok(guard);
            }
        }
        if guard.as_ref().is_some_and(|i| !i.is_current()) {
            *guard = None;
        }
        if guard.is_none() {
            *guard = Index::open(&self.layout)?;
        }
        if guard.is_none() {
            let lock = self.lock()?;
            self.ensure_index_locked(&lock, &mut guard)?;
        }
        self.catch_up(&mut guard)?;
        Ok(guard)
    }

    /// Bring the index up to date with the change log: replay the saves it
    /// has not seen (made by processes on other nodes, whose own index is
    /// elsewhere), or rescan every record when a rebuild asked for it.
    fn catch_up(&self, slot: &mut Option<Index>) -> Result<()> {
        let Some(index) = slot.as_mut() else {
            return Ok(());
        };
        let offset = index.log_offset();
        if changes::len(&self.layout) == offset {
            return Ok(());
        }
        let (lines, end) = changes::read_from(&self.layout, offset)?;
        if lines.contains(&Change::Rescan) {
            tracing::debug!("the change log asks for a rescan; rebuilding the index");
            let (records, _) = scan(&self.layout);
            *slot = Some(Index::rebuild(&self.layout, &records, end)?);
            return Ok(());
        }
        for line in lines {
            let Change::Saved { kind, job } = line else {
                continue;
            };
            let Ok(kind) = RecordKind::from_user(&kind) else {
                continue;
            };
            let path = self.layout.metadata_path(&kind, &job);
            match crate::record::read_record(&path, kind, job) {
                Ok(record) => index.upsert(&record)?,
                Err(e) => tracing::warn!("{}: not indexed: {e}", path.display()),
            }
        }
        index.set_log_offset(end)
    }

    /// With the lock held: repair after a writer that died, reopen an index
    /// that a rebuild replaced, build a missing one. Writers call this after
    /// taking the lock, so no rebuild can swap the file under their write.
    fn ensure_index_locked(&self, lock: &FileLock, slot: &mut Option<Index>) -> Result<()> {
        if self.layout.dirty_path().exists() {
            tracing::warn!("an earlier write was interrupted; rebuilding the registry");
            *slot = None;
            self.rebuild_locked(lock, slot)?;
            return Ok(());
        }
        if slot.as_ref().is_some_and(|i| !i.is_current()) {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Index::open(&self.layout)?;
        }
        if slot.is_none() {
            self.rebuild_locked(lock, slot)?;
        }
        self.catch_up(slot)
    }

    fn exists(&self) -> bool {
        self.layout.root().exists()
    }

    // ----- job ids ------------------------------------------------------------

    /// A fresh job id in the spec's format, reserved for the caller.
    ///
    /// Ids have one-second resolution, so when the current second is taken
    /// (by this or any other process) the next free second is used, but
    /// never more than [`MAX_IDS_AHEAD`] seconds ahead of the clock: beyond
    /// that the caller waits for the clock instead. Ids stay unique and
    /// sortable and never claim a time far in the future.
    pub fn new_job_id(&self) -> Result<JobId> {
        let dir = self.layout.job_id_reservations();
        fsutil::create_dir_all(&dir)?;
        const TRIES: u32 = 100_000;
        let mut t = chrono::Local::now().naive_local();
        for _ in 0..TRIES {
            let now = chrono::Local::now().naive_local();
            if t < now - chrono::Duration::seconds(1) {
                t = now;
            }
            if t > now + chrono::Duration::seconds(MAX_IDS_AHEAD) {
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            let id = JobId::from_datetime(t);
            t += chrono::Duration::seconds(1);
            let path = dir.join(id.as_str());
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
            let guard = self.index()?;
            let index = guard.as_ref().expect("index is open");
            if !index.has_job(id.as_str())? {
                return Ok(id);
            }
        }
        Err(Error::JobIdsExhausted { dir, tries: TRIES })
    }

    // ----- writes -------------------------------------------------------------

    /// Save a step's metadata and update every registry whose trace includes it.
    ///
    /// Returns the metadata as written (with `schema_version`, `step`,
    /// `job_id`, `timestamp` and, for a running step, `started_at`, `host`,
    /// `pid` added where the caller did not give them).
    pub fn save_step_metadata(
        &self,
        step: &StepName,
        job: &JobId,
        metadata: Value,
    ) -> Result<Map<String, Value>> {
        self.save(RecordKind::Step(step.clone()), job, metadata)
    }

    /// Save a source upload job (`data/sources/job_metadata/<job_id>.json`).
    pub fn save_source_metadata(&self, job: &JobId, metadata: Value) -> Result<Map<String, Value>> {
        self.save(RecordKind::Source, job, metadata)
    }

    fn save(&self, kind: RecordKind, job: &JobId, metadata: Value) -> Result<Map<String, Value>> {
        let mut meta = prepare_for_save(&kind, job, metadata)?;
        let path = self.layout.metadata_path(&kind, job);
        check_not_symlinked(&self.layout, &path)?;

        // The lock first, then the index: a rebuild in another process can
        // then never replace the index file between our look and our write.
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let lock = self.lock()?;
        self.ensure_index_locked(&lock, &mut guard)?;

        // A step keeps the time it started across its later saves.
        if !meta.contains_key("started_at") {
            let previous = crate::record::read_record(&path, kind.clone(), job.clone()).ok();
            if let Some(started) = previous.as_ref().and_then(|p| p.meta.get("started_at")) {
                meta.insert("started_at".into(), started.clone());
            } else if meta.get("status").and_then(Value::as_str) == Some(Status::Running.as_str()) {
                meta.insert("started_at".into(), meta["timestamp"].clone());
            }
        }
        if meta.get("status").and_then(Value::as_str) == Some(Status::Running.as_str())
            && process::has_own_process(&meta)
        {
            let pid = meta
                .get("pid")
                .and_then(Value::as_u64)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or_else(std::process::id);
            meta.entry("host")
                .or_insert_with(|| process::hostname().into());
            meta.entry("pid").or_insert_with(|| pid.into());
            if let Some(start) = process::process_start_time(pid) {
                meta.entry("pid_start_time").or_insert_with(|| start.into());
            }
        }
        let record =
            Record::from_meta(kind.clone(), job.clone(), meta.clone()).map_err(|reason| {
                Error::InvalidMetadata {
                    step: kind.label().to_owned(),
                    job_id: job.to_string(),
                    reason,
                }
            })?;

        let index = guard.as_mut().expect("index is open");
        let before = trace::related_jobs(index, job)?;
        let dirty = self.layout.dirty_path();
        fsutil::atomic_write(&dirty, b"a save was in progress\n")?;
        if let Err(e) = fsutil::atomic_write(&path, &to_pretty_json(&Value::Object(meta.clone()))) {
            // Nothing was written (the write is atomic): the marker goes too.
            let _ = fs::remove_file(&dirty);
            return Err(e);
        }
        // From here the save has happened: the metadata file is the truth.
        // What follows is derived; if it fails, the marker stays and the
        // next user of the data directory rebuilds it.
        let derived = (|| {
            // The index was brought up to date under this lock, so after
            // this line it is up to date to the log's new end.
            let end = changes::append(
                &self.layout,
                &Change::Saved {
                    kind: kind.key().to_owned(),
                    job: job.clone(),
                },
            )?;
            index.upsert(&record)?;
            index.set_log_offset(end)?;
            let mut affected = trace::related_jobs(index, job)?;
            affected.extend(before);
            self.write_registries(index, &affected)?;
            self.update_latest_if_newer(job)?;
            fs::remove_file(&dirty).map_err(|e| Error::io(&dirty, e))
        })();
        if let Err(e) = derived {
            tracing::warn!(
                "{} saved, but updating the derived registry failed ({e}); it is rebuilt on next use",
                path.display()
            );
            *guard = None;
        }
        drop(lock);
        Ok(meta)
    }

    fn write_registries(&self, index: &Index, jobs: &BTreeSet<JobId>) -> Result<()> {
        let mut files = Vec::with_capacity(jobs.len());
        for j in jobs {
            if let Some(doc) = trace::registry_document(index, j, &self.pipeline)? {
                files.push((self.layout.registry_path(j), to_pretty_json(&doc)));
            }
        }
        let files = unchanged_removed(files);
        if files.len() > 4 {
            fsutil::atomic_write_many(&files)
        } else {
            files
                .iter()
                .try_for_each(|(p, b)| fsutil::atomic_write(p, b))
        }
    }

    fn current_latest(&self) -> Option<JobId> {
        let link = self.layout.latest_path();
        if let Ok(target) = fs::read_link(&link) {
            let name = target.file_name()?.to_str()?;
            return JobId::parse(name.strip_suffix(".json")?).ok();
        }
        let bytes = fs::read(&link).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        let id = v.get("latest").or_else(|| v.get("job_id"))?.as_str()?;
        JobId::parse(id).ok()
    }

    fn update_latest_if_newer(&self, job: &JobId) -> Result<()> {
        match self.current_latest() {
            Some(cur) if cur > *job && self.layout.registry_path(&cur).exists() => Ok(()),
            _ => self.point_latest_at(job),
        }
    }

    fn point_latest_at(&self, job: &JobId) -> Result<()> {
        let pointer = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "latest": job.as_str(),
            "path": format!("{job}.json"),
        });
        fsutil::atomic_symlink_or_pointer(
            &self.layout.latest_path(),
            &format!("{job}.json"),
            &to_pretty_json(&pointer),
        )
    }

    // ----- rebuild ------------------------------------------------------------

    /// Rescan every metadata file and rebuild the index, every central
    /// registry and `latest.json`. Unreadable or invalid files are reported
    /// in the result, not fatal.
    pub fn rebuild_central_registry(&self) -> Result<RebuildReport> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let lock = self.lock()?;
        *guard = None;
        self.rebuild_locked(&lock, &mut guard)
    }

    fn rebuild_locked(&self, _lock: &FileLock, slot: &mut Option<Index>) -> Result<RebuildReport> {
        let dirty = self.layout.dirty_path();
        fsutil::atomic_write(&dirty, b"a rebuild was in progress\n")?;
        // Temp files of writers that died (a killed rebuild leaves one per
        // registry it was writing). Every write into these folders happens
        // under the lock we hold, so none of them is in use.
        let removed = remove_stale_temps(&self.layout);
        if removed > 0 {
            tracing::info!("removed {removed} temp files left by an interrupted write");
        }
        // Indexes kept elsewhere (other nodes') rescan too.
        let log_end = changes::append(&self.layout, &Change::Rescan)?;
        let (records, problems) = scan(&self.layout);
        for p in &problems {
            tracing::warn!(path = %p.path.display(), reason = %p.reason, "skipped metadata file");
        }
        let index = Index::rebuild(&self.layout, &records, log_end)?;

        let mem = MemLookup::new(&records);
        let jobs: Vec<&JobId> = mem.by_job.keys().collect();
        let files: Vec<(PathBuf, Vec<u8>)> = jobs
            .par_iter()
            .map(|j| {
                let doc =
                    trace::registry_document(&mem, j, &self.pipeline)?.expect("job has records");
                Ok((self.layout.registry_path(j), to_pretty_json(&doc)))
            })
            .collect::<Result<_>>()?;
        let wanted: BTreeSet<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        let jobs_count = files.len();
        fsutil::atomic_write_many(&unchanged_removed(files))?;

        // Registries of jobs that no longer have metadata are removed; the
        // latest pointer follows the newest job.
        if let Ok(entries) = fs::read_dir(self.layout.registry_dir()) {
            for e in entries.flatten() {
                let p = e.path();
                let is_registry = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".json"))
                    .is_some_and(|stem| JobId::parse(stem).is_ok());
                if is_registry && !wanted.contains(&p) {
                    fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                }
            }
        }
        match jobs.iter().max() {
            Some(latest) => self.point_latest_at(latest)?,
            None => {
                let _ = fs::remove_file(self.layout.latest_path());
            }
        }
        *slot = Some(index);
        fs::remove_file(&dirty).map_err(|e| Error::io(&dirty, e))?;
        Ok(RebuildReport {
            jobs: jobs_count,
            records: records.len(),
            problems,
        })
    }

    // ----- reads --------------------------------------------------------------

    /// Resolve `latest` or a job id to a known job.
    pub fn resolve_job(&self, s: &str) -> Result<JobId> {
        if s == "latest" {
            return self.get_latest_job()?.ok_or_else(|| Error::NoJobs {
                data_dir: self.layout.root().to_owned(),
            });
        }
        let job = JobId::parse(s)?;
        if !self.exists() {
            return Err(Error::JobNotFound {
                job_id: job.to_string(),
                nearest: vec![],
            });
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        if index.has_job(job.as_str())? {
            Ok(job)
        } else {
            Err(Error::JobNotFound {
                nearest: nearest(&index.job_ids(None)?, &job),
                job_id: job.to_string(),
            })
        }
    }

    /// Resolve `latest` (newest job with this step) or a job id.
    pub fn resolve_step_job(&self, step: &StepName, s: &str) -> Result<JobId> {
        if s == "latest" {
            return self
                .latest_job_with_step(step.as_str())?
                .ok_or_else(|| Error::NoJobsForStep {
                    step: step.to_string(),
                });
        }
        JobId::parse(s)
    }

    /// A step's metadata by the name a user types: a step name, or
    /// `source` / `upload` for an upload job; `job` is an id or `latest`
    /// (the newest job with that step). Returns the resolved job too.
    pub fn metadata_by_name(&self, step: &str, job: &str) -> Result<(JobId, Map<String, Value>)> {
        let kind = RecordKind::from_user(step)?;
        let job = if job == "latest" {
            self.latest_job_with_step(kind.key())?
                .ok_or_else(|| Error::NoJobsForStep {
                    step: kind.key().to_owned(),
                })?
        } else {
            JobId::parse(job)?
        };
        let meta = self.read_metadata(&kind, &job)?;
        Ok((job, meta))
    }

    /// Save metadata by the name a user types (`source` / `upload` for an
    /// upload job); `job` is an id or `new` for a fresh one.
    pub fn save_by_name(
        &self,
        step: &str,
        job: &str,
        metadata: Value,
    ) -> Result<(JobId, Map<String, Value>)> {
        let kind = RecordKind::from_user(step)?;
        let job = if job == "new" {
            self.new_job_id()?
        } else {
            JobId::parse(job)?
        };
        let meta = self.save(kind, &job, metadata)?;
        Ok((job, meta))
    }

    pub fn get_step_metadata(&self, step: &StepName, job: &JobId) -> Result<Map<String, Value>> {
        self.read_metadata(&RecordKind::Step(step.clone()), job)
    }

    pub fn get_source_metadata(&self, job: &JobId) -> Result<Map<String, Value>> {
        self.read_metadata(&RecordKind::Source, job)
    }

    fn read_metadata(&self, kind: &RecordKind, job: &JobId) -> Result<Map<String, Value>> {
        let path = self.layout.metadata_path(kind, job);
        check_not_symlinked(&self.layout, &path)?;
        match fsutil::read_optional(&path)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
            }
            None => {
                let jobs_with_step = if self.exists() {
                    let all = self.list_all_jobs(Some(kind.key()))?;
                    nearest(&all.iter().map(|j| j.to_string()).collect::<Vec<_>>(), job)
                } else {
                    vec![]
                };
                Err(Error::StepNotFound {
                    step: kind.key().to_owned(),
                    job_id: job.to_string(),
                    path,
                    jobs_with_step,
                })
            }
        }
    }

    /// The central registry of `job`: its file, or, when the file is missing
    /// or damaged, the same document derived again from the metadata (and
    /// written back).
    pub fn get_central_registry(&self, job: &JobId) -> Result<Value> {
        let path = self.layout.registry_path(job);
        if let Some(bytes) = fsutil::read_optional(&path)? {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes)
                && v.get("job_id").and_then(Value::as_str) == Some(job.as_str())
            {
                return Ok(v);
            }
            tracing::warn!(path = %path.display(), "registry file damaged; deriving it again");
        }
        let job = self.resolve_job(job.as_str())?;
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        let _lock = self.lock()?;
        let doc = trace::registry_document(index, &job, &self.pipeline)?.ok_or_else(|| {
            Error::JobNotFound {
                job_id: job.to_string(),
                nearest: vec![],
            }
        })?;
        fsutil::atomic_write(&path, &to_pretty_json(&doc))?;
        Ok(doc)
    }

    /// The spec's status summary, with running steps whose process is gone
    /// reported as `stale`.
    pub fn get_job_pipeline_status(&self, job: &JobId) -> Result<PipelineStatus> {
        let reg = self.get_central_registry(job)?;
        let mut st = PipelineStatus {
            job_id: job.to_string(),
            source_job_id: reg
                .get("source")
                .and_then(|s| s.get("job_id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            steps_completed: vec![],
            steps_pending: vec![],
            steps_failed: vec![],
            steps_running: vec![],
            steps_stale: vec![],
            steps: vec![],
            citekeys_missing: BTreeMap::new(),
        };
        let empty = Map::new();
        let steps = reg
            .get("pipeline_steps")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, info) in steps {
            let Some(info) = info.as_object() else {
                continue;
            };
            let status = info
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("pending");
            let stale_reason = if status == Status::Running.as_str() {
                let meta = self
                    .step_meta_for(name, info)
                    .unwrap_or_else(|| info.clone());
                process::stale_reason(&meta)
            } else {
                None
            };
            let interrupted = status == Status::Failed.as_str()
                && info.get("interrupted").and_then(Value::as_bool) == Some(true);
            let shown = if stale_reason.is_some() {
                "stale"
            } else if interrupted {
                "interrupted"
            } else {
                status
            };
            match shown {
                "completed" => st.steps_completed.push(name.clone()),
                "failed" | "interrupted" => st.steps_failed.push(name.clone()),
                "running" => st.steps_running.push(name.clone()),
                "stale" => st.steps_stale.push(name.clone()),
                _ => {}
            }
            if shown != "completed" && shown != "failed" && shown != "interrupted" {
                st.steps_pending.push(name.clone());
            }
            st.steps.push(StepState {
                step: name.clone(),
                job_id: info
                    .get("job_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                status: shown.to_owned(),
                timestamp: info
                    .get("timestamp")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                stale_reason,
            });
        }
        // Configured steps not yet completed are pending too (a failed one
        // still has to complete, so it is listed under both).
        for p in &self.pipeline {
            let name = p.as_str();
            if !st.steps_completed.iter().any(|s| s == name)
                && !st.steps_pending.iter().any(|s| s == name)
            {
                st.steps_pending.push(name.to_owned());
            }
        }
        let keys = job_citekeys(&reg);
        if !keys.is_empty() {
            for c in self.citekey_states(&keys, None)? {
                for s in c.steps.into_iter().filter(|s| s.state != "done") {
                    st.citekeys_missing
                        .entry(s.step)
                        .or_default()
                        .push((c.citekey.clone(), s.state));
                }
            }
        }
        Ok(st)
    }

    /// The registry's copy may be older than the step file; for the liveness
    /// check read the step file itself.
    fn step_meta_for(&self, name: &str, info: &Map<String, Value>) -> Option<Map<String, Value>> {
        let step = StepName::parse(name).ok()?;
        let job = JobId::parse(info.get("job_id")?.as_str()?).ok()?;
        self.get_step_metadata(&step, &job).ok()
    }

    /// Every recorded step and source upload that names `citekey`, ordered by
    /// job id, then time. A source upload is listed as `source (upload)`.
    pub fn find_jobs_for_citekey(&self, citekey: &str) -> Result<Vec<CitekeyJob>> {
        Citekey::parse(citekey)?;
        if !self.exists() {
            return Ok(vec![]);
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        let mut hits = index.citekey_hits(citekey)?;
        let order = |k: &str| match k {
            crate::record::SOURCE_KEY => 0,
            k => {
                1 + self
                    .pipeline
                    .iter()
                    .position(|p| p.as_str() == k)
                    .unwrap_or(self.pipeline.len())
            }
        };
        hits.sort_by(|a, b| {
            a.job_id
                .cmp(&b.job_id)
                .then_with(|| order(&a.kind_key).cmp(&order(&b.kind_key)))
                .then_with(|| a.timestamp.cmp(&b.timestamp))
                .then_with(|| a.kind_key.cmp(&b.kind_key))
        });
        Ok(hits
            .into_iter()
            .map(|h| CitekeyJob {
                step: RecordKind::from_key(&h.kind_key)
                    .map(|k| k.label().to_owned())
                    .unwrap_or(h.kind_key),
                job_id: h.job_id,
                status: h.status,
                timestamp: h.timestamp,
                source_job_id: h.source_job_id,
            })
            .collect())
    }

    /// Every job id, oldest first; with a step name, only jobs that ran that
    /// step (`source` lists upload jobs).
    pub fn list_all_jobs(&self, step: Option<&str>) -> Result<Vec<JobId>> {
        if let Some(s) = step
            && s != crate::record::SOURCE_KEY
        {
            StepName::parse(s)?;
        }
        if !self.exists() {
            return Ok(vec![]);
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        Ok(index
            .job_ids(step)?
            .into_iter()
            .map(JobId::from_trusted)
            .collect())
    }

    /// Every job with the records under its id, oldest first; with a step
    /// name, only jobs that ran that step.
    pub fn job_summaries(&self, step: Option<&str>) -> Result<Vec<JobSummary>> {
        let wanted: Option<BTreeSet<JobId>> = match step {
            Some(s) => Some(self.list_all_jobs(Some(s))?.into_iter().collect()),
            None => None,
        };
        if !self.exists() {
            return Ok(vec![]);
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        let mut out: Vec<JobSummary> = Vec::new();
        for (job_id, kind, status, source) in index.summaries()? {
            if wanted
                .as_ref()
                .is_some_and(|w| !w.iter().any(|j| j.as_str() == job_id))
            {
                continue;
            }
            // The same rule as `get_job_pipeline_status`: a running step
            // whose process is gone is stale, in every listing.
            let running = status == Status::Running.as_str();
            let status = if running || status == Status::Failed.as_str() {
                let d = self.record_detail(&kind, &job_id);
                if running && d.stale.is_some() {
                    "stale".to_owned()
                } else if !running && d.interrupted {
                    "interrupted".to_owned()
                } else {
                    status
                }
            } else {
                status
            };
            let label = RecordKind::from_key(&kind)
                .map(|k| k.label().to_owned())
                .unwrap_or(kind);
            match out.last_mut() {
                Some(last) if last.job_id == job_id => {
                    last.steps.push((label, status));
                    if last.source_job_id.is_none() {
                        last.source_job_id = source;
                    }
                }
                _ => out.push(JobSummary {
                    job_id,
                    steps: vec![(label, status)],
                    source_job_id: source,
                }),
            }
        }
        Ok(out)
    }

    /// The library view: each citekey's newest source and the state of each
    /// of `steps` (default: the pipeline) on it; all known citekeys when
    /// `citekeys` is empty. An unknown citekey is an error suggesting the
    /// nearest known ones.
    pub fn citekey_states(
        &self,
        citekeys: &[String],
        steps: Option<&[StepName]>,
    ) -> Result<Vec<crate::library::CitekeyState>> {
        for k in citekeys {
            Citekey::parse(k)?;
        }
        let steps: Vec<String> = steps
            .unwrap_or(&self.pipeline)
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !self.exists() {
            return match citekeys.first() {
                Some(k) => Err(Error::CitekeyNotFound {
                    citekey: k.clone(),
                    suggestions: vec![],
                }),
                None => Ok(vec![]),
            };
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        let rows = if citekeys.is_empty() {
            index.state_rows(None)?
        } else {
            // Two queries a citekey for a few; one pass over the table for
            // many (the citekeys of a large upload job).
            let rows = if citekeys.len() > 64 {
                let wanted: BTreeSet<&str> = citekeys.iter().map(String::as_str).collect();
                let mut all = index.state_rows(None)?;
                all.retain(|r| wanted.contains(r.citekey.as_str()));
                all
            } else {
                index.state_rows(Some(citekeys))?
            };
            if let Some(missing) = citekeys
                .iter()
                .find(|k| !rows.iter().any(|r| &r.citekey == *k))
            {
                let known = index.all_citekeys()?;
                return Err(Error::CitekeyNotFound {
                    citekey: missing.clone(),
                    suggestions: crate::library::suggestions(missing, &known),
                });
            }
            let mut rows = rows;
            rows.sort_by(|a, b| {
                (&a.citekey, &a.kind, &a.job_id).cmp(&(&b.citekey, &b.kind, &b.job_id))
            });
            rows
        };
        drop(guard);
        let detail = |kind: &str, job: &str| self.record_detail(kind, job);
        Ok(crate::library::states(&rows, &steps, &detail))
    }

    /// What only a record's file says (its process's liveness, whether it
    /// was interrupted, its `error`), for the listings that show it; read
    /// only for running and failed records.
    fn record_detail(&self, kind_key: &str, job_id: &str) -> crate::library::RecordDetail {
        let meta = RecordKind::from_key(kind_key)
            .ok()
            .zip(JobId::parse(job_id).ok())
            .and_then(|(kind, job)| self.read_metadata(&kind, &job).ok())
            .unwrap_or_default();
        crate::library::RecordDetail {
            stale: process::stale_reason(&meta),
            interrupted: meta.get("interrupted").and_then(Value::as_bool) == Some(true),
            error: meta.get("error").and_then(Value::as_str).map(str::to_owned),
        }
    }

    /// Hold job `job`'s `step` for this process until the returned guard is
    /// dropped, so that two processes never run (or resume) the same step
    /// of the same job at once. The lock is the kernel's (`flock`): it goes
    /// away with the process, however it ends.
    pub fn lock_job(&self, step: &str, job: &JobId) -> Result<JobLock> {
        let path = self
            .layout
            .internal_dir()
            .join("running")
            .join(format!("{step}-{job}.lock"));
        let note = format!("pid {} on {}", std::process::id(), process::hostname());
        match FileLock::try_exclusive_noted(&path, &note)? {
            Ok(lock) => Ok(JobLock { _lock: lock }),
            Err(holder) => Err(Error::JobBusy {
                job_id: job.to_string(),
                holder: if holder.is_empty() {
                    "another process".into()
                } else {
                    holder
                },
            }),
        }
    }

    /// Who holds job `job`'s `step` (see [`Registry::lock_job`]), or `None`
    /// when nobody does: a process that holds it is alive, wherever it
    /// runs, as long as the filesystem's locks work (NFS: see
    /// docs/scale.md).
    pub fn job_holder(&self, step: &str, job: &JobId) -> Result<Option<String>> {
        match self.lock_job(step, job) {
            Ok(_) => Ok(None),
            Err(Error::JobBusy { holder, .. }) => Ok(Some(holder)),
            Err(e) => Err(e),
        }
    }

    /// The newest job (ids sort by time).
    pub fn get_latest_job(&self) -> Result<Option<JobId>> {
        self.latest_job_with_step_opt(None)
    }

    /// The newest job that ran `step` (`source` for uploads).
    pub fn latest_job_with_step(&self, step: &str) -> Result<Option<JobId>> {
        self.latest_job_with_step_opt(Some(step))
    }

    fn latest_job_with_step_opt(&self, step: Option<&str>) -> Result<Option<JobId>> {
        if !self.exists() {
            return Ok(None);
        }
        let guard = self.index()?;
        let index = guard.as_ref().expect("index is open");
        Ok(index.latest_job(step)?.and_then(|s| JobId::parse(&s).ok()))
    }
}

/// The citekeys a job is about: those its own records list, else its
/// source upload's.
fn job_citekeys(reg: &Value) -> Vec<String> {
    let list = |v: &Value| -> Vec<String> {
        v.get("citekeys")
            .and_then(|c| c.get("list"))
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .filter(|k| Citekey::parse(k).is_ok())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut keys: BTreeSet<String> = BTreeSet::new();
    if let Some(steps) = reg.get("pipeline_steps").and_then(Value::as_object) {
        for info in steps.values() {
            if info.get("trace_relation").and_then(Value::as_str) == Some("own") {
                keys.extend(list(info));
            }
        }
    }
    if keys.is_empty()
        && let Some(src) = reg.get("source")
    {
        keys.extend(list(src));
    }
    keys.into_iter().collect()
}

/// Refuse to read or write metadata through a symlinked folder or file:
/// a link could point anywhere, and the layout promises that every step's
/// metadata lives under its own folder.
fn check_not_symlinked(layout: &Layout, path: &Path) -> Result<()> {
    let mut p = path;
    while let Some(parent) = p.parent() {
        if p == layout.root() || parent.as_os_str().is_empty() {
            break;
        }
        if fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::Symlink { path: p.to_owned() });
        }
        p = parent;
    }
    Ok(())
}

/// Remove `.tmp-*` files (and index rebuilds) left by writers that died.
/// Only called with the registry lock held.
fn remove_stale_temps(layout: &Layout) -> usize {
    let mut dirs = vec![layout.sources_dir(), layout.registry_dir()];
    if let Ok(steps) = fs::read_dir(layout.analytics_dir()) {
        for s in steps.flatten() {
            dirs.push(s.path().join("job_metadata"));
        }
    }
    let mut removed = 0;
    for dir in dirs {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(fsutil::TMP_PREFIX))
                && fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(layout.internal_dir()) {
        for e in entries.flatten() {
            if e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("index.rebuild-"))
                && fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// Up to five known ids closest in time to `job`.
fn nearest(known: &[String], job: &JobId) -> Vec<String> {
    let t = job.datetime();
    let mut with_dist: Vec<(i64, &String)> = known
        .iter()
        .filter_map(|s| {
            let j = JobId::parse(s).ok()?;
            Some(((j.datetime() - t).num_seconds().abs(), s))
        })
        .collect();
    with_dist.sort();
    with_dist
        .into_iter()
        .take(5)
        .map(|(_, s)| s.clone())
        .collect()
}

/// Drop the files whose content on disk is already the same: a rebuild of
/// a healthy registry then rewrites nothing.
fn unchanged_removed(files: Vec<(PathBuf, Vec<u8>)>) -> Vec<(PathBuf, Vec<u8>)> {
    files
        .into_par_iter()
        .filter(|(p, bytes)| fs::read(p).map_or(true, |old| old != *bytes))
        .collect()
}

pub(crate) fn to_pretty_json(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("a JSON value always serialises");
    out.push(b'\n');
    out
}

/// Read every metadata file under the data directory, in parallel.
fn scan(layout: &Layout) -> (Vec<Arc<Record>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut files: Vec<(RecordKind, PathBuf)> = Vec::new();
    let mut list_dir = |kind: RecordKind, dir: PathBuf, problems: &mut Vec<Problem>| {
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            problems.push(Problem {
                path: dir,
                reason: "a symlink: metadata folders are read only where they are".into(),
            });
            return;
        }
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let name = e.file_name();
                    let Some(name) = name.to_str() else { continue };
                    if name.starts_with('.') || !name.ends_with(".json") {
                        continue;
                    }
                    if e.file_type().is_ok_and(|t| t.is_symlink()) {
                        problems.push(Problem {
                            path: e.path(),
                            reason: "a symlink: metadata files are read only where they are".into(),
                        });
                        continue;
                    }
                    files.push((kind.clone(), e.path()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(Problem {
                path: dir,
                reason: e.to_string(),
            }),
        }
    };
    list_dir(RecordKind::Source, layout.sources_dir(), &mut problems);
    if let Ok(steps) = fs::read_dir(layout.analytics_dir()) {
        for s in steps.flatten() {
            let Some(name) = s.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(step) = StepName::parse(&name) else {
                continue;
            };
            list_dir(
                RecordKind::Step(step.clone()),
                layout.step_metadata_dir(&step),
                &mut problems,
            );
        }
    }
    let results: Vec<std::result::Result<Arc<Record>, Problem>> = files
        .into_par_iter()
        .map(|(kind, path)| {
            let problem = |reason: String| Problem {
                path: path.clone(),
                reason,
            };
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| problem("file name is not UTF-8".into()))?;
            let job = JobId::parse(stem)
                .map_err(|e| problem(format!("file name is not a job id: {e}")))?;
            let bytes = fs::read(&path).map_err(|e| problem(format!("unreadable: {e}")))?;
            let meta: Map<String, Value> = serde_json::from_slice(&bytes)
                .map_err(|e| problem(format!("not a JSON object: {e}")))?;
            Record::from_meta(kind, job, meta)
                .map(Arc::new)
                .map_err(problem)
        })
        .collect();
    let mut records = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(rec) => records.push(rec),
            Err(p) => problems.push(p),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    (records, problems)
}

/// All records in memory, for the rebuild.
struct MemLookup {
    by_job: HashMap<JobId, Vec<Arc<Record>>>,
    dependents: HashMap<JobId, Vec<JobId>>,
}

impl MemLookup {
    fn new(records: &[Arc<Record>]) -> Self {
        let mut by_job: HashMap<JobId, Vec<Arc<Record>>> = HashMap::new();
        let mut dependents: HashMap<JobId, BTreeSet<JobId>> = HashMap::new();
        for r in records {
            by_job.entry(r.job_id.clone()).or_default().push(r.clone());
            if let Some(up) = r.upstream() {
                dependents
                    .entry(up.clone())
                    .or_default()
                    .insert(r.job_id.clone());
            }
        }
        // Same order as the index returns, so both give identical documents.
        for v in by_job.values_mut() {
            v.sort_by(|a, b| a.kind.key().cmp(b.kind.key()));
        }
        MemLookup {
            by_job,
            dependents: dependents
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
        }
    }
}

impl Lookup for MemLookup {
    fn records_of(&self, job: &JobId) -> Result<Vec<Arc<Record>>> {
        Ok(self.by_job.get(job).cloned().unwrap_or_default())
    }

    fn dependents_of(&self, job: &JobId) -> Result<Vec<JobId>> {
        Ok(self.dependents.get(job).cloned().unwrap_or_default())
    }
}
