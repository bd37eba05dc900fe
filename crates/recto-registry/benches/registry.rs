//! Registry benchmark: queries and rebuild at 10,000 jobs, side by side with
//! a reference that scans the JSON files the way the spec's Python module
//! does (one `json.load` per registry file, no index).
//!
//! `cargo bench -p recto-registry --bench registry` (10,000 jobs; set
//! `RECTO_BENCH_JOBS` to change). Under `cargo test` it runs a 200-job smoke
//! version that checks both sides agree.

#![allow(clippy::print_stdout)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use recto_registry::{JobId, Registry};
use serde_json::{Value, json};

const CITEKEYS: usize = 1_000;
const PER_JOB: usize = 20;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let jobs: usize = match std::env::var("RECTO_BENCH_JOBS") {
        Ok(v) => v.parse().expect("RECTO_BENCH_JOBS is a number"),
        Err(_) if full => 10_000,
        Err(_) => 200,
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let t = Instant::now();
    let ids = generate(&data, jobs);
    // Flush the generator's writes so the first rebuild does not pay for them.
    std::process::Command::new("sync").status().unwrap();
    println!(
        "generated {jobs} jobs ({} metadata files) in {:.2?}",
        jobs * 3,
        t.elapsed()
    );

    let reg = Registry::open(&data);
    // Rebuild from scratch (no index, no registry files), rebuild in place,
    // and the reference: median of 3 each.
    let mut scratch = Vec::new();
    let mut in_place = Vec::new();
    let mut reference_times = Vec::new();
    let attic = tmp.path().join("attic");
    fs::create_dir_all(&attic).unwrap();
    for round in 0..3 {
        // Moved aside rather than deleted: on this machine's ext4 (mounted
        // with `discard`) mass deletion stalls the file creations right after
        // it, which would measure the disk, not the rebuild.
        for (i, dir) in ["analytics/job_registry", ".recto"].iter().enumerate() {
            let _ = fs::rename(data.join(dir), attic.join(format!("{round}-{i}")));
        }
        std::process::Command::new("sync").status().unwrap();
        let (t, report) = time_once(|| reg.rebuild_central_registry().unwrap());
        assert_eq!(
            report.jobs,
            jobs * 2,
            "one registry per upload job and per OCR job"
        );
        scratch.push(t);
        let (t, _) = time_once(|| reg.rebuild_central_registry().unwrap());
        in_place.push(t);
        // The reference writes its own registries over ours; put ours back.
        let (t, n) = time_once(|| reference::rebuild(&data));
        assert_eq!(n, jobs * 2);
        reference_times.push(t);
        reg.rebuild_central_registry().unwrap();
    }
    // The floor: only creating the same number of files of the same sizes
    // in a new folder, with one sync, as the rebuild does.
    let sizes: Vec<u64> = fs::read_dir(data.join("analytics/job_registry"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .collect();
    let mut floor = Vec::new();
    for round in 0..3 {
        let dir = attic.join(format!("floor-{round}"));
        fs::create_dir_all(&dir).unwrap();
        let (t, ()) = time_once(|| {
            for (i, n) in sizes.iter().enumerate() {
                fs::write(dir.join(format!("{i}.json")), vec![b' '; *n as usize]).unwrap();
            }
            std::process::Command::new("sync").status().unwrap();
        });
        floor.push(t);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (rebuild, rebuild_in_place, rebuild_ref) =
        (median(scratch), median(in_place), median(reference_times));
    let floor = median(floor);

    let probe_keys: Vec<String> = (0..20)
        .map(|i| format!("key{:04}", i * 37 % CITEKEYS))
        .collect();
    let probe_jobs: Vec<JobId> = (0..20).map(|i| ids[i * 7919 % ids.len()].clone()).collect();

    for k in &probe_keys[..3] {
        let ours = reg.find_jobs_for_citekey(k).unwrap().len();
        let theirs = reference::find_jobs_for_citekey(&data, k).len();
        assert_eq!(ours, theirs, "both sides agree on {k}");
    }
    assert_eq!(
        reg.list_all_jobs(None).unwrap().len(),
        reference::list_all_jobs(&data, None).len()
    );
    assert_eq!(
        reg.list_all_jobs(Some("ocr")).unwrap().len(),
        reference::list_all_jobs(&data, Some("ocr")).len()
    );

    let rows = [
        (
            "find_jobs_for_citekey",
            per_call(&probe_keys, |k| reg.find_jobs_for_citekey(k).unwrap().len()),
            per_call(&probe_keys[..3], |k| {
                reference::find_jobs_for_citekey(&data, k).len()
            }),
        ),
        (
            "get_job_pipeline_status",
            per_call(&probe_jobs, |j| {
                reg.get_job_pipeline_status(j).unwrap().steps.len()
            }),
            per_call(&probe_jobs, |j| reference::status(&data, j)),
        ),
        (
            "list_all_jobs()",
            per_call(&[()], |_| reg.list_all_jobs(None).unwrap().len()),
            per_call(&[()], |_| reference::list_all_jobs(&data, None).len()),
        ),
        (
            "list_all_jobs(\"ocr\")",
            per_call(&[()], |_| reg.list_all_jobs(Some("ocr")).unwrap().len()),
            per_call(&[()], |_| {
                reference::list_all_jobs(&data, Some("ocr")).len()
            }),
        ),
        (
            "rebuild_central_registry, from scratch",
            rebuild,
            rebuild_ref,
        ),
        (
            "rebuild_central_registry, registries in place",
            rebuild_in_place,
            rebuild_ref,
        ),
    ];
    let registries = sizes.len();
    println!();
    println!("| operation ({jobs} jobs) | recto | reference scan | speed-up |");
    println!("|---|---:|---:|---:|");
    for (name, ours, theirs) in rows {
        println!(
            "| {name} | {} | {} | {:.1}x |",
            fmt(ours),
            fmt(theirs),
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
    println!(
        "\nfloor: creating {registries} files of the registries' sizes in a new folder + sync: {} \
         (rebuild from scratch = {:.2}x the floor)",
        fmt(floor),
        rebuild.as_secs_f64() / floor.as_secs_f64()
    );
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else if d < Duration::from_secs(1) {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn time_once<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// Median time of one call over the inputs (after one warm-up call).
fn per_call<I>(inputs: &[I], mut f: impl FnMut(&I) -> usize) -> Duration {
    std::hint::black_box(f(&inputs[0]));
    let mut times: Vec<Duration> = inputs
        .iter()
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(f(i));
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Write `jobs` upload jobs, each with an OCR job and its sync, straight to
/// disk as the steps would leave them (the rebuild then indexes them).
fn generate(data: &Path, jobs: usize) -> Vec<JobId> {
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let mut ocr_ids = Vec::with_capacity(jobs);
    let w = |p: PathBuf, v: Value| {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    };
    for n in 0..jobs {
        let src = JobId::from_datetime(base + chrono::TimeDelta::seconds(n as i64 * 120));
        let ocr = JobId::from_datetime(base + chrono::TimeDelta::seconds(n as i64 * 120 + 60));
        let keys: Vec<String> = (0..PER_JOB)
            .map(|i| format!("key{:04}", (n * PER_JOB + i * 7) % CITEKEYS))
            .collect();
        let ts = |id: &JobId| id.datetime().format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
        w(
            data.join(format!("sources/job_metadata/{src}.json")),
            json!({"schema_version": 1, "status": "completed", "timestamp": ts(&src), "bucket": "sources",
                   "endpoint_url": "https://s3.eu-central-003.backblazeb2.com",
                   "citekeys": {"total": PER_JOB, "uploaded": PER_JOB, "skipped": 0, "list": keys},
                   "checksums": keys.iter().map(|k| (k.clone(), json!(format!("{:064x}", n)))).collect::<serde_json::Map<_, _>>()}),
        );
        w(
            data.join(format!("analytics/ocr/job_metadata/{ocr}.json")),
            json!({"schema_version": 1, "status": "completed", "timestamp": ts(&ocr), "source_job_id": src.as_str(),
                   "citekeys": {"total": PER_JOB, "successful": PER_JOB, "failed": 0, "list": keys},
                   "pages": {"total": 4000, "text_layer": 1000, "ocr": 3000, "failed": 0},
                   "config": {"dpi": 300, "languages": "eng+deu+fra", "mode": "auto"}}),
        );
        w(
            data.join(format!("analytics/sync_ocr/job_metadata/{ocr}.json")),
            json!({"schema_version": 1, "status": "completed", "timestamp": ts(&ocr).replace(":00+", ":30+"),
                   "source_job_id": src.as_str(), "files_uploaded": 8000, "files_skipped": 0}),
        );
        ocr_ids.push(ocr);
    }
    ocr_ids
}

/// What the spec's Python module does, file by file.
mod reference {
    use super::*;

    fn registries(data: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(data.join("analytics/job_registry"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("latest.json"))
            .collect();
        v.sort();
        v
    }

    fn load(p: &Path) -> Value {
        serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
    }

    fn lists(v: &Value, k: &str) -> bool {
        v["citekeys"]["list"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == k))
    }

    pub fn find_jobs_for_citekey(data: &Path, k: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in registries(data) {
            let r = load(&p);
            let job = r["job_id"].as_str().unwrap().to_owned();
            if lists(&r["source"], k) && r["source"]["job_id"] == r["job_id"] {
                out.push((job.clone(), "source (upload)".to_owned()));
            }
            for (step, info) in r["pipeline_steps"].as_object().unwrap() {
                if info["job_id"] == r["job_id"]
                    && (lists(info, k) || step == "sync_ocr")
                    && lists(&r["pipeline_steps"]["ocr"], k)
                {
                    out.push((job.clone(), step.clone()));
                }
            }
        }
        out
    }

    pub fn status(data: &Path, job: &JobId) -> usize {
        let r = load(&data.join(format!("analytics/job_registry/{job}.json")));
        let steps = r["pipeline_steps"].as_object().unwrap();
        let completed = steps
            .values()
            .filter(|s| s["status"] == "completed")
            .count();
        let pending = ["ocr", "sync_ocr"]
            .iter()
            .filter(|s| steps.get(**s).is_none_or(|i| i["status"] != "completed"))
            .count();
        completed + pending
    }

    pub fn list_all_jobs(data: &Path, step: Option<&str>) -> Vec<String> {
        registries(data)
            .into_iter()
            .filter(|p| match step {
                None => true,
                Some(s) => {
                    let r = load(p);
                    r["pipeline_steps"][s]["job_id"] == r["job_id"]
                }
            })
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    /// Scan every metadata file and write one registry per job, serially.
    pub fn rebuild(data: &Path) -> usize {
        let mut by_job: std::collections::BTreeMap<String, Vec<(String, Value)>> =
            Default::default();
        let mut scan = |dir: PathBuf, step: &str| {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                by_job
                    .entry(p.file_stem().unwrap().to_string_lossy().into_owned())
                    .or_default()
                    .push((step.to_owned(), load(&p)));
            }
        };
        scan(data.join("sources/job_metadata"), "source");
        for step in ["ocr", "sync_ocr"] {
            scan(data.join(format!("analytics/{step}/job_metadata")), step);
        }
        let out = data.join("analytics/job_registry");
        for (job, records) in &by_job {
            let mut steps = serde_json::Map::new();
            let mut source = Value::Null;
            for (step, meta) in records {
                if step == "source" {
                    source = meta.clone();
                } else {
                    if let Some(src) = meta["source_job_id"].as_str() {
                        source = load(&data.join(format!("sources/job_metadata/{src}.json")));
                    }
                    steps.insert(step.clone(), meta.clone());
                }
            }
            let doc = json!({"job_id": job, "source": source, "pipeline_steps": steps});
            let tmp = out.join(format!(".{job}.tmp"));
            fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
            fs::File::open(&tmp).unwrap().sync_all().unwrap();
            fs::rename(&tmp, out.join(format!("{job}.json"))).unwrap();
        }
        by_job.len()
    }
}
