//! The record never lies: resume semantics, stale runs, exit codes, hostile
//! metadata and concurrent writers, each through the real binary.

use std::path::PathBuf;
use std::process::Stdio;

use recto_test_support::{TestContext, text_pdf, text_pdf_sized};
use serde_json::{Value, json};

use crate::ocr::{encrypted_fixture, long_pdf};
use crate::{recto, recto_command, recto_env, recto_stdin, stderr, stdout, write_json};

fn write_pdf(ctx: &TestContext, name: &str, bytes: &[u8]) -> PathBuf {
    let p = ctx.root().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Upload `files` from one folder; returns the upload job id.
pub(crate) fn upload(ctx: &TestContext, files: &[(&str, PathBuf)]) -> String {
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, src) in files {
        std::fs::copy(src, dir.join(format!("{k}.pdf"))).unwrap();
    }
    let o = recto(ctx, &["upload", "--from", dir.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&recto(ctx, &["jobs", "latest"])).trim().to_owned()
}

fn meta_path(ctx: &TestContext, step: &str, job: &str) -> PathBuf {
    ctx.data_dir()
        .join(format!("analytics/{step}/job_metadata/{job}.json"))
}

pub(crate) fn meta(ctx: &TestContext, step: &str, job: &str) -> Value {
    serde_json::from_slice(&std::fs::read(meta_path(ctx, step, job)).unwrap()).unwrap()
}

fn job_of(out: &str) -> String {
    out.split_whitespace()
        .nth(2)
        .expect("ocr job <id>:")
        .trim_end_matches(':')
        .to_owned()
}

/// A completed OCR job of two text citekeys.
fn completed_job(ctx: &TestContext) -> String {
    upload(
        ctx,
        &[
            (
                "a2020",
                write_pdf(
                    ctx,
                    "a.pdf",
                    &text_pdf(&["First paper text here, long enough."]),
                ),
            ),
            (
                "b2021",
                write_pdf(
                    ctx,
                    "b.pdf",
                    &text_pdf(&["Second paper text here, long enough."]),
                ),
            ),
        ],
    );
    let o = recto(
        ctx,
        &[
            "ocr",
            "--citekeys",
            "a2020,b2021",
            "--lang",
            "eng",
            "--mode",
            "text-layer-only",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    job_of(&stdout(&o))
}

#[test]
fn resume_of_a_completed_job_does_nothing() {
    let ctx = TestContext::new();
    let job = completed_job(&ctx);
    let before = std::fs::read(meta_path(&ctx, "ocr", &job)).unwrap();
    let o = recto(&ctx, &["ocr", "--resume", &job]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("already completed"), "{}", stdout(&o));
    assert_eq!(std::fs::read(meta_path(&ctx, "ocr", &job)).unwrap(), before);
    // `latest` works for --resume as everywhere else.
    let o = recto(&ctx, &["ocr", "--resume", "latest", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(meta_path(&ctx, "ocr", &job)).unwrap(), before);
}

#[test]
fn resume_refuses_settings_that_differ_from_the_record() {
    let ctx = TestContext::new();
    let job = completed_job(&ctx);
    // Make it resumable: record it as failed (as a failed run leaves it).
    let mut m = meta(&ctx, "ocr", &job);
    m["status"] = json!("failed");
    m["failures"] = json!({"b2021": "simulated"});
    let file = write_json(&ctx, "m.json", &m);
    let o = recto(&ctx, &["step", "save", "ocr", &job, "--metadata", &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(meta_path(&ctx, "ocr", &job)).unwrap();
    for (args, needle) in [
        (
            vec!["--citekeys", "a2020"],
            "citekeys: given a2020, recorded a2020,b2021",
        ),
        (vec!["--lang", "deu"], "languages: given deu, recorded eng"),
        (vec!["--dpi", "200"], "dpi: given 200, recorded 300"),
        (
            vec!["--mode", "auto"],
            "mode: given auto, recorded text-layer-only",
        ),
        (vec!["--output", "elsewhere"], "output: given elsewhere"),
    ] {
        let mut argv = vec!["ocr", "--resume", job.as_str()];
        argv.extend(&args);
        let o = recto(&ctx, &argv);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert_eq!(
            std::fs::read(meta_path(&ctx, "ocr", &job)).unwrap(),
            before,
            "{args:?} changed the record"
        );
    }
    // Options that do not change the output are allowed; the recorded
    // settings are used, the recorded citekeys all kept.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--resume",
            &job,
            "--workers",
            "1",
            "--quiet",
            "--password",
            "x",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["citekeys"]["list"], json!(["a2020", "b2021"]));
    assert_eq!(m["config"]["languages"], "eng");
    assert_eq!(m["config"]["mode"], "text-layer-only");
    assert_eq!(m["config"]["workers"], 1);
    assert!(m["per_citekey"]["a2020"]["pages"] == 1 && m["per_citekey"]["b2021"]["pages"] == 1);
}

#[test]
fn resume_without_the_password_keeps_the_encrypted_citekey_done() {
    let ctx = TestContext::new();
    let born = write_pdf(
        &ctx,
        "born.pdf",
        &text_pdf(&["A born-digital paper with text."]),
    );
    let src = upload(
        &ctx,
        &[
            ("enc2020", encrypted_fixture(&ctx)),
            ("tampered", born.clone()),
        ],
    );
    // Swap the stored object so that `tampered` fails its checksum.
    let obj = crate::stored_object(&ctx, &src, "tampered");
    let original = std::fs::read(&obj).unwrap();
    std::fs::write(&obj, text_pdf(&["Something else, swapped in."])).unwrap();
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "enc2020,tampered",
            "--lang",
            "eng",
            "--password",
            "openpassword",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let job = job_of(&stdout(&o));
    let m = meta(&ctx, "ocr", &job);
    assert_eq!(m["failures"].as_object().unwrap().len(), 1, "{m}");
    let enc_before = m["per_citekey"]["enc2020"].clone();
    assert_eq!(enc_before["pages"], 1);

    // Repair the store, resume without the password: enc2020 stays done.
    std::fs::write(&obj, original).unwrap();
    let o = recto(&ctx, &["ocr", "--resume", &job, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed", "{m}");
    assert_eq!(m["per_citekey"]["enc2020"], enc_before);
    assert_eq!(m["citekeys"]["successful"], 2);
    assert_eq!(m["pages"]["total"], 2);
    let o = recto(&ctx, &["jobs", "citekey", "enc2020"]);
    assert!(
        stdout(&o).contains(&format!("{job} > ocr: completed")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_killed_run_is_stale_in_every_listing() {
    let ctx = TestContext::new();
    let src = upload(
        &ctx,
        &[(
            "a2020",
            write_pdf(&ctx, "a.pdf", &text_pdf(&["Some paper text, long enough."])),
        )],
    );
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let file = write_json(
        &ctx,
        "running.json",
        &json!({"status": "running", "source_job_id": src, "pid": pid,
                "citekeys": {"total": 1, "list": ["a2020"]}}),
    );
    let o = recto(&ctx, &["step", "save", "ocr", "new", "--metadata", &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    let job = stdout(&o).trim().to_owned();
    let list = stdout(&recto(&ctx, &["jobs", "list"]));
    assert!(list.contains(&format!("{job}  ocr: stale")), "{list}");
    let long: Value =
        serde_json::from_slice(&recto(&ctx, &["jobs", "list", "--json", "--long"]).stdout).unwrap();
    let entry = long
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_id"] == job.as_str())
        .unwrap();
    assert_eq!(entry["steps"], json!([["ocr", "stale"]]));
    let st: Value =
        serde_json::from_slice(&recto(&ctx, &["jobs", "status", &job, "--json"]).stdout).unwrap();
    assert_eq!(st["steps_stale"], json!(["ocr"]));
    let human = stdout(&recto(&ctx, &["jobs", "status", &job]));
    assert!(human.contains("stale"), "{human}");
}

#[test]
fn verbose_logs_say_what_was_decided() {
    let ctx = TestContext::new();
    let src = upload(
        &ctx,
        &[(
            "a2020",
            write_pdf(&ctx, "a.pdf", &text_pdf(&["Some paper text, long enough."])),
        )],
    );
    let o = recto(&ctx, &["-v", "ocr", "--citekeys", "a2020", "--lang", "eng"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("upload job {src}")) && err.contains("source of a2020"),
        "{err}"
    );
    assert!(err.contains("reading") && err.contains("in place"), "{err}");
    // RECTO_LOG does the same, and a resume says which pages it kept.
    let job = job_of(&stdout(&o));
    let mut m = meta(&ctx, "ocr", &job);
    m["status"] = json!("running");
    m["pid"] = json!(999_999);
    let file = write_json(&ctx, "m.json", &m);
    assert!(
        recto(&ctx, &["step", "save", "ocr", &job, "--metadata", &file])
            .status
            .success()
    );
    let o = recto_env(
        &ctx,
        &["ocr", "--resume", &job],
        &[("RECTO_LOG", "debug".into())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("complete from an earlier run"),
        "{}",
        stderr(&o)
    );
    // Store requests are logged too.
    let o = recto(&ctx, &["-v", "sync-ocr", "--job-id", &job]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(": put analytics/ocr/a2020/"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn exit_codes_tell_not_found_from_malformed() {
    let ctx = TestContext::new();
    let job = completed_job(&ctx);
    let code = |args: &[&str]| recto(&ctx, args).status.code();
    // Not found: 4.
    assert_eq!(
        code(&["sync-ocr", "--job-id", "2020-01-01_00-00-00"]),
        Some(4)
    );
    assert_eq!(
        code(&[
            "ocr",
            "--citekeys",
            "a2020",
            "--source-job-id",
            "2020-01-01_00-00-00"
        ]),
        Some(4)
    );
    assert_eq!(code(&["ocr", "--citekeys", "nobody2000"]), Some(4));
    assert_eq!(code(&["ocr", "--resume", "2020-01-01_00-00-00"]), Some(4));
    assert_eq!(code(&["jobs", "status", "2020-01-01_00-00-00"]), Some(4));
    assert_eq!(code(&["step", "show", "toc", &job]), Some(4));
    // Malformed: 2.
    assert_eq!(code(&["sync-ocr", "--job-id", "yesterday"]), Some(2));
    assert_eq!(code(&["ocr", "--resume", "../../etc"]), Some(2));
    assert_eq!(code(&["jobs", "status", "2026-13-01_00-00-00"]), Some(2));
    assert_eq!(code(&["step", "show", "Bad-Step", &job]), Some(2));
    assert_eq!(
        code(&["ocr", "--citekeys", "a2020", "--lang", "xxx"]),
        Some(2)
    );
    assert_eq!(code(&["ocr", "--citekeys", "a/b"]), Some(2));
    assert_eq!(
        code(&["ocr", "--citekeys", "a2020", "--dpi", "6000"]),
        Some(2)
    );
    assert_eq!(
        code(&["ocr", "--citekeys", "a2020", "--max-megapixels", "9999"]),
        Some(2)
    );
    assert_eq!(
        code(&["ocr", "--citekeys", "a2020", "--dpi", "50"]),
        Some(2)
    );
    assert_eq!(
        code(&["ocr", "--citekeys", "a2020", "--workers", "0"]),
        Some(2)
    );
    assert_eq!(
        code(&[
            "ocr",
            "--citekeys",
            "a2020",
            "--dpi",
            "150",
            "--image-dpi",
            "200"
        ]),
        Some(2)
    );
    // `latest` works for --source-job-id; `upload` names the source step.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "a2020",
            "--source-job-id",
            "latest",
            "--lang",
            "eng",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = recto(&ctx, &["step", "show", "upload", "latest"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["citekeys"]["list"], json!(["a2020", "b2021"]));
}

#[test]
fn huge_pages_and_resolutions_do_not_crash() {
    let ctx = TestContext::new();
    upload(
        &ctx,
        &[
            (
                "poster",
                write_pdf(
                    &ctx,
                    "poster.pdf",
                    &text_pdf_sized(&["A very large poster page."], 14400.0, 14400.0),
                ),
            ),
            (
                "small",
                write_pdf(
                    &ctx,
                    "small.pdf",
                    &text_pdf(&["An ordinary letter page, long enough."]),
                ),
            ),
        ],
    );
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "poster,small",
            "--lang",
            "eng",
            "--mode",
            "force-ocr",
            "--max-megapixels",
            "4",
            "--no-rotate",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = job_of(&stdout(&o));
    let page: Value = crate::page_json(&ctx, "poster", &job, 1);
    assert_eq!(page["requested_dpi"], 300);
    let (w, h) = (
        page["width_px"].as_f64().unwrap(),
        page["height_px"].as_f64().unwrap(),
    );
    assert!(w * h <= 4e6, "{w} x {h}");
    assert!(page["dpi"].as_u64().unwrap() < 300);
    let o = recto(&ctx, &["ocr", "--citekeys", "small", "--dpi", "6000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("6000 is outside 70-1200"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_object_key_from_metadata_cannot_leave_the_store() {
    let ctx = TestContext::new();
    // A file outside the store, and source metadata pointing at it.
    let victim = ctx.root().join("outside/victim.pdf");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    let bytes = text_pdf(&["Private text outside the store."]);
    std::fs::write(&victim, &bytes).unwrap();
    std::fs::create_dir_all(ctx.data_dir().join("store/sources")).unwrap();
    let sha = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(recto_store::sha256_file(&victim)).unwrap().0
    };
    let store = ctx.data_dir().join("store");
    let file = write_json(
        &ctx,
        "src.json",
        &json!({"status": "completed", "store": store.display().to_string(),
                "citekeys": {"total": 1, "list": ["evil"]},
                "objects": {"evil": "../outside/victim.pdf"}, "checksums": {"evil": sha}}),
    );
    let o = recto(
        &ctx,
        &["step", "save", "source", "new", "--metadata", &file],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = recto(&ctx, &["ocr", "--citekeys", "evil", "--lang", "eng"]);
    // Its only citekey failed: the run failed as a whole (exit 1, as the
    // record says), not partial.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid object key"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no citekey could be read"),
        "{}",
        stderr(&o)
    );
    let job = job_of(&stdout(&o));
    assert!(
        !ctx.data_dir()
            .join(format!("analytics/ocr/evil/{job}/page_0001.json"))
            .exists()
    );
}

#[test]
fn bad_citekeys_and_pids_are_refused_at_save() {
    let ctx = TestContext::new();
    for (meta, needle) in [
        (
            json!({"status": "completed", "citekeys": {"list": ["ok", "../../x"]}}),
            "../../x",
        ),
        (json!({"status": "running", "pid": -1}), "pid"),
        (json!({"status": "running", "pid": "abc"}), "pid"),
    ] {
        let o = recto_stdin(
            &ctx,
            &["step", "save", "toc", "new", "--metadata", "-"],
            Some(&meta.to_string()),
        );
        assert_eq!(o.status.code(), Some(2), "{meta}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
    assert!(!ctx.data_dir().join("analytics/toc/job_metadata").exists());
}

/// A `recto step save STEP new` process recording one completed citekey,
/// started and not waited for.
fn spawn_save(
    ctx: &TestContext,
    src: &str,
    step: &str,
    citekey: &str,
    env: &[(&str, String)],
) -> std::process::Child {
    let meta = json!({"status": "completed", "source_job_id": src,
                      "citekeys": {"total": 1, "list": [citekey]}});
    let mut c = recto_command(ctx, &["step", "save", step, "new", "--metadata", "-"], env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin
        .take()
        .unwrap()
        .write_all(meta.to_string().as_bytes())
        .unwrap();
    c
}

#[test]
fn saves_and_rebuilds_at_once_all_succeed() {
    let ctx = TestContext::new();
    let src = completed_job(&ctx);
    // A leftover marker, as a killed save leaves it.
    std::fs::write(ctx.data_dir().join(".recto/dirty"), b"x").unwrap();
    let mut children: Vec<_> = (0..10)
        .map(|i| spawn_save(&ctx, &src, &format!("step{i}"), &format!("k{i}"), &[]))
        .collect();
    for _ in 0..3 {
        children.push(
            recto_command(&ctx, &["registry", "rebuild"], &[])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for i in 0..10 {
        let hits = stdout(&recto(&ctx, &["jobs", "citekey", &format!("k{i}")]));
        assert!(
            hits.contains(&format!("step{i}: completed")),
            "k{i}: {hits}"
        );
    }
    assert!(!ctx.data_dir().join(".recto/dirty").exists());
}

/// The registry's files under `analytics/job_registry/`, by name.
fn registries(ctx: &TestContext) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(ctx.data_dir().join("analytics/job_registry"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn nodes_with_their_own_index_see_every_write_of_the_others() {
    // Cluster nodes share the data directory but keep the derived SQLite
    // index on local disk (RECTO_INDEX_DIR): writers on two "nodes" at
    // once, processes with nothing in common but the files and the lock.
    let ctx = TestContext::new();
    let src = completed_job(&ctx);
    let nodes: Vec<PathBuf> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|n| ctx.root().join(n))
        .collect();
    let env = |i: usize| vec![("RECTO_INDEX_DIR", nodes[i].display().to_string())];
    let children: Vec<_> = (0..12)
        .map(|i| {
            spawn_save(
                &ctx,
                &src,
                &format!("node{i}"),
                &format!("n{i}"),
                &env(i % 2),
            )
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Every node, and one that never wrote, answers for every write.
    for (node, dir) in nodes.iter().enumerate() {
        for i in 0..12 {
            let hits = stdout(&recto_env(
                &ctx,
                &["jobs", "citekey", &format!("n{i}")],
                &env(node),
            ));
            assert!(
                hits.contains(&format!("node{i}: completed")),
                "node {node}, n{i}: {hits}"
            );
        }
        let index = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".sqlite"))
            .count();
        assert_eq!(index, 1, "node {node} keeps its own index");
    }
    // The central registries written from the nodes' indexes are what a
    // rebuild from the files writes; after a rebuild on one node, the
    // others rescan and still answer.
    let before = registries(&ctx);
    let o = recto_env(&ctx, &["registry", "rebuild"], &env(0));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(registries(&ctx), before);
    let hits = stdout(&recto_env(&ctx, &["jobs", "citekey", "n5"], &env(1)));
    assert!(hits.contains("node5: completed"), "{hits}");
    let log = std::fs::read_to_string(ctx.data_dir().join(".recto/changes.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.starts_with("node")).count(),
        12,
        "{log}"
    );
    assert!(log.lines().any(|l| l == "*"), "{log}");
}

#[test]
fn two_runs_of_one_job_never_run_at_once() {
    let ctx = TestContext::new();
    upload(&ctx, &[("long", long_pdf(&ctx, 400))]);
    // Held before its first page until the second run has been refused.
    let hold = recto_test_support::Hold::new(&ctx, "ocr-page", 0);
    let mut first = crate::spawn_slow_ocr(&ctx, "long", &[hold.env()]);
    // Wait until it has recorded itself as running.
    let t = std::time::Instant::now();
    let job = loop {
        let o = recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]);
        let ids: Vec<String> = serde_json::from_slice(&o.stdout).unwrap_or_default();
        if let Some(j) = ids.first() {
            break j.clone();
        }
        assert!(t.elapsed().as_secs() < 60, "the first run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let o = recto(&ctx, &["ocr", "--resume", &job]);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the second started; the test needs a longer job"
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is being run by another process"),
        "{}",
        stderr(&o)
    );
    hold.release();
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(meta(&ctx, "ocr", &job)["status"], "completed");
}

#[test]
fn a_killed_uploads_partial_files_are_cleaned_up() {
    let ctx = TestContext::new();
    let a = write_pdf(&ctx, "a.pdf", &text_pdf(&["Some paper text, long enough."]));
    upload(&ctx, &[("a2020", a)]);
    // What object_store's local store leaves when killed mid-file.
    let partial = ctx.data_dir().join("store/sources/b2021/0123abcd.pdf#1");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, b"%PDF-1.4 half").unwrap();
    let dir = ctx.root().join("more");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("c2022.pdf"),
        text_pdf(&["Third paper, long enough text."]),
    )
    .unwrap();
    let o = recto(
        &ctx,
        &["upload", "--from", dir.to_str().unwrap(), "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!partial.exists(), "the partial file was left behind");
}

#[test]
fn sync_is_generic_over_steps() {
    let ctx = TestContext::new();
    let ocr_job = completed_job(&ctx);
    // A later step (written in any language) records its own results.
    let o = recto_stdin(
        &ctx,
        &["step", "save", "toc", "new", "--metadata", "-"],
        Some(
            &json!({"status": "completed", "source_job_id": ocr_job,
                    "citekeys": {"total": 1, "list": ["a2020"]}})
            .to_string(),
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let toc_job = stdout(&o).trim().to_owned();
    let dir = ctx
        .data_dir()
        .join(format!("analytics/toc/a2020/{toc_job}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("toc.json"), b"{\"entries\": []}").unwrap();
    let o = recto(&ctx, &["sync", "--step", "toc", "--job-id", "latest"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The bucket is the upload's store (here the local one); keys mirror
    // the layout.
    let store = ctx.data_dir().join("store");
    assert_eq!(
        std::fs::read(store.join(format!("analytics/toc/a2020/{toc_job}/toc.json"))).unwrap(),
        b"{\"entries\": []}"
    );
    assert!(
        store
            .join(format!("analytics/toc/job_metadata/{toc_job}.json"))
            .is_file()
    );
    let m = meta(&ctx, "sync_toc", &toc_job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["toc_job_id"], toc_job.as_str());
    assert_eq!(m["verified"], true);
    // sync-ocr is the spec's command, unchanged: sync_ocr under the OCR job.
    let o = recto(&ctx, &["sync-ocr", "--job-id", &ocr_job]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        meta(&ctx, "sync_ocr", &ocr_job)["ocr_job_id"],
        ocr_job.as_str()
    );
}
