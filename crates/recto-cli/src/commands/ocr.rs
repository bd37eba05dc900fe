//! `recto ocr`: the OCR step (the spec's `run_ocr.py`).

use std::time::Duration;

use recto_ocr::Mode;
use recto_steps::ocr::{OcrOptions, OcrOutcome, OcrRequest, run_ocr};

use super::Outcome;
use crate::cli::{OcrArgs, OcrMode};
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: OcrArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let req = OcrRequest {
        citekeys: args.citekeys.clone(),
        source_job_id: args.source_job_id.clone(),
        output: args.output.clone(),
        resume: args.resume.clone(),
        password: args.password.clone(),
        options: OcrOptions {
            languages: args.languages.clone(),
            dpi: args.dpi,
            image_dpi: args.image_dpi,
            mode: args.mode.map(|m| match m {
                OcrMode::Auto => Mode::Auto,
                OcrMode::ForceOcr => Mode::ForceOcr,
                OcrMode::TextLayerOnly => Mode::TextLayerOnly,
            }),
            page_timeout: args.page_timeout.map(Duration::from_secs),
            detect_rotation: args.no_rotate.then_some(false),
            max_megapixels: args.max_megapixels,
        },
        workers: args.workers,
        store: config.store(&args.store),
        cache_dir: config.data_dir.join("cache").join("sources"),
    };
    let progress = CliProgress::new(args.quiet || args.json, "pages");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let outcome = rt.block_on(run_ocr(&registry, req, &progress))?;
    let (job_id, m, failures) = match outcome {
        OcrOutcome::AlreadyCompleted { job_id } => {
            if args.json {
                output::json(&serde_json::json!({
                    "job_id": job_id.as_str(), "status": "completed", "already_completed": true,
                }))?;
            } else if !args.quiet {
                output::line(format!(
                    "ocr job {job_id} is already completed; nothing to resume"
                ))?;
            }
            return Ok(Outcome::Success);
        }
        OcrOutcome::Ran {
            job_id,
            metadata,
            failures,
        } => (job_id, metadata, failures),
    };
    for (key, why) in &failures {
        tracing::error!("{key}: {why}");
    }
    if failures.values().any(|why| why.contains("encrypted")) {
        tracing::error!(
            "hint: give the password of encrypted PDFs with --password (or RECTO_PDF_PASSWORD), then `recto ocr --resume {job_id}`"
        );
    }
    if args.json {
        output::json(&serde_json::json!({
            "job_id": job_id.as_str(),
            "status": m["status"],
            "citekeys": m["citekeys"],
            "pages": m["pages"],
            "failures": m["failures"],
            "per_citekey": m["per_citekey"],
            "duration_seconds": m["duration_seconds"],
        }))?;
    } else if !args.quiet {
        output::line(format!(
            "ocr job {}: {} citekeys ({} failed), {} pages ({} text layer, {} OCR, {} failed) in {} s",
            job_id,
            m["citekeys"]["total"],
            m["citekeys"]["failed"],
            m["pages"]["total"],
            m["pages"]["text_layer"],
            m["pages"]["ocr"],
            m["pages"]["failed"],
            m["duration_seconds"],
        ))?;
    }
    Ok(if failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}
