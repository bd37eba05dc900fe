//! The OCR step: find the source upload, fetch and verify each PDF from its
//! store, run the page engine, record `analytics/ocr/job_metadata/<job>.json`.
//!
//! Phases, each its module: [`plan`] (new job or resume: which job,
//! citekeys, settings and source; [`dry_run`] stops there), [`sources`]
//! (each PDF fetched and verified against its recorded checksum,
//! duplicates read once), the [`engine`], then [`summary`] into the typed
//! record ([`types`]); [`shard`] runs one job's pages over several
//! processes on the same parts.
//!
//! A resume continues the job as recorded: every setting that shapes the
//! output (citekeys, languages, resolutions, mode, output folder, source) is
//! taken from the record, and one given that differs is refused. Citekeys
//! the record already counts as done are left as they are.

mod cost;
mod dry_run;
mod engine;
pub(crate) mod plan;
mod resume;
pub mod shard;
mod sources;
mod summary;
mod types;

pub use cost::{JobCost, job_costs};
pub use types::*;

use std::collections::BTreeMap;

use recto_registry::{Citekey, Registry};
use recto_store::Store;

use self::engine::{engine_config, language_failures, open_stores};
use self::plan::{Plan, check_options, plan_new};
use self::sources::{fetch_sources, link_duplicates};
use self::summary::{Observer, ended, summarise};
use crate::StepError;
use crate::harness::{self, Citekeys, StepRun};
use crate::progress::Progress;

/// Decide what to run: a new job, or a resume of one (`resume.rs`);
/// `Err(outcome)` when there is nothing to do.
pub(crate) fn decide(
    registry: &Registry,
    req: &OcrRequest,
) -> Result<Result<Plan, OcrOutcome>, StepError> {
    check_options(req)?;
    match &req.resume {
        None => plan_new(registry, req).map(Ok),
        Some(resume) => resume::plan_resume(registry, req, resume),
    }
}

/// Run the OCR step.
pub async fn run_ocr(
    registry: &Registry,
    req: OcrRequest,
    progress: &dyn Progress,
) -> Result<OcrOutcome, StepError> {
    let plan = match decide(registry, &req)? {
        Ok(plan) => plan,
        Err(done) => return Ok(done),
    };
    let engine = engine_config(&plan.settings, req.workers);
    recto_ocr::validate_languages(&engine)?;
    let stores = open_stores(&plan, req.store.as_ref())?;
    if req.dry_run {
        return Ok(OcrOutcome::DryRun(
            dry_run::dry_run(
                &plan,
                &stores,
                &req.cache_dir,
                engine.workers,
                req.password.as_deref(),
                registry,
            )
            .await,
        ));
    }
    let mut settings = plan.settings.clone();
    settings.workers = engine.workers;
    let list: Vec<String> = plan.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let running = plan.running(settings, registry, None);
    let run = StepRun::begin::<Ocr, _>(
        registry,
        plan.start.clone(),
        Some(&plan.source_job),
        Citekeys::new(list.clone()),
        &running,
    )?;
    let job = run.job().clone();

    let (todo, lang_failures) = to_do(&plan, &engine, &job);
    let (tasks, mut failures, dups) = fetch_sources(
        &plan,
        &stores,
        &todo,
        &req.cache_dir,
        &job,
        req.password.as_deref(),
    )
    .await;
    failures.extend(lang_failures);

    let observer = Observer(progress);
    // The engine runs on its own worker threads and this call waits for
    // them: the steps' futures are driven by their caller's `block_on`
    // (the CLI, Python), never spawned beside other tasks, so waiting here
    // holds up no runtime worker (and works on a current-thread runtime,
    // where `block_in_place` would panic).
    let reports = recto_ocr::run(&tasks, &engine, &observer);
    progress.end();

    // Pages are renamed into place but not fsynced one by one; one sync of
    // their filesystem before the record says `completed` makes the record
    // never claim pages a power cut could still take away.
    if !tasks.is_empty()
        && let Err(e) = recto_registry::sync_filesystem(&plan.output)
    {
        let list = Citekeys::new(list);
        return Err(run.abort(Some(&plan.source_job), list, running, e.into()));
    }
    let store_url = stores.values().next().map(Store::url);
    let mut body = summarise(
        &plan,
        &reports,
        &mut failures,
        running,
        store_url,
        &job,
        run.elapsed_seconds(),
    );
    link_duplicates(&plan, &job, &dups, &mut body, &mut failures);
    let (citekeys, done) = ended(&plan, list, &failures);
    let metadata = run.finish(Some(&plan.source_job), citekeys, failures.clone(), body)?;
    // Only once the record says so: `current` never points at a result the
    // record does not call done.
    harness::point_all_current(&plan.output, &done, &job);
    Ok(OcrOutcome::Ran {
        job_id: job,
        metadata,
        failures,
    })
}

/// The citekeys a run reads: those a resumed job has not kept, less those
/// whose languages are not installed (failed here, with their reason).
fn to_do<'p>(
    plan: &'p Plan,
    engine: &recto_ocr::OcrConfig,
    job: &recto_registry::JobId,
) -> (Vec<&'p Citekey>, BTreeMap<String, String>) {
    let todo: Vec<&Citekey> = plan
        .keys
        .iter()
        .filter(|k| !plan.kept.contains_key(k.as_str()))
        .collect();
    if !plan.kept.is_empty() {
        tracing::info!(
            "resuming job {job}: {} citekeys already done are kept, {} to do",
            plan.kept.len(),
            todo.len()
        );
    }
    let lang_failures = language_failures(plan, engine);
    let todo = todo
        .into_iter()
        .filter(|k| !lang_failures.contains_key(k.as_str()))
        .collect();
    (todo, lang_failures)
}
