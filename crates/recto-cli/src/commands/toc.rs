//! `recto toc` (the spec's `extract_toc.py`): the TOC step.

use recto_steps::toc::{TocRequest, run_toc};
use serde_json::Value;

use super::Outcome;
use crate::cli::TocArgs;
use crate::config::Config;
use crate::progress::CliProgress;

pub fn run(args: TocArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let selection = args.which.selection();
    let req = TocRequest {
        selection,
        ocr_job: args.ocr_job_id.clone(),
        cache_dir: config.data_dir.join("cache").join("sources"),
        sharding: args.which.sharding(&args.sharding)?,
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(run_toc(&registry, req, &progress))?;
    super::report_per_citekey(
        "toc",
        &out,
        args.json,
        args.quiet,
        |key, why| {
            why.contains("has no ocr result")
                .then(|| format!("run `recto ocr --citekeys {key}` first"))
        },
        |key, c| {
            let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
            let printed = match get("toc_pages").as_array() {
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
            format!(
                "{key}: {} entries from {}{printed}; labels {} ({:.0}% of {} pages); {} verified, {} corrected",
                get("entries"),
                get("source").as_str().unwrap_or("?"),
                get("label_source").as_str().unwrap_or("?"),
                get("label_coverage").as_f64().unwrap_or(0.0) * 100.0,
                get("pages"),
                get("verified"),
                get("corrected"),
            )
        },
    )
}
