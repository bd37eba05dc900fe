//! What a step run tells a program: the one JSON shape of each step's
//! outcome, which the CLI prints for `--json` and the Python API returns as
//! a dict, and how the run ended (all done, some citekeys failed, or none
//! could be read). Built here, beside the steps, so the two callers cannot
//! drift apart.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::driver::{self, CitekeyStep};
use crate::ocr::OcrOutcome;
use crate::search::IndexOutcome;
use crate::sync::SyncOutcome;
use crate::upload::{FileOutcome, UploadReport};

/// How a run ended, for an exit code or a Python exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Everything asked for was done (or there was nothing to do).
    Done,
    /// The run reached its end with some citekeys or files failed.
    Partial,
    /// No citekey could be read: the whole run failed; the message says
    /// which and why.
    Failed(String),
}

/// A step run as a program sees it.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub json: Value,
    pub ending: Ending,
}

fn partial_if(failed: bool) -> Ending {
    if failed {
        Ending::Partial
    } else {
        Ending::Done
    }
}

/// How a run of `step` that recorded `done` citekeys ended with these
/// `failures` (citekey, why): done, partial, or failed when none was read
/// (the record then says `failed` too).
fn ending<'a>(
    step: &str,
    job: &recto_registry::JobId,
    done: bool,
    failures: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
) -> Ending {
    if failures.len() == 0 {
        Ending::Done
    } else if done {
        Ending::Partial
    } else {
        let list: Vec<String> = failures.map(|(k, f)| format!("{k}: {f}")).collect();
        Ending::Failed(format!(
            "{step} job {job} failed: no citekey could be read ({})",
            list.join("; ")
        ))
    }
}

/// A step on the driver (toc, segmentation, export, ...).
pub fn citekey_step<S: CitekeyStep>(out: &driver::Outcome<S>) -> RunReport {
    let per = &out.recorded.per_citekey;
    let failures: BTreeMap<&String, &String> =
        out.failures.iter().map(|(k, f)| (k, &f.message)).collect();
    let ending = ending(
        S::NAME,
        &out.job_id,
        !per.is_empty(),
        out.failures
            .iter()
            .map(|(k, f)| (k.as_str(), f.message.as_str())),
    );
    RunReport {
        json: json!({
            "job_id": out.job_id.as_str(),
            "status": out.metadata.get("status"),
            "source_job_id": out.metadata.get("source_job_id"),
            "per_citekey": per,
            "failures": failures,
        }),
        ending,
    }
}

/// An OCR run, a resume of a completed job, or a dry run.
pub fn ocr(outcome: &OcrOutcome) -> RunReport {
    match outcome {
        OcrOutcome::DryRun(plan) => RunReport {
            json: serde_json::to_value(plan).unwrap_or(Value::Null),
            ending: Ending::Done,
        },
        OcrOutcome::AlreadyCompleted { job_id } => RunReport {
            json: json!({
                "job_id": job_id.as_str(),
                "status": recto_registry::Status::Completed.as_str(),
                "already_completed": true,
            }),
            ending: Ending::Done,
        },
        OcrOutcome::Ran {
            job_id,
            metadata: m,
            failures,
        } => RunReport {
            json: json!({
                "job_id": job_id.as_str(),
                "status": m.get("status"),
                "citekeys": m.get("citekeys"),
                "pages": m.get("pages"),
                "failures": m.get("failures"),
                "per_citekey": m.get("per_citekey"),
                "duration_seconds": m.get("duration_seconds"),
            }),
            ending: ocr_ending(job_id, m, failures),
        },
    }
}

/// An OCR run that read no citekey failed as a whole (exit 1, like the
/// record's `failed`); one that read some is partial.
fn ocr_ending(
    job_id: &recto_registry::JobId,
    m: &serde_json::Map<String, Value>,
    failures: &BTreeMap<String, String>,
) -> Ending {
    let successful = m
        .get("citekeys")
        .and_then(|c| c.get("successful"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    ending(
        "ocr",
        job_id,
        successful > 0,
        failures.iter().map(|(k, f)| (k.as_str(), f.as_str())),
    )
}

/// `--pending` with nothing pending: not an error, since scripts loop.
pub fn nothing_to_do(what: &str) -> RunReport {
    RunReport {
        json: json!({"job_id": null, "nothing_to_do": what}),
        ending: Ending::Done,
    }
}

/// A sync of a step's job to the store.
pub fn sync(out: &SyncOutcome, step: &str, dry_run: bool) -> RunReport {
    let clean = out.failures.is_empty() && out.mismatches.is_empty();
    let ending = if dry_run || clean {
        Ending::Done
    } else if out.uploaded.is_empty() && !out.failures.is_empty() {
        Ending::Failed(format!(
            "sync of job {} failed: {} files could not be uploaded",
            out.job_id,
            out.failures.len()
        ))
    } else {
        Ending::Partial
    };
    RunReport {
        json: json!({
            "job_id": out.job_id.as_str(),
            "step": step,
            "status": out.metadata.as_ref().and_then(|m| m.get("status")),
            "dry_run": dry_run,
            "target": out.target,
            "uploaded": out.uploaded.len(),
            "skipped": out.skipped,
            "failed": out.failures.len(),
            "images_skipped": out.images_skipped,
            "verified": !dry_run && clean,
        }),
        ending,
    }
}

/// An upload (or its dry run) to the store at `store_url`.
pub fn upload(report: &UploadReport, store_url: &str, dry_run: bool) -> RunReport {
    let failed = report.count(|o| matches!(o, FileOutcome::Failed(_)));
    let failures: BTreeMap<&str, String> = report
        .failed()
        .map(|(k, why)| (k, why.to_string()))
        .collect();
    RunReport {
        json: json!({
            "job_id": report.job_id.as_ref().map(|j| j.as_str()),
            "status": report.metadata.as_ref().and_then(|m| m.get("status")),
            "store": store_url,
            "dry_run": dry_run,
            "uploaded": report.count(|o| *o == FileOutcome::Uploaded),
            "would_upload": report.count(|o| *o == FileOutcome::WouldUpload),
            "skipped": report.count(|o| *o == FileOutcome::Skipped),
            "failed": failed,
            "no_pdf": report.no_pdf(),
            "failures": failures,
        }),
        ending: partial_if(failed > 0),
    }
}

/// A pass of the full-text index.
pub fn index(out: &IndexOutcome) -> RunReport {
    RunReport {
        json: serde_json::to_value(out).unwrap_or(Value::Null),
        ending: partial_if(!out.failures.is_empty()),
    }
}
