//! `recto export`: the export step.

use recto_steps::export::{ExportRequest, Format, run_export};
use serde_json::Value;

use super::Outcome;
use crate::cli::ExportArgs;
use crate::config::Config;
use crate::progress::CliProgress;

pub fn run(args: ExportArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let formats = args
        .format
        .iter()
        .map(|f| Format::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let selection = args.which.selection();
    let req = ExportRequest {
        selection,
        formats,
        ocr_job: args.ocr_job_id.clone(),
        output: args.out.clone(),
        cache_dir: config.data_dir.join("cache").join("sources"),
        sharding: args.which.sharding(&args.sharding)?,
        password: args.password.clone(),
        decrypt: args.decrypt,
        bookmarks: !args.no_bookmarks,
        rotate_pages: !args.no_rotate_pages,
        deskew_pages: !args.no_deskew_pages,
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let rt = super::runtime()?;
    let out = rt.block_on(run_export(&registry, req, &progress))?;
    super::report_per_citekey(
        "export",
        &out,
        args.json,
        args.quiet,
        |key, why| {
            why.contains("has no ocr result")
                .then(|| format!("run `recto ocr --citekeys {key}` first"))
        },
        |key, c| {
            let dir = c.get("dir").and_then(Value::as_str).unwrap_or("?");
            let files: Vec<String> = c
                .get("files")
                .and_then(Value::as_object)
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default();
            format!("{key}: {} in {dir}", files.join(", "))
        },
    )
}
