//! The step harness: what every pipeline step shares, so that a step is one
//! module that declares its name, its input and its per-citekey work.
//!
//! A step run goes through [`StepRun::begin`] (reserve or take the job id,
//! hold the job so no other process runs it, record `running` with this
//! process's pid so that a killed run shows as `stale`), then the step's own
//! work, then [`StepRun::finish`] (record `completed` or `failed` with the
//! common header, timing and failures) or [`StepRun::abort`] (record
//! `failed` with the reason when the step as a whole could not go on). A run
//! dropped without either (a panic) is recorded as failed too.
//!
//! Metadata is typed: [`StepMetadata`] is the header every step shares with
//! the step's own body flattened into it, serialised into the spec's fields
//! (`status`, `source_job_id`, `citekeys`, then the body, then `failures`,
//! `started_at`, `duration_seconds`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use recto_registry::{
    Citekey, JobId, JobLock, RecordKind, Registry, Status, StepName, now_timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::StepError;

/// What a step declares about itself.
pub trait Step {
    /// The step's name in the registry: `source` for the upload, else the
    /// folder under `analytics/`.
    const NAME: &'static str;
    /// The step whose jobs this step reads (`source` for OCR, `ocr` for the
    /// sync of OCR results); `None` for the upload, which reads files.
    const INPUT: Option<&'static str>;
}

/// The registry's kind of record for step `S`.
pub fn kind_of<S: Step>() -> RecordKind {
    RecordKind::from_user(S::NAME).expect("step names are valid")
}

/// `citekeys` in every step's metadata: the spec's `total` and `list`, with
/// the step's own counts (`successful`, `uploaded`, ...) in between.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Citekeys {
    pub total: usize,
    #[serde(flatten)]
    pub counts: Map<String, Value>,
    pub list: Vec<String>,
}

impl Citekeys {
    pub fn new(list: Vec<String>) -> Self {
        Citekeys {
            total: list.len(),
            counts: Map::new(),
            list,
        }
    }

    /// Add a count, in the order given.
    pub fn count(mut self, name: &str, n: usize) -> Self {
        self.counts.insert(name.to_owned(), n.into());
        self
    }
}

/// The metadata every step records: the common header with the step's
/// own `body` flattened in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepMetadata<B> {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_job_id: Option<String>,
    pub citekeys: Citekeys,
    #[serde(flatten)]
    pub body: B,
    /// `{citekey: reason}` for every citekey that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<BTreeMap<String, String>>,
    /// Why the step as a whole stopped, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
}

impl<B: Clone> StepMetadata<B> {
    /// The record of a job that runs again (a shard started after a merge
    /// that failed): `running`, without the end's failures and duration.
    pub fn reopened(&self) -> Self {
        StepMetadata {
            status: Status::Running,
            failures: None,
            error: None,
            duration_seconds: None,
            ..self.clone()
        }
    }
}

/// Read a step's recorded metadata into its typed form.
pub fn read_metadata<B: for<'de> Deserialize<'de>>(
    kind: &RecordKind,
    job: &JobId,
    meta: Map<String, Value>,
) -> Result<StepMetadata<B>, StepError> {
    serde_json::from_value(Value::Object(meta)).map_err(|e| StepError::BadRecord {
        step: kind.label().to_owned(),
        job: job.clone(),
        reason: e.to_string(),
    })
}

pub use recto_library::paths::output_dir;

/// `dir` as a record stores it: relative to the data directory when it lies
/// inside it (so the data directory can move and a run started from
/// another working directory finds it), else absolute. Both are made
/// absolute first, so a folder named relative to the working directory is
/// never recorded as if relative to the data directory.
pub fn recorded_dir(registry: &Registry, dir: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    recto_library::paths::recorded_form(&abs(registry.data_dir()), &abs(dir))
}

/// The folder a record names, as [`recorded_dir`] stored it (older
/// records: absolute or relative to the working directory).
pub fn recorded_path(registry: &Registry, recorded: &str) -> PathBuf {
    recto_library::paths::output_base(registry.data_dir(), recorded)
}

pub use recto_library::paths::CURRENT;

/// Point each done citekey's `current` at `job` (a link that cannot be
/// made is logged: the record already says what is done). Called only
/// after the job's record says so.
pub fn point_all_current(base: &Path, done: &[Citekey], job: &JobId) {
    for k in done {
        if let Err(e) = point_current(base, k, job) {
            tracing::warn!("{k}: could not update its current link: {e}");
        }
    }
}

/// Point `<base>/<citekey>/current` at `job`'s folder (a relative symlink,
/// replaced atomically), unless it already points at a newer job: resuming
/// an old job never moves `current` back.
pub fn point_current(base: &Path, citekey: &Citekey, job: &JobId) -> Result<(), StepError> {
    let dir = base.join(citekey.file_stem());
    let link = dir.join(CURRENT);
    if let Ok(target) = std::fs::read_link(&link)
        && let Some(existing) = target.to_str().and_then(|t| JobId::parse(t).ok())
        && existing > *job
        && dir.join(existing.as_str()).is_dir()
    {
        return Ok(());
    }
    replace_symlink(&link, Path::new(job.as_str()))
}

/// Make `link` a symlink to `target`, atomically: a new link beside it,
/// renamed over it (readers see the old link or the new, never none).
fn replace_symlink(link: &Path, target: &Path) -> Result<(), StepError> {
    let io = |e: std::io::Error| StepError::Input {
        path: link.to_owned(),
        reason: e.to_string(),
    };
    // Unique across the machines of a cluster (pids alone repeat).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = link.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp-current-{}-{nanos}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(io)?;
    std::fs::rename(&tmp, link).map_err(io)
}

/// Point `<base>/<citekey>/current/<file>` at `job`'s copy of each of
/// `files` (relative symlinks, each replaced atomically), unless it points
/// at a newer job's: `current` is then a folder holding every file's newest
/// version, whichever job wrote it. A `current` that is still a link to a
/// whole job folder (the layout before) becomes such a folder first, with
/// that job's files in it.
pub fn point_current_files(
    base: &Path,
    citekey: &Citekey,
    job: &JobId,
    files: &[String],
) -> Result<(), StepError> {
    let dir = base.join(citekey.file_stem());
    let current = dir.join(CURRENT);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e: std::io::Error| StepError::Input {
            path,
            reason: e.to_string(),
        }
    };
    if let Ok(old) = std::fs::read_link(&current) {
        std::fs::remove_file(&current).map_err(io(&current))?;
        std::fs::create_dir(&current).map_err(io(&current))?;
        if let Some(old) = old.to_str().and_then(|t| JobId::parse(t).ok()) {
            let names: Vec<String> = std::fs::read_dir(dir.join(old.as_str()))
                .map_err(io(&dir))?
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect();
            link_files(&current, &old, &names)?;
        }
    } else {
        std::fs::create_dir_all(&current).map_err(io(&current))?;
    }
    link_files(&current, job, files)
}

/// `current/<file> -> ../<job>/<file>` for each file, unless a newer job's.
fn link_files(current: &Path, job: &JobId, files: &[String]) -> Result<(), StepError> {
    for file in files {
        let link = current.join(file);
        let newer = std::fs::read_link(&link).ok().and_then(|t| {
            let j = t.parent()?.file_name()?.to_str()?.to_owned();
            JobId::parse(&j).ok().filter(|j| j > job)
        });
        if newer.is_some() {
            continue;
        }
        replace_symlink(&link, &Path::new("..").join(job.as_str()).join(file))?;
    }
    Ok(())
}

/// `pages` a second over `seconds`, to a tenth.
pub fn per_second(pages: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        ((pages as f64 / seconds) * 10.0).round() / 10.0
    } else {
        0.0
    }
}

/// `pages` a second since `started`, to a tenth.
pub fn pages_per_second(pages: usize, started: Instant) -> f64 {
    per_second(pages, started.elapsed().as_secs_f64())
}

/// End a run whose results were written under `output`: make them durable
/// (one sync of their filesystem), then record the end; the caller points
/// `current` after (never before the record says so).
pub fn finish_with_results<B: Serialize>(
    run: StepRun<'_>,
    output: &Path,
    source_job: Option<&JobId>,
    citekeys: Citekeys,
    failures: BTreeMap<String, String>,
    body: B,
    done: &[Citekey],
) -> Result<Map<String, Value>, StepError> {
    if !done.is_empty()
        && let Err(e) = recto_registry::sync_filesystem(output)
    {
        return Err(run.abort(source_job, citekeys, body, e.into()));
    }
    run.finish(source_job, citekeys, failures, body)
}

/// Which citekeys a step that reads another step's results takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Exactly these (an unknown one is an error naming the nearest known).
    Given(Vec<String>),
    /// Those with a result of the input step and no completed result of
    /// this step on it: never run, outdated, failed, interrupted or stale.
    Pending,
    /// Those whose run of this step failed, was interrupted or died.
    Failed,
    /// Every citekey with a result of the input step.
    All,
}

impl Selection {
    /// The selection a caller's options name: the citekeys given, else the
    /// pending ones, else the failed ones, else all.
    pub fn of(citekeys: &[String], pending: bool, failed: bool) -> Self {
        if !citekeys.is_empty() {
            Selection::Given(citekeys.to_vec())
        } else if pending {
            Selection::Pending
        } else if failed {
            Selection::Failed
        } else {
            Selection::All
        }
    }
}

/// The citekeys `selection` names for step `step` reading step `input`:
/// of `input_job` when given (its `per_citekey`), else from the library
/// view (done or outdated in `input`; for `Pending`, not done in `step`).
pub fn select_citekeys(
    registry: &Registry,
    selection: &Selection,
    input: &str,
    step: &str,
    input_job: Option<&JobId>,
) -> Result<Vec<Citekey>, StepError> {
    let parse = |v: &[String]| -> Result<Vec<Citekey>, StepError> {
        v.iter()
            .map(|k| Citekey::parse(k).map_err(StepError::from))
            .collect()
    };
    match selection {
        Selection::Given(v) if v.is_empty() => Err(StepError::NoCitekeys),
        Selection::Given(v) => {
            let keys = parse(v)?;
            // Unknown citekeys are an error naming the nearest known ones.
            registry.citekey_states(v, Some(&[]))?;
            Ok(keys)
        }
        Selection::All | Selection::Pending | Selection::Failed => {
            if let Some(job) = input_job {
                let meta = registry.get_step_metadata(&StepName::parse(input)?, job)?;
                let keys: Vec<String> = meta
                    .get("per_citekey")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                return parse(&keys);
            }
            let steps = [StepName::parse(input)?, StepName::parse(step)?];
            let states = registry.citekey_states(&[], Some(&steps))?;
            let keys: Vec<String> = states
                .into_iter()
                .filter(|s| matches!(s.steps[0].state.as_str(), "done" | "outdated"))
                .filter(|s| match selection {
                    Selection::Pending => s.steps[1].needs_run(),
                    Selection::Failed => s.steps[1].failed(),
                    _ => true,
                })
                .map(|s| s.citekey)
                .collect();
            parse(&keys)
        }
    }
}

/// The default output base of step `S`: `data/analytics/<step>`.
pub fn default_output_base<S: Step>(registry: &Registry) -> PathBuf {
    registry.layout().analytics_dir().join(S::NAME)
}

/// The runs of this process that have begun and not ended: what an
/// interrupt (Ctrl-C) must record before the process exits.
static ACTIVE: std::sync::Mutex<Vec<ActiveRun>> = std::sync::Mutex::new(Vec::new());

#[derive(Debug, Clone)]
struct ActiveRun {
    data_dir: PathBuf,
    pipeline: Vec<recto_registry::StepName>,
    kind: RecordKind,
    job: JobId,
}

/// Record every run of this process that has not ended as interrupted:
/// `status` `failed`, `interrupted: true` and an `error` saying so (a
/// `running` record would show as stale, as if the process had been
/// killed). Returns `(step, job)` of each, for the message. Called by the
/// CLI's Ctrl-C handler just before it exits.
pub fn record_interrupted() -> Vec<(String, JobId)> {
    let active = std::mem::take(&mut *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()));
    let mut out = Vec::new();
    for run in active {
        let registry = Registry::open(&run.data_dir).with_pipeline(run.pipeline.clone());
        let Ok((_, mut meta)) = registry.metadata_by_name(run.kind.key(), run.job.as_str()) else {
            continue;
        };
        meta.insert("status".into(), Status::Failed.as_str().into());
        meta.insert("interrupted".into(), true.into());
        meta.insert(
            "error".into(),
            "interrupted (Ctrl-C or SIGTERM) before it finished".into(),
        );
        for k in ["host", "pid", "pid_start_time", "timestamp"] {
            meta.remove(k);
        }
        let value = Value::Object(meta);
        let saved = match &run.kind {
            RecordKind::Source => registry.save_source_metadata(&run.job, value),
            RecordKind::Step(s) => registry.save_step_metadata(s, &run.job, value),
        };
        if saved.is_ok() {
            out.push((run.kind.key().to_owned(), run.job));
        }
    }
    out
}

/// One run of a step on one job, from `running` to its end.
#[derive(Debug)]
pub struct StepRun<'r> {
    registry: &'r Registry,
    kind: RecordKind,
    job: JobId,
    started: Instant,
    started_at: String,
    finished: bool,
    _hold: JobLock,
}

/// How a run begins.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new job, with a freshly reserved id.
    New,
    /// A new record under an existing job id (a sync of an OCR job is
    /// recorded under the OCR job's id).
    Job(JobId),
    /// Continue a job whose earlier run was killed or failed; it keeps the
    /// time it first started.
    Resume(JobId),
}

impl<'r> StepRun<'r> {
    /// Take the job (so no other process runs this step of it) and record
    /// it as `running`, with `body` as the step's running state.
    pub fn begin<S: Step, B: Serialize>(
        registry: &'r Registry,
        start: Start,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        body: &B,
    ) -> Result<Self, StepError> {
        Self::begin_named(registry, S::NAME, start, source_job_id, citekeys, body)
    }

    /// [`StepRun::begin`] for a step whose name is only known at run time
    /// (the sync of another step's results, `sync_<step>`).
    pub fn begin_named<B: Serialize>(
        registry: &'r Registry,
        name: &str,
        start: Start,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        body: &B,
    ) -> Result<Self, StepError> {
        let kind = RecordKind::from_user(name)?;
        let job = match &start {
            Start::New => registry.new_job_id()?,
            Start::Job(j) | Start::Resume(j) => j.clone(),
        };
        let hold = registry.lock_job(kind.key(), &job)?;
        let started_at = match &start {
            Start::Resume(j) => registry
                .metadata_by_name(kind.key(), j.as_str())
                .ok()
                .and_then(|(_, m)| m.get("started_at")?.as_str().map(str::to_owned))
                .unwrap_or_else(now_timestamp),
            _ => now_timestamp(),
        };
        let run = StepRun {
            registry,
            kind,
            job,
            started: Instant::now(),
            started_at,
            finished: false,
            _hold: hold,
        };
        tracing::debug!(step = run.kind.key(), job = %run.job, "recording the step as running");
        let mut run = run;
        let saved = run.save(&StepMetadata {
            status: Status::Running,
            source_job_id: source_job_id.map(|j| j.to_string()),
            citekeys,
            body,
            failures: None,
            error: None,
            started_at: Some(run.started_at.clone()),
            duration_seconds: None,
        });
        if let Err(e) = saved {
            // Nothing of this run was recorded: leave the record as it was.
            run.finished = true;
            return Err(e);
        }
        ACTIVE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ActiveRun {
                data_dir: registry.data_dir().to_owned(),
                pipeline: registry.pipeline().to_vec(),
                kind: run.kind.clone(),
                job: run.job.clone(),
            });
        Ok(run)
    }

    pub fn job(&self) -> &JobId {
        &self.job
    }

    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// Seconds since the run began, rounded to milliseconds.
    pub fn elapsed_seconds(&self) -> f64 {
        (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
    }

    fn save<B: Serialize>(&self, meta: &StepMetadata<B>) -> Result<Map<String, Value>, StepError> {
        let value = serde_json::to_value(meta).expect("step metadata serialises");
        let saved = match &self.kind {
            RecordKind::Source => self.registry.save_source_metadata(&self.job, value)?,
            RecordKind::Step(s) => self.registry.save_step_metadata(s, &self.job, value)?,
        };
        Ok(saved)
    }

    /// Record the end: `completed` with the citekeys that failed listed
    /// (`failed` only when every citekey failed), the start time and the
    /// duration.
    pub fn finish<B: Serialize>(
        mut self,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        failures: BTreeMap<String, String>,
        body: B,
    ) -> Result<Map<String, Value>, StepError> {
        let done = citekeys
            .list
            .iter()
            .filter(|k| !failures.contains_key(*k))
            .count();
        let status = Status::ended_with(done, failures.len());
        self.end(status, source_job_id, citekeys, failures, None, body)
    }

    /// Record the end with a status the step decided (a sync whose
    /// verification failed, say).
    pub fn finish_with<B: Serialize>(
        mut self,
        status: Status,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        failures: BTreeMap<String, String>,
        body: B,
    ) -> Result<Map<String, Value>, StepError> {
        self.end(status, source_job_id, citekeys, failures, None, body)
    }

    /// Record that the step as a whole failed, with why, and hand the error
    /// back for the caller to return.
    pub fn abort<B: Serialize>(
        mut self,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        body: B,
        error: StepError,
    ) -> StepError {
        let reason = crate::error_chain(&error);
        if let Err(e) = self.end(
            Status::Failed,
            source_job_id,
            citekeys,
            BTreeMap::new(),
            Some(reason),
            body,
        ) {
            tracing::error!("could not record the failure of job {}: {e}", self.job);
        }
        error
    }

    /// This run is no longer one an interrupt has to record.
    fn deactivate(&self) {
        ACTIVE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|a| !(a.kind == self.kind && a.job == self.job));
    }

    fn end<B: Serialize>(
        &mut self,
        status: Status,
        source_job_id: Option<&JobId>,
        citekeys: Citekeys,
        failures: BTreeMap<String, String>,
        error: Option<String>,
        body: B,
    ) -> Result<Map<String, Value>, StepError> {
        self.finished = true;
        self.deactivate();
        let meta = StepMetadata {
            status,
            source_job_id: source_job_id.map(|j| j.to_string()),
            citekeys,
            body,
            failures: Some(failures),
            error,
            started_at: Some(self.started_at.clone()),
            duration_seconds: Some(self.elapsed_seconds()),
        };
        self.save(&meta)
    }
}

impl Drop for StepRun<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.deactivate();
        // A panic or an early return that skipped `finish` / `abort`: the
        // record must not say `running` while nothing runs. Keep what the
        // running record says and mark it failed.
        let Ok((_, mut meta)) = self
            .registry
            .metadata_by_name(self.kind.key(), self.job.as_str())
        else {
            return;
        };
        meta.insert("status".into(), Status::Failed.as_str().into());
        meta.insert(
            "error".into(),
            "the step ended without recording its result".into(),
        );
        for k in ["host", "pid", "pid_start_time", "timestamp"] {
            meta.remove(k);
        }
        let value = Value::Object(meta);
        let _ = match &self.kind {
            RecordKind::Source => self.registry.save_source_metadata(&self.job, value),
            RecordKind::Step(s) => self.registry.save_step_metadata(s, &self.job, value),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_moves_forward_never_back() {
        let base = tempfile::tempdir().unwrap();
        let key = Citekey::parse("a2020").unwrap();
        let old = JobId::parse("2026-01-01_10-00-00").unwrap();
        let new = JobId::parse("2026-01-02_10-00-00").unwrap();
        for j in [&old, &new] {
            std::fs::create_dir_all(output_dir(base.path(), &key, j)).unwrap();
        }
        let link = base.path().join("a2020").join(CURRENT);
        let target = || std::fs::read_link(&link).unwrap();
        point_current(base.path(), &key, &old).unwrap();
        assert_eq!(target(), Path::new(old.as_str()));
        point_current(base.path(), &key, &new).unwrap();
        assert_eq!(target(), Path::new(new.as_str()));
        // Resuming the older job afterwards leaves `current` on the newer.
        point_all_current(base.path(), std::slice::from_ref(&key), &old);
        assert_eq!(target(), Path::new(new.as_str()));
    }

    #[test]
    fn current_files_keep_each_file_of_its_newest_job() {
        let base = tempfile::tempdir().unwrap();
        let key = Citekey::parse("a2020").unwrap();
        let jobs: Vec<JobId> = [
            "2026-01-01_10-00-00",
            "2026-01-02_10-00-00",
            "2026-01-03_10-00-00",
        ]
        .iter()
        .map(|j| JobId::parse(j).unwrap())
        .collect();
        for j in &jobs {
            std::fs::create_dir_all(output_dir(base.path(), &key, j)).unwrap();
        }
        let dir = output_dir(base.path(), &key, &jobs[0]);
        std::fs::write(dir.join("a2020.pdf"), b"pdf").unwrap();
        std::fs::write(dir.join("a2020.txt"), b"old text").unwrap();
        // The layout before: `current` a link to the whole folder.
        point_current(base.path(), &key, &jobs[0]).unwrap();
        let current = base.path().join("a2020").join(CURRENT);
        let target = |f: &str| std::fs::read_link(current.join(f)).unwrap();
        let of = |j: &JobId, f: &str| Path::new("..").join(j.as_str()).join(f);
        point_current_files(base.path(), &key, &jobs[2], &["a2020.txt".into()]).unwrap();
        assert!(current.is_dir() && !current.is_symlink());
        assert_eq!(target("a2020.pdf"), of(&jobs[0], "a2020.pdf"));
        assert_eq!(target("a2020.txt"), of(&jobs[2], "a2020.txt"));
        // An older job's files never replace a newer one's.
        point_current_files(base.path(), &key, &jobs[1], &["a2020.txt".into()]).unwrap();
        assert_eq!(target("a2020.txt"), of(&jobs[2], "a2020.txt"));
        assert_eq!(std::fs::read(current.join("a2020.pdf")).unwrap(), b"pdf");
    }
}
