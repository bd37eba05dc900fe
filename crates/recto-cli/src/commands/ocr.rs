//! `recto ocr`: the OCR step (the spec's `run_ocr.py`).

use std::time::Duration;

use recto_ocr::Mode;
use recto_steps::ocr::{DryRun, OcrOptions, OcrOutcome, OcrRequest, Selection, run_ocr};

use super::Outcome;
use crate::cli::{OcrArgs, OcrMode};
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: OcrArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    if let Some(job) = &args.finalize {
        let job = registry.resolve_job(job)?;
        let rt = super::runtime()?;
        let outcome = rt.block_on(recto_steps::ocr::shard::finalize(&registry, &job))?;
        let shards = recto_steps::ocr::shard::status(&registry, &job)?.unwrap_or_default();
        let ended = report(outcome, &args);
        // The record names each shard that left pages undone; say how.
        for s in shards.iter().filter(|s| s.state != "completed") {
            tracing::error!(
                "hint: run shard {} again with `recto ocr --job-id {job} --shard {}/{}`, then `recto ocr --finalize {job}`",
                s.shard,
                s.shard,
                shards.len()
            );
        }
        return ended;
    }
    if let Some(shard) = &args.shard {
        return run_shard(&args, shard, config);
    }
    let req = request(&args, config)?;
    if let Some(n) = args.shards {
        let rt = super::runtime()?;
        let (job, plan) = rt.block_on(recto_steps::ocr::shard::plan_sharded(&registry, &req, n))?;
        print_plan(&job, &plan, args.json, args.quiet)?;
        return Ok(Outcome::Success);
    }
    let progress = CliProgress::new(args.quiet || args.json, "pages");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let outcome = match rt.block_on(run_ocr(&registry, req, &progress)) {
        // `--pending` with nothing pending is not an error: scripts loop.
        Err(recto_steps::StepError::NothingToDo { what }) => {
            if args.json {
                output::json(&recto_steps::report::nothing_to_do(&what).json)?;
            } else if !args.quiet {
                output::line(format!("nothing to do: {what}"))?;
            }
            return Ok(Outcome::Success);
        }
        r => r?,
    };
    report(outcome, &args)
}

/// Print what a run (or a merge) did; the outcome is partial when some
/// citekeys failed.
fn report(outcome: OcrOutcome, args: &OcrArgs) -> anyhow::Result<Outcome> {
    let report = recto_steps::report::ocr(&outcome);
    if args.json {
        output::json(&report.json)?;
    }
    match &outcome {
        OcrOutcome::DryRun(plan) if !args.json => print_dry_run(plan)?,
        OcrOutcome::AlreadyCompleted { job_id } if !args.json && !args.quiet => {
            output::line(format!(
                "ocr job {job_id} is already completed; nothing to do"
            ))?;
        }
        OcrOutcome::Ran {
            job_id,
            metadata,
            failures,
        } => report_ran(job_id, metadata, failures, args)?,
        _ => {}
    }
    super::ended(report.ending)
}

/// The failures, hints and lines of a run that was recorded.
fn report_ran(
    job_id: &recto_registry::JobId,
    m: &serde_json::Map<String, serde_json::Value>,
    failures: &std::collections::BTreeMap<String, String>,
    args: &OcrArgs,
) -> anyhow::Result<()> {
    for (key, why) in failures {
        tracing::error!("{key}: {why}");
    }
    if failures.values().any(|why| why.contains("encrypted")) {
        tracing::error!(
            "hint: give the password of encrypted PDFs with --password (or RECTO_PDF_PASSWORD), then `recto ocr --resume {job_id}`"
        );
    }
    if !args.json && !args.quiet {
        output::line(format!(
            "ocr job {}: {} ({} failed), {} ({} text layer, {} OCR, {} failed) in {} s",
            job_id,
            output::count_of(&m["citekeys"]["total"], "citekey"),
            m["citekeys"]["failed"],
            output::count_of(&m["pages"]["total"], "page"),
            m["pages"]["text_layer"],
            m["pages"]["ocr"],
            m["pages"]["failed"],
            m["duration_seconds"],
        ))?;
        if let Some(n) = m["pages"]["no_text"].as_u64().filter(|n| *n > 0) {
            output::line(format!(
                "  {n} pages have no text layer and were not OCRed (--mode text-layer-only)"
            ))?;
        }
        print_where(m)?;
    }
    Ok(())
}

/// The citekeys the flags name, and how to read them.
fn selection(args: &OcrArgs) -> anyhow::Result<(Vec<String>, Selection)> {
    if let Some(s) = Selection::flagged(args.pending, args.failed, args.all) {
        return Ok((Vec::new(), s));
    }
    if let Some(bib) = &args.bib {
        let keys = recto_steps::sources::from_bib(bib, &Default::default())?
            .into_iter()
            .map(|i| i.citekey)
            .collect();
        return Ok((keys, Selection::GivenSkippingUnknown));
    }
    if let Some(from) = &args.citekeys_from {
        let text = if from.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(from).map_err(|e| {
                super::CliError::Usage(format!("--citekeys-from {}: {e}", from.display()))
            })?
        };
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        return Ok((keys, Selection::Given));
    }
    Ok((args.citekeys.clone(), Selection::Given))
}

fn print_dry_run(plan: &DryRun) -> anyhow::Result<()> {
    for c in &plan.citekeys {
        let what = match (c.pages, c.text_layer) {
            (Some(p), Some(t)) => format!("{p} pages ({t} text layer, {} to OCR)", p - t),
            _ => c.note.clone().unwrap_or_default(),
        };
        output::line(format!(
            "{}: from upload {}: {what}",
            c.citekey, c.source_job_id
        ))?;
    }
    output::line(format!(
        "dry run: {}, {} ({} text layer, {} to OCR), about {:.0} s on {} ({:.1} CPU-s an OCRed page, from {}); nothing recorded",
        output::count(plan.citekeys.len(), "citekey"),
        output::count(plan.pages, "page"),
        plan.pages_text_layer,
        plan.pages_ocr,
        plan.estimated_seconds,
        output::count(plan.workers, "worker"),
        plan.seconds_per_ocr_page,
        plan.calibrated_from
    ))
}

/// Where each citekey's result is, with its mean confidence (at most 20
/// lines; `recto status` has the rest).
fn print_where(m: &serde_json::Map<String, serde_json::Value>) -> anyhow::Result<()> {
    let Some(per) = m.get("per_citekey").and_then(|p| p.as_object()) else {
        return Ok(());
    };
    let failures = m.get("failures").and_then(|f| f.as_object());
    for (k, r) in per.iter().take(20) {
        // A failed citekey's line is the error above, not `0 pages -> dir`.
        if failures.is_some_and(|f| f.contains_key(k)) {
            continue;
        }
        let conf = r["mean_confidence"]
            .as_f64()
            .map(|c| format!(", mean confidence {c:.1}"))
            .unwrap_or_default();
        output::line(format!(
            "  {k}: {}{conf} -> {}",
            output::count_of(&r["pages"], "page"),
            r["dir"].as_str().unwrap_or("")
        ))?;
    }
    if per.len() > 20 {
        output::line(format!("  ... and {} more (recto status)", per.len() - 20))?;
    }
    Ok(())
}

/// The OCR request the flags describe.
pub fn request(args: &OcrArgs, config: &Config) -> anyhow::Result<OcrRequest> {
    let (citekeys, selection) = selection(args)?;
    let mut default_languages = None;
    let mut citekey_languages = std::collections::BTreeMap::new();
    for l in &args.languages {
        match l.split_once('=') {
            Some((k, langs)) => {
                citekey_languages.insert(k.to_owned(), langs.to_owned());
            }
            None if default_languages.is_none() => default_languages = Some(l.clone()),
            None => anyhow::bail!(super::CliError::Usage(format!(
                "--lang {l}: the languages for all citekeys are already {}; join languages with + (eng+deu)",
                default_languages.as_deref().unwrap_or_default()
            ))),
        }
    }
    Ok(OcrRequest {
        citekeys,
        selection,
        dry_run: args.dry_run,
        source_job_id: args.source_job_id.clone(),
        output: args.output.clone(),
        resume: args.resume.clone(),
        password: args.password.clone(),
        options: OcrOptions {
            languages: default_languages,
            citekey_languages,
            dpi: args.dpi,
            image_dpi: args.image_dpi,
            mode: args.mode.map(|m| match m {
                OcrMode::Auto => Mode::Auto,
                OcrMode::ForceOcr => Mode::ForceOcr,
                OcrMode::TextLayerOnly => Mode::TextLayerOnly,
            }),
            page_timeout: args.page_timeout.map(Duration::from_secs),
            detect_rotation: args.no_rotate.then_some(false),
            native_resolution: args.no_native_resolution.then_some(false),
            deskew: args.no_deskew.then_some(false),
            detect_fraktur: args.no_fraktur.then_some(false),
            retry_low_confidence: args.no_retry.then_some(false),
            thresholding: args.thresholding.map(|t| match t {
                crate::cli::ThresholdingArg::Auto => recto_ocr::Thresholding::Auto,
                crate::cli::ThresholdingArg::Otsu => recto_ocr::Thresholding::Otsu,
                crate::cli::ThresholdingArg::LeptonicaOtsu => {
                    recto_ocr::Thresholding::LeptonicaOtsu
                }
                crate::cli::ThresholdingArg::Sauvola => recto_ocr::Thresholding::Sauvola,
            }),
            max_megapixels: args.max_megapixels,
        },
        workers: args.workers,
        store: config.store(&args.store),
        cache_dir: config.data_dir.join("cache").join("sources"),
    })
}

/// Run one shard of a sharded job.
fn run_shard(args: &OcrArgs, shard: &str, config: &Config) -> anyhow::Result<Outcome> {
    let (i, n) = crate::cli::parse_shard(shard)?;
    let registry = config.registry();
    let job = recto_registry::JobId::parse(args.job_id.as_deref().unwrap_or_default())?;
    let req = recto_steps::ocr::shard::ShardRequest {
        workers: args.workers,
        password: args.password.clone(),
        store: config.store(&args.store),
        cache_dir: config.data_dir.join("cache").join("sources"),
    };
    let progress = CliProgress::new(args.quiet || args.json, "pages");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(recto_steps::ocr::shard::run_shard(
        &registry, &job, i, n, &req, &progress,
    ))?;
    let last = out.record.runs.last();
    if args.json {
        output::json(&serde_json::json!({
            "job_id": job.as_str(),
            "shard": i,
            "of": n,
            "status": out.record.status,
            "run": last,
            "per_citekey": out.record.per_citekey,
            "finalized": out.finalized.as_ref().map(|o| match o.as_ref() {
                OcrOutcome::Ran { metadata, .. } => metadata["status"].clone(),
                _ => "completed".into(),
            }),
        }))?;
    } else if !args.quiet {
        if let Some(r) = last {
            output::line(format!(
                "ocr job {job} shard {i}/{n}: {} pages done, {} already done, {} failed in {} s",
                r.done, r.resumed, r.failed, r.seconds
            ))?;
        } else {
            output::line(format!("ocr job {job} is already completed"))?;
        }
        for (k, d) in &out.record.per_citekey {
            if let Some(e) = &d.error {
                output::line(format!("  {k}: {e}"))?;
            }
        }
        if let Some(OcrOutcome::Ran { metadata, .. }) = out.finalized.as_deref() {
            output::line(format!(
                "ocr job {job}: every shard ended; merged: {}",
                metadata["status"].as_str().unwrap_or("?")
            ))?;
        }
    }
    for (k, d) in &out.record.per_citekey {
        if let Some(e) = &d.error {
            tracing::error!("{k}: shard {i}: {e}");
        }
    }
    Ok(if out.record.status == "completed" {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

/// Print a sharded job's plan.
pub fn print_plan(
    job: &recto_registry::JobId,
    plan: &recto_steps::ocr::shard::ShardPlan,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    if json {
        return output::json(&serde_json::json!({
            "job_id": job.as_str(),
            "shards": plan.shards,
            "plan": plan,
        }));
    }
    if quiet {
        return output::line(job.as_str());
    }
    output::line(format!(
        "ocr job {job}: planned in {} shards ({} citekeys)",
        plan.shards,
        plan.documents.len()
    ))?;
    for a in &plan.assignments {
        output::line(format!(
            "  shard {}: {} pages in {} slices, about {:.0} s",
            a.shard,
            a.pages,
            a.slices.len(),
            a.estimated_seconds
        ))?;
    }
    output::line(format!(
        "run each: recto ocr --job-id {job} --shard I/{} (I = 0..{}); the last one merges",
        plan.shards,
        plan.shards.saturating_sub(1)
    ))
}
