//! The parts of a run that do not depend on how it is cut: find each
//! selected citekey's input, do the step's work on them in parallel, and
//! put the results into the record. A whole run does all three once; a
//! sharded job finds inputs when it is planned, works in each shard and
//! puts results together at the merge.

use std::collections::BTreeMap;

use recto_registry::{Citekey, JobId, Registry};

use super::step::{CitekeyStep, Failure, Recorded, Request, Target};
use crate::StepError;
use crate::error::CitekeyError;
use crate::harness::{self, Citekeys};
use crate::progress::Progress;

/// The selected citekeys, each one's input (those without one failed), and
/// the job to record as `source_job_id`: the input job given, else the
/// newest one read.
#[derive(Debug)]
pub(crate) struct Inputs<T> {
    pub keys: Vec<Citekey>,
    pub found: Vec<(Citekey, T)>,
    pub failures: BTreeMap<String, Failure>,
    pub source_job: Option<JobId>,
}

/// Select the citekeys of `req` and look up each one's input.
pub(crate) fn gather<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    req: &Request,
) -> Result<Inputs<S::Input>, StepError> {
    let input_job = match &req.input_job {
        Some(j) => Some(recto_library::resolve_job(registry, S::INPUT, j)?),
        None => None,
    };
    let keys = harness::select_citekeys(
        registry,
        &req.selection,
        S::INPUT,
        S::NAME,
        input_job.as_ref(),
    )?;
    if keys.is_empty() {
        return Err(StepError::NothingToDo {
            what: S::NOTHING.to_owned(),
        });
    }
    let mut failures = BTreeMap::new();
    let mut found = Vec::new();
    for key in &keys {
        match step.lookup(registry, key, input_job.as_ref()) {
            Ok(t) => found.push((key.clone(), t)),
            Err(e) => {
                tracing::warn!("{key}: {e}");
                failures.insert(
                    key.as_str().to_owned(),
                    Failure::new(&CitekeyError::from(e)),
                );
            }
        }
    }
    let source_job = input_job.or_else(|| found.iter().map(|(_, t)| S::input_job(t).clone()).max());
    Ok(Inputs {
        keys,
        found,
        failures,
        source_job,
    })
}

/// Prepare and do the step's work on `found`, in parallel, each citekey
/// reported to `progress` as it ends.
pub(crate) async fn execute<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    recorded: &Recorded<S::Body, S::Entry>,
    mut found: Vec<(Citekey, S::Input)>,
    job: &JobId,
    progress: &dyn Progress,
) -> Vec<(Citekey, Result<S::Entry, Failure>)> {
    use rayon::prelude::*;
    step.prepare(registry, &recorded.body, &mut found).await;
    let base = crate::harness::recorded_path(registry, &recorded.output_dir);
    let target = Target {
        base: &base,
        job,
        registry,
    };
    progress.begin(S::NAME, found.len() as u64, None);
    // CPU work on rayon's pool; the future is driven by the caller's
    // `block_on`, so no runtime worker waits on it.
    let results = found
        .par_iter()
        .map(|(key, input)| {
            let r = step.work(key, input, &recorded.body, &target).map_err(|e| {
                tracing::warn!("{key}: {e}");
                Failure::new(&e)
            });
            progress.item_done(key.as_str(), r.is_ok());
            (key.clone(), r)
        })
        .collect();
    progress.end();
    results
}

/// Put `results` into the record: entries into `per_citekey`, failures
/// beside those found before; the step's sums; the `citekeys` header over
/// `list`. Returns the header and the citekeys done.
pub(crate) fn collect<S: CitekeyStep>(
    recorded: &mut Recorded<S::Body, S::Entry>,
    results: Vec<(Citekey, Result<S::Entry, Failure>)>,
    failures: &mut BTreeMap<String, Failure>,
    list: &[String],
    seconds: f64,
) -> (Citekeys, Vec<Citekey>) {
    let mut done = Vec::new();
    for (key, r) in results {
        match r {
            Ok(entry) => {
                recorded.per_citekey.insert(key.as_str().to_owned(), entry);
                done.push(key);
            }
            Err(f) => {
                failures.insert(key.as_str().to_owned(), f);
            }
        }
    }
    let extra = S::summarise(&mut recorded.body, &recorded.per_citekey, seconds);
    let mut citekeys =
        Citekeys::new(list.to_vec()).count("successful", list.len() - failures.len());
    for (name, n) in extra {
        citekeys = citekeys.count(name, n);
    }
    (citekeys.count("failed", failures.len()), done)
}

/// The failures as the record keeps them: the messages.
pub(crate) fn messages(failures: &BTreeMap<String, Failure>) -> BTreeMap<String, String> {
    failures
        .iter()
        .map(|(k, f)| (k.clone(), f.message.clone()))
        .collect()
}
