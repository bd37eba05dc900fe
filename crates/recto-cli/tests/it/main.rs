//! Integration tests of the `recto` binary: real processes, real data
//! directories, output compared with snapshots.

mod export;
mod invariants;
mod library;
mod ocr;
mod paths;
mod record;
mod registry_cmds;
mod run;
mod search;
mod searchable;
mod searchable_scans;
mod segment;
mod serve;
mod shard;
mod slurm;
mod structure;
mod sync;
mod toc;
mod tools;
mod upload;
mod xml_exports;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use recto_test_support::TestContext;

/// Run `recto` with `args` against the test's data directory.
pub fn recto(ctx: &TestContext, args: &[&str]) -> Output {
    recto_stdin(ctx, args, None)
}

pub fn recto_stdin(ctx: &TestContext, args: &[&str], stdin: Option<&str>) -> Output {
    recto_full(ctx, args, stdin, &[])
}

/// Run `recto` with extra environment variables (e.g. an S3 server's).
pub fn recto_env(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> Output {
    recto_full(ctx, args, None, env)
}

/// A `recto` command set up like [`recto`], not yet started.
pub fn recto_command(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recto"));
    cmd.args(args)
        .current_dir(ctx.root())
        .env("RECTO_DATA_DIR", ctx.data_dir())
        // No user-level config of whoever runs the tests.
        .env("XDG_CONFIG_HOME", ctx.root().join("no-user-config"));
    for var in [
        "RECTO_PIPELINE",
        "RECTO_LOG",
        "RECTO_STORE",
        "RECTO_ENDPOINT_URL",
        "RECTO_REGION",
        "RECTO_INDEX_DIR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "B2_APPLICATION_KEY_ID",
        "B2_APPLICATION_KEY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn recto_full(
    ctx: &TestContext,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, String)],
) -> Output {
    use std::io::Write;
    let mut child = recto_command(ctx, args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run recto");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Write a JSON file into the test folder and return its path.
pub fn write_json(ctx: &TestContext, name: &str, v: &serde_json::Value) -> String {
    let p = ctx.root().join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_str().unwrap().to_owned()
}

/// Replace the test's temp folder in output so snapshots are stable.
pub fn redact(ctx: &TestContext, s: &str) -> String {
    s.replace(ctx.root().to_str().unwrap(), "[TMP]")
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// A store client for `server`'s bucket under `prefix`, to check what the
/// commands left there.
pub fn s3_store(server: &recto_test_support::S3Server, prefix: &str) -> recto_store::Store {
    recto_store::Store::open_location(
        recto_store::StoreLocation::S3 {
            bucket: server.bucket.clone(),
            prefix: prefix.to_owned(),
            endpoint_url: Some(server.endpoint.clone()),
            region: server.region.clone(),
            path_style: true,
        },
        Some(recto_store::Credentials {
            access_key_id: server.access_key.clone(),
            secret_access_key: server.secret_key.clone(),
        }),
        Default::default(),
    )
    .expect("open the test bucket")
}

/// The local store's file behind citekey `key` of upload job `src`, as the
/// upload recorded it.
pub fn stored_object(ctx: &TestContext, src: &str, key: &str) -> std::path::PathBuf {
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join(format!("sources/job_metadata/{src}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    ctx.data_dir()
        .join("store")
        .join(meta["objects"][key].as_str().unwrap())
}

/// Page `n`'s JSON of citekey `key` in OCR job `job`.
pub fn page_json(ctx: &TestContext, key: &str, job: &str, n: usize) -> serde_json::Value {
    let p = ctx
        .data_dir()
        .join(format!("analytics/ocr/{key}/{job}/page_{n:04}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The metadata of `step` in job `job`.
pub fn step_meta(ctx: &TestContext, step: &str, job: &str) -> serde_json::Value {
    let p = ctx
        .data_dir()
        .join(format!("analytics/{step}/job_metadata/{job}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Page JSONs written so far in citekey `key`'s (first) OCR job folder.
pub fn pages_written(ctx: &TestContext, key: &str) -> usize {
    std::fs::read_dir(ctx.data_dir().join("analytics/ocr").join(key))
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| std::fs::read_dir(e.ok()?.path()).ok())
        .map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .count()
        })
}

/// Wait (at most a minute) until `n` pages of `key` are written.
pub fn wait_for_pages(ctx: &TestContext, key: &str, n: usize) {
    let t = std::time::Instant::now();
    while pages_written(ctx, key) < n {
        assert!(
            t.elapsed().as_secs() < 60,
            "{key}: fewer than {n} pages after a minute"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A slow OCR run of `key` (text layer only, one worker, 200 dpi images),
/// started, not awaited: for tests that interrupt or race it.
pub fn spawn_slow_ocr(ctx: &TestContext, key: &str, env: &[(&str, String)]) -> std::process::Child {
    recto_command(
        ctx,
        &[
            "ocr",
            "--citekeys",
            key,
            "--lang",
            "eng",
            "--mode",
            "text-layer-only",
            "--workers",
            "1",
            "--image-dpi",
            "200",
            "--quiet",
        ],
        env,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run recto")
}

/// Every word of a page JSON, in reading order, with its box.
pub fn page_words(page: &serde_json::Value) -> Vec<(String, [f64; 4])> {
    page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .flat_map(|l| l["words"].as_array().unwrap())
        .map(|w| {
            let b = &w["bbox"];
            let v = |i: usize| b[i].as_f64().unwrap();
            (
                w["text"].as_str().unwrap().to_owned(),
                [v(0), v(1), v(2), v(3)],
            )
        })
        .collect()
}
