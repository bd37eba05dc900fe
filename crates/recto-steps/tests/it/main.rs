//! The steps as a library, without spawning the binary: upload, OCR and
//! sync against an in-memory store (object_store's `InMemory`), and the
//! harness as a new step would use it.

use std::collections::BTreeMap;

mod driver;

use recto_registry::{Registry, Status};
use recto_steps::harness::{Citekeys, Start, Step, StepRun};
use recto_steps::ocr::{OcrOptions, OcrOutcome, OcrRequest, run_ocr};
use recto_steps::sources;
use recto_steps::sync::{SyncRequest, run_sync};
use recto_steps::upload::{FileOutcome, UploadOptions, upload};
use recto_steps::{NoProgress, StepError};
use recto_store::{Store, StoreConfig};
use recto_test_support::{TestContext, text_pdf};
use serde::Serialize;
use serde_json::Value;

fn memory_store(name: &str) -> Store {
    Store::open(
        &StoreConfig {
            url: format!("memory://{name}"),
            ..Default::default()
        },
        std::path::Path::new("."),
    )
    .unwrap()
}

fn ocr_request(ctx: &TestContext, citekeys: &[&str]) -> OcrRequest {
    OcrRequest {
        citekeys: citekeys.iter().map(|s| s.to_string()).collect(),
        selection: Default::default(),
        dry_run: false,
        source_job_id: None,
        output: None,
        resume: None,
        password: None,
        options: OcrOptions {
            languages: Some("eng".into()),
            ..Default::default()
        },
        workers: Some(2),
        store: None,
        cache_dir: ctx.data_dir().join("cache/sources"),
    }
}

/// Upload two text PDFs into the named memory store.
async fn uploaded(ctx: &TestContext, reg: &Registry, store: &Store) -> String {
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a2020.pdf"),
        text_pdf(&["The first paper, with its text."]),
    )
    .unwrap();
    std::fs::write(
        dir.join("b2021.pdf"),
        text_pdf(&["The second paper, with more text."]),
    )
    .unwrap();
    let inputs = sources::from_dir(&dir, true, &[]).unwrap();
    let report = upload(reg, store, inputs, &UploadOptions::default(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.count(|o| *o == FileOutcome::Uploaded), 2);
    report.job_id.unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_ocr_and_sync_through_an_in_memory_store() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let store = memory_store("pipeline");
    let src = uploaded(&ctx, &reg, &store).await;
    let m = reg.metadata_by_name("upload", &src).unwrap().1;
    assert_eq!(m["status"], "completed");
    assert_eq!(m["store"], "memory://pipeline");
    assert_eq!(m["citekeys"]["uploaded"], 2);
    assert_eq!(m["checksums"].as_object().unwrap().len(), 2);
    assert!(m["duration_seconds"].as_f64().is_some() && m["started_at"].is_string());

    // OCR reads the sources from the store the upload recorded.
    let out = run_ocr(&reg, ocr_request(&ctx, &["a2020", "b2021"]), &NoProgress)
        .await
        .unwrap();
    let OcrOutcome::Ran {
        job_id,
        metadata,
        failures,
    } = out
    else {
        panic!("ran")
    };
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(metadata["status"], "completed");
    assert_eq!(metadata["source_job_id"], src.as_str());
    assert_eq!(metadata["pages"]["text_layer"], 2);
    assert_eq!(metadata["config"]["workers"], 2);
    let page: Value = serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join(format!("analytics/ocr/a2020/{job_id}/page_0001.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(page["text"].as_str().unwrap().contains("first paper"));

    // Sync to the same store, then again: nothing changed, nothing goes up.
    let req = SyncRequest {
        step: "ocr".into(),
        job: "latest".into(),
        skip_images: false,
        dry_run: false,
        concurrency: 4,
        store: None,
        allow_incomplete: false,
    };
    let first = run_sync(&reg, &req, &NoProgress).await.unwrap();
    assert!(first.failures.is_empty() && first.mismatches.is_empty());
    // 2 citekeys x (page JSON, image, full text) + the job's metadata.
    assert_eq!(first.uploaded.len(), 7);
    let listed = store.list("analytics/ocr/").await.unwrap();
    assert!(
        listed
            .iter()
            .any(|o| o.key == format!("analytics/ocr/a2020/{job_id}/page_0001.json"))
    );
    let second = run_sync(&reg, &req, &NoProgress).await.unwrap();
    assert_eq!(second.uploaded.len(), 0, "{:?}", second.uploaded);
    assert_eq!(second.skipped, 7);
    let sync = reg.metadata_by_name("sync_ocr", job_id.as_str()).unwrap().1;
    assert_eq!(sync["ocr_job_id"], job_id.as_str());
    assert_eq!(sync["verified"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_conflicts_and_missing_jobs_are_typed_errors() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let store = memory_store("resume");
    uploaded(&ctx, &reg, &store).await;
    let OcrOutcome::Ran { job_id, .. } = run_ocr(&reg, ocr_request(&ctx, &["a2020"]), &NoProgress)
        .await
        .unwrap()
    else {
        panic!("ran")
    };
    // Completed: a resume does nothing.
    let mut req = ocr_request(&ctx, &[]);
    req.options.languages = None;
    req.resume = Some(job_id.to_string());
    let out = run_ocr(&reg, req.clone(), &NoProgress).await.unwrap();
    assert!(matches!(out, OcrOutcome::AlreadyCompleted { .. }));
    // Mark it failed, then resume with other settings: refused, typed.
    let mut m = reg.metadata_by_name("ocr", job_id.as_str()).unwrap().1;
    m.insert("status".into(), "failed".into());
    reg.save_by_name("ocr", job_id.as_str(), Value::Object(m))
        .unwrap();
    req.options.dpi = Some(150);
    req.citekeys = vec!["b2021".into()];
    let err = run_ocr(&reg, req, &NoProgress).await.unwrap_err();
    match &err {
        StepError::ResumeConflict { differences, .. } => {
            assert_eq!(differences.len(), 2, "{differences:?}");
        }
        other => panic!("{other}"),
    }
    assert!(err.is_invalid_input());
    assert!(
        !err.to_string().contains("--"),
        "no CLI flags in library errors: {err}"
    );
    let mut req = ocr_request(&ctx, &[]);
    req.resume = Some("2020-01-01_00-00-00".into());
    let err = run_ocr(&reg, req, &NoProgress).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// A step as a new module would declare it.
struct WordCount;

impl Step for WordCount {
    const NAME: &'static str = "wordcount";
    const INPUT: Option<&'static str> = Some("ocr");
}

#[derive(Serialize)]
struct WordCountBody {
    words: BTreeMap<String, usize>,
}

#[test]
fn a_new_step_is_recorded_by_the_harness() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let keys = Citekeys::new(vec!["a2020".into(), "b2021".into()]);
    let run = StepRun::begin::<WordCount, _>(&reg, Start::New, None, keys.clone(), &()).unwrap();
    let job = run.job().clone();
    let running = reg.metadata_by_name("wordcount", job.as_str()).unwrap().1;
    assert_eq!(running["status"], "running");
    assert_eq!(running["pid"], std::process::id());
    // Another process (or thread) cannot run the same job meanwhile.
    let again =
        StepRun::begin::<WordCount, _>(&reg, Start::Resume(job.clone()), None, keys.clone(), &());
    assert!(matches!(
        again,
        Err(StepError::Registry(recto_registry::Error::JobBusy { .. }))
    ));
    let mut failures = BTreeMap::new();
    failures.insert("b2021".to_owned(), "no pages".to_owned());
    let body = WordCountBody {
        words: [("a2020".to_owned(), 7)].into(),
    };
    let saved = run
        .finish(
            None,
            keys.clone().count("successful", 1).count("failed", 1),
            failures,
            body,
        )
        .unwrap();
    // It reached its end with one of two citekeys done: completed, the
    // failure beside; the failed citekey still reads failed.
    assert_eq!(saved["status"], "completed");
    assert_eq!(saved["words"]["a2020"], 7);
    assert_eq!(saved["citekeys"]["successful"], 1);
    assert_eq!(saved["failures"]["b2021"], "no pages");
    assert!(saved.get("pid").is_none(), "a finished step records no pid");
    let keys_order: Vec<&str> = saved.keys().map(String::as_str).collect();
    let pos = |k: &str| keys_order.iter().position(|x| *x == k).unwrap();
    assert!(
        pos("status") < pos("citekeys")
            && pos("citekeys") < pos("words")
            && pos("words") < pos("failures")
    );
    let hits = reg.find_jobs_for_citekey("b2021").unwrap();
    assert_eq!(
        (hits[0].step.as_str(), hits[0].status.as_str()),
        ("wordcount", "failed")
    );

    // A run that ends without finish or abort (a panic) is recorded failed.
    let keys2 = keys.clone();
    let reg2 = &reg;
    let job2 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let run = StepRun::begin::<WordCount, _>(reg2, Start::New, None, keys2, &()).unwrap();
        let job = run.job().clone();
        if job.as_str().len() > 1 {
            std::panic::resume_unwind(Box::new(job));
        }
        unreachable!()
    }))
    .unwrap_err()
    .downcast::<recto_registry::JobId>()
    .unwrap();
    let m = reg.metadata_by_name("wordcount", job2.as_str()).unwrap().1;
    assert_eq!(m["status"], Status::Failed.as_str());
    assert!(m["error"].as_str().unwrap().contains("without recording"));

    // abort records why the step as a whole stopped.
    let run = StepRun::begin::<WordCount, _>(&reg, Start::New, None, keys, &()).unwrap();
    let job3 = run.job().clone();
    let err = run.abort(None, Citekeys::default(), (), StepError::NoCitekeys);
    assert!(matches!(err, StepError::NoCitekeys));
    let m = reg.metadata_by_name("wordcount", job3.as_str()).unwrap().1;
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error"], "no citekeys given");
}
