//! The one driver of the steps that read another step's results citekey by
//! citekey (toc, segmentation, export, and any new one): a step is a
//! [`CitekeyStep`] (its name, its input step, its typed input, entry and
//! body, its work on one citekey); [`run`] gives it the selection, the run
//! whole or in shards, the record from `running` to its end, the failures,
//! the `current` links and the progress.
//!
//! A job id followed through a run: [`run`] picks the way ([`whole`] or
//! [`shards`]); both find inputs and work through [`work`], record through
//! the harness's `StepRun` or the shard records, and end in
//! [`point_current`].

mod shards;
mod step;
mod whole;
mod work;

use std::collections::BTreeMap;
use std::path::Path;

use recto_registry::{Citekey, JobId, Registry};

pub use shards::{CitekeyPlan, CitekeyShardRecord, CitekeyShardStatus, shards_dir, status};
pub use step::{CitekeyStep, Failure, Outcome, Recorded, Remedy, Request, Sharding, Target};

use crate::StepError;
use crate::progress::Progress;

/// Run `step` as `req` says: whole, plan shards, one shard, or the merge.
pub async fn run<S: CitekeyStep>(
    registry: &Registry,
    step: &S,
    req: &Request,
    progress: &dyn Progress,
) -> Result<Outcome<S>, StepError> {
    if matches!(req.sharding, Sharding::Whole | Sharding::Plan(_)) {
        step.check()?;
    }
    match &req.sharding {
        Sharding::Whole => whole::run(registry, step, req, progress).await,
        Sharding::Plan(n) => shards::plan(registry, step, req, *n),
        Sharding::Shard { job, index, of } => {
            shards::run_shard(registry, step, job, (*index, *of), progress).await
        }
        Sharding::Merge(job) => shards::merge(registry, job),
    }
}

/// Point each done citekey's `current` at `job`, once its record says so:
/// the job's folder, or for a step that keeps files one by one
/// ([`CitekeyStep::current_files`]), each of its files.
fn point_current<S: CitekeyStep>(
    output: &Path,
    entries: &BTreeMap<String, S::Entry>,
    done: &[Citekey],
    job: &JobId,
) {
    for key in done {
        let files = entries.get(key.as_str()).and_then(S::current_files);
        let pointed = match files {
            None => crate::harness::point_current(output, key, job),
            Some(files) => crate::harness::point_current_files(output, key, job, &files),
        };
        if let Err(e) = pointed {
            tracing::warn!("{key}: could not update its current link: {e}");
        }
    }
}
