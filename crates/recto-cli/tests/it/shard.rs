//! One OCR job in shards: as plain processes sharing the data directory,
//! and as a real Slurm array on a one-node cluster (`scripts/slurm.sh`,
//! started here when it is not running). Every page exactly once, page
//! JSON identical to a one-machine run of the same job, a shard killed or
//! cancelled resumes only its unfinished pages, a broken PDF fails its
//! citekey alone naming the shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use recto_test_support::{MixedPage, TestContext, mixed_pdf, text_pdf};
use serde_json::Value;

use super::searchable::{packed, render};
use super::toc::{upload, write_pdf};
use super::{recto, recto_command, recto_env, stderr, stdout, step_meta};

/// A scanned book: `pages` pages, each a scan of three lines naming the
/// book and the page.
pub(crate) fn scanned_book(dir: &Path, key: &str, pages: usize) -> Vec<u8> {
    let imgs: Vec<_> = (1..=pages)
        .map(|p| {
            render(
                dir,
                &format!("Sharded {key} page {p}\nThe quick brown fox jumps\nover the lazy dog {p} times."),
            )
        })
        .collect();
    let data: Vec<Vec<u8>> = imgs.iter().map(packed).collect();
    let scans: Vec<MixedPage<'_>> = imgs
        .iter()
        .zip(&data)
        .map(|(img, d)| MixedPage::Scan {
            gray: d,
            width: img.width,
            height: img.height,
            dpi: 200,
            rotate: 0,
        })
        .collect();
    mixed_pdf(&scans, 300.0, 400.0)
}

/// A PDF MuPDF cannot open: a header and nothing usable.
pub(crate) const BROKEN: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ngarbage\n";

pub(crate) fn books(ctx: &TestContext, n: usize, pages: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("book{i}")).collect();
    for k in &keys {
        write_pdf(ctx, k, &scanned_book(ctx.root(), k, pages));
    }
    keys
}

pub(crate) fn json_of(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

pub(crate) fn plan(ctx: &TestContext, keys: &[String], shards: usize) -> (String, Value) {
    let v = json_of(&recto(
        ctx,
        &[
            "ocr",
            "--citekeys",
            &keys.join(","),
            "--lang",
            "eng",
            "--shards",
            &shards.to_string(),
            "--json",
        ],
    ));
    (v["job_id"].as_str().unwrap().to_owned(), v["plan"].clone())
}

pub(crate) fn spawn_shard(
    ctx: &TestContext,
    job: &str,
    i: usize,
    n: usize,
    env: &[(&str, String)],
) -> Child {
    recto_command(
        ctx,
        &[
            "ocr",
            "--quiet",
            "--job-id",
            job,
            "--shard",
            &format!("{i}/{n}"),
            "--workers",
            "1",
        ],
        env,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

pub(crate) fn shard_record(ctx: &TestContext, job: &str, i: usize) -> Value {
    let p = ctx.data_dir().join(format!(
        "analytics/ocr/job_metadata/{job}.shards/shard-{i}.json"
    ));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Pages done by every run of every shard, and found done again.
pub(crate) fn done_and_resumed(ctx: &TestContext, job: &str, shards: usize) -> (u64, u64) {
    let mut done = 0;
    let mut resumed = 0;
    for i in 0..shards {
        let p = ctx.data_dir().join(format!(
            "analytics/ocr/job_metadata/{job}.shards/shard-{i}.json"
        ));
        if !p.exists() {
            continue;
        }
        for r in shard_record(ctx, job, i)["runs"].as_array().unwrap() {
            done += r["done"].as_u64().unwrap();
            resumed += r["resumed"].as_u64().unwrap();
        }
    }
    (done, resumed)
}

/// Every page JSON of `job` by (citekey, file name), timings left out:
/// what must equal between a sharded and a one-machine run.
pub(crate) fn pages_of(
    ctx: &TestContext,
    job: &str,
    keys: &[String],
) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for k in keys {
        let dir = ctx.data_dir().join(format!("analytics/ocr/{k}/{job}"));
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with("page_") || !name.ends_with(".json") {
                continue;
            }
            let mut v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("timings");
            if let Some(r) = o.get_mut("retry").and_then(Value::as_object_mut) {
                r.remove("ms");
            }
            out.insert((k.clone(), name), v);
        }
    }
    out
}

/// The same citekeys OCRed by one `recto ocr` process: the reference.
pub(crate) fn one_machine(ctx: &TestContext, keys: &[String]) -> String {
    let v = json_of(&recto(
        ctx,
        &[
            "ocr",
            "--citekeys",
            &keys.join(","),
            "--lang",
            "eng",
            "--workers",
            "2",
            "--json",
        ],
    ));
    v["job_id"].as_str().unwrap().to_owned()
}

/// The sharded job's record against the one-machine run's: the same
/// fields (plus `shards`), counts and per-citekey results; the same pages
/// and full texts.
pub(crate) fn assert_same_as_one_machine(
    ctx: &TestContext,
    job: &str,
    reference: &str,
    keys: &[String],
) {
    let a = step_meta(ctx, "ocr", job);
    let b = step_meta(ctx, "ocr", reference);
    let fields = |v: &Value| -> Vec<String> {
        let mut f: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        f.retain(|k| k != "shards");
        f.sort();
        f
    };
    assert_eq!(fields(&a), fields(&b));
    for k in [
        "status",
        "citekeys",
        "pages",
        "failures",
        "source_job_id",
        "sources",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    for k in keys {
        let (x, y) = (&a["per_citekey"][k], &b["per_citekey"][k]);
        for f in [
            "pages",
            "text_layer",
            "ocr",
            "mean_confidence",
            "sha256",
            "source_job_id",
        ] {
            assert_eq!(x[f], y[f], "{k}.{f}");
        }
        let text = |j: &str| {
            std::fs::read_to_string(
                ctx.data_dir()
                    .join(format!("analytics/ocr/{k}/{j}/fulltext.txt")),
            )
            .unwrap()
        };
        assert_eq!(text(job), text(reference), "{k}: fulltext.txt");
    }
    let (pa, pb) = (pages_of(ctx, job, keys), pages_of(ctx, reference, keys));
    assert_eq!(pa.len(), pb.len());
    for (page, v) in &pa {
        assert_eq!(Some(v), pb.get(page), "{page:?}");
    }
}

pub(crate) fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed().as_secs() < secs, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn status_json(ctx: &TestContext, job: &str, env: &[(&str, String)]) -> Value {
    json_of(&recto_env(ctx, &["jobs", "status", job, "--json"], env))
}

pub(crate) fn pages_done(
    ctx: &TestContext,
    job: &str,
    shard: usize,
    env: &[(&str, String)],
) -> u64 {
    status_json(ctx, job, env)["shards"][shard]["pages_done"]
        .as_u64()
        .unwrap()
}

#[test]
fn shards_as_processes_make_one_job_like_a_one_machine_run() {
    let ctx = TestContext::new();
    let mut keys = books(&ctx, 3, 5);
    // A born-digital book: its pages weigh little in the plan.
    let pages: Vec<String> = (1..=12).map(|p| format!("Born digital page {p}")).collect();
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "born", &text_pdf(&refs));
    keys.push("born".into());
    upload(&ctx);
    let (job, plan) = plan(&ctx, &keys, 3);

    // The plan: every page once, balanced by cost, not by count.
    let mut seen = BTreeMap::new();
    for a in plan["assignments"].as_array().unwrap() {
        for s in a["slices"].as_array().unwrap() {
            for p in s["first"].as_u64().unwrap()..=s["last"].as_u64().unwrap() {
                *seen
                    .entry((s["citekey"].as_str().unwrap().to_owned(), p))
                    .or_insert(0) += 1;
            }
        }
    }
    assert_eq!(seen.len(), 3 * 5 + 12);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    let est: Vec<f64> = plan["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["estimated_seconds"].as_f64().unwrap())
        .collect();
    let (lo, hi) = (
        est.iter().cloned().fold(f64::MAX, f64::min),
        est.iter().cloned().fold(0.0, f64::max),
    );
    assert!(hi - lo <= 1.7, "unbalanced: {est:?}");
    // Recorded as running with no process of its own; nothing is stale.
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "running");
    assert!(m.get("pid").is_none(), "{m}");
    assert_eq!(m["shards"]["count"], 3);
    let st = status_json(&ctx, &job, &[]);
    assert_eq!(st["steps"][0]["status"], "running", "{st}");
    assert!(
        st["shards"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "not started")
    );

    // The shards at once, as separate processes (no lock shared in memory).
    let children: Vec<Child> = (0..3).map(|i| spawn_shard(&ctx, &job, i, 3, &[])).collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed", "{m}");
    assert_eq!(m["pages"]["total"], 27);
    assert_eq!(m["shards"]["states"]["0"], "completed");
    // Every page exactly once: the runs' pages add up to the job's.
    assert_eq!(done_and_resumed(&ctx, &job, 3), (27, 0));
    let st = status_json(&ctx, &job, &[]);
    for s in st["shards"].as_array().unwrap() {
        assert_eq!(s["state"], "completed");
        assert_eq!(s["pages_done"], s["pages"]);
    }
    // The record as the registry derives it is the same after a rebuild.
    let before = stdout(&recto(&ctx, &["jobs", "show", &job]));
    assert!(recto(&ctx, &["registry", "rebuild"]).status.success());
    assert_eq!(stdout(&recto(&ctx, &["jobs", "show", &job])), before);
    // `current` points at the sharded job; merging again changes nothing.
    assert_eq!(
        std::fs::read_link(ctx.data_dir().join("analytics/ocr/book0/current")).unwrap(),
        PathBuf::from(&job)
    );
    let again = recto(&ctx, &["ocr", "--finalize", &job]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(step_meta(&ctx, "ocr", &job)["shards"]["count"], 3);
    // Downstream sees one job: its sync pushes every page.
    let o = recto(&ctx, &["sync-ocr", "--job-id", &job, "--json"]);
    let v = json_of(&o);
    assert_eq!(v["status"], "completed", "{v}");
    // A sharded job is not resumed as a one-machine job.
    let o = recto(&ctx, &["ocr", "--resume", &job]);
    assert!(stdout(&o).contains("already completed"), "{}", stdout(&o));

    let reference = one_machine(&ctx, &keys);
    assert_same_as_one_machine(&ctx, &job, &reference, &keys);
}

#[test]
fn a_killed_shard_redoes_only_its_unfinished_pages() {
    let ctx = TestContext::new();
    let keys = books(&ctx, 2, 20);
    upload(&ctx);
    let (job, _) = plan(&ctx, &keys, 2);
    // Held after 2 pages: killed mid-shard on any machine.
    let hold = recto_test_support::Hold::new(&ctx, "ocr-page", 2);
    let mut first = spawn_shard(&ctx, &job, 0, 2, &[hold.env()]);
    wait_until("shard 0's first pages", 120, || {
        pages_done(&ctx, &job, 0, &[]) >= 2
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let before = pages_done(&ctx, &job, 0, &[]);
    assert_eq!(before, 2, "shard 0 was held after its second page");
    let st = status_json(&ctx, &job, &[]);
    assert_eq!(st["shards"][0]["state"], "interrupted", "{st}");
    // The job is still running: a shard never merges while another is
    // unfinished, and --finalize names what is missing.
    let o = recto(
        &ctx,
        &["ocr", "--job-id", &job, "--shard", "1/2", "--workers", "1"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(step_meta(&ctx, "ocr", &job)["status"], "running");
    let o = recto(&ctx, &["ocr", "--resume", &job]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("runs in 2 shards"), "{}", stderr(&o));
    let o = recto(&ctx, &["ocr", "--finalize", &job]);
    // No citekey is whole: the merged job failed, and the exit says so.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "failed");
    // Each citekey with pages of shard 0 fails naming it and how to finish.
    let failures = m["failures"].as_object().unwrap();
    assert!(!failures.is_empty(), "{m}");
    for why in failures.values() {
        let why = why.as_str().unwrap();
        assert!(
            why.contains("shard 0 (interrupted)") && why.contains("run shard 0 of 2"),
            "{why}"
        );
        assert!(!why.contains("shard 1"), "{why}");
    }
    // The CLI says how, in its own words.
    assert!(stderr(&o).contains("--shard 0/2"), "{}", stderr(&o));

    // Run again: it keeps the pages done before the kill and finishes.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--job-id",
            &job,
            "--shard",
            "0/2",
            "--workers",
            "1",
            "--json",
        ],
    );
    let v = json_of(&o);
    assert_eq!(v["run"]["resumed"].as_u64().unwrap(), before);
    assert_eq!(v["finalized"], "completed", "{v}");
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed", "{m}");
    assert_eq!(
        shard_record(&ctx, &job, 0)["runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The killed run recorded nothing; the pages it did are those the
    // second run found done: each page was done by exactly one run.
    let (done, resumed) = done_and_resumed(&ctx, &job, 2);
    assert_eq!(resumed, before);
    assert_eq!(done + resumed, 40, "every page done exactly once");
    assert_eq!(m["pages"]["resumed"].as_u64().unwrap(), before);
}

#[test]
fn shard_flags_are_checked() {
    let ctx = TestContext::new();
    let keys = books(&ctx, 1, 1);
    upload(&ctx);
    let (job, _) = plan(&ctx, &keys, 2);
    for (args, want) in [
        (
            vec!["--job-id", job.as_str(), "--shard", "2/2"],
            "expected I/N",
        ),
        (
            vec!["--job-id", job.as_str(), "--shard", "0/3"],
            "planned in 2 shards",
        ),
        (vec!["--job-id", "nonsense", "--shard", "0/2"], "nonsense"),
    ] {
        let mut a = vec!["ocr"];
        a.extend(args);
        let o = recto(&ctx, &a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{a:?}: {}", stderr(&o));
    }
    let plain = one_machine(&ctx, &keys);
    let o = recto(&ctx, &["ocr", "--finalize", &plain]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was not planned in shards"),
        "{}",
        stderr(&o)
    );
    // A dry run of `recto slurm ocr` records nothing and prints both scripts.
    let jobs = stdout(&recto(&ctx, &["jobs", "list", "--json"]));
    let o = recto(
        &ctx,
        &[
            "slurm",
            "ocr",
            "--citekeys",
            "book0",
            "--workers",
            "3",
            "--cpus-per-task",
            "2",
            "--time",
            "00:10:00",
            "--dry-run",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "#SBATCH --array=0-2",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --time=00:10:00",
        "--shard \"${SLURM_ARRAY_TASK_ID}/3\"",
        "--finalize <job-id>",
        "afterany",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert_eq!(stdout(&recto(&ctx, &["jobs", "list", "--json"])), jobs);
}

// ----- on a real Slurm ------------------------------------------------------

/// The records of a sharded and a whole run of `step`: the same status,
/// counts, failures and per-citekey results (the folders named by job aside).
pub(crate) fn assert_same_record(ctx: &TestContext, step: &str, sharded: &str, whole: &str) {
    let (a, b) = (step_meta(ctx, step, sharded), step_meta(ctx, step, whole));
    for k in ["status", "citekeys", "failures", "source_job_id"] {
        assert_eq!(a[k], b[k], "{step}: {k}");
    }
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        for e in v.as_object_mut().unwrap().values_mut() {
            e.as_object_mut().unwrap().remove("dir");
        }
        v
    };
    assert_eq!(strip(&a["per_citekey"]), strip(&b["per_citekey"]), "{step}");
    assert_eq!(a["shards"]["count"], 2, "{step}");
    assert!(b.get("shards").is_none());
}

#[test]
fn toc_segmentation_and_export_run_as_one_job_in_shards() {
    use super::toc::book;
    use recto_test_support::book_pdf;
    let ctx = TestContext::new();
    let keys: Vec<String> = (0..3).map(|i| format!("paper{i}")).collect();
    for k in &keys {
        let pages = book("5");
        let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
        write_pdf(&ctx, k, &book_pdf(&refs, &[], None));
    }
    upload(&ctx);
    let o = recto(&ctx, &["ocr", "--all", "--lang", "eng", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = keys.join(",");
    for (step, extra) in [
        ("toc", vec![]),
        ("segment", vec![]),
        ("export", vec!["--format", "txt,md"]),
    ] {
        let record = if step == "segment" {
            "segmentation"
        } else {
            step
        };
        let mut plan_args = vec![step, "--citekeys", list.as_str(), "--shards", "2", "--json"];
        plan_args.extend(&extra);
        let v = json_of(&recto(&ctx, &plan_args));
        let job = v["job_id"].as_str().unwrap().to_owned();
        assert_eq!(step_meta(&ctx, record, &job)["status"], "running", "{step}");
        // Shard 1 alone, then a merge: shard 0's citekeys fail naming it.
        let mut shard = vec![step, "--job-id", job.as_str(), "--shard", "1/2", "--quiet"];
        shard.extend(&extra);
        let o = recto(&ctx, &shard);
        assert!(o.status.success(), "{step}: {}", stderr(&o));
        assert_eq!(step_meta(&ctx, record, &job)["status"], "running", "{step}");
        let mut fin = vec![step, "--finalize", job.as_str(), "--quiet"];
        fin.extend(&extra);
        let o = recto(&ctx, &fin);
        assert_eq!(o.status.code(), Some(3), "{step}: {}", stderr(&o));
        let m = step_meta(&ctx, record, &job);
        assert_eq!(m["status"], "failed", "{step}");
        let failures = m["failures"].as_object().unwrap();
        assert_eq!(failures.len(), 1, "{step}: {m}");
        assert!(
            failures["paper0"]
                .as_str()
                .unwrap()
                .contains("shard 0 (not started)"),
            "{m}"
        );
        // Shard 0 then merges the job, completed.
        let mut shard0 = vec![step, "--job-id", job.as_str(), "--shard", "0/2", "--quiet"];
        shard0.extend(&extra);
        let o = recto(&ctx, &shard0);
        assert!(o.status.success(), "{step}: {}", stderr(&o));
        assert_eq!(
            step_meta(&ctx, record, &job)["status"],
            "completed",
            "{step}"
        );
        let st = status_json(&ctx, &job, &[]);
        let shards = st["step_shards"][record].as_array().unwrap();
        assert_eq!(shards.len(), 2, "{st}");
        let done: u64 = shards
            .iter()
            .map(|s| s["citekeys_done"].as_u64().unwrap())
            .sum();
        assert_eq!(done, 3, "{st}");
        for k in &keys {
            let link = ctx
                .data_dir()
                .join(format!("analytics/{record}/{k}/current"));
            // Export keeps each file of the job that wrote it last.
            let (link, want) = if step == "export" {
                let file = format!("{k}.txt");
                let want = PathBuf::from("..").join(&job).join(&file);
                (link.join(file), want)
            } else {
                (link, PathBuf::from(&job))
            };
            assert_eq!(std::fs::read_link(&link).unwrap(), want, "{step}");
        }
        // The same as a whole run of the same citekeys.
        let mut whole = vec![step, "--citekeys", list.as_str(), "--json"];
        whole.extend(&extra);
        let w = json_of(&recto(&ctx, &whole));
        assert_same_record(&ctx, record, &job, w["job_id"].as_str().unwrap());
        if step == "toc" {
            let read = |j: &str| -> Value {
                serde_json::from_slice(
                    &std::fs::read(
                        ctx.data_dir()
                            .join(format!("analytics/toc/paper1/{j}/toc.json")),
                    )
                    .unwrap(),
                )
                .unwrap()
            };
            assert_eq!(read(&job), read(w["job_id"].as_str().unwrap()));
        }
    }
}
