//! The one driver of the steps that read another step's results citekey by
//! citekey (toc, segmentation, export, and any new one): a step is a
//! [`CitekeyStep`] (its name, its input step, its typed input, entry and
//! body, its work on one citekey); [`run`] gives it the selection, the run
//! whole or in shards, the record from `running` to its end, the failures,
//! the `current` links and the progress.
//!
//! A job id followed through a run: [`run`] picks the way ([`whole`] or
//! [`shards`]); both find inputs and work through [`work`], record through
//! the harness's `StepRun` or the shard records, and end in the harness's
//! `point_current`.

mod shards;
mod step;
mod whole;
mod work;

use recto_registry::Registry;

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
