//! A new step on the driver: a toy step that counts each citekey's words
//! from its OCR pages, declared in the lines between the markers, gets a
//! recorded run, per-citekey failures with the step to run first, shards
//! and their merge, `current` links, the library's result lookup (what the
//! web app, Python and `recto text` read), status and sync, without a line
//! of its own for any of them.

use std::collections::BTreeMap;

use recto_library::{LibraryError, StepResult, ocr_result, step_result};
use recto_registry::{Citekey, JobId, Registry, StepName};
use recto_steps::driver::{self, CitekeyStep, Remedy, Request, Sharding, Target};
use recto_steps::harness::Selection;
use recto_steps::sync::{SyncRequest, run_sync};
use recto_steps::{CitekeyError, NoProgress};
use recto_test_support::TestContext;
use serde::{Deserialize, Serialize};

// --- the toy step: 53 lines as rustfmt lays them out ---
struct WordCount;
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Body {}
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Words {
    words: usize,
    dir: String,
}
impl CitekeyStep for WordCount {
    const NAME: &'static str = "wordcount";
    const INPUT: &'static str = "ocr";
    const NOTHING: &'static str = "no citekey has OCR without a word count";
    type Input = StepResult;
    type Entry = Words;
    type Body = Body;
    fn body(&self) -> Body {
        Body {}
    }
    fn lookup(
        &self,
        r: &Registry,
        k: &Citekey,
        j: Option<&JobId>,
    ) -> Result<StepResult, LibraryError> {
        ocr_result(r, k, j)
    }
    fn input_job(ocr: &StepResult) -> &JobId {
        &ocr.job_id
    }
    fn work(
        &self,
        k: &Citekey,
        ocr: &StepResult,
        _: &Body,
        t: &Target<'_>,
    ) -> Result<Words, CitekeyError> {
        let mut words = 0;
        recto_library::pages::for_each_page(&ocr.dir, None, None, |_, p| {
            words += p.map_or(0, |p| p.text.split_whitespace().count());
        })?;
        let dir = t.dir(k)?;
        std::fs::write(dir.join("count.txt"), words.to_string()).map_err(|source| {
            CitekeyError::Io {
                path: dir.clone(),
                source,
            }
        })?;
        Ok(Words {
            words,
            dir: t.recorded(&dir),
        })
    }
}
// --- end of the toy step ---

fn request(selection: Selection, sharding: Sharding) -> Request {
    Request {
        selection,
        input_job: None,
        sharding,
        output: None,
    }
}

fn given(keys: &[&str]) -> Selection {
    Selection::Given(keys.iter().map(|k| k.to_string()).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_toy_step_gets_records_failures_shards_current_lookup_status_and_sync() {
    let ctx = TestContext::new();
    let reg = Registry::open(ctx.data_dir());
    let store = super::memory_store("toy");
    super::uploaded(&ctx, &reg, &store).await;
    // Only a2020 has OCR: b2021 fails alone, naming the step to run first.
    let ocr = super::ocr_request(&ctx, &["a2020"]);
    recto_steps::ocr::run_ocr(&reg, ocr, &NoProgress)
        .await
        .unwrap();

    // The words of the text PDF `uploaded` wrote for a2020.
    let expected = "The first paper, with its text.".split_whitespace().count();
    let whole = request(given(&["a2020", "b2021"]), Sharding::Whole);
    let out = driver::run(&reg, &WordCount, &whole, &NoProgress)
        .await
        .unwrap();
    assert_eq!(out.recorded.per_citekey["a2020"].words, expected, "{out:?}");
    assert_eq!(
        out.failures["b2021"].remedy,
        Some(Remedy::RunFirst { step: "ocr".into() })
    );
    assert_eq!(out.metadata["citekeys"]["successful"], 1);
    assert_eq!(out.metadata["citekeys"]["failed"], 1);
    assert_eq!(out.metadata["output_dir"], "analytics/wordcount");
    assert!(
        out.metadata["failures"]["b2021"]
            .as_str()
            .unwrap()
            .contains("no ocr result")
    );

    // Recorded paths are relative to the data directory; the library (the
    // web app's, Python's and `recto text`'s lookup) finds the result.
    let key = Citekey::parse("a2020").unwrap();
    let found = step_result(&reg, "wordcount", &key, None).unwrap();
    assert_eq!(found.job_id, out.job_id);
    assert_eq!(
        std::fs::read_to_string(found.dir.join("count.txt")).unwrap(),
        expected.to_string()
    );
    let current = ctx.data_dir().join("analytics/wordcount/a2020/current");
    assert_eq!(
        std::fs::read_link(&current).unwrap().to_str(),
        Some(out.job_id.as_str())
    );

    // Status: done for a2020, not for b2021.
    let steps = [
        StepName::parse("ocr").unwrap(),
        StepName::parse("wordcount").unwrap(),
    ];
    let states: BTreeMap<String, String> = reg
        .citekey_states(&[], Some(&steps))
        .unwrap()
        .into_iter()
        .map(|s| (s.citekey, s.steps[1].state.clone()))
        .collect();
    assert_eq!(states["a2020"], "done");
    assert_ne!(states["b2021"], "done");

    // In two shards: plan, run each, the last merges into the same record
    // a whole run writes, plus `shards`; `current` moves to the new job.
    let planned = driver::run(
        &reg,
        &WordCount,
        &request(given(&["a2020"]), Sharding::Plan(2)),
        &NoProgress,
    )
    .await
    .unwrap();
    let job = planned.job_id.clone();
    assert_eq!(planned.metadata["status"], "running");
    for index in 0..2 {
        let shard = Sharding::Shard {
            job: job.clone(),
            index,
            of: 2,
        };
        driver::run(&reg, &WordCount, &request(given(&[]), shard), &NoProgress)
            .await
            .unwrap();
    }
    let merged = reg.metadata_by_name("wordcount", job.as_str()).unwrap().1;
    assert_eq!(merged["status"], "completed", "{merged:?}");
    assert_eq!(merged["per_citekey"]["a2020"]["words"], expected);
    assert_eq!(merged["shards"]["count"], 2);
    let shards = driver::status(&reg, "wordcount", &job).unwrap().unwrap();
    assert!(shards.iter().all(|s| s.state == "completed"), "{shards:?}");
    assert_eq!(
        std::fs::read_link(&current).unwrap().to_str(),
        Some(job.as_str())
    );

    // Sync pushes the step's results like any step's.
    let sync = SyncRequest {
        step: "wordcount".into(),
        job: job.to_string(),
        skip_images: false,
        dry_run: false,
        concurrency: 2,
        store: None,
        allow_incomplete: false,
    };
    let pushed = run_sync(&reg, &sync, &NoProgress).await.unwrap();
    assert!(pushed.failures.is_empty(), "{:?}", pushed.failures);
    let listed = store.list("analytics/wordcount/").await.unwrap();
    let wanted = format!("analytics/wordcount/a2020/{job}/count.txt");
    assert!(listed.iter().any(|o| o.key == wanted), "{listed:?}");
}
