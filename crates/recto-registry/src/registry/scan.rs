//! Every metadata file of the data directory read from disk (what a
//! rebuild and a read-only registry's index in memory are made from), and
//! the in-memory lookup a rebuild derives registries with.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::ids::{JobId, RecordKind, StepName};
use crate::layout::Layout;
use crate::record::Record;
use crate::trace::Lookup;

/// A file the rebuild could not use, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub path: PathBuf,
    pub reason: String,
}

/// Read every metadata file under the data directory, in parallel.
pub(super) fn scan(layout: &Layout) -> (Vec<Arc<Record>>, Vec<Problem>) {
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
                .map_err(|e| problem(e.to_string()))
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
pub(super) struct MemLookup {
    pub(super) by_job: HashMap<JobId, Vec<Arc<Record>>>,
    dependents: HashMap<JobId, Vec<JobId>>,
}

impl MemLookup {
    pub(super) fn new(records: &[Arc<Record>]) -> Self {
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
