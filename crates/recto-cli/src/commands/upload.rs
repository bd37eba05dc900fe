//! `recto upload`: put source PDFs into the store and record the upload job.

use recto_steps::sources;
use recto_steps::upload::{FileOutcome, UploadOptions, upload};
use recto_store::Store;

use super::Outcome;
use crate::cli::UploadArgs;
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn run(args: UploadArgs, config: &Config) -> anyhow::Result<Outcome> {
    let inputs = match (&args.bib, &args.from) {
        (Some(bib), _) => sources::from_bib(
            bib,
            &sources::BibPaths {
                base_dir: args.bib_base_dir.clone(),
                rewrites: args.bib_path_map.clone(),
            },
        )?,
        (None, Some(dir)) if !args.citekeys.is_empty() => {
            sources::from_citekeys(dir, &args.citekeys)
        }
        (None, Some(dir)) => sources::from_dir(dir, !args.no_recursive, &[&config.data_dir])?,
        (None, None) => anyhow::bail!(super::CliError::Usage(
            "give --from DIR (a folder of PDFs) or --bib FILE (a BibTeX export)".into()
        )),
    };
    let store_config = config.store_or_default(&args.store);
    let cwd = std::env::current_dir()?;
    let store = Store::open(&store_config, &cwd)?;
    let registry = config.registry();
    let progress = CliProgress::new(args.quiet || args.json, "files");
    let opts = UploadOptions {
        dry_run: args.dry_run,
        concurrency: args.concurrency,
    };
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let report = rt.block_on(upload(&registry, &store, inputs, &opts, &progress))?;

    let mut missing = false;
    for (key, why) in report.failed() {
        tracing::error!("{key}: {why}");
        missing |= matches!(why, recto_steps::upload::FileError::NotFound(_));
    }
    if missing && args.bib.is_some() {
        tracing::error!(
            "hint: a .bib written on another machine names its paths; map them with --bib-path-map FROM=TO"
        );
    }
    if args.dry_run && !args.quiet && !args.json {
        for f in &report.files {
            let what = match &f.outcome {
                FileOutcome::WouldUpload => "upload",
                FileOutcome::Skipped => "skip (already stored)",
                FileOutcome::Failed(why) => &format!("fail: {why}"),
                FileOutcome::Uploaded => "uploaded",
                FileOutcome::NoPdf(why) => &format!("skip (no PDF: {why})"),
            };
            output::line(
                format!("{}: {what} {}", f.citekey, f.key.as_deref().unwrap_or("")).trim_end(),
            )?;
        }
    }
    let summary = recto_steps::report::upload(&report, &store.url(), args.dry_run);
    let uploaded = report.count(|o| *o == FileOutcome::Uploaded);
    let would = report.count(|o| *o == FileOutcome::WouldUpload);
    let skipped = report.count(|o| *o == FileOutcome::Skipped);
    let failed = report.count(|o| matches!(o, FileOutcome::Failed(_)));
    let no_pdf = report.no_pdf();
    for (k, why) in &no_pdf {
        tracing::warn!("{k}: skipped: {why}");
    }
    if args.json {
        output::json(&summary.json)?;
    } else if !args.quiet {
        match &report.job_id {
            Some(job) => output::line(format!(
                "upload job {job} to {}: {uploaded} uploaded, {skipped} skipped, {}{failed} failed",
                store.url(),
                if no_pdf.is_empty() {
                    String::new()
                } else {
                    format!("{} without a PDF, ", no_pdf.len())
                }
            ))?,
            None => output::line(format!(
                "dry run against {}: {would} to upload, {skipped} to skip, {failed} failing",
                store.url()
            ))?,
        }
    }
    super::ended(summary.ending)
}
