//! What past OCR jobs cost, from their records: CPU time (duration x
//! workers) and pages OCRed. The dry run calibrates its estimate with it,
//! and `status --summary` sums it.

use recto_registry::{Registry, Status, StepName};
use serde_json::Value;

/// One OCR job's cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobCost {
    /// Duration x workers, in seconds.
    pub cpu_seconds: f64,
    /// Pages read by Tesseract (not from a text layer).
    pub ocr_pages: f64,
    pub completed: bool,
}

/// Every OCR job's cost that its record says, newest first (a record
/// without a duration or worker count is left out).
pub fn job_costs(registry: &Registry) -> Vec<JobCost> {
    let (Ok(step), Ok(mut jobs)) = (StepName::parse("ocr"), registry.list_all_jobs(Some("ocr")))
    else {
        return Vec::new();
    };
    jobs.reverse();
    jobs.iter()
        .filter_map(|job| {
            let m = registry.get_step_metadata(&step, job).ok()?;
            let duration = m.get("duration_seconds")?.as_f64()?;
            let workers = m.get("config")?.get("workers")?.as_f64()?;
            Some(JobCost {
                cpu_seconds: duration * workers,
                ocr_pages: m
                    .get("pages")
                    .and_then(|p| p.get("ocr"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                completed: m.get("status").and_then(Value::as_str)
                    == Some(Status::Completed.as_str()),
            })
        })
        .collect()
}
