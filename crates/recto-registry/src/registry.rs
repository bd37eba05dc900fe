//! The registry API: the spec's functions over one data directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::changes::{self, Change};
use crate::citekey::Citekey;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::ids::RecordKind;
use crate::ids::{JobId, Status, StepName};
use crate::index::Index;
use crate::layout::Layout;
use crate::process;
use crate::record::{Record, SCHEMA_VERSION, prepare_for_save};
use crate::trace;

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
    /// Opened to read only ([`Registry::read_only`]): nothing under the
    /// data directory is ever written, not even a repair.
    read_only: bool,
}

/// A running step's hold on its job; see [`Registry::lock_job`].
#[derive(Debug)]
pub struct JobLock {
    _lock: FileLock,
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
    /// Per step, in the order of `steps`: how many citekeys it named, how
    /// many failed, how long it ran.
    pub counts: Vec<StepCounts>,
}

/// What `jobs list` says of one step of a job beside its status.
#[derive(Debug, Clone, Serialize)]
pub struct StepCounts {
    pub step: String,
    pub citekeys: u64,
    pub citekeys_failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
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
    /// Citekeys that failed in a step that reached its end (`completed`
    /// with failures: a partial run, shown `completed (N failed)`).
    #[serde(skip_serializing_if = "is_zero")]
    pub citekeys_failed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl StepState {
    /// The status as people read it: `completed (2 failed)` for a run
    /// that reached its end with some citekeys failed.
    pub fn shown(&self) -> String {
        if self.status == "completed" && self.citekeys_failed > 0 {
            format!("completed ({} failed)", self.citekeys_failed)
        } else {
            self.status.clone()
        }
    }
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

mod queries;
mod scan;

pub use scan::Problem;
use scan::{MemLookup, scan};

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
            read_only: false,
        }
    }

    /// This registry, to read only: the read side (the web app, `status`,
    /// `text`, `search`, the Python readers) opens it so. It never writes a
    /// byte under the data directory: no repair after a writer that died,
    /// no index built on disk (a missing, damaged or dirty one is built in
    /// memory from the metadata instead), no registry file written back,
    /// no lock file created. Every write call fails with
    /// [`Error::ReadOnly`].
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    fn writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly {
                data_dir: self.layout.root().to_owned(),
                what: what.to_owned(),
            });
        }
        Ok(())
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
        if self.read_only {
            return self.index_to_read();
        }
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

    /// The index of a read-only registry: the one on disk when it is whole
    /// and up to date with the change log (opened read-only), else one
    /// built in memory from the metadata once, which then replays the
    /// change log like any other. Writes nothing under the data directory.
    fn index_to_read(&self) -> Result<MutexGuard<'_, Option<Index>>> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let log_len = changes::len(&self.layout);
        let dirty = self.layout.dirty_path().exists();
        // A node's own index (`RECTO_INDEX_DIR`) lies outside the data
        // directory: a reader keeps it up to date from the change log as a
        // writer would, so a node that only reads still answers from an
        // index on its disk. Nothing under the data directory is written.
        if self.layout.index_is_external() && !dirty {
            if guard
                .as_ref()
                .is_some_and(|i| i.is_in_memory() || !i.is_current())
            {
                *guard = None;
            }
            if guard.is_none() {
                *guard = Index::open(&self.layout)?;
            }
            if guard.is_none() {
                let (records, _) = scan(&self.layout);
                *guard = Some(Index::rebuild(&self.layout, &records, log_len)?);
            }
            self.catch_up(&mut guard)?;
            return Ok(guard);
        }
        // One on disk opened read-only cannot replay the log: it serves only
        // while it is current and up to date.
        if guard
            .as_ref()
            .is_some_and(|i| !i.is_in_memory() && (!i.is_current() || i.log_offset() != log_len))
        {
            *guard = None;
        }
        if guard.is_none() && !dirty {
            *guard = Index::open_read_only(&self.layout)?.filter(|i| i.log_offset() == log_len);
        }
        if guard.is_none() {
            let (records, _) = scan(&self.layout);
            *guard = Some(Index::in_memory(&self.layout, &records, log_len)?);
        }
        if guard.as_ref().is_some_and(Index::is_in_memory) {
            self.catch_up(&mut guard)?;
        }
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
            // An index in memory (a reader's) is rebuilt where it is.
            *slot = Some(if index.is_in_memory() {
                Index::in_memory(&self.layout, &records, end)?
            } else {
                Index::rebuild(&self.layout, &records, end)?
            });
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
        self.writable("reserve a job id")?;
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
        self.writable("save metadata")?;
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
                    reason: reason.to_string(),
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
        self.writable("rebuild the registries")?;
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

    /// Hold job `job`'s `step` for this process until the returned guard is
    /// dropped, so that two processes never run (or resume) the same step
    /// of the same job at once. The lock is the kernel's (`flock`): it goes
    /// away with the process, however it ends.
    pub fn lock_job(&self, step: &str, job: &JobId) -> Result<JobLock> {
        self.writable("hold a job")?;
        let path = self.job_lock_path(step, job);
        let note = format!("pid {} on {}", std::process::id(), process::hostname());
        match FileLock::try_exclusive_noted(&path, &note)? {
            crate::fsutil::Attempt::Taken(lock) => Ok(JobLock { _lock: lock }),
            crate::fsutil::Attempt::HeldBy(holder) => Err(Error::JobBusy {
                job_id: job.to_string(),
                holder: if holder.is_empty() {
                    "another process".into()
                } else {
                    holder
                },
            }),
        }
    }

    fn job_lock_path(&self, step: &str, job: &JobId) -> PathBuf {
        self.layout
            .internal_dir()
            .join("running")
            .join(format!("{step}-{job}.lock"))
    }

    /// Who holds job `job`'s `step` (see [`Registry::lock_job`]), or `None`
    /// when nobody does: a process that holds it is alive, wherever it
    /// runs, as long as the filesystem's locks work (NFS: see
    /// docs/scale.md).
    pub fn job_holder(&self, step: &str, job: &JobId) -> Result<Option<String>> {
        if self.read_only {
            return FileLock::peek_holder(&self.job_lock_path(step, job));
        }
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
