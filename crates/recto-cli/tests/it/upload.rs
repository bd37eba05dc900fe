//! `recto upload` against the local store and a real S3 server.

use std::path::PathBuf;

use recto_test_support::{S3Server, TestContext, text_pdf};
use serde_json::Value;

use crate::{recto, recto_command, recto_env, stderr, stdout};

/// A folder of PDFs named by citekey; returns its path.
fn pdf_dir(ctx: &TestContext, keys: &[&str]) -> PathBuf {
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    for k in keys {
        std::fs::write(
            dir.join(format!("{k}.pdf")),
            text_pdf(&[&format!("The source {k}.")]),
        )
        .unwrap();
    }
    dir
}

fn source_meta(ctx: &TestContext, job: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join(format!("sources/job_metadata/{job}.json")),
        )
        .unwrap(),
    )
    .unwrap()
}

fn job_of(out: &str) -> String {
    out.split_whitespace()
        .nth(2)
        .expect("upload job <id> ...")
        .to_owned()
}

#[test]
fn local_upload_records_the_source_job_and_skips_on_rerun() {
    let ctx = TestContext::new();
    let dir = pdf_dir(&ctx, &["smith2020", "doe:2019"]);
    let o = recto(&ctx, &["upload", "--from", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let job = job_of(&stdout(&o));
    assert!(
        stdout(&o).ends_with(": 2 uploaded, 0 skipped, 0 failed\n"),
        "{}",
        stdout(&o)
    );
    let m = source_meta(&ctx, &job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["citekeys"]["total"], 2);
    assert_eq!(m["citekeys"]["uploaded"], 2);
    assert_eq!(
        m["citekeys"]["list"],
        serde_json::json!(["doe:2019", "smith2020"])
    );
    let sha = m["checksums"]["doe:2019"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    let key = format!("sources/doe%3A2019/{sha}.pdf");
    assert_eq!(m["objects"]["doe:2019"], key.as_str());
    let stored = ctx.data_dir().join("store").join(&key);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(dir.join("doe:2019.pdf")).unwrap()
    );
    assert!(m["bucket"].is_null());
    assert!(m["store"].as_str().unwrap().starts_with("file:///"));

    let o = recto(
        &ctx,
        &["upload", "--from", dir.to_str().unwrap(), "--quiet"],
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "", "--quiet prints nothing");
    let jobs = recto(&ctx, &["jobs", "list", "--step", "source", "--json"]);
    let ids: Vec<String> = serde_json::from_slice(&jobs.stdout).unwrap();
    assert_eq!(ids.len(), 2);
    let m2 = source_meta(&ctx, &ids[1]);
    assert_eq!(
        (
            m2["citekeys"]["uploaded"].as_u64(),
            m2["citekeys"]["skipped"].as_u64()
        ),
        (Some(0), Some(2))
    );

    let o = recto(&ctx, &["jobs", "citekey", "smith2020"]);
    assert_eq!(
        stdout(&o),
        format!(
            "{job} > source (upload): completed\n{} > source (upload): completed\n",
            ids[1]
        )
    );
}

#[test]
fn bad_inputs_fail_alone_with_reasons() {
    let ctx = TestContext::new();
    let dir = pdf_dir(&ctx, &["good2020"]);
    std::fs::write(dir.join("notpdf.pdf"), "hello").unwrap();
    std::fs::write(dir.join("empty.pdf"), "").unwrap();
    let o = recto(
        &ctx,
        &[
            "upload",
            "--from",
            dir.to_str().unwrap(),
            "--citekeys",
            "good2020,notpdf,empty,missing,a..b",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    for needle in [
        "notpdf: ",
        "not a PDF (no %PDF- header",
        "empty.pdf: empty file",
        "missing: file not found:",
        "invalid citekey \"a..b\"",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let job = job_of(&stdout(&o));
    let m = source_meta(&ctx, &job);
    // The upload reached its end: completed, its four failures beside.
    assert_eq!(m["status"], "completed");
    assert_eq!(m["citekeys"]["list"], serde_json::json!(["good2020"]));
    assert_eq!(m["citekeys"]["failed"], 4);
    assert_eq!(m["failures"].as_object().unwrap().len(), 4);
    let o = recto(&ctx, &["jobs", "citekey", "good2020"]);
    assert_eq!(stdout(&o), format!("{job} > source (upload): completed\n"));
    let o = recto(&ctx, &["jobs", "citekey", "missing"]);
    assert_eq!(stdout(&o), format!("{job} > source (upload): failed\n"));
}

#[test]
fn a_changed_pdf_keeps_the_old_version_fetchable() {
    let ctx = TestContext::new();
    let dir = pdf_dir(&ctx, &["smith2020"]);
    let o = recto(&ctx, &["upload", "--from", dir.to_str().unwrap()]);
    let first = source_meta(&ctx, &job_of(&stdout(&o)));
    std::fs::write(dir.join("smith2020.pdf"), text_pdf(&["A revised edition."])).unwrap();
    let o = recto(&ctx, &["upload", "--from", dir.to_str().unwrap()]);
    let second = source_meta(&ctx, &job_of(&stdout(&o)));
    assert_eq!(second["citekeys"]["uploaded"], 1);
    assert_ne!(
        first["objects"]["smith2020"],
        second["objects"]["smith2020"]
    );
    for m in [first, second] {
        let key = m["objects"]["smith2020"].as_str().unwrap();
        assert!(ctx.data_dir().join("store").join(key).is_file(), "{key}");
    }
}

#[test]
fn bibtex_file_fields_name_the_pdfs() {
    let ctx = TestContext::new();
    let dir = pdf_dir(&ctx, &["a", "b"]);
    let bib = ctx.root().join("library.bib");
    std::fs::write(
        &bib,
        "@article{smith2020, title={X}, file={Full Text PDF:pdfs/a.pdf:application/pdf}}\n\
         @book{doe2019, title={Y}, file={Snapshot:x.html:text/html;Full Text:pdfs/b.pdf:application/pdf}}\n\
         @misc{nopdf, title={Z}}\n",
    )
    .unwrap();
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    // An entry without a PDF is skipped with its reason, not a failure: a
    // real library export completes.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nopdf: skipped: the BibTeX entry has no file field"),
        "{}",
        stderr(&o)
    );
    let m = source_meta(&ctx, &job_of(&stdout(&o)));
    assert_eq!(m["status"], "completed");
    assert_eq!(m["citekeys"]["no_pdf"], 1);
    assert_eq!(m["no_pdf"]["nopdf"], "the BibTeX entry has no file field");
    assert_eq!(
        m["citekeys"]["list"],
        serde_json::json!(["doe2019", "smith2020"])
    );
    assert_eq!(m["files"]["smith2020"], dir.join("a.pdf").to_str().unwrap());
}

#[test]
fn dry_run_uploads_and_records_nothing() {
    let ctx = TestContext::new();
    let dir = pdf_dir(&ctx, &["smith2020"]);
    let o = recto(
        &ctx,
        &["upload", "--from", dir.to_str().unwrap(), "--dry-run"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("smith2020: upload sources/smith2020/"),
        "{}",
        stdout(&o)
    );
    assert!(!ctx.data_dir().join("sources").exists());
    assert_eq!(
        std::fs::read_dir(ctx.data_dir().join("store"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

fn s3_args<'a>(server: &'a S3Server, url: &'a str, dir: &'a str) -> Vec<&'a str> {
    vec![
        "upload",
        "--from",
        dir,
        "--store",
        url,
        "--endpoint-url",
        &server.endpoint,
    ]
}

#[test]
fn s3_upload_skip_and_credential_errors() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let dir = pdf_dir(&ctx, &["smith2020", "doe2019"]);
    let d = dir.to_str().unwrap();
    let url = server.url("library");
    let o = recto_env(&ctx, &s3_args(&server, &url, d), &server.env());
    assert!(o.status.success(), "{}", stderr(&o));
    let m = source_meta(&ctx, &job_of(&stdout(&o)));
    assert_eq!(m["bucket"], server.bucket.as_str());
    assert_eq!(m["endpoint_url"], server.endpoint.as_str());
    assert_eq!(m["store"], format!("s3://{}/library", server.bucket));
    assert_eq!(m["citekeys"]["uploaded"], 2);
    let o = recto_env(&ctx, &s3_args(&server, &url, d), &server.env());
    assert!(
        stdout(&o).contains("0 uploaded, 2 skipped"),
        "{}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(
        ctx.data_dir()
            .join("sources/job_metadata")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(
        !text.contains(&server.secret_key) && !text.contains(&server.access_key),
        "no credentials in metadata"
    );

    // Wrong secret: a clear auth error, non-zero exit, nothing recorded.
    let before = std::fs::read_dir(ctx.data_dir().join("sources/job_metadata"))
        .unwrap()
        .count();
    let mut env = server.env();
    env.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    let wrong = "f".repeat(64);
    env.push(("AWS_SECRET_ACCESS_KEY", wrong.clone()));
    let o = recto_env(&ctx, &s3_args(&server, &url, d), &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refused the credentials"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(&wrong));
    assert_eq!(
        std::fs::read_dir(ctx.data_dir().join("sources/job_metadata"))
            .unwrap()
            .count(),
        before
    );

    // No credentials at all.
    let o = recto(&ctx, &s3_args(&server, &url, d));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no credentials for s3://"),
        "{}",
        stderr(&o)
    );

    // A bucket that does not exist.
    let o = recto_env(
        &ctx,
        &s3_args(&server, "s3://no-such-bucket", d),
        &server.env(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bucket \"no-such-bucket\" does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn s3_server_not_running_is_a_clear_error() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    server.stop();
    let dir = pdf_dir(&ctx, &["smith2020"]);
    let url = server.url("");
    let mut env = server.env();
    env.push(("RECTO_S3_MAX_RETRIES", "2".into()));
    env.push(("RECTO_S3_RETRY_TIMEOUT_SECS", "3".into()));
    let o = recto_env(&ctx, &s3_args(&server, &url, dir.to_str().unwrap()), &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("could not be reached"),
        "{}",
        stderr(&o)
    );
    assert!(!ctx.data_dir().join("sources").exists(), "nothing recorded");
}

#[test]
fn s3_server_stopped_mid_upload_then_rerun_completes() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    // 30 PDFs of ~3 MB, one at a time: long enough to stop the server
    // midway. The padding is pseudo-random: Garage compresses what it stores.
    let keys: Vec<String> = (0..30).map(|i| format!("book{i:02}")).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in &keys {
        let mut pdf = text_pdf(&[k]);
        pdf.extend((0..3 * 1024 * 1024).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        }));
        std::fs::write(dir.join(format!("{k}.pdf")), pdf).unwrap();
    }
    let url = server.url("");
    let d = dir.to_str().unwrap();
    let mut args = s3_args(&server, &url, d);
    args.extend(["--concurrency", "1"]);
    let mut env = server.env();
    env.push(("RECTO_S3_MAX_RETRIES", "2".into()));
    env.push(("RECTO_S3_RETRY_TIMEOUT_SECS", "3".into()));
    // Held after 2 files: the server stops mid-upload on any machine.
    let hold = recto_test_support::Hold::new(&ctx, "upload-put", 2);
    let mut held = env.clone();
    held.push(hold.env());
    let child = recto_command(&ctx, &args, &held)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server once the upload is under way.
    let started = std::time::Instant::now();
    let store_dir_has_data = || {
        walk_size(&std::path::PathBuf::from(format!(
            "{}/data",
            server_dir(&server)
        ))) > 6 * 1024 * 1024
    };
    while !store_dir_has_data() && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.stop();
    hold.release();
    let o = child.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = source_meta(&ctx, &job_of(&stdout(&o)));
    let uploaded_first = first["citekeys"]["uploaded"].as_u64().unwrap();
    assert_eq!(uploaded_first, 2, "the server went away after two files");
    assert_eq!(first["status"], "failed");

    server.restart();
    let o = recto_env(&ctx, &s3_args(&server, &url, d), &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let second = source_meta(&ctx, &job_of(&stdout(&o)));
    assert_eq!(
        second["citekeys"]["skipped"].as_u64().unwrap(),
        uploaded_first
    );
    assert_eq!(second["citekeys"]["list"].as_array().unwrap().len(), 30);
    // The store and the metadata agree: every recorded object is there with
    // the recorded checksum.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = crate::s3_store(&server, "");
    for k in &keys {
        let key = second["objects"][k].as_str().unwrap();
        let info = rt
            .block_on(store.head(key, true))
            .unwrap()
            .expect("object present");
        assert_eq!(
            info.sha256.as_deref(),
            second["checksums"][k].as_str(),
            "{k}"
        );
    }
    assert_eq!(
        rt.block_on(store.list("sources/")).unwrap().len(),
        30,
        "no partial objects"
    );
}

fn server_dir(server: &S3Server) -> String {
    server.data_dir().display().to_string()
}

fn walk_size(dir: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

#[test]
fn an_upload_of_the_folder_holding_the_data_dir_leaves_the_data_dir_out() {
    let ctx = TestContext::new();
    // The PDFs beside `data/`, the default layout of `recto upload --from .`.
    std::fs::write(ctx.root().join("a2020.pdf"), text_pdf(&["First."])).unwrap();
    std::fs::write(ctx.root().join("b2021.pdf"), text_pdf(&["Second."])).unwrap();
    let root = ctx.root().to_str().unwrap();
    for round in 0..2 {
        let o = recto(&ctx, &["upload", "--from", root, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out: Value = serde_json::from_slice(&o.stdout).unwrap();
        let list = source_meta(&ctx, out["job_id"].as_str().unwrap())["citekeys"]["list"].clone();
        // The second upload does not take the stored copies under data/,
        // and says so.
        assert_eq!(list, serde_json::json!(["a2020", "b2021"]), "{out}");
        if round == 1 {
            assert!(
                stderr(&o).contains("left out (recto's data directory)"),
                "{}",
                stderr(&o)
            );
        }
    }
}

#[test]
fn a_bib_path_from_another_machine_gets_the_path_map_hint() {
    let ctx = TestContext::new();
    let bib = ctx.root().join("library.bib");
    std::fs::write(
        &bib,
        "@book{far2020, title = {Far}, file = {/home/someone-else/Zotero/storage/AB12/far.pdf}}\n",
    )
    .unwrap();
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("far2020: file not found:"), "{err}");
    assert!(err.contains("--bib-path-map FROM=TO"), "{err}");
}

#[test]
fn status_shows_a_missing_file_as_no_source_with_the_path_map_fix() {
    let ctx = TestContext::new();
    let bib = ctx.root().join("library.bib");
    std::fs::write(ctx.root().join("near.pdf"), text_pdf(&["Near and here."])).unwrap();
    std::fs::write(
        &bib,
        format!(
            "@book{{far2020, title = {{Far}}, file = {{/home/someone-else/Zotero/storage/AB12/far.pdf}}}}\n\
             @book{{near2021, title = {{Near}}, file = {{{}}}}}\n",
            ctx.root().join("near.pdf").display()
        ),
    )
    .unwrap();
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = recto(&ctx, &["status"]);
    let out = stdout(&o);
    // Not a bare `pending`: the missing file, and the command that helps.
    let far = out.lines().find(|l| l.starts_with("far2020")).unwrap();
    assert!(far.contains("failed"), "{out}");
    assert!(
        far.contains("no source (file not found: /home/someone-else/Zotero/storage/AB12/far.pdf)"),
        "{out}"
    );
    assert!(
        out.contains("--bib-path-map FROM=TO --citekeys far2020"),
        "{out}"
    );
    let near = out.lines().find(|l| l.starts_with("near2021")).unwrap();
    assert!(
        near.contains("pending") && near.contains("ocr pending"),
        "{out}"
    );
    assert!(out.ends_with("2 citekeys: 1 pending, 1 failed\n"), "{out}");
    // `--why` says where each state comes from.
    let out = stdout(&recto(&ctx, &["status", "--why", "far2020", "near2021"]));
    assert!(
        out.contains("source    none: the upload failed on it: file not found:"),
        "{out}"
    );
    assert!(out.contains("near2021: pending"), "{out}");
    assert!(
        out.contains("ocr       pending: never run on this source"),
        "{out}"
    );
    assert!(out.contains("sync_ocr  pending: waits for ocr"), "{out}");
    assert!(out.contains("fix: recto ocr --citekeys near2021"), "{out}");
    let json: Value =
        serde_json::from_slice(&recto(&ctx, &["status", "far2020", "--json"]).stdout).unwrap();
    assert!(
        json[0]["source_problem"]
            .as_str()
            .unwrap()
            .contains("file not found"),
        "{json}"
    );
}

/// A newer upload that failed on a citekey (its path wrong in the .bib
/// this time) leaves the citekey's source the older upload's: the steps run
/// on that source are done, not outdated, down to the sync and the TOC.
#[test]
fn a_later_failed_upload_does_not_make_results_outdated() {
    let ctx = TestContext::new();
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a2020.pdf"),
        text_pdf(&["A page of text, long enough to read."]),
    )
    .unwrap();
    std::fs::write(
        dir.join("b2021.pdf"),
        text_pdf(&["Another page of text, long enough."]),
    )
    .unwrap();
    let bib = ctx.root().join("library.bib");
    let write = |a_path: &str| {
        std::fs::write(
            &bib,
            format!(
                "@book{{a2020, title = {{A}}, file = {{{a_path}}}}}\n@book{{b2021, title = {{B}}, file = {{{}}}}}\n",
                dir.join("b2021.pdf").display()
            ),
        )
        .unwrap();
    };
    write(dir.join("a2020.pdf").to_str().unwrap());
    assert!(
        recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()])
            .status
            .success()
    );
    // The .bib now names a2020 by another machine's path.
    write("/Users/someone/a2020.pdf");
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let pipeline = ["--pipeline", "ocr,sync_ocr,toc"];
    for step in [
        &["ocr", "--pending", "--lang", "eng"][..],
        &["sync-ocr", "--job-id", "latest"],
        &["toc", "--pending"],
    ] {
        let args: Vec<&str> = pipeline.iter().chain(step).copied().collect();
        let o = recto(&ctx, &args);
        assert!(o.status.success(), "{step:?}: {}", stderr(&o));
    }
    let args: Vec<&str> = pipeline
        .iter()
        .chain(&["status", "a2020", "--json"])
        .copied()
        .collect();
    let s: Value = serde_json::from_slice(&recto(&ctx, &args).stdout).unwrap();
    assert_eq!(s[0]["state"], "done", "{s}");
    for st in s[0]["steps"].as_array().unwrap() {
        assert_eq!(st["state"], "done", "{st}");
    }
}
