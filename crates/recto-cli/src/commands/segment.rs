//! `recto segment`: the segmentation step.

use recto_steps::segment::{SegmentRequest, SegmentSelection, run_segment};
use serde_json::Value;

use super::Outcome;
use crate::cli::SegmentArgs;
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: SegmentArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let selection = if args.pending {
        SegmentSelection::Pending
    } else if args.all {
        SegmentSelection::All
    } else {
        SegmentSelection::Given(args.citekeys.clone())
    };
    let req = SegmentRequest {
        selection,
        toc_job: args.toc_job_id.clone(),
        dictionaries: args.dictionaries.clone(),
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(run_segment(&registry, req, &progress))?;
    for (key, why) in &out.failures {
        tracing::error!("{key}: {why}");
        if why.contains("has no toc result") {
            tracing::error!("hint: run `recto toc --citekeys {key}` first");
        } else if why.contains("has no ocr result") {
            tracing::error!(
                "hint: run `recto ocr --citekeys {key}`, then `recto toc --citekeys {key}`"
            );
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
            output::line(format!(
                "{key}: {} units, {} footnotes, {} words joined at line ends ({} hyphens kept){}",
                get("units"),
                get("footnotes"),
                get("dehyphenated"),
                get("hyphens_kept"),
                get("dictionary")
                    .as_str()
                    .map(|d| format!(", dictionary {d}"))
                    .unwrap_or_default(),
            ))?;
        }
        output::line(format!(
            "segmentation job {}: {} citekeys, {} failed",
            out.job_id,
            per.len() + out.failures.len(),
            out.failures.len()
        ))?;
    }
    if out.failures.is_empty() {
        Ok(Outcome::Success)
    } else if per.is_empty() {
        anyhow::bail!(
            "segmentation job {} failed: no citekey could be read ({})",
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
