//! Where everything lives under the data directory (the spec's layout).
//!
//! ```text
//! data/
//!   sources/job_metadata/<job_id>.json             source upload jobs
//!   analytics/<step>/job_metadata/<job_id>.json    step metadata (the truth)
//!   analytics/job_registry/<job_id>.json           central registries (derived)
//!   analytics/job_registry/latest.json             symlink to the newest registry
//!   .recto/                                        derived index, lock, change log, job-id reservations
//! ```
//!
//! The derived index may live elsewhere (`RECTO_INDEX_DIR`, a node's local
//! disk on a cluster): one file per data directory there, named by a hash
//! of the data directory's path.

use std::path::{Path, PathBuf};

use crate::ids::{JobId, RecordKind, StepName};

/// Paths of one data directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    index_dir: Option<PathBuf>,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout {
            root: root.into(),
            index_dir: None,
        }
    }

    /// Keep the derived index in `dir` instead of `.recto/`.
    /// True when the derived index lives outside the data directory
    /// (`RECTO_INDEX_DIR`, a node's local disk).
    pub fn index_is_external(&self) -> bool {
        self.index_dir.is_some()
    }

    pub fn with_index_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.index_dir = dir;
        self
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
        match &self.index_dir {
            None => self.internal_dir().join("index.sqlite"),
            Some(dir) => {
                let root = std::fs::canonicalize(&self.root)
                    .or_else(|_| std::path::absolute(&self.root))
                    .unwrap_or_else(|_| self.root.clone());
                dir.join(format!(
                    "index-{:016x}.sqlite",
                    fnv1a(root.as_os_str().as_encoded_bytes())
                ))
            }
        }
    }

    /// The change log (see `changes.rs`).
    pub fn changes_path(&self) -> PathBuf {
        self.internal_dir().join("changes.log")
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

/// FNV-1a, 64 bits: a stable name for a data directory's index file.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
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
