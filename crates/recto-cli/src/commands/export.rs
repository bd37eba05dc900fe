//! `recto export`: the export step.

use recto_steps::export::{ExportRequest, ExportSelection, Format, run_export};
use serde_json::Value;

use super::Outcome;
use crate::cli::ExportArgs;
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: ExportArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let formats = args
        .format
        .iter()
        .map(|f| Format::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let selection = if args.pending {
        ExportSelection::Pending
    } else if args.all {
        ExportSelection::All
    } else {
        ExportSelection::Given(args.citekeys.clone())
    };
    let req = ExportRequest {
        selection,
        formats,
        ocr_job: args.ocr_job_id.clone(),
        output: args.out.clone(),
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let out = run_export(&registry, req, &progress)?;
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
            let dir = c.get("dir").and_then(Value::as_str).unwrap_or("?");
            let files: Vec<String> = c
                .get("files")
                .and_then(Value::as_object)
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default();
            output::line(format!("{key}: {} in {dir}", files.join(", ")))?;
        }
        output::line(format!(
            "export job {}: {} citekeys, {} failed",
            out.job_id,
            per.len() + out.failures.len(),
            out.failures.len()
        ))?;
    }
    if out.failures.is_empty() {
        Ok(Outcome::Success)
    } else if per.is_empty() {
        anyhow::bail!(
            "export job {} failed: no citekey could be exported",
            out.job_id
        )
    } else {
        Ok(Outcome::Partial)
    }
}
