//! `recto toc` (the spec's `extract_toc.py`): the TOC step.

use recto_steps::toc::{TocRequest, TocSelection, run_toc};
use serde_json::Value;

use super::Outcome;
use crate::cli::TocArgs;
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: TocArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let selection = if args.pending {
        TocSelection::Pending
    } else if args.all {
        TocSelection::All
    } else {
        TocSelection::Given(args.citekeys.clone())
    };
    let req = TocRequest {
        selection,
        ocr_job: args.ocr_job_id.clone(),
        cache_dir: config.data_dir.join("cache").join("sources"),
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(run_toc(&registry, req, &progress))?;
    for (key, why) in &out.failures {
        tracing::error!("{key}: {why}");
        if why.contains("has no ocr result") {
            tracing::error!("hint: run `recto ocr --citekeys {key}` first");
        }
    }
    let per = out
        .metadata
        .get("per_citekey")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if args.json {
        output::json(&serde_json::json!({
            "job_id": out.job_id.as_str(),
            "status": out.metadata.get("status"),
            "source_job_id": out.metadata.get("source_job_id"),
            "per_citekey": per,
            "failures": out.failures,
        }))?;
    } else if !args.quiet {
        for (key, c) in &per {
            let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
            let toc_pages = get("toc_pages");
            let printed = match toc_pages.as_array() {
                Some(p) if !p.is_empty() => format!(
                    ", contents on page{} {}",
                    if p.len() > 1 { "s" } else { "" },
                    p.iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            output::line(format!(
                "{key}: {} entries from {}{printed}; labels {} ({:.0}% of {} pages); {} verified, {} corrected",
                get("entries"),
                get("source").as_str().unwrap_or("?"),
                get("label_source").as_str().unwrap_or("?"),
                get("label_coverage").as_f64().unwrap_or(0.0) * 100.0,
                get("pages"),
                get("verified"),
                get("corrected"),
            ))?;
        }
        output::line(format!(
            "toc job {}: {} citekeys, {} failed",
            out.job_id,
            per.len() + out.failures.len(),
            out.failures.len()
        ))?;
    }
    if out.failures.is_empty() {
        Ok(Outcome::Success)
    } else if per.is_empty() {
        anyhow::bail!(
            "toc job {} failed: no citekey could be read ({})",
            out.job_id,
            out.failures
                .iter()
                .map(|(k, w)| format!("{k}: {w}"))
                .collect::<Vec<_>>()
                .join("; ")
        )
    } else {
        Ok(Outcome::Partial)
    }
}
