//! The registry's error type. Every variant names the job, step, citekey or
//! path it is about, so a message alone tells the user what to look at.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid job id {id:?}: {reason}")]
    InvalidJobId { id: String, reason: &'static str },

    #[error("invalid step name {name:?}: {reason}")]
    InvalidStepName { name: String, reason: &'static str },

    #[error("invalid citekey {key:?}: {reason}")]
    InvalidCitekey { key: String, reason: String },

    #[error("invalid metadata for {step} job {job_id}: {reason}")]
    InvalidMetadata {
        step: String,
        job_id: String,
        reason: String,
    },

    #[error("no job {job_id} in the registry{}", hint(.nearest, "nearest known jobs"))]
    JobNotFound {
        job_id: String,
        nearest: Vec<String>,
    },

    #[error(
        "no {step} metadata for job {job_id} (looked for {}){}",
        .path.display(),
        hint(.jobs_with_step, "jobs with this step")
    )]
    StepNotFound {
        step: String,
        job_id: String,
        path: PathBuf,
        jobs_with_step: Vec<String>,
    },

    #[error("unknown citekey {citekey:?}{}", did_you_mean(.suggestions))]
    CitekeyNotFound {
        citekey: String,
        suggestions: Vec<String>,
    },

    #[error("no jobs recorded in {}", .data_dir.display())]
    NoJobs { data_dir: PathBuf },

    #[error("no job has a {step} step yet")]
    NoJobsForStep { step: String },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{}: invalid JSON: {source}", .path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("registry index {}: {source}", .path.display())]
    Index {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{}: is a symlink; recto reads and writes metadata only in the data directory's own folders", .path.display())]
    Symlink { path: PathBuf },

    #[error(
        "job {job_id} is being run by another process ({holder}); wait for it or stop it first"
    )]
    JobBusy { job_id: String, holder: String },

    /// A write asked of a registry opened to read only.
    #[error("{what}: the registry over {} is open to read only", .data_dir.display())]
    ReadOnly { data_dir: PathBuf, what: String },

    #[error("could not reserve a job id after {tries} tries in {}", .dir.display())]
    JobIdsExhausted { dir: PathBuf, tries: u32 },
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(" or "))
    }
}

fn hint(items: &[String], what: &str) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("; {what}: {}", items.join(", "))
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error is about malformed input (a job id, step name,
    /// citekey or metadata the caller gave), not about the data directory.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidJobId { .. }
                | Error::InvalidStepName { .. }
                | Error::InvalidCitekey { .. }
                | Error::InvalidMetadata { .. }
        )
    }

    /// True when the error says that a job, step or anything else asked for
    /// does not exist (the CLI maps this to its own exit code).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::JobNotFound { .. }
                | Error::CitekeyNotFound { .. }
                | Error::StepNotFound { .. }
                | Error::NoJobs { .. }
                | Error::NoJobsForStep { .. }
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
