//! Where a citekey's result of a step is: the job that produced it, its
//! folder inside the data directory, and the job's `per_citekey` entry.

use std::path::PathBuf;

use recto_registry::{Citekey, JobId, RecordKind, Registry, StepName};
use serde_json::{Map, Value};

use crate::LibraryError;
use crate::paths::{output_dir, resolve_recorded};

/// A citekey's result of one step (OCR, TOC, segmentation, export).
#[derive(Debug, Clone)]
pub struct StepResult {
    pub job_id: JobId,
    /// The result's folder (page JSON, `toc.json`, ...), inside the data
    /// directory.
    pub dir: PathBuf,
    /// The job's `per_citekey` entry for it.
    pub entry: Option<Map<String, Value>>,
}

impl StepResult {
    /// The `toc.json` of a TOC result, when it reads.
    pub fn toc(&self) -> Option<recto_toc::Toc> {
        read_json(&self.dir.join("toc.json"))
    }

    /// The `segments.json` of a segmentation result, when it reads.
    pub fn segments(&self) -> Option<recto_segment::Segments> {
        read_json(&self.dir.join("segments.json"))
    }

    /// The number of pages its entry records, when it does.
    pub fn recorded_pages(&self) -> Option<usize> {
        self.entry
            .as_ref()
            .and_then(|c| c.get("pages"))
            .and_then(Value::as_u64)
            .map(|n| n as usize)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Resolve what the user typed for a job of step `step`: `latest` is the
/// newest job that recorded that step; an id must have recorded it.
pub fn resolve_job(registry: &Registry, step: &str, given: &str) -> Result<JobId, LibraryError> {
    let kind = RecordKind::from_user(step)?;
    if given == "latest" {
        return registry.latest_job_with_step(kind.key())?.ok_or_else(|| {
            LibraryError::NoJobForStep {
                step: kind.label().to_owned(),
            }
        });
    }
    let job = JobId::parse(given)?;
    registry.metadata_by_name(step, job.as_str())?;
    Ok(job)
}

/// The OCR result of `key`: in `job` when given (an error if that job did
/// not complete it), else in the newest OCR job that completed it.
pub fn ocr_result(
    registry: &Registry,
    key: &Citekey,
    job: Option<&JobId>,
) -> Result<StepResult, LibraryError> {
    step_result(registry, "ocr", key, job)
}

/// The result of step `step` for `key` (its job, folder and `per_citekey`
/// entry): in `job` when given, else in the newest job of that step that
/// completed it.
pub fn step_result(
    registry: &Registry,
    step: &str,
    key: &Citekey,
    job: Option<&JobId>,
) -> Result<StepResult, LibraryError> {
    let name = StepName::parse(step)?;
    let citekey = key.as_str();
    let job = match job {
        Some(j) => j.clone(),
        None => current_job(registry, &name, key)?,
    };
    let meta = registry.get_step_metadata(&name, &job)?;
    let entry = meta
        .get("per_citekey")
        .and_then(|p| p.get(citekey))
        .and_then(Value::as_object)
        .cloned();
    let failed = meta.get("failures").and_then(|f| f.get(citekey)).is_some();
    let listed = meta
        .get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(citekey)));
    if entry.is_none() && (failed || !listed) {
        return Err(LibraryError::NoResult {
            citekey: citekey.to_owned(),
            step: step.into(),
            state: if failed {
                format!("failed in job {job}")
            } else {
                format!("not in job {job}")
            },
        });
    }
    let root = registry.data_dir();
    let recorded = match entry
        .as_ref()
        .and_then(|c| c.get("dir"))
        .and_then(Value::as_str)
    {
        Some(dir) => dir.to_owned(),
        None => {
            let base = meta
                .get("output_dir")
                .and_then(Value::as_str)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("analytics").join(step));
            output_dir(&base, key, &job).display().to_string()
        }
    };
    let dir = resolve_recorded(root, &recorded).ok_or_else(|| LibraryError::OutsideDataDir {
        step: step.to_owned(),
        job: job.clone(),
        citekey: citekey.to_owned(),
        path: recorded.clone(),
    })?;
    Ok(StepResult {
        job_id: job,
        dir,
        entry,
    })
}

/// The job of `key`'s current result of `step`, from the library view.
fn current_job(registry: &Registry, step: &StepName, key: &Citekey) -> Result<JobId, LibraryError> {
    let state = registry
        .citekey_states(&[key.as_str().to_owned()], Some(std::slice::from_ref(step)))?
        .remove(0);
    let on = &state.steps[0];
    match (&on.job_id, on.state.as_str()) {
        (Some(j), "done" | "outdated") => Ok(JobId::parse(j)?),
        _ => Err(LibraryError::NoResult {
            citekey: key.as_str().to_owned(),
            step: step.as_str().to_owned(),
            state: on.state.clone(),
        }),
    }
}
