//! `recto segment`: the segmentation step.

use recto_steps::segment::{SegmentRequest, run_segment};
use serde_json::Value;

use super::Outcome;
use crate::cli::SegmentArgs;
use crate::config::Config;
use crate::progress::CliProgress;

pub fn run(args: SegmentArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let selection = args.which.selection();
    let req = SegmentRequest {
        selection,
        toc_job: args.toc_job_id.clone(),
        dictionaries: args.dictionaries.clone(),
        sharding: args.which.sharding(&args.sharding)?,
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(run_segment(&registry, req, &progress))?;
    super::report_per_citekey(
        "segmentation",
        &out,
        args.json,
        args.quiet,
        |key, why| {
            if why.contains("has no toc result") {
                Some(format!("run `recto toc --citekeys {key}` first"))
            } else if why.contains("has no ocr result") {
                Some(format!(
                    "run `recto ocr --citekeys {key}`, then `recto toc --citekeys {key}`"
                ))
            } else {
                None
            }
        },
        |key, c| {
            let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
            format!(
                "{key}: {} units, {} footnotes, {} words joined at line ends ({} hyphens kept){}",
                get("units"),
                get("footnotes"),
                get("dehyphenated"),
                get("hyphens_kept"),
                get("dictionary")
                    .as_str()
                    .map(|d| format!(", dictionary {d}"))
                    .unwrap_or_default(),
            )
        },
    )
}
