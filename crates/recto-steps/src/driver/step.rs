//! What a step that reads another step's results citekey by citekey
//! declares ([`CitekeyStep`]), and what the driver hands back
//! ([`Outcome`]): the typed contract between a step's module and the one
//! driver that records, shards and links its runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recto_library::LibraryError;
use recto_registry::{Citekey, JobId, Registry};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::CitekeyError;
use crate::harness::Selection;

/// A step that reads another step's result of each citekey and writes its
/// own under `<output>/<citekey>/<job>/`. The driver ([`crate::driver::run`])
/// gives it the selection, the run whole or in shards, the record, the
/// failures, the `current` links and the progress; the step gives what
/// only it knows.
///
/// Async methods run on the caller's `block_on`; the work itself runs on
/// rayon, one citekey per task.
#[allow(async_fn_in_trait)]
pub trait CitekeyStep: Sync {
    /// Its name in the registry and its folder under `analytics/`.
    const NAME: &'static str;
    /// The step whose results it reads.
    const INPUT: &'static str;
    /// What is missing when no citekey is selected.
    const NOTHING: &'static str;

    /// One citekey's input, found before any work.
    type Input: Send + Sync;
    /// One citekey's entry in the record's `per_citekey`.
    type Entry: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync;
    /// What the step records besides the common header, `output_dir` and
    /// `per_citekey` (its settings, what it sums over its citekeys).
    type Body: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync;

    /// Refuse settings no new job can run with (export without a format),
    /// before anything is recorded; by default every setting is good.
    fn check(&self) -> Result<(), crate::StepError> {
        Ok(())
    }

    /// The body a new job records while it runs.
    fn body(&self) -> Self::Body;

    /// The citekey's input, of `job` when given.
    fn lookup(
        &self,
        registry: &Registry,
        key: &Citekey,
        job: Option<&JobId>,
    ) -> Result<Self::Input, LibraryError>;
    /// The job an input was read from.
    fn input_job(input: &Self::Input) -> &JobId;

    /// Fetch what the work needs beyond the recorded input (a source PDF
    /// from its store), before the parallel work; by default nothing.
    async fn prepare(
        &self,
        _registry: &Registry,
        _body: &Self::Body,
        _found: &mut [(Citekey, Self::Input)],
    ) {
    }

    /// The work on one citekey: write its files under `target.dir(key)`.
    /// `body` is the job's as recorded (a shard works as its job was
    /// planned).
    fn work(
        &self,
        key: &Citekey,
        input: &Self::Input,
        body: &Self::Body,
        target: &Target<'_>,
    ) -> Result<Self::Entry, CitekeyError>;

    /// The files of a citekey's entry that `current` keeps one by one,
    /// each at the newest job that wrote it (`None`, the default: `current`
    /// is the newest job's whole folder). Export's formats are written by
    /// different jobs: a later hOCR-only export must not hide the PDF.
    fn current_files(_entry: &Self::Entry) -> Option<Vec<String>> {
        None
    }

    /// What the step sums over its entries at the end (pages a second,
    /// ...), and the counts it adds to `citekeys` between `successful` and
    /// `failed`.
    fn summarise(
        _body: &mut Self::Body,
        _entries: &BTreeMap<String, Self::Entry>,
        _seconds: f64,
    ) -> Vec<(&'static str, usize)> {
        Vec::new()
    }
}

/// The body as recorded: where results go, the step's own fields, each
/// citekey's entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorded<B, E> {
    /// Relative to the data directory when inside it.
    pub output_dir: String,
    #[serde(flatten)]
    pub body: B,
    #[serde(default = "BTreeMap::new")]
    pub per_citekey: BTreeMap<String, E>,
}

/// Which citekeys, from which input job, run how.
#[derive(Debug, Clone)]
pub struct Request {
    pub selection: Selection,
    /// The input job the user named (an id or `latest`), if any.
    pub input_job: Option<String>,
    pub sharding: Sharding,
    /// Where results go [default: `<data dir>/analytics/<step>`].
    pub output: Option<PathBuf>,
}

/// How a step runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sharding {
    /// In this process, as one job (the usual run).
    #[default]
    Whole,
    /// Plan a new job in this many shards and run nothing.
    Plan(usize),
    /// Run shard `index` (0-based) of the `of` shards of `job`.
    Shard { job: JobId, index: usize, of: usize },
    /// Merge the shards of `job` into its record.
    Merge(JobId),
}

/// Where one job writes its citekeys' results.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub(crate) base: &'a Path,
    pub(crate) job: &'a JobId,
    pub(crate) registry: &'a Registry,
}

impl Target<'_> {
    /// The registry, to read other steps' results.
    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// The job this run records.
    pub fn job(&self) -> &JobId {
        self.job
    }

    /// The citekey's folder of this job, created:
    /// `<output>/<citekey>/<job>/`.
    pub fn dir(&self, key: &Citekey) -> Result<PathBuf, CitekeyError> {
        let dir = crate::harness::output_dir(self.base, key, self.job);
        std::fs::create_dir_all(&dir).map_err(|source| CitekeyError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    /// `dir` as the record stores it: relative to the data directory when
    /// it lies inside it (so the data directory can move), else as given.
    pub fn recorded(&self, dir: &Path) -> String {
        crate::harness::recorded_dir(self.registry, dir)
    }
}

/// Why one citekey failed, as the run reports it: the message the record
/// stores, and what would fix it when the error says (so a caller can give
/// the user its own words for it: a command, a flag, a function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
}

/// What would fix a citekey's failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Run this step for it first: it has no result of it.
    RunFirst { step: String },
    /// Its source is encrypted: write its copy without encryption, with
    /// its password.
    Decrypt,
}

impl Failure {
    pub fn new(e: &CitekeyError) -> Self {
        Failure {
            message: e.to_string(),
            remedy: e.remedy(),
        }
    }

    /// A failure read back from a record, where only the message is kept.
    pub fn recorded(message: String) -> Self {
        Failure {
            message,
            remedy: None,
        }
    }
}

/// What a run did: its job, the body and metadata it recorded, and the
/// citekeys that failed.
pub struct Outcome<S: CitekeyStep> {
    pub job_id: JobId,
    pub recorded: Recorded<S::Body, S::Entry>,
    pub metadata: Map<String, Value>,
    pub failures: BTreeMap<String, Failure>,
}

impl<S: CitekeyStep> std::fmt::Debug for Outcome<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("step", &S::NAME)
            .field("job_id", &self.job_id)
            .field("recorded", &self.recorded)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}
