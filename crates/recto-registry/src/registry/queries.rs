//! The registry's queries: jobs by id or `latest`, a job's metadata, its
//! central registry and status, the jobs that touched a citekey, listings,
//! and the per-citekey library view. All of them read; a read-only
//! registry answers every one.

use super::*;

impl Registry {
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
        // Derived again: a writer keeps the file it derives, a reader only
        // answers with it.
        let _lock = if self.read_only {
            None
        } else {
            Some(self.lock()?)
        };
        let doc = trace::registry_document(index, &job, &self.pipeline)?.ok_or_else(|| {
            Error::JobNotFound {
                job_id: job.to_string(),
                nearest: vec![],
            }
        })?;
        if !self.read_only {
            fsutil::atomic_write(&path, &to_pretty_json(&doc))?;
        }
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
                citekeys_failed: info
                    .get("citekeys")
                    .and_then(|c| c.get("failed"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
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
            crate::ids::SOURCE_KEY => 0,
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
            && s != crate::ids::SOURCE_KEY
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
        for row in index.summaries()? {
            let (job_id, kind, status, source) =
                (row.job_id, row.kind, row.status, row.source_job_id);
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
            let counts = StepCounts {
                step: label.clone(),
                citekeys: row.citekeys,
                citekeys_failed: row.failed,
                duration_seconds: row.duration_seconds,
            };
            match out.last_mut() {
                Some(last) if last.job_id == job_id => {
                    last.steps.push((label, status));
                    last.counts.push(counts);
                    if last.source_job_id.is_none() {
                        last.source_job_id = source;
                    }
                }
                _ => out.push(JobSummary {
                    job_id,
                    steps: vec![(label, status)],
                    source_job_id: source,
                    counts: vec![counts],
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
