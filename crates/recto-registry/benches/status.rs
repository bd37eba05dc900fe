//! `recto status` (the library view, `Registry::citekey_states`) at 10,000
//! citekeys, side by side with a reference that answers the same question
//! the way a script over the spec's files would: read every source and OCR
//! metadata file, then find each citekey's newest upload and newest OCR.
//!
//! `cargo bench -p recto-registry --bench status` (10,000 citekeys; set
//! `RECTO_BENCH_CITEKEYS` to change). Under `cargo test` it runs a
//! 300-citekey smoke version that checks both sides agree.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use recto_registry::{JobId, Registry};
use serde_json::{Value, json};

/// Citekeys per upload batch and per OCR job: 500 (a library processed in
/// batches; set `RECTO_BENCH_BATCH`, e.g. 1 for one job per paper).
fn batch() -> usize {
    std::env::var("RECTO_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let citekeys: usize = match std::env::var("RECTO_BENCH_CITEKEYS") {
        Ok(v) => v.parse().expect("RECTO_BENCH_CITEKEYS is a number"),
        Err(_) if full => 10_000,
        Err(_) => 300,
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&data, citekeys);
    let reg = Registry::open(&data);
    let t = Instant::now();
    reg.rebuild_central_registry().unwrap();
    println!(
        "generated {citekeys} citekeys in batches of {}, index built in {:.2?}",
        batch(),
        t.elapsed()
    );

    // Warm both (first open of the index, page cache), then median of 7.
    let ours = reg.citekey_states(&[], None).unwrap();
    let theirs = reference(&data);
    assert_eq!(ours.len(), citekeys);
    for s in &ours {
        let (src, ocr) = &theirs[&s.citekey];
        assert_eq!(
            s.source.as_ref().map(|x| x.job_id.as_str()),
            Some(src.as_str())
        );
        assert_eq!(
            s.steps[0].job_id.as_deref(),
            ocr.as_deref(),
            "{}",
            s.citekey
        );
    }
    let outdated = ours
        .iter()
        .filter(|s| s.steps[0].state == "outdated")
        .count();
    let pending = ours
        .iter()
        .filter(|s| s.steps[0].state == "pending")
        .count();
    println!("states agree with the reference ({outdated} outdated, {pending} without OCR)");

    let median = |f: &mut dyn FnMut()| {
        let mut v: Vec<Duration> = (0..7)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        v.sort();
        v[3]
    };
    let a = median(&mut || {
        std::hint::black_box(reg.citekey_states(&[], None).unwrap());
    });
    let b = median(&mut || {
        std::hint::black_box(reference(&data));
    });
    let one = median(&mut || {
        std::hint::black_box(reg.citekey_states(&["key05000".to_owned()], None).ok());
    });
    println!(
        "all {citekeys} citekeys: recto {:.1} ms, reference {:.1} ms ({:.1}x); one citekey: {:.2} ms",
        ms(a),
        ms(b),
        ms(b) / ms(a),
        ms(one)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Uploads in batches of `BATCH`, OCR of all but the last batch, a sync of
/// each OCR job, and a second upload of the first batch's first half with
/// changed PDFs (so those OCR results are outdated).
fn generate(data: &Path, n: usize) {
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let id = |min: i64| JobId::from_datetime(base + chrono::TimeDelta::minutes(min));
    let w = |p: std::path::PathBuf, v: Value| {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    let batch = batch();
    let batches = n.div_ceil(batch);
    for b in 0..batches {
        let keys: Vec<String> = (b * batch..((b + 1) * batch).min(n))
            .map(|i| format!("key{i:05}"))
            .collect();
        let src = id(b as i64 * 10);
        let last = b + 1 == batches && batches > 1;
        let sums: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| (k.clone(), json!(format!("{:064}", b))))
            .collect();
        w(
            data.join(format!("sources/job_metadata/{src}.json")),
            json!({"status": "completed", "citekeys": {"total": keys.len(), "list": keys},
                   "checksums": sums, "sizes": keys.iter().map(|k| (k.clone(), json!(100_000))).collect::<serde_json::Map<_, _>>()}),
        );
        if last || (batch == 1 && b % 20 == 19) {
            continue; // not OCRed yet
        }
        let ocr = id(b as i64 * 10 + 5);
        let per: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| {
                (
                    k.clone(),
                    json!({"pages": 12, "mean_confidence": 91.5, "source_job_id": src.as_str()}),
                )
            })
            .collect();
        w(
            data.join(format!("analytics/ocr/job_metadata/{ocr}.json")),
            json!({"status": "completed", "source_job_id": src.as_str(),
                   "citekeys": {"total": keys.len(), "list": keys}, "per_citekey": per, "failures": {}}),
        );
        w(
            data.join(format!("analytics/sync_ocr/job_metadata/{ocr}.json")),
            json!({"status": "completed", "source_job_id": src.as_str(),
                   "citekeys": {"total": keys.len(), "list": keys}}),
        );
    }
    let again: Vec<String> = (0..(n / 40).max(1)).map(|i| format!("key{i:05}")).collect();
    let src = id(batches as i64 * 10 + 100);
    w(
        data.join(format!("sources/job_metadata/{src}.json")),
        json!({"status": "completed", "citekeys": {"total": again.len(), "list": again},
               "checksums": again.iter().map(|k| (k.clone(), json!(format!("{:064}", 999)))).collect::<serde_json::Map<_, _>>()}),
    );
}

/// Each citekey's newest upload and newest OCR job, from the files.
fn reference(data: &Path) -> BTreeMap<String, (String, Option<String>)> {
    let read_dir = |d: &Path| -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = fs::read_dir(d)
            .map(|e| {
                e.flatten()
                    .map(|e| {
                        let job = e.path().file_stem().unwrap().to_str().unwrap().to_owned();
                        (
                            job,
                            serde_json::from_slice(&fs::read(e.path()).unwrap()).unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let mut out: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for (job, m) in read_dir(&data.join("sources/job_metadata")) {
        for k in m["citekeys"]["list"].as_array().unwrap() {
            out.entry(k.as_str().unwrap().to_owned()).or_default().0 = job.clone();
        }
    }
    for (job, m) in read_dir(&data.join("analytics/ocr/job_metadata")) {
        for k in m["citekeys"]["list"].as_array().unwrap() {
            if let Some(e) = out.get_mut(k.as_str().unwrap()) {
                e.1 = Some(job.clone());
            }
        }
    }
    out
}
