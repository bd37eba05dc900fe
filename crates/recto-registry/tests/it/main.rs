//! Integration tests of the registry API, on real data directories.

mod api;
mod concurrency;
mod hostile;
mod rebuild;

use recto_registry::{JobId, Registry, StepName};
use serde_json::{Value, json};

pub fn job(s: &str) -> JobId {
    JobId::parse(s).unwrap()
}

pub fn step(s: &str) -> StepName {
    StepName::parse(s).unwrap()
}

/// The spec's example pipeline: a source upload, its OCR job and the sync of
/// that job (same id as the OCR job).
pub fn spec_pipeline(reg: &Registry) {
    reg.save_source_metadata(
        &job("2026-01-01_20-48-14"),
        json!({
            "status": "completed",
            "timestamp": "2026-01-01T20:48:14+00:00",
            "bucket": "sources",
            "endpoint_url": "https://s3.eu-central-003.backblazeb2.com",
            "citekeys": {"total": 2, "uploaded": 2, "skipped": 0, "list": ["test_v04", "smith2020"]},
            "checksums": {"test_v04": "aa", "smith2020": "bb"},
        }),
    )
    .unwrap();
    reg.save_step_metadata(
        &step("ocr"),
        &job("2026-01-01_21-45-14"),
        json!({
            "status": "completed",
            "timestamp": "2026-01-01T21:50:00+00:00",
            "source_job_id": "2026-01-01_20-48-14",
            "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]},
            "pages": {"total": 12},
            "config": {"dpi": 300},
        }),
    )
    .unwrap();
    reg.save_step_metadata(
        &step("sync_ocr"),
        &job("2026-01-01_21-45-14"),
        json!({
            "status": "completed",
            "timestamp": "2026-01-01T21:55:00+00:00",
            "source_job_id": "2026-01-01_20-48-14",
            "files_uploaded": 25,
        }),
    )
    .unwrap();
}

pub fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
