//! Rebuilding registries from metadata, and surviving damage.

use std::fs;

use recto_registry::Registry;
use recto_test_support::TestContext;
use serde_json::json;

use crate::{job, read_json, spec_pipeline, step};

fn registry_files(ctx: &TestContext) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(ctx.data_dir().join("analytics/job_registry"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn deleting_job_registry_and_rebuilding_gives_the_same_files() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    reg.save_step_metadata(
        &step("toc"),
        &job("2026-01-01_22-30-00"),
        json!({"status": "running", "source_job_id": "2026-01-01_21-45-14"}),
    )
    .unwrap();
    let before = registry_files(&ctx);
    assert_eq!(before.len(), 4, "3 registries + latest.json");

    fs::remove_dir_all(ctx.data_dir().join("analytics/job_registry")).unwrap();
    fs::remove_dir_all(ctx.data_dir().join(".recto")).unwrap();
    let report = Registry::open(ctx.data_dir())
        .rebuild_central_registry()
        .unwrap();
    assert_eq!(report.jobs, 3);
    assert_eq!(report.records, 4);
    assert!(report.problems.is_empty());
    assert_eq!(registry_files(&ctx), before);
}

#[test]
fn rebuild_reports_corrupt_files_and_goes_on() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let d = ctx.data_dir().join("analytics/toc/job_metadata");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("2026-01-02_00-00-00.json"), b"{\"status\": \"compl").unwrap();
    fs::write(
        d.join("2026-01-03_00-00-00.json"),
        b"{\"status\": \"done\"}",
    )
    .unwrap();
    fs::write(d.join("not-a-job.json"), b"{}").unwrap();
    fs::write(d.join(".tmp-123.tmp"), b"partial").unwrap();
    let report = reg.rebuild_central_registry().unwrap();
    assert_eq!(report.jobs, 2);
    let reasons: Vec<String> = report
        .problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p.path.file_name().unwrap().to_str().unwrap(),
                p.reason
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with("2026-01-02_00-00-00.json: not a JSON object"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("\"done\""), "{reasons:?}");
    assert!(
        reasons[2].starts_with("not-a-job.json: file name is not a job id"),
        "{reasons:?}"
    );
}

#[test]
fn a_truncated_registry_file_is_derived_again() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let path = ctx
        .data_dir()
        .join("analytics/job_registry/2026-01-01_21-45-14.json");
    let good = fs::read(&path).unwrap();
    fs::write(&path, &good[..good.len() / 2]).unwrap();
    let fresh = Registry::open(ctx.data_dir());
    let r = fresh
        .get_central_registry(&job("2026-01-01_21-45-14"))
        .unwrap();
    assert_eq!(r["pipeline_steps"]["sync_ocr"]["files_uploaded"], 25);
    assert_eq!(fs::read(&path).unwrap(), good, "written back whole");
}

#[test]
fn an_interrupted_save_is_repaired_on_next_use() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    // A writer that died after writing its metadata file but before the
    // index and registries: the metadata is there, the dirty marker too.
    let d = ctx.data_dir().join("analytics/toc/job_metadata");
    fs::create_dir_all(&d).unwrap();
    fs::write(
        d.join("2026-01-02_00-00-00.json"),
        serde_json::to_vec(&json!({"status": "completed", "source_job_id": "2026-01-01_21-45-14", "citekeys": {"list": ["test_v04"]}})).unwrap(),
    )
    .unwrap();
    fs::write(ctx.data_dir().join(".recto/dirty"), b"").unwrap();
    let fresh = Registry::open(ctx.data_dir());
    let steps: Vec<String> = fresh
        .find_jobs_for_citekey("test_v04")
        .unwrap()
        .into_iter()
        .map(|j| j.step)
        .collect();
    assert!(steps.contains(&"toc".to_owned()), "{steps:?}");
    assert!(!ctx.data_dir().join(".recto/dirty").exists());
    let r = read_json(
        &ctx.data_dir()
            .join("analytics/job_registry/2026-01-01_21-45-14.json"),
    );
    assert_eq!(r["pipeline_steps"]["toc"]["status"], "completed");
}

#[test]
fn a_missing_or_damaged_index_is_rebuilt() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    drop(reg);
    fs::write(
        ctx.data_dir().join(".recto/index.sqlite"),
        b"garbage that is not sqlite",
    )
    .unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(ctx.data_dir().join(format!(".recto/index.sqlite{suffix}")));
    }
    let reg = Registry::open(ctx.data_dir());
    assert_eq!(reg.find_jobs_for_citekey("test_v04").unwrap().len(), 3);
    fs::remove_dir_all(ctx.data_dir().join(".recto")).unwrap();
    let reg = Registry::open(ctx.data_dir());
    assert_eq!(reg.list_all_jobs(None).unwrap().len(), 2);
}

#[test]
fn pointer_file_instead_of_symlink_is_read() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let link = ctx.data_dir().join("analytics/job_registry/latest.json");
    fs::remove_file(&link).unwrap();
    fs::write(&link, br#"{"schema_version": 1, "latest": "2026-01-01_21-45-14", "path": "2026-01-01_21-45-14.json"}"#).unwrap();
    // A newer save replaces the pointer; an older one leaves it.
    reg.save_step_metadata(
        &step("ocr"),
        &job("2025-01-01_00-00-00"),
        json!({"status": "completed"}),
    )
    .unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().is_file());
    reg.save_step_metadata(
        &step("ocr"),
        &job("2027-01-01_00-00-00"),
        json!({"status": "completed"}),
    )
    .unwrap();
    assert_eq!(
        fs::read_link(&link).unwrap().to_str(),
        Some("2027-01-01_00-00-00.json")
    );
}
