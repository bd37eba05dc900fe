//! The spec's API, call by call.

use recto_registry::{Error, Registry};
use recto_test_support::TestContext;
use serde_json::json;

use crate::{job, read_json, spec_pipeline, step};

#[test]
fn step_metadata_lands_at_the_spec_path_with_custom_fields() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let path = ctx
        .data_dir()
        .join("analytics/ocr/job_metadata/2026-01-01_21-45-14.json");
    let on_disk = read_json(&path);
    assert_eq!(on_disk["schema_version"], 1);
    assert_eq!(on_disk["pages"]["total"], 12);
    assert_eq!(on_disk["config"]["dpi"], 300);
    let api = reg
        .get_step_metadata(&step("ocr"), &job("2026-01-01_21-45-14"))
        .unwrap();
    assert_eq!(serde_json::Value::Object(api), on_disk);
    assert!(
        ctx.data_dir()
            .join("sources/job_metadata/2026-01-01_20-48-14.json")
            .is_file()
    );
    assert!(
        ctx.data_dir()
            .join("analytics/sync_ocr/job_metadata/2026-01-01_21-45-14.json")
            .is_file()
    );
}

#[test]
fn central_registry_is_the_complete_trace() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let r = reg
        .get_central_registry(&job("2026-01-01_21-45-14"))
        .unwrap();
    assert_eq!(r["job_id"], "2026-01-01_21-45-14");
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["source"]["job_id"], "2026-01-01_20-48-14");
    assert_eq!(r["source"]["bucket"], "sources");
    assert_eq!(r["source"]["citekeys"]["uploaded"], 2);
    assert_eq!(r["source"]["checksums"]["test_v04"], "aa");
    assert_eq!(
        r["pipeline_steps"]["ocr"]["citekeys"]["list"],
        json!(["test_v04"])
    );
    assert_eq!(
        r["pipeline_steps"]["ocr"]["metadata_path"],
        "analytics/ocr/job_metadata/2026-01-01_21-45-14.json"
    );
    assert_eq!(r["pipeline_steps"]["sync_ocr"]["files_uploaded"], 25);
    let trace: Vec<(&str, &str)> = r["execution_trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["step"].as_str().unwrap(), t["job_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        trace,
        [
            ("source (upload)", "2026-01-01_20-48-14"),
            ("ocr", "2026-01-01_21-45-14"),
            ("sync_ocr", "2026-01-01_21-45-14"),
        ]
    );
    // The file on disk is the same document.
    let file = read_json(
        &ctx.data_dir()
            .join("analytics/job_registry/2026-01-01_21-45-14.json"),
    );
    assert_eq!(file, r);
    // The source job's own registry sees everything downstream of it.
    let s = reg
        .get_central_registry(&job("2026-01-01_20-48-14"))
        .unwrap();
    assert_eq!(s["pipeline_steps"]["ocr"]["job_id"], "2026-01-01_21-45-14");
    assert_eq!(s["pipeline_steps"]["ocr"]["trace_relation"], "downstream");
    assert_eq!(s["execution_trace"].as_array().unwrap().len(), 3);
}

#[test]
fn downstream_step_updates_upstream_registries() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    reg.save_step_metadata(
        &step("toc"),
        &job("2026-01-01_22-30-00"),
        json!({"status": "completed", "source_job_id": "2026-01-01_21-45-14", "custom_metric": 95.2,
               "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]}}),
    )
    .unwrap();
    let ocr_reg = read_json(
        &ctx.data_dir()
            .join("analytics/job_registry/2026-01-01_21-45-14.json"),
    );
    assert_eq!(ocr_reg["pipeline_steps"]["toc"]["custom_metric"], 95.2);
    let src_reg = read_json(
        &ctx.data_dir()
            .join("analytics/job_registry/2026-01-01_20-48-14.json"),
    );
    assert_eq!(
        src_reg["pipeline_steps"]["toc"]["job_id"],
        "2026-01-01_22-30-00"
    );
    let toc_reg = reg
        .get_central_registry(&job("2026-01-01_22-30-00"))
        .unwrap();
    assert_eq!(
        toc_reg["source"]["job_id"], "2026-01-01_20-48-14",
        "source found through the OCR job"
    );
    assert_eq!(
        toc_reg["pipeline_steps"]["ocr"]["trace_relation"],
        "upstream"
    );
    let st = reg
        .get_job_pipeline_status(&job("2026-01-01_22-30-00"))
        .unwrap();
    assert_eq!(st.source_job_id.as_deref(), Some("2026-01-01_20-48-14"));
    assert_eq!(st.steps_completed, ["ocr", "sync_ocr", "toc"]);
    assert!(st.steps_pending.is_empty(), "{:?}", st.steps_pending);
}

#[test]
fn pipeline_status_lists_pending_and_failed() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let st = reg
        .get_job_pipeline_status(&job("2026-01-01_21-45-14"))
        .unwrap();
    assert_eq!(st.steps_completed, ["ocr", "sync_ocr"]);
    assert!(st.steps_pending.is_empty());
    assert!(st.steps_failed.is_empty());
    assert_eq!(st.source_job_id.as_deref(), Some("2026-01-01_20-48-14"));

    reg.save_step_metadata(
        &step("ocr"),
        &job("2026-01-02_10-00-00"),
        json!({"status": "failed"}),
    )
    .unwrap();
    let st = reg
        .get_job_pipeline_status(&job("2026-01-02_10-00-00"))
        .unwrap();
    assert_eq!(st.steps_failed, ["ocr"]);
    assert_eq!(st.steps_pending, ["ocr", "sync_ocr"]);
    assert_eq!(st.source_job_id, None);

    let custom = Registry::open(ctx.data_dir())
        .with_pipeline(recto_registry::parse_pipeline("ocr,sync_ocr,toc").unwrap());
    let st = custom
        .get_job_pipeline_status(&job("2026-01-01_21-45-14"))
        .unwrap();
    assert_eq!(st.steps_pending, ["toc"]);
}

#[test]
fn running_step_of_a_dead_process_is_stale() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let j = job("2026-03-01_08-00-00");
    let saved = reg
        .save_step_metadata(
            &step("ocr"),
            &j,
            json!({"status": "running", "pid": child.id()}),
        )
        .unwrap();
    assert_eq!(saved["host"], recto_registry::hostname());
    assert!(saved.contains_key("started_at"));
    let st = reg.get_job_pipeline_status(&j).unwrap();
    assert_eq!(st.steps_running, ["ocr"]);
    assert!(st.steps_pending.contains(&"ocr".to_owned()));
    child.kill().unwrap();
    child.wait().unwrap();
    let st = reg.get_job_pipeline_status(&j).unwrap();
    assert_eq!(st.steps_stale, ["ocr"]);
    assert!(
        st.steps[0]
            .stale_reason
            .as_ref()
            .unwrap()
            .contains("no longer exists")
    );
    // Completing keeps the start time.
    let done = reg
        .save_step_metadata(&step("ocr"), &j, json!({"status": "completed"}))
        .unwrap();
    assert_eq!(done["started_at"], saved["started_at"]);
}

#[test]
fn find_jobs_for_citekey_matches_the_spec_output() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let lines: Vec<String> = reg
        .find_jobs_for_citekey("test_v04")
        .unwrap()
        .iter()
        .map(|j| format!("{} > {}: {}", j.job_id, j.step, j.status))
        .collect();
    assert_eq!(
        lines,
        [
            "2026-01-01_20-48-14 > source (upload): completed",
            "2026-01-01_21-45-14 > ocr: completed",
            "2026-01-01_21-45-14 > sync_ocr: completed",
        ]
    );
    // smith2020 was uploaded but never OCRed.
    let s: Vec<_> = reg
        .find_jobs_for_citekey("smith2020")
        .unwrap()
        .into_iter()
        .map(|j| j.step)
        .collect();
    assert_eq!(s, ["source (upload)"]);
    assert!(reg.find_jobs_for_citekey("nobody").unwrap().is_empty());

    // A job that failed on some citekeys reports each citekey's own outcome.
    reg.save_step_metadata(
        &step("ocr"),
        &job("2026-01-02_09-00-00"),
        json!({"status": "failed", "citekeys": {"total": 2, "successful": 1, "failed": 1, "list": ["test_v04", "smith2020"]},
               "failures": {"smith2020": "encrypted"}}),
    )
    .unwrap();
    let outcome = |k: &str| -> Vec<String> {
        reg.find_jobs_for_citekey(k)
            .unwrap()
            .into_iter()
            .filter(|j| j.job_id == "2026-01-02_09-00-00")
            .map(|j| j.status)
            .collect()
    };
    assert_eq!(outcome("test_v04"), ["completed"]);
    assert_eq!(outcome("smith2020"), ["failed"]);
    assert!(matches!(
        reg.find_jobs_for_citekey("../x"),
        Err(Error::InvalidCitekey { .. })
    ));
}

#[test]
fn list_and_latest() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    assert!(reg.list_all_jobs(None).unwrap().is_empty());
    assert_eq!(reg.get_latest_job().unwrap(), None);
    assert!(
        !ctx.data_dir().exists(),
        "reads do not create the data directory"
    );
    spec_pipeline(&reg);
    let all: Vec<String> = reg
        .list_all_jobs(None)
        .unwrap()
        .iter()
        .map(|j| j.to_string())
        .collect();
    assert_eq!(all, ["2026-01-01_20-48-14", "2026-01-01_21-45-14"]);
    let ocr: Vec<String> = reg
        .list_all_jobs(Some("ocr"))
        .unwrap()
        .iter()
        .map(|j| j.to_string())
        .collect();
    assert_eq!(ocr, ["2026-01-01_21-45-14"]);
    assert_eq!(reg.list_all_jobs(Some("source")).unwrap().len(), 1);
    assert_eq!(
        reg.get_latest_job().unwrap().unwrap().as_str(),
        "2026-01-01_21-45-14"
    );
    let link = ctx.data_dir().join("analytics/job_registry/latest.json");
    assert_eq!(
        std::fs::read_link(&link).unwrap().to_str(),
        Some("2026-01-01_21-45-14.json")
    );
    assert_eq!(read_json(&link)["job_id"], "2026-01-01_21-45-14");
    // Saving an older job does not move latest.
    reg.save_step_metadata(
        &step("ocr"),
        &job("2025-06-01_00-00-00"),
        json!({"status": "completed"}),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_link(&link).unwrap().to_str(),
        Some("2026-01-01_21-45-14.json")
    );
}

#[test]
fn unknown_ids_name_what_exists() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    spec_pipeline(&reg);
    let err = reg
        .get_central_registry(&job("2026-01-01_21-45-15"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(err.is_not_found());
    assert!(
        msg.contains("2026-01-01_21-45-15") && msg.contains("2026-01-01_21-45-14"),
        "{msg}"
    );
    let err = reg
        .get_step_metadata(&step("toc"), &job("2026-01-01_21-45-14"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("analytics/toc/job_metadata/2026-01-01_21-45-14.json"),
        "{err}"
    );
    let err = reg
        .get_step_metadata(&step("sync_ocr"), &job("2026-01-01_21-45-15"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("jobs with this step: 2026-01-01_21-45-14"),
        "{err}"
    );
    assert!(matches!(
        reg.resolve_job("../../etc"),
        Err(Error::InvalidJobId { .. })
    ));
    assert_eq!(
        reg.resolve_job("latest").unwrap().as_str(),
        "2026-01-01_21-45-14"
    );
}

#[test]
fn invalid_saves_write_nothing() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    for meta in [
        json!({"custom": 1}),
        json!({"status": "finished"}),
        json!("completed"),
    ] {
        assert!(
            reg.save_step_metadata(&step("toc"), &job("2026-01-01_22-30-00"), meta)
                .is_err()
        );
    }
    assert!(!ctx.data_dir().join("analytics/toc").exists());
}

#[test]
fn new_job_ids_are_unique_and_sorted() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let ids: Vec<_> = (0..5).map(|_| reg.new_job_id().unwrap()).collect();
    for w in ids.windows(2) {
        assert!(w[0] < w[1], "{ids:?}");
    }
    // An id already used by recorded metadata is never handed out.
    let taken = ids.last().unwrap().datetime() + chrono::TimeDelta::seconds(1);
    let taken =
        recto_registry::JobId::parse(&taken.format(recto_registry::JOB_ID_FORMAT).to_string())
            .unwrap();
    reg.save_step_metadata(&step("ocr"), &taken, json!({"status": "completed"}))
        .unwrap();
    let next = reg.new_job_id().unwrap();
    assert!(next > taken, "{next} after {taken}");
}

#[test]
fn a_read_only_registry_answers_without_writing_and_refuses_writes() {
    let ctx = TestContext::new();
    let writer = Registry::open(ctx.data_dir());
    spec_pipeline(&writer);
    let job_id = job("2026-01-01_21-45-14");
    let expected = writer.get_central_registry(&job_id).unwrap();
    let status = serde_json::to_value(writer.get_job_pipeline_status(&job_id).unwrap()).unwrap();
    drop(writer);
    // No index, no registries, and a writer that died mid-save.
    let data = ctx.data_dir();
    std::fs::remove_file(data.join(".recto/index.sqlite")).unwrap();
    std::fs::remove_dir_all(data.join("analytics/job_registry")).unwrap();
    std::fs::write(data.join(".recto/dirty"), "a save was in progress\n").unwrap();
    let before = recto_test_support::tree_bytes(&data);
    let reader = Registry::open(&data).read_only();
    assert_eq!(reader.get_central_registry(&job_id).unwrap(), expected);
    assert_eq!(
        serde_json::to_value(reader.get_job_pipeline_status(&job_id).unwrap()).unwrap(),
        status
    );
    assert_eq!(
        reader.list_all_jobs(Some("ocr")).unwrap(),
        vec![job_id.clone()]
    );
    assert_eq!(reader.job_holder("ocr", &job_id).unwrap(), None);
    for e in [
        reader.new_job_id().map(|_| ()).unwrap_err(),
        reader
            .save_step_metadata(&step("toc"), &job_id, json!({"status": "completed"}))
            .map(|_| ())
            .unwrap_err(),
        reader.rebuild_central_registry().map(|_| ()).unwrap_err(),
        reader.lock_job("ocr", &job_id).map(|_| ()).unwrap_err(),
    ] {
        assert!(matches!(e, Error::ReadOnly { .. }), "{e}");
    }
    assert_eq!(
        recto_test_support::tree_bytes(&data),
        before,
        "a read-only registry wrote"
    );
    // A writer then repairs as before, and the reader's index in memory
    // sees what it saves next.
    let writer = Registry::open(&data);
    assert_eq!(writer.get_central_registry(&job_id).unwrap(), expected);
    assert!(!data.join(".recto/dirty").exists());
    let toc = job("2026-01-02_10-00-00");
    writer
        .save_step_metadata(&step("toc"), &toc, json!({"status": "completed"}))
        .unwrap();
    assert_eq!(reader.list_all_jobs(Some("toc")).unwrap(), vec![toc]);
}
