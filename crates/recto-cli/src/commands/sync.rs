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
    if args.json {
        output::json(&serde_json::json!({
            "job_id": out.job_id.as_str(),
            "step": step,
            "status": out.metadata.as_ref().and_then(|m| m.get("status")),
            "dry_run": args.dry_run,
            "target": out.target,
            "uploaded": out.uploaded.len(),
            "skipped": out.skipped,
            "failed": out.failures.len(),
            "images_skipped": out.images_skipped,
            "verified": !args.dry_run && out.failures.is_empty() && out.mismatches.is_empty(),
        }))?;
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
    if out.failures.is_empty() && out.mismatches.is_empty() {
        Ok(Outcome::Success)
    } else if out.uploaded.is_empty() && !out.failures.is_empty() {
        anyhow::bail!(
            "sync of job {} failed: {} files could not be uploaded",
            out.job_id,
            out.failures.len()
        )
    } else {
        Ok(Outcome::Partial)
    }
}
