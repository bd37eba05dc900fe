//! `recto sync-ocr` against a real S3 server.

use std::path::PathBuf;

use recto_test_support::{S3Server, TestContext, text_pdf};
use serde_json::Value;

use crate::{recto, recto_command, recto_env, stderr, stdout};

fn store(server: &S3Server) -> recto_store::Store {
    crate::s3_store(server, "lib")
}

/// Upload `pdfs` to the server under `lib/`, OCR them, return the OCR job.
fn ocr_job(
    ctx: &TestContext,
    server: &S3Server,
    pdfs: &[(&str, PathBuf)],
    extra: &[&str],
) -> String {
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, p) in pdfs {
        std::fs::copy(p, dir.join(format!("{k}.pdf"))).unwrap();
    }
    let url = server.url("lib");
    let o = recto_env(
        ctx,
        &[
            "upload",
            "--from",
            dir.to_str().unwrap(),
            "--store",
            &url,
            "--quiet",
        ],
        &server.env(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let keys = pdfs.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",");
    let mut args = vec![
        "ocr",
        "--citekeys",
        keys.as_str(),
        "--lang",
        "eng",
        "--quiet",
    ];
    args.extend(extra);
    let o = recto_env(ctx, &args, &aws(server));
    // 1 when no citekey could be read: the job is recorded failed.
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
    stdout(&recto(ctx, &["jobs", "latest"])).trim().to_owned()
}

fn aws(server: &S3Server) -> Vec<(&'static str, String)> {
    server
        .env()
        .into_iter()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .collect()
}

fn born(ctx: &TestContext, name: &str, pages: usize) -> PathBuf {
    let texts: Vec<String> = (1..=pages)
        .map(|i| format!("Page {i} of {name} has enough words to be a text layer."))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let p = ctx.root().join(format!("{name}.src.pdf"));
    std::fs::write(&p, text_pdf(&refs)).unwrap();
    p
}

fn sync_meta(ctx: &TestContext, job: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join(format!("analytics/sync_ocr/job_metadata/{job}.json")),
        )
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn full_sync_rerun_change_and_skip_images() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let job = ocr_job(
        &ctx,
        &server,
        &[
            ("smith2020", born(&ctx, "smith", 3)),
            ("doe:2019", born(&ctx, "doe", 1)),
        ],
        &[],
    );
    let env = aws(&server);

    // Dry run: lists, uploads and records nothing.
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", "latest", "--dry-run"], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "upload analytics/ocr/smith2020/{job}/page_0001.json"
        )),
        "{}",
        stdout(&o)
    );
    assert!(!ctx.data_dir().join("analytics/sync_ocr").exists());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bucket = store(&server);
    assert!(rt.block_on(bucket.list("analytics/")).unwrap().is_empty());

    // Full sync: 4 pages x (json + jpg) + 2 full texts + the OCR metadata.
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", "latest"], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = sync_meta(&ctx, &job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["files_uploaded"], 11);
    assert_eq!(m["files_skipped"], 0);
    assert_eq!(m["verified"], true);
    assert_eq!(m["target"]["bucket"], server.bucket.as_str());
    assert_eq!(m["target"]["prefix"], "lib");
    let st: Value =
        serde_json::from_slice(&recto(&ctx, &["jobs", "status", &job, "--json"]).stdout).unwrap();
    assert_eq!(
        st["steps_completed"],
        serde_json::json!(["ocr", "sync_ocr"])
    );
    let reg: Value = serde_json::from_slice(&recto(&ctx, &["jobs", "show", &job]).stdout).unwrap();
    assert_eq!(reg["pipeline_steps"]["sync_ocr"]["files_uploaded"], 11);
    // Every local file is in the bucket with its checksum as metadata.
    let local = ctx
        .data_dir()
        .join(format!("analytics/ocr/smith2020/{job}/page_0002.json"));
    let head = rt
        .block_on(bucket.head(
            &format!("analytics/ocr/smith2020/{job}/page_0002.json"),
            true,
        ))
        .unwrap()
        .unwrap();
    let (sha, _) = rt.block_on(recto_store::sha256_file(&local)).unwrap();
    assert_eq!(head.sha256.as_deref(), Some(sha.as_str()));
    assert!(
        rt.block_on(bucket.head(
            &format!("analytics/ocr/doe%3A2019/{job}/fulltext.txt"),
            false
        ))
        .unwrap()
        .is_some()
    );
    assert!(
        rt.block_on(bucket.head(&format!("analytics/ocr/job_metadata/{job}.json"), false))
            .unwrap()
            .is_some()
    );

    // Rerun: nothing to upload.
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", &job], &env);
    assert!(o.status.success());
    let m = sync_meta(&ctx, &job);
    assert_eq!(
        (m["files_uploaded"].as_u64(), m["files_skipped"].as_u64()),
        (Some(0), Some(11))
    );

    // One page changed locally: exactly that object goes up.
    let mut page: Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
    page["text"] = Value::from("corrected by hand");
    std::fs::write(&local, serde_json::to_vec_pretty(&page).unwrap()).unwrap();
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", &job], &env);
    assert!(o.status.success());
    let m = sync_meta(&ctx, &job);
    assert_eq!(m["files_uploaded"], 1);
    let remote = rt
        .block_on(bucket.get_bytes(&format!("analytics/ocr/smith2020/{job}/page_0002.json")))
        .unwrap();
    assert!(String::from_utf8_lossy(&remote).contains("corrected by hand"));

    // --skip-images on a fresh job: no image reaches the bucket.
    let o = recto_env(
        &ctx,
        &["ocr", "--citekeys", "smith2020", "--lang", "eng", "--quiet"],
        &env,
    );
    assert!(o.status.success());
    let job2 = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let o = recto_env(
        &ctx,
        &["sync-ocr", "--job-id", &job2, "--skip-images"],
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = sync_meta(&ctx, &job2);
    assert_eq!(m["images_skipped"], 3);
    let keys = rt
        .block_on(bucket.list(&format!("analytics/ocr/smith2020/{job2}/")))
        .unwrap();
    assert!(keys.iter().all(|o| !o.key.ends_with(".jpg")), "{keys:?}");
    assert!(keys.iter().any(|o| o.key.ends_with("page_0003.json")));
}

#[test]
fn a_partial_job_syncs_its_completed_citekeys_and_a_failed_one_is_refused() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let enc = crate::ocr::encrypted_fixture(&ctx);
    let env = aws(&server);
    // Every citekey failed: the job is failed; a sync is refused, with the
    // flag that pushes what there is anyway.
    let failed = ocr_job(&ctx, &server, &[("enc2020", enc.clone())], &[]);
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", &failed], &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is failed, not completed")
            && stderr(&o).contains("hint:")
            && stderr(&o).contains("--allow-incomplete"),
        "{}",
        stderr(&o)
    );
    // One of two failed: the job is completed with its failure beside, and
    // sync pushes the citekey that completed without a flag.
    let job = ocr_job(
        &ctx,
        &server,
        &[("good2020", born(&ctx, "good", 1)), ("enc2020", enc)],
        &[],
    );
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", &job], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = sync_meta(&ctx, &job);
    assert_eq!(m["ocr_status"], "completed");
    assert_eq!(
        m["files_uploaded"], 4,
        "good2020's page, image, full text, and the metadata"
    );
}

#[test]
fn server_stopped_mid_sync_then_rerun_matches_local_checksums() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    // Many files, so that the server dies mid-sync at concurrency 1.
    let geotopo = crate::ocr::long_pdf(&ctx, 400);
    let job = ocr_job(
        &ctx,
        &server,
        &[("geotopo", geotopo)],
        &["--mode", "text-layer-only", "--image-dpi", "300"],
    );
    let mut env = aws(&server);
    env.push(("RECTO_S3_MAX_RETRIES", "1".into()));
    env.push(("RECTO_S3_RETRY_TIMEOUT_SECS", "2".into()));
    // Held after 10 objects: the server dies mid-sync on any machine.
    let hold = recto_test_support::Hold::new(&ctx, "sync-put", 10);
    let mut held = env.clone();
    held.push(hold.env());
    let child = recto_command(
        &ctx,
        &["sync-ocr", "--job-id", &job, "--concurrency", "1"],
        &held,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bucket = store(&server);
    let t = std::time::Instant::now();
    while rt
        .block_on(bucket.list("analytics/"))
        .map(|l| l.len())
        .unwrap_or(0)
        < 10
        && t.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    server.kill();
    hold.release();
    let o = child.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("could not be reached"),
        "{}",
        stderr(&o)
    );
    assert_eq!(sync_meta(&ctx, &job)["status"], "failed");

    server.restart();
    let o = recto_env(&ctx, &["sync-ocr", "--job-id", &job], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = sync_meta(&ctx, &job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["verified"], true);
    assert!(m["files_skipped"].as_u64().unwrap() >= 5, "{m}");
    // The bucket matches the local files exactly.
    let dir = ctx.data_dir().join(format!("analytics/ocr/geotopo/{job}"));
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with('.') {
            continue; // recto's local checksum cache, never synced
        }
        let head = rt
            .block_on(bucket.head(&format!("analytics/ocr/geotopo/{job}/{name}"), true))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} missing"));
        let (sha, size) = rt.block_on(recto_store::sha256_file(&p)).unwrap();
        assert_eq!(
            (head.size, head.sha256.as_deref()),
            (size, Some(sha.as_str())),
            "{name}"
        );
    }
}
