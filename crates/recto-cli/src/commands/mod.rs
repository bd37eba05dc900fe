//! One module per command group; each returns the process's exit status.

pub mod export;
pub mod jobs;
pub mod ocr;
pub mod registry;
pub mod search;
pub mod segment;
pub mod serve;
pub mod slurm;
pub mod status;
pub mod step;
pub mod sync;
pub mod text;
pub mod toc;
pub mod upload;

/// The one tokio runtime builder of the commands that talk to stores.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Finished, but some items failed (exit code 3).
    Partial,
}

/// Errors the CLI finds itself (no library type describes them), with the
/// exit code each maps to.
#[derive(Debug)]
pub enum CliError {
    /// Something asked for does not exist (exit code 4).
    NotFound(String),
    /// What the user gave is malformed, e.g. metadata that is not JSON
    /// (exit code 2).
    Usage(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::NotFound(m) | CliError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// Report a per-citekey step's run (TOC, segmentation, export): each
/// failure with its hint, then the result as JSON, or a line per citekey
/// (`line`) and a summary; the outcome is success, partial (some citekeys
/// failed) or an error (all failed).
pub fn report_per_citekey(
    step: &str,
    out: &recto_steps::harness::StepOutcome,
    json: bool,
    quiet: bool,
    hint: impl Fn(&str, &str) -> Option<String>,
    line: impl Fn(&str, &serde_json::Map<String, serde_json::Value>) -> String,
) -> anyhow::Result<Outcome> {
    use serde_json::Value;
    for (key, why) in &out.failures {
        tracing::error!("{key}: {why}");
        if let Some(h) = hint(key, why) {
            tracing::error!("hint: {h}");
        }
    }
    let per = out
        .metadata
        .get("per_citekey")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if json {
        crate::output::json(&serde_json::json!({
            "job_id": out.job_id.as_str(),
            "status": out.metadata.get("status"),
            "source_job_id": out.metadata.get("source_job_id"),
            "per_citekey": per,
            "failures": out.failures,
        }))?;
    } else if !quiet {
        for (key, c) in &per {
            if let Some(c) = c.as_object() {
                crate::output::line(line(key, c))?;
            }
        }
        crate::output::line(format!(
            "{step} job {}: {} citekeys, {} failed",
            out.job_id,
            per.len() + out.failures.len(),
            out.failures.len()
        ))?;
    }
    if out.failures.is_empty() {
        Ok(Outcome::Success)
    } else if per.is_empty() {
        anyhow::bail!(
            "{step} job {} failed: no citekey could be read ({})",
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
