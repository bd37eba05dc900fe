//! Where everything lives under the data directory (the spec's layout).
//!
//! ```text
//! data/
//!   sources/job_metadata/<job_id>.json             source upload jobs
//!   analytics/<step>/job_metadata/<job_id>.json    step metadata (the truth)
//!   analytics/job_registry/<job_id>.json           central registries (derived)
//!   analytics/job_registry/latest.json             symlink to the newest registry
//!   .recto/                                        derived index, lock, job-id reservations
//! ```

use std::path::{Path, PathBuf};

use crate::ids::{JobId, StepName};
use crate::record::RecordKind;

/// Paths of one data directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn sources_dir(&self) -> PathBuf {
        self.root.join("sources").join("job_metadata")
    }

    pub fn analytics_dir(&self) -> PathBuf {
        self.root.join("analytics")
    }

    pub fn step_dir(&self, step: &StepName) -> PathBuf {
        self.analytics_dir().join(step.as_str())
    }

    pub fn step_metadata_dir(&self, step: &StepName) -> PathBuf {
        self.step_dir(step).join("job_metadata")
    }

    pub fn step_metadata_path(&self, step: &StepName, job: &JobId) -> PathBuf {
        self.step_metadata_dir(step).join(format!("{job}.json"))
    }

    pub fn source_metadata_path(&self, job: &JobId) -> PathBuf {
        self.sources_dir().join(format!("{job}.json"))
    }

    /// The metadata file of a source job or a step.
    pub fn metadata_path(&self, kind: &RecordKind, job: &JobId) -> PathBuf {
        match kind {
            RecordKind::Source => self.source_metadata_path(job),
            RecordKind::Step(s) => self.step_metadata_path(s, job),
        }
    }

    pub fn registry_dir(&self) -> PathBuf {
        self.analytics_dir().join("job_registry")
    }

    pub fn registry_path(&self, job: &JobId) -> PathBuf {
        self.registry_dir().join(format!("{job}.json"))
    }

    pub fn latest_path(&self) -> PathBuf {
        self.registry_dir().join("latest.json")
    }

    pub fn internal_dir(&self) -> PathBuf {
        self.root.join(".recto")
    }

    pub fn index_path(&self) -> PathBuf {
        self.internal_dir().join("index.sqlite")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.internal_dir().join("lock")
    }

    pub fn dirty_path(&self) -> PathBuf {
        self.internal_dir().join("dirty")
    }

    pub fn job_id_reservations(&self) -> PathBuf {
        self.internal_dir().join("job-ids")
    }
}

/// The `metadata_path` recorded in registries: relative to the data
/// directory, with `/` separators, so registries do not change when the data
/// directory moves.
pub fn relative_metadata_path(step: Option<&StepName>, job: &JobId) -> String {
    match step {
        None => format!("sources/job_metadata/{job}.json"),
        Some(s) => format!("analytics/{s}/job_metadata/{job}.json"),
    }
}
