//! [`finalize`]: the shards' pages merged into the job's record, as a
//! one-machine run would have recorded it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_ocr::{DocReport, DocTask, PageOutcome};
use recto_registry::{Citekey, JobId, Registry, Status};

use super::plan::running_body;
use super::record::{
    PlannedDoc, ShardDoc, ShardPlan, ShardRecord, job_plan, read_job, read_plan, save_job,
    shard_state,
};
use crate::StepError;
use crate::harness::{self, Step, StepMetadata};
use crate::ocr::engine::{engine_config, open_stores};
use crate::ocr::plan::Plan;
use crate::ocr::sources::link_duplicates;
use crate::ocr::summary::{ended, summarise};
use crate::ocr::types::{Ocr, OcrBody, OcrOutcome, round2};
pub use crate::sharding::ShardState;
use crate::sharding::{unix_now, wait_for_lock};

/// Merge a sharded job's shards into its record.
pub async fn finalize(registry: &Registry, job: &JobId) -> Result<OcrOutcome, StepError> {
    read_job(registry, job)?;
    // Waits on a file lock; see `run_ocr` for why waiting in place is fine.
    let _hold = wait_for_lock(registry, "ocr-finalize", job)?;
    let (recorded, info, status) = read_job(registry, job)?;
    if status == Some(Status::Completed) {
        return Ok(OcrOutcome::AlreadyCompleted {
            job_id: job.clone(),
        });
    }
    let (states, records) = shard_records(registry, job, info.count)?;
    let plan = job_plan(registry, job, &recorded)?;
    let merge = Merge {
        job,
        engine: engine_config(&plan.settings, None),
        shard_plan: read_plan(registry, job)?,
        states,
        records,
        plan,
    };
    let mut reports = Vec::new();
    let mut not_done = NotDone::new();
    let mut dups = Vec::new();
    for doc in &merge.shard_plan.documents {
        let key = Citekey::parse(&doc.citekey)?;
        match &doc.same_as {
            Some(first) => dups.push((key, Citekey::parse(first)?)),
            None => reports.push(merge.document(doc, &key, &mut not_done)),
        }
    }
    recto_registry::sync_filesystem(&merge.plan.output)?;
    let mut failures = BTreeMap::new();
    let mut body = merge.body(
        registry,
        &reports,
        &mut failures,
        recorded.body.shards.clone(),
    );
    link_duplicates(&merge.plan, job, &dups, &mut body, &mut failures);
    merge.explain_not_done(&not_done, info.count, &mut failures);
    let (citekeys, done) = ended(&merge.plan, recorded.citekeys.list.clone(), &failures);
    save_job(
        registry,
        job,
        &StepMetadata {
            status: crate::sharding::merged_status(
                merge.states.values(),
                done.len(),
                failures.len(),
            ),
            source_job_id: recorded.source_job_id.clone(),
            citekeys,
            body: &body,
            failures: Some(failures.clone()),
            error: None,
            started_at: recorded.started_at.clone(),
            duration_seconds: Some(merge.seconds()),
        },
    )?;
    harness::point_all_current(&merge.plan.output, &done, job);
    let metadata = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    Ok(OcrOutcome::Ran {
        job_id: job.clone(),
        metadata,
        failures,
    })
}

/// Each shard's state by its number, as the record shows it.
type ShardStates = BTreeMap<String, String>;

/// Each shard's state and record; a shard still running stops the merge.
fn shard_records(
    registry: &Registry,
    job: &JobId,
    count: usize,
) -> Result<(ShardStates, Vec<Option<ShardRecord>>), StepError> {
    let mut states = BTreeMap::new();
    let mut records = Vec::new();
    for i in 0..count {
        let (state, record) = shard_state(registry, job, i)?;
        if let ShardState::Running(holder) = state {
            return Err(StepError::ShardRunning {
                step: Ocr::NAME.to_owned(),
                job: job.clone(),
                shard: i,
                holder,
            });
        }
        states.insert(i.to_string(), state.to_string());
        records.push(record);
    }
    Ok((states, records))
}

/// Pages no shard did: citekey -> shard -> pages.
type NotDone = BTreeMap<String, BTreeMap<usize, Vec<usize>>>;

/// What the merge reads: the job's plan, the shards' plan, states and
/// records.
struct Merge<'a> {
    job: &'a JobId,
    plan: Plan,
    engine: recto_ocr::OcrConfig,
    shard_plan: ShardPlan,
    states: ShardStates,
    records: Vec<Option<ShardRecord>>,
}

impl Merge<'_> {
    /// The shard that had page `page` of `key`, for the messages.
    fn owner(&self, key: &str, page: usize) -> Option<usize> {
        self.shard_plan.assignments.iter().position(|a| {
            a.slices
                .iter()
                .any(|s| s.citekey == key && s.first <= page && (s.last == 0 || page <= s.last))
        })
    }

    fn state(&self, shard: usize) -> &str {
        self.states
            .get(&shard.to_string())
            .map_or("?", String::as_str)
    }

    /// Seconds since the job was planned.
    fn seconds(&self) -> f64 {
        round2((unix_now() - self.shard_plan.created_unix).max(0.0))
    }

    /// One document's report from the pages its shards left on disk.
    fn document(&self, doc: &PlannedDoc, key: &Citekey, not_done: &mut NotDone) -> DocReport {
        let task = DocTask {
            citekey: doc.citekey.clone(),
            pdf: PathBuf::new(),
            password: None,
            out_dir: harness::output_dir(&self.plan.output, key, self.job),
            languages: self.plan.languages.get(&doc.citekey).cloned(),
            pages: None,
        };
        // What the shards said of this document.
        let said: Vec<(usize, &ShardDoc)> = self
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.as_ref()?.per_citekey.get(&doc.citekey)?)))
            .collect();
        let error = said
            .iter()
            .find_map(|(i, d)| d.error.as_ref().map(|e| format!("shard {i}: {e}")));
        let pages = if doc.pages == 0 {
            said.iter()
                .flat_map(|(_, d)| d.slices.iter().map(|s| s[1]))
                .max()
                .unwrap_or(0)
        } else {
            doc.pages
        };
        let mut report = DocReport {
            citekey: doc.citekey.clone(),
            page_count: pages,
            error: error.clone().map(recto_ocr::OcrError::Recorded),
            pages: Vec::new(),
            fulltext: None,
        };
        if pages == 0 && error.is_none() {
            let shard = self.owner(&doc.citekey, 1).unwrap_or(0);
            report.error = Some(recto_ocr::OcrError::Recorded(format!(
                "shard {shard} ({}) did not read it",
                self.state(shard)
            )));
        }
        if report.error.is_some() {
            return report;
        }
        for p in 1..=pages {
            let result = match recto_ocr::completed_page(&task, p, &self.engine) {
                Some(summary) => Ok(summary),
                None => Err(self.missing_page(&doc.citekey, p, &said, not_done)),
            };
            report.pages.push(PageOutcome {
                page: p,
                result: result.map_err(recto_ocr::OcrError::Recorded),
            });
        }
        match recto_ocr::write_fulltext(&task, pages) {
            Ok(path) => report.fulltext = Some(path),
            Err(e) => report.error = Some(e),
        }
        report
    }

    /// Why page `p` of `key` has no result: the failure its shard recorded,
    /// or not done (noted in `not_done`).
    fn missing_page(
        &self,
        key: &str,
        p: usize,
        said: &[(usize, &ShardDoc)],
        not_done: &mut NotDone,
    ) -> String {
        let shard = self.owner(key, p);
        let failed = said
            .iter()
            .find_map(|(_, d)| d.page_failures.get(&p.to_string()));
        match (failed, shard) {
            (Some(why), Some(s)) => format!("shard {s}: {why}"),
            (Some(why), None) => why.clone(),
            (None, s) => {
                let s = s.unwrap_or(0);
                not_done
                    .entry(key.to_owned())
                    .or_default()
                    .entry(s)
                    .or_default()
                    .push(p);
                format!("not done: shard {s} {}", self.state(s))
            }
        }
    }

    /// The job's body from the documents' reports, as a one-machine run
    /// records it, with the shards' states and resumed pages.
    fn body(
        &self,
        registry: &Registry,
        reports: &[DocReport],
        failures: &mut BTreeMap<String, String>,
        previous: Option<crate::sharding::ShardsInfo>,
    ) -> OcrBody {
        let plan = &self.plan;
        let store_url = open_stores(plan, None)
            .ok()
            .and_then(|s| s.values().next().map(recto_store::Store::url));
        let count = self.records.len();
        let mut running = running_body(
            plan,
            plan.settings.clone(),
            registry,
            self.job,
            count,
            previous,
        );
        if let Some(s) = running.shards.as_mut() {
            s.states = self.states.clone();
        }
        let mut body = summarise(
            plan,
            reports,
            failures,
            running,
            store_url,
            self.job,
            self.seconds(),
        );
        body.pages.resumed = self
            .records
            .iter()
            .flatten()
            .flat_map(|r| &r.runs)
            .map(|r| r.resumed)
            .sum();
        body
    }

    /// Each citekey with pages no shard did: which shard, and how to finish.
    fn explain_not_done(
        &self,
        not_done: &NotDone,
        count: usize,
        failures: &mut BTreeMap<String, String>,
    ) {
        for (key, by_shard) in not_done {
            let parts: Vec<String> = by_shard
                .iter()
                .map(|(s, pages)| {
                    format!(
                        "shard {s} ({}) did not do {} of its pages",
                        self.state(*s),
                        pages.len()
                    )
                })
                .collect();
            let first = by_shard.keys().next().copied().unwrap_or(0);
            failures.insert(
                key.clone(),
                format!(
                    "{}; run shard {first} of {count} of job {} again, then merge the job",
                    parts.join(", "),
                    self.job
                ),
            );
        }
    }
}
