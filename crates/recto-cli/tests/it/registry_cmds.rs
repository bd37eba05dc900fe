//! `recto jobs`, `recto step`, `recto registry`: the spec's pipeline recorded
//! and queried through the CLI.

use recto_test_support::TestContext;
use serde_json::json;

use crate::{exists, recto, recto_stdin, redact, stderr, stdout, write_json};

fn spec_pipeline(ctx: &TestContext) {
    let steps = [
        (
            "source",
            "2026-01-01_20-48-14",
            json!({"status": "completed", "timestamp": "2026-01-01T20:48:14+00:00", "bucket": "sources",
                   "endpoint_url": "https://s3.eu-central-003.backblazeb2.com",
                   "citekeys": {"total": 1, "uploaded": 1, "skipped": 0, "list": ["test_v04"]},
                   "checksums": {"test_v04": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}),
        ),
        (
            "ocr",
            "2026-01-01_21-45-14",
            json!({"status": "completed", "timestamp": "2026-01-01T21:50:00+00:00", "source_job_id": "2026-01-01_20-48-14",
                   "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]},
                   "pages": {"total": 3, "text_layer": 1, "ocr": 2, "failed": 0}}),
        ),
        (
            "sync_ocr",
            "2026-01-01_21-45-14",
            json!({"status": "completed", "timestamp": "2026-01-01T21:55:00+00:00", "source_job_id": "2026-01-01_20-48-14",
                   "files_uploaded": 7}),
        ),
    ];
    for (step, job, meta) in steps {
        let f = write_json(ctx, &format!("{step}.json"), &meta);
        let o = recto(ctx, &["step", "save", step, job, "--metadata", &f]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), format!("{job}\n"));
    }
}

#[test]
fn citekey_human_output_is_the_spec_form() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let o = recto(&ctx, &["jobs", "citekey", "test_v04"]);
    assert!(o.status.success());
    insta::assert_snapshot!("citekey_human", stdout(&o));
    let o = recto(&ctx, &["jobs", "citekey", "test_v04", "--json"]);
    insta::assert_snapshot!("citekey_json", stdout(&o));
}

#[test]
fn status_show_and_list() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let o = recto(&ctx, &["jobs", "status", "latest"]);
    insta::assert_snapshot!("status_human", stdout(&o));
    let o = recto(&ctx, &["jobs", "status", "2026-01-01_21-45-14", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["steps_completed"], json!(["ocr", "sync_ocr"]));
    assert_eq!(v["steps_pending"], json!([]));
    assert_eq!(v["source_job_id"], "2026-01-01_20-48-14");
    let o = recto(&ctx, &["jobs", "show", "latest"]);
    insta::assert_snapshot!("show_registry", stdout(&o));
    let on_disk = std::fs::read_to_string(
        ctx.data_dir()
            .join("analytics/job_registry/2026-01-01_21-45-14.json"),
    )
    .unwrap();
    assert_eq!(stdout(&o), on_disk);
    let o = recto(&ctx, &["jobs", "list"]);
    insta::assert_snapshot!("list_human", stdout(&o));
    let o = recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]);
    assert_eq!(stdout(&o), "[\n  \"2026-01-01_21-45-14\"\n]\n");
    let o = recto(&ctx, &["jobs", "latest"]);
    assert_eq!(stdout(&o), "2026-01-01_21-45-14\n");
    let o = recto(&ctx, &["step", "show", "sync_ocr", "latest"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files_uploaded"], 7);
    let o = recto(&ctx, &["step", "show", "source", "2026-01-01_20-48-14"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bucket"], "sources");
}

#[test]
fn save_from_stdin_with_a_new_job_id() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let o = recto_stdin(
        &ctx,
        &["step", "save", "toc", "new", "--metadata", "-"],
        Some(
            r#"{"status": "completed", "source_job_id": "2026-01-01_21-45-14", "custom_metric": 42.5}"#,
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = stdout(&o).trim().to_owned();
    recto_registry::JobId::parse(&job).unwrap();
    let o = recto(&ctx, &["jobs", "show", &job]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pipeline_steps"]["toc"]["custom_metric"], 42.5);
    assert_eq!(v["source"]["job_id"], "2026-01-01_20-48-14");
}

#[test]
fn errors_name_the_problem_and_use_documented_exit_codes() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["jobs", "status", "2026-01-01_21-45-15"],
            4,
            "nearest known jobs: 2026-01-01_21-45-14",
        ),
        (
            &["jobs", "show", "../../etc/passwd"],
            2,
            "invalid job id \"../../etc/passwd\"",
        ),
        (&["jobs", "citekey", "a/b"], 2, "invalid citekey \"a/b\""),
        (
            &["jobs", "citekey", "nobody"],
            4,
            "no job has processed citekey \"nobody\"",
        ),
        (
            &["step", "show", "toc", "latest"],
            4,
            "no job has a toc step yet",
        ),
        (
            &["step", "show", "Bad-Step", "latest"],
            2,
            "invalid step name \"Bad-Step\"",
        ),
        (
            &[
                "step",
                "save",
                "job_registry",
                "2026-01-01_21-45-14",
                "--metadata",
                "-",
            ],
            2,
            "reserved",
        ),
        (&["jobs", "frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, code, needle) in cases {
        let o = recto(&ctx, args);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let bad = ctx.root().join("bad.json");
    std::fs::write(&bad, "{\"status\": ").unwrap();
    let o = recto(
        &ctx,
        &[
            "step",
            "save",
            "toc",
            "2026-01-01_22-00-00",
            "--metadata",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        redact(&ctx, &stderr(&o)).contains("[TMP]/bad.json: metadata is not valid JSON"),
        "{}",
        stderr(&o)
    );
    let o = recto_stdin(
        &ctx,
        &[
            "step",
            "save",
            "toc",
            "2026-01-01_22-00-00",
            "--metadata",
            "-",
        ],
        Some("{\"ok\": 1}"),
    );
    // Metadata the caller gave that is not valid is a usage error (2).
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"status\" is required"),
        "{}",
        stderr(&o)
    );
    assert!(!exists(&ctx.data_dir().join("analytics/toc")));
}

#[test]
fn rebuild_reports_corrupt_files_with_exit_code_3() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let reg_dir = ctx.data_dir().join("analytics/job_registry");
    let before = std::fs::read(reg_dir.join("2026-01-01_21-45-14.json")).unwrap();
    std::fs::remove_dir_all(&reg_dir).unwrap();
    let o = recto(&ctx, &["registry", "rebuild"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "rebuilt 2 job registries from 3 metadata files\n"
    );
    assert_eq!(
        std::fs::read(reg_dir.join("2026-01-01_21-45-14.json")).unwrap(),
        before
    );

    let broken = ctx
        .data_dir()
        .join("analytics/ocr/job_metadata/2026-02-02_00-00-00.json");
    std::fs::write(&broken, "{\"status\": \"completed\"").unwrap();
    let o = recto(&ctx, &["registry", "rebuild"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("2026-02-02_00-00-00.json: not a JSON object"),
        "{}",
        stderr(&o)
    );
    let o = recto(&ctx, &["jobs", "list", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Vec<String>>(&o.stdout)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_pipeline_names_known_steps_or_steps_with_jobs() {
    let ctx = TestContext::new();
    spec_pipeline(&ctx);
    let o = recto(&ctx, &["--pipeline", "ocr,segment", "status"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no step \"segment\" (did you mean segmentation?)"),
        "{}",
        stderr(&o)
    );
    let o = recto(&ctx, &["--pipeline", "ocr,sync_ocr,segmentation", "status"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A step of the user's own: its first job is recorded with the
    // pipeline naming it, and from then on the pipeline is accepted.
    let o = recto(&ctx, &["--pipeline", "ocr,summarise", "status"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let f = write_json(
        &ctx,
        "summarise.json",
        &json!({"status": "completed", "source_job_id": "2026-01-01_20-48-14",
                "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["test_v04"]}}),
    );
    let o = recto(
        &ctx,
        &[
            "--pipeline",
            "ocr,summarise",
            "step",
            "save",
            "summarise",
            "2026-01-01_22-00-00",
            "--metadata",
            &f,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = recto(&ctx, &["--pipeline", "ocr,summarise", "status", "test_v04"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("summarise done"), "{}", stdout(&o));
}
