//! A step run whole, in this process, as one job: select, record
//! `running`, work, record the end, point `current`.

use std::time::Instant;

use recto_registry::Registry;

use super::step::{CitekeyStep, Outcome, Recorded, Request};
use super::work;
use crate::StepError;
use crate::harness::{self, Citekeys, Start, StepRun};
use crate::progress::Progress;

pub(crate) async fn run<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    req: &Request,
    progress: &dyn Progress,
) -> Result<Outcome<S>, StepError> {
    let inputs = work::gather(registry, step, req)?;
    let list: Vec<String> = inputs.keys.iter().map(|k| k.as_str().to_owned()).collect();
    let mut recorded = new_record(registry, step, req);
    let run = StepRun::begin_named(
        registry,
        S::NAME,
        Start::New,
        inputs.source_job.as_ref(),
        Citekeys::new(list.clone()),
        &recorded,
    )?;
    let job = run.job().clone();
    let started = Instant::now();
    let results = work::execute(registry, step, &recorded, inputs.found, &job, progress).await;
    let mut failures = inputs.failures;
    let (citekeys, done) = work::collect::<S>(
        &mut recorded,
        results,
        &mut failures,
        &list,
        started.elapsed().as_secs_f64(),
    );
    let output = harness::recorded_path(registry, &recorded.output_dir);
    let job = run.job().clone();
    let metadata = harness::finish_with_results(
        run,
        &output,
        inputs.source_job.as_ref(),
        citekeys,
        work::messages(&failures),
        &recorded,
        &done,
    )?;
    super::point_current::<S>(&output, &recorded.per_citekey, &done, &job);
    Ok(Outcome {
        job_id: job,
        recorded,
        metadata,
        failures,
    })
}

/// The record of a new job while it runs: its output folder (relative to
/// the data directory when inside it) and the step's body.
pub(crate) fn new_record<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    req: &Request,
) -> Recorded<S::Body, S::Entry> {
    let output = req
        .output
        .clone()
        .unwrap_or_else(|| registry.layout().analytics_dir().join(S::NAME));
    Recorded {
        output_dir: crate::harness::recorded_dir(registry, &output),
        body: step.body(),
        per_citekey: Default::default(),
    }
}
