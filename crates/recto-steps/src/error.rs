//! Errors that stop a step as a whole. Failures of single citekeys are not
//! errors: they are recorded in the step's metadata and the step goes on.
//!
//! Messages say what is wrong in the library's own terms; they never name a
//! command-line flag, since Python callers have none. The CLI adds its
//! hints (which flag to give) where it reports them.

use std::path::PathBuf;

use recto_registry::JobId;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    #[error(transparent)]
    Registry(#[from] recto_registry::Error),

    /// Boxed: object_store's errors are large, and this path is cold.
    #[error(transparent)]
    Store(Box<recto_store::StoreError>),

    #[error(transparent)]
    Ocr(#[from] recto_ocr::OcrError),

    #[error("no citekeys given")]
    NoCitekeys,

    #[error("nothing to do: {what}")]
    NothingToDo { what: String },

    #[error("no source PDFs given")]
    NoSources,

    /// A result, page or search the read side could not give.
    #[error(transparent)]
    Library(#[from] recto_library::LibraryError),

    #[error("source job {job} does not hold citekey(s) {}", .citekeys.join(", "))]
    NotInSource { job: JobId, citekeys: Vec<String> },

    /// `holders`: for each citekey, the upload jobs that hold it.
    #[error("no single upload job holds all of these citekeys ({})", describe_holders(.holders))]
    NoCommonSource { holders: Vec<(String, Vec<String>)> },

    #[error("source job {job} records no store")]
    NoStoreRecorded { job: JobId },

    #[error("{step} job {job} is {status}, not completed")]
    NotCompleted {
        step: String,
        job: JobId,
        status: String,
    },

    /// A resume asked for settings that differ from the job's record.
    #[error(
        "job {job} was recorded with other settings; a resume continues the job as recorded: {}",
        .differences.join("; ")
    )]
    ResumeConflict {
        job: JobId,
        differences: Vec<String>,
    },

    #[error("{step} metadata of job {job} cannot be read: {reason}")]
    BadRecord {
        step: String,
        job: JobId,
        reason: String,
    },

    #[error("invalid setting {name}: {reason}")]
    InvalidSetting { name: String, reason: String },

    #[error("{}: {reason}", .path.display())]
    Input { path: PathBuf, reason: String },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `--shard` or `--finalize` on a job that was not planned in shards.
    #[error("{step} job {job} was not planned in shards")]
    NotSharded { step: String, job: JobId },

    /// A shard of the job still runs: the merge waits for it.
    #[error(
        "{step} job {job}: shard {shard} is still running ({holder}); merge the job after it ends"
    )]
    ShardRunning {
        step: String,
        job: JobId,
        shard: usize,
        holder: String,
    },
}

/// Why one citekey of a step failed. The step goes on with the others;
/// the record keeps the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CitekeyError {
    /// Its input (a result of another step, a page) could not be read.
    #[error(transparent)]
    Library(#[from] recto_library::LibraryError),

    #[error(transparent)]
    Registry(#[from] recto_registry::Error),

    /// Its source PDF could not be had.
    /// Shared: one fetch failure may be reported for several formats.
    #[error("the source PDF: {0}")]
    Source(#[source] std::sync::Arc<crate::fetch::SourceError>),

    #[error(transparent)]
    Ocr(#[from] recto_ocr::OcrError),

    #[error(transparent)]
    Write(#[from] recto_fs::FsError),

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file that is there but is not what it should be.
    #[error("{}: {reason}", .path.display())]
    BadFile { path: PathBuf, reason: String },
}

impl CitekeyError {
    /// What would fix it, when the error says.
    pub fn remedy(&self) -> Option<crate::driver::Remedy> {
        use crate::driver::Remedy;
        match self {
            CitekeyError::Library(recto_library::LibraryError::NoResult { step, .. }) => {
                Some(Remedy::RunFirst { step: step.clone() })
            }
            CitekeyError::Ocr(recto_ocr::OcrError::EncryptedCopy { .. }) => Some(Remedy::Decrypt),
            _ => None,
        }
    }
}

fn describe_holders(holders: &[(String, Vec<String>)]) -> String {
    holders
        .iter()
        .map(|(k, jobs)| {
            if jobs.is_empty() {
                format!("{k}: in no upload job")
            } else {
                format!("{k}: in {}", jobs.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<recto_store::StoreError> for StepError {
    fn from(e: recto_store::StoreError) -> Self {
        StepError::Store(Box::new(e))
    }
}

impl StepError {
    /// True when something asked for does not exist (a job, a step of it, a
    /// citekey in any upload).
    pub fn is_not_found(&self) -> bool {
        match self {
            StepError::Registry(e) => e.is_not_found(),
            StepError::Store(e) => matches!(**e, recto_store::StoreError::NotFound { .. }),
            StepError::Library(e) => e.is_not_found(),
            StepError::NotInSource { .. } => true,
            StepError::NoCommonSource { holders } => holders.iter().any(|(_, j)| j.is_empty()),
            _ => false,
        }
    }

    /// True when the caller's input is malformed (a job id, step name,
    /// citekey, language or setting), as opposed to a failure while working.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            StepError::Registry(e) => e.is_invalid_input(),
            StepError::Library(e) => e.is_invalid_input(),
            StepError::Ocr(recto_ocr::OcrError::Language { .. }) => true,
            StepError::ResumeConflict { .. }
            | StepError::InvalidSetting { .. }
            | StepError::NoCitekeys
            | StepError::NotSharded { .. }
            | StepError::NoSources => true,
            _ => false,
        }
    }
}
