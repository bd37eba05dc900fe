//! `recto ocr`: the OCR step (the spec's `run_ocr.py`).

use std::time::Duration;

use recto_ocr::{Mode, OcrConfig};
use recto_registry::JobId;
use recto_steps::ocr::{OcrRequest, run_ocr};

use super::Outcome;
use crate::cli::{OcrArgs, OcrMode};
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: OcrArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let workers = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let engine = OcrConfig {
        languages: args.languages.clone(),
        dpi: args.dpi,
        image_dpi: args.image_dpi.min(args.dpi),
        mode: match args.mode {
            OcrMode::Auto => Mode::Auto,
            OcrMode::ForceOcr => Mode::ForceOcr,
            OcrMode::TextLayerOnly => Mode::TextLayerOnly,
        },
        workers,
        page_timeout: Some(Duration::from_secs(args.page_timeout)),
        detect_rotation: !args.no_rotate,
        ..OcrConfig::default()
    };
    let req = OcrRequest {
        citekeys: args.citekeys.clone(),
        source_job_id: args
            .source_job_id
            .as_deref()
            .map(JobId::parse)
            .transpose()?,
        output: args
            .output
            .clone()
            .unwrap_or_else(|| config.data_dir.join("analytics").join("ocr")),
        resume: args
            .resume
            .as_deref()
            .map(|j| registry.resolve_job(j))
            .transpose()?,
        password: args.password.clone(),
        engine,
        store: config.store(&args.store),
        cache_dir: config.data_dir.join("cache").join("sources"),
    };
    let progress = CliProgress::new(args.quiet, "pages");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = rt.block_on(run_ocr(&registry, req, &progress))?;
    for (key, why) in &outcome.failures {
        tracing::error!("{key}: {why}");
    }
    if !args.quiet {
        let m = &outcome.metadata;
        output::line(format!(
            "ocr job {}: {} citekeys ({} failed), {} pages ({} text layer, {} OCR, {} failed) in {} s",
            outcome.job_id,
            m["citekeys"]["total"],
            m["citekeys"]["failed"],
            m["pages"]["total"],
            m["pages"]["text_layer"],
            m["pages"]["ocr"],
            m["pages"]["failed"],
            m["duration_seconds"],
        ))?;
    }
    Ok(if outcome.failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}
