//! `recto sync-ocr` (the spec's `sync_ocr.py`) and `recto sync --step S`:
//! the sync step.

use recto_steps::sync::{SyncRequest, run_sync};

use super::Outcome;
use crate::cli::SyncArgs;
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(step: &str, args: SyncArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let req = SyncRequest {
        step: step.to_owned(),
        job: args.job_id.clone(),
        skip_images: args.skip_images,
        dry_run: args.dry_run,
        concurrency: args.concurrency,
        store: config.store(&args.store),
        allow_incomplete: args.allow_incomplete,
    };
    let progress = CliProgress::new(args.quiet || args.json, "files");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(run_sync(&registry, &req, &progress))?;
    for (key, why) in &out.failures {
        tracing::error!("{key}: {why}");
    }
    for m in &out.mismatches {
        tracing::error!("verify: {m}");
    }
    let report = recto_steps::report::sync(&out, step, args.dry_run);
    if args.json {
        output::json(&report.json)?;
    }
    if args.dry_run {
        if !args.quiet && !args.json {
            for f in &out.uploaded {
                output::line(format!("upload {} ({} bytes)", f.key, f.size))?;
            }
            output::line(format!(
                "dry run for job {} to {}: {} to upload, {} unchanged, {} images skipped",
                out.job_id,
                out.target,
                out.uploaded.len(),
                out.skipped,
                out.images_skipped
            ))?;
        }
        return Ok(Outcome::Success);
    }
    if !args.quiet && !args.json {
        output::line(format!(
            "sync of job {} to {}: {} uploaded, {} unchanged, {} failed, {}",
            out.job_id,
            out.target,
            out.uploaded.len(),
            out.skipped,
            out.failures.len(),
            if out.mismatches.is_empty() && out.failures.is_empty() {
                "verified"
            } else {
                "NOT verified"
            }
        ))?;
    }
    super::ended(report.ending)
}
