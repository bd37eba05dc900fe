//! [`finalize`]: the shards' pages merged into the job's record, as a
//! one-machine run would have recorded it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_ocr::{DocReport, DocTask, PageOutcome};
use recto_registry::{Citekey, JobId, Registry, Status};

use super::plan::running_body;
use super::record::{ShardDoc, job_plan, read_job, read_plan, save_job, shard_state};
use crate::StepError;
use crate::harness::{self, Step, StepMetadata};
use crate::ocr::engine::{engine_config, open_stores};
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
    let shard_plan = read_plan(registry, job)?;
    let mut states = BTreeMap::new();
    let mut records = Vec::new();
    for i in 0..info.count {
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
    let plan = job_plan(registry, job, &recorded)?;
    let engine = engine_config(&plan.settings, None);
    // Who had each page, for the messages.
    let owner = |key: &str, page: usize| -> Option<usize> {
        shard_plan.assignments.iter().position(|a| {
            a.slices
                .iter()
                .any(|s| s.citekey == key && s.first <= page && (s.last == 0 || page <= s.last))
        })
    };
    let mut reports = Vec::new();
    let mut not_done: BTreeMap<String, BTreeMap<usize, Vec<usize>>> = BTreeMap::new();
    let mut dups = Vec::new();
    for doc in &shard_plan.documents {
        let key = Citekey::parse(&doc.citekey)?;
        if let Some(first) = &doc.same_as {
            dups.push((key, Citekey::parse(first)?));
            continue;
        }
        let task = DocTask {
            citekey: doc.citekey.clone(),
            pdf: PathBuf::new(),
            password: None,
            out_dir: harness::output_dir(&plan.output, &key, job),
            languages: plan.languages.get(&doc.citekey).cloned(),
            pages: None,
        };
        // What the shards said of this document.
        let said: Vec<(usize, &ShardDoc)> = records
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
            let shard = owner(&doc.citekey, 1).unwrap_or(0);
            report.error = Some(recto_ocr::OcrError::Recorded(format!(
                "shard {shard} ({}) did not read it",
                states.get(&shard.to_string()).map_or("?", String::as_str)
            )));
        }
        if report.error.is_none() {
            for p in 1..=pages {
                let result = match recto_ocr::completed_page(&task, p, &engine) {
                    Some(summary) => Ok(summary),
                    None => {
                        let shard = owner(&doc.citekey, p);
                        let failed = said
                            .iter()
                            .find_map(|(_, d)| d.page_failures.get(&p.to_string()));
                        match (failed, shard) {
                            (Some(why), Some(s)) => Err(format!("shard {s}: {why}")),
                            (Some(why), None) => Err(why.clone()),
                            (None, s) => {
                                let s = s.unwrap_or(0);
                                not_done
                                    .entry(doc.citekey.clone())
                                    .or_default()
                                    .entry(s)
                                    .or_default()
                                    .push(p);
                                Err(format!(
                                    "not done: shard {s} {}",
                                    states.get(&s.to_string()).map_or("?", String::as_str)
                                ))
                            }
                        }
                    }
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
        }
        reports.push(report);
    }
    if let Err(e) = recto_registry::sync_filesystem(&plan.output) {
        return Err(e.into());
    }
    let mut failures = BTreeMap::new();
    let store_url = open_stores(&plan, None)
        .ok()
        .and_then(|s| s.values().next().map(recto_store::Store::url));
    let seconds = round2((unix_now() - shard_plan.created_unix).max(0.0));
    let previous = recorded.body.shards.clone();
    let mut running = running_body(
        &plan,
        recorded.body.config.clone(),
        registry,
        job,
        info.count,
        previous,
    );
    if let Some(s) = running.shards.as_mut() {
        s.states = states.clone();
    }
    let mut body: OcrBody = summarise(
        &plan,
        &reports,
        &mut failures,
        running,
        store_url,
        job,
        seconds,
    );
    link_duplicates(&plan, job, &dups, &mut body, &mut failures);
    body.pages.resumed = records
        .iter()
        .flatten()
        .flat_map(|r| &r.runs)
        .map(|r| r.resumed)
        .sum();
    // Pages no shard did: say which shard, and how to finish.
    for (key, by_shard) in &not_done {
        let parts: Vec<String> = by_shard
            .iter()
            .map(|(s, pages)| {
                format!(
                    "shard {s} ({}) did not do {} of its pages",
                    states.get(&s.to_string()).map_or("?", String::as_str),
                    pages.len()
                )
            })
            .collect();
        let first = by_shard.keys().next().copied().unwrap_or(0);
        failures.insert(
            key.clone(),
            format!(
                "{}; run shard {first} of {} of job {job} again, then merge the job",
                parts.join(", "),
                info.count
            ),
        );
    }
    let (citekeys, done) = ended(&plan, recorded.citekeys.list.clone(), &failures);
    let status = Status::ended(failures.is_empty());
    save_job(
        registry,
        job,
        &StepMetadata {
            status,
            source_job_id: recorded.source_job_id.clone(),
            citekeys,
            body: &body,
            failures: Some(failures.clone()),
            error: None,
            started_at: recorded.started_at.clone(),
            duration_seconds: Some(seconds),
        },
    )?;
    harness::point_all_current(&plan.output, &done, job);
    let metadata = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    Ok(OcrOutcome::Ran {
        job_id: job.clone(),
        metadata,
        failures,
    })
}
