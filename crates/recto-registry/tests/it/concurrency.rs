//! Many processes writing one data directory at once.
//!
//! The test re-runs this test binary as child processes (selected by an
//! environment variable), so each writer is a real separate process with its
//! own index connection and lock.

use std::process::Command;

use recto_registry::Registry;
use recto_test_support::TestContext;
use serde_json::json;

use crate::{job, step};

const PROCS: usize = 8;
const SAVES: usize = 50;
const CHILD_ENV: &str = "RECTO_IT_CONCURRENCY_CHILD";

/// The body of one child process. Ignored in normal runs (it would test
/// nothing there); the parent test runs it with `--ignored`.
#[test]
#[ignore = "a child process of eight_processes_fifty_saves_each_lose_nothing"]
fn concurrency_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (data_dir, worker) = spec.split_once('|').unwrap();
    let worker: usize = worker.parse().unwrap();
    let reg = Registry::open(data_dir);
    for i in 0..SAVES {
        // Half the saves go to jobs every worker shares (same registry files
        // rewritten by everyone), half to the worker's own jobs.
        let (s, j) = if i % 2 == 0 {
            (
                format!("w{worker}"),
                format!("2026-05-01_00-00-{:02}", i / 2),
            )
        } else {
            (
                "ocr".to_owned(),
                format!("2026-05-{:02}_{:02}-{:02}-00", 2 + worker, i / 60, i % 60),
            )
        };
        reg.save_step_metadata(
            &step(&s),
            &job(&j),
            json!({"status": "completed", "source_job_id": "2026-04-30_00-00-00", "worker": worker, "i": i,
                   "citekeys": {"list": [format!("key{worker}_{i}")]}}),
        )
        .unwrap();
    }
}

#[test]
fn eight_processes_fifty_saves_each_lose_nothing() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    reg.save_source_metadata(
        &job("2026-04-30_00-00-00"),
        json!({"citekeys": {"list": ["a"]}}),
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCS)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "--ignored",
                    "concurrency::concurrency_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("{}|{w}", ctx.data_dir().display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer process failed");
    }

    // Every save is in its step file, the index and the registries.
    for w in 0..PROCS {
        for i in 0..SAVES {
            let hits = reg.find_jobs_for_citekey(&format!("key{w}_{i}")).unwrap();
            assert_eq!(hits.len(), 1, "save {i} of worker {w} lost: {hits:?}");
            let h = &hits[0];
            let meta = reg
                .get_step_metadata(&step(&h.step), &job(&h.job_id))
                .unwrap();
            if i % 2 == 1 {
                assert_eq!(meta["i"], i, "worker {w}");
                let r = reg.get_central_registry(&job(&h.job_id)).unwrap();
                assert_eq!(r["pipeline_steps"]["ocr"]["i"], i);
            }
        }
    }
    // The shared jobs' registries hold every worker's step with its last save.
    for k in 0..SAVES / 2 {
        let r = reg
            .get_central_registry(&job(&format!("2026-05-01_00-00-{k:02}")))
            .unwrap();
        for w in 0..PROCS {
            let meta = reg
                .get_step_metadata(
                    &step(&format!("w{w}")),
                    &job(&format!("2026-05-01_00-00-{k:02}")),
                )
                .unwrap();
            assert_eq!(
                r["pipeline_steps"][format!("w{w}")]["i"],
                meta["i"],
                "registry out of date"
            );
        }
    }
    // The source registry traces all of them, and a rebuild agrees with
    // what the writers left.
    let src = ctx
        .data_dir()
        .join("analytics/job_registry/2026-04-30_00-00-00.json");
    let live = std::fs::read(&src).unwrap();
    let trace_len = serde_json::from_slice::<serde_json::Value>(&live).unwrap()["execution_trace"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(trace_len, 1 + PROCS * SAVES);
    let report = reg.rebuild_central_registry().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(std::fs::read(&src).unwrap(), live);
    // No temp file was left behind anywhere.
    let leftovers = walk(ctx.data_dir().as_path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .count();
    assert_eq!(leftovers, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
