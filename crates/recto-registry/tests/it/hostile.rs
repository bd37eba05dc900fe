//! The registry under hostile conditions: leftovers of killed writers,
//! symlinked folders, bursts of job ids, two runs of one job.

use recto_registry::{Error, MAX_IDS_AHEAD, Registry};
use recto_test_support::TestContext;
use serde_json::json;

use crate::{job, spec_pipeline, step};

#[test]
fn temp_files_of_a_killed_rebuild_are_removed() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    // What a rebuild killed between writing its temp files and renaming
    // them leaves behind, with its marker.
    let registry_dir = ctx.data_dir().join("analytics/job_registry");
    for i in 0..50 {
        std::fs::write(registry_dir.join(format!(".tmp-{i}.tmp")), b"{").unwrap();
    }
    std::fs::write(
        ctx.data_dir().join("analytics/ocr/job_metadata/.tmp-x.tmp"),
        b"{",
    )
    .unwrap();
    std::fs::write(ctx.data_dir().join(".recto/index.rebuild-123"), b"x").unwrap();
    std::fs::write(ctx.data_dir().join(".recto/dirty"), b"x").unwrap();
    // Any next use repairs, and the repair cleans up.
    let reg = Registry::open(ctx.data_dir());
    assert_eq!(reg.list_all_jobs(None).unwrap().len(), 2);
    let leftovers: Vec<String> = walk(&ctx.data_dir())
        .into_iter()
        .filter(|n| n.contains(".tmp-") || n.contains("index.rebuild-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!ctx.data_dir().join(".recto/dirty").exists());
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn a_symlinked_metadata_folder_is_not_followed() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    // Metadata planted outside the data directory, linked in.
    let outside = ctx.root().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("2026-02-02_00-00-00.json"),
        json!({"status": "completed", "citekeys": {"list": ["planted"]}}).to_string(),
    )
    .unwrap();
    std::fs::create_dir_all(ctx.data_dir().join("analytics/evil")).unwrap();
    std::os::unix::fs::symlink(&outside, ctx.data_dir().join("analytics/evil/job_metadata"))
        .unwrap();
    let report = reg.rebuild_central_registry().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.path.ends_with("evil/job_metadata") && p.reason.contains("symlink")),
        "{:?}",
        report.problems
    );
    assert!(reg.find_jobs_for_citekey("planted").unwrap().is_empty());
    let err = reg
        .get_step_metadata(&step("evil"), &job("2026-02-02_00-00-00"))
        .unwrap_err();
    assert!(matches!(err, Error::Symlink { .. }), "{err}");
    let err = reg
        .save_step_metadata(
            &step("evil"),
            &job("2026-02-03_00-00-00"),
            json!({"status": "completed"}),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Symlink { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        1,
        "nothing written outside"
    );
}

#[test]
fn a_burst_of_job_ids_stays_near_the_clock() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let mut ids = Vec::new();
    for _ in 0..12 {
        let id = reg.new_job_id().unwrap();
        let now = chrono::Local::now().naive_local();
        let ahead = (id.datetime() - now).num_seconds();
        assert!(
            ahead <= MAX_IDS_AHEAD,
            "{id} is {ahead} s ahead of the clock"
        );
        ids.push(id);
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "unique and increasing");
}

#[test]
fn one_job_step_is_held_by_one_process_at_a_time() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let j = job("2026-01-01_21-45-14");
    let held = reg.lock_job("ocr", &j).unwrap();
    let err = reg.lock_job("ocr", &j).unwrap_err();
    assert!(
        matches!(&err, Error::JobBusy { holder, .. } if holder.contains(&std::process::id().to_string())),
        "{err}"
    );
    // Another step of the job, or the same step of another job, is free.
    reg.lock_job("sync_ocr", &j).unwrap();
    reg.lock_job("ocr", &job("2026-01-01_21-45-15")).unwrap();
    drop(held);
    reg.lock_job("ocr", &j).unwrap();
}

#[test]
fn source_metadata_is_found_by_its_user_names() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    for name in ["source", "upload"] {
        let (j, m) = reg.metadata_by_name(name, "latest").unwrap();
        assert_eq!(j, job("2026-01-01_20-48-14"));
        assert_eq!(m["bucket"], "sources");
    }
    let (j, _) = reg.metadata_by_name("ocr", "latest").unwrap();
    assert_eq!(j, job("2026-01-01_21-45-14"));
    assert!(
        reg.metadata_by_name("toc", "latest")
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        reg.metadata_by_name("../x", "latest")
            .unwrap_err()
            .is_invalid_input()
    );
}
