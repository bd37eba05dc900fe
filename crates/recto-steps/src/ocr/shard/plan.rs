//! [`plan_sharded`]: a new sharded OCR job, every source fetched and
//! weighed once, the pages dealt into shards of equal estimated cost.

use std::collections::BTreeMap;

use recto_ocr::{DocTask, Mode};
use recto_registry::{Citekey, JobId, Registry, Status, now_timestamp};

use super::record::{PlannedDoc, PlannedShard, ShardPlan, Slice, save_job, shards_dir};
use crate::StepError;
use crate::harness::{Citekeys, StepMetadata};
use crate::ocr::decide;
use crate::ocr::engine::{engine_config, open_stores};
use crate::ocr::plan::Plan;
use crate::ocr::sources::fetch_sources;
use crate::ocr::types::{OcrRequest, OcrRunning, OcrSettings, round2};
pub use crate::sharding::ShardsInfo;
use crate::sharding::{unix_now, write_json};

/// Seconds a page costs in the plan's balance: OCR (measured on the corpus,
/// docs/benchmarks.md) and a text-layer page.
const OCR_PAGE_SECONDS: f64 = 1.6;
const TEXT_LAYER_PAGE_SECONDS: f64 = 0.01;

/// Cut the pages (in citekey order, each with its cost) into chunks of
/// consecutive pages, about `50 n` of them, and deal each chunk to the
/// shard with the least cost so far: shards then differ by at most one
/// chunk, 2% of a shard (or one page, on small jobs), and a plan of 10
/// million pages over 1,000 shards has 50,000 slices. Consecutive pages keep a shard on few
/// documents; many chunks average out what the estimate cannot see (a dense
/// page costs twice a sparse one). Every shard derives the same cut from
/// the same plan.
pub fn balance(costs: &[(String, Vec<f64>)], n: usize) -> Vec<Vec<Slice>> {
    let total: f64 = costs.iter().flat_map(|(_, c)| c).sum();
    let target = total / (50 * n) as f64;
    let mut out: Vec<Vec<Slice>> = vec![Vec::new(); n];
    let mut load = vec![0.0f64; n];
    let mut chunk: Vec<Slice> = Vec::new();
    let mut chunk_cost = 0.0;
    let mut deal = |chunk: &mut Vec<Slice>, cost: &mut f64, out: &mut Vec<Vec<Slice>>| {
        if chunk.is_empty() {
            return;
        }
        let shard = (0..n)
            .min_by(|a, b| load[*a].total_cmp(&load[*b]).then(a.cmp(b)))
            .expect("n >= 1");
        load[shard] += *cost;
        for s in chunk.drain(..) {
            match out[shard].last_mut() {
                Some(last) if last.citekey == s.citekey && last.last + 1 == s.first => {
                    last.last = s.last;
                }
                _ => out[shard].push(s),
            }
        }
        *cost = 0.0;
    };
    for (key, pages) in costs {
        for (i, cost) in pages.iter().enumerate() {
            let page = i + 1;
            match chunk.last_mut() {
                Some(s) if s.citekey == *key && s.last + 1 == page => s.last = page,
                _ => chunk.push(Slice {
                    citekey: key.clone(),
                    first: page,
                    last: page,
                }),
            }
            chunk_cost += cost;
            if chunk_cost >= target {
                deal(&mut chunk, &mut chunk_cost, &mut out);
            }
        }
    }
    deal(&mut chunk, &mut chunk_cost, &mut out);
    out
}

/// A new sharded job: its record (`running`, no process of its own) and
/// its plan. `req` selects citekeys and settings as for `recto ocr`.
pub async fn plan_sharded(
    registry: &Registry,
    req: &OcrRequest,
    shards: usize,
) -> Result<(JobId, ShardPlan), StepError> {
    if !(1..=10_000).contains(&shards) {
        return Err(StepError::InvalidSetting {
            name: "shards".into(),
            reason: format!("{shards} is outside 1..=10000"),
        });
    }
    let plan = match decide(registry, req)? {
        Ok(p) => p,
        Err(_) => {
            return Err(StepError::InvalidSetting {
                name: "resume".into(),
                reason: "a sharded job is planned anew; resume a shard with --job-id and --shard"
                    .into(),
            });
        }
    };
    let engine = engine_config(&plan.settings, req.workers);
    recto_ocr::validate_languages(&engine)?;
    let stores = open_stores(&plan, req.store.as_ref())?;
    let job = registry.new_job_id()?;
    let keys: Vec<&Citekey> = plan.keys.iter().collect();
    let (tasks, failures, dups) = fetch_sources(
        &plan,
        &stores,
        &keys,
        &req.cache_dir,
        &job,
        req.password.as_deref(),
    )
    .await;
    let weighed = weigh(&plan, &tasks, &failures, &dups, req.password.as_deref());
    let shard_plan = ShardPlan {
        job_id: job.to_string(),
        shards,
        created_at: now_timestamp(),
        created_unix: unix_now(),
        assignments: assign(&weighed.costs, weighed.unopened, shards),
        documents: weighed.documents,
    };
    record_plan(registry, &job, &plan, &shard_plan, engine.workers)?;
    Ok((job, shard_plan))
}

/// Every document of a plan weighed: its pages and what each costs.
struct Weighed {
    documents: Vec<PlannedDoc>,
    /// Per citekey, each page's cost in seconds.
    costs: Vec<(String, Vec<f64>)>,
    /// Citekeys the planner could not open.
    unopened: Vec<String>,
}

/// Each citekey's pages and their cost from its text layer (duplicates
/// and sources that could not be opened are recorded as such).
fn weigh(
    plan: &Plan,
    tasks: &[DocTask],
    failures: &BTreeMap<String, String>,
    dups: &[(Citekey, Citekey)],
    password: Option<&str>,
) -> Weighed {
    let mut w = Weighed {
        documents: Vec::new(),
        costs: Vec::new(),
        unopened: Vec::new(),
    };
    let tasks: BTreeMap<&str, &DocTask> = tasks.iter().map(|t| (t.citekey.as_str(), t)).collect();
    for k in &plan.keys {
        let key = k.as_str();
        let doc = |pages, ocr_pages, same_as, note| PlannedDoc {
            citekey: key.to_owned(),
            pages,
            ocr_pages,
            same_as,
            note,
        };
        if let Some((_, first)) = dups.iter().find(|(d, _)| d == k) {
            w.documents
                .push(doc(0, 0, Some(first.as_str().to_owned()), None));
            continue;
        }
        let layers = match tasks.get(key) {
            Some(t) => recto_ocr::text_layer_pages(&t.pdf, password).map_err(|e| e.to_string()),
            None => Err(failures.get(key).cloned().unwrap_or_default()),
        };
        match layers {
            Ok(layers) => {
                let page_costs: Vec<f64> = layers
                    .iter()
                    .map(|usable| match (plan.settings.mode, usable) {
                        (Mode::TextLayerOnly, _) | (Mode::Auto, true) => TEXT_LAYER_PAGE_SECONDS,
                        _ => OCR_PAGE_SECONDS,
                    })
                    .collect();
                let ocr_pages = page_costs
                    .iter()
                    .filter(|c| **c == OCR_PAGE_SECONDS)
                    .count();
                w.documents.push(doc(layers.len(), ocr_pages, None, None));
                w.costs.push((key.to_owned(), page_costs));
            }
            Err(why) => {
                tracing::warn!("{key}: {why} (its shard tries again)");
                w.documents.push(doc(0, 0, None, Some(why)));
                w.unopened.push(key.to_owned());
            }
        }
    }
    w
}

/// The cost of `slices` in seconds.
fn cost_of(costs: &[(String, Vec<f64>)], slices: &[Slice]) -> f64 {
    slices
        .iter()
        .map(|s| {
            let c = &costs
                .iter()
                .find(|(k, _)| *k == s.citekey)
                .expect("planned")
                .1;
            c[s.first - 1..s.last].iter().sum::<f64>()
        })
        .sum()
}

/// The shards' assignments: the pages balanced, then each document the
/// planner could not open whole to the least loaded shard, which fetches
/// and opens it again (and fails it, naming itself, if it still cannot).
fn assign(costs: &[(String, Vec<f64>)], unopened: Vec<String>, n: usize) -> Vec<PlannedShard> {
    let mut assignments: Vec<PlannedShard> = balance(costs, n)
        .into_iter()
        .enumerate()
        .map(|(i, slices)| PlannedShard {
            shard: i,
            pages: slices.iter().map(|s| s.last - s.first + 1).sum(),
            estimated_seconds: round2(cost_of(costs, &slices)),
            slices,
        })
        .collect();
    for key in unopened {
        let s = assignments
            .iter_mut()
            .min_by(|a, b| a.estimated_seconds.total_cmp(&b.estimated_seconds))
            .expect("at least one shard");
        s.slices.push(Slice {
            citekey: key,
            first: 1,
            last: 0,
        });
    }
    assignments
}

/// Write the shards' plan, then the job's record (`running`, no process of
/// its own): a shard that sees the job finds its plan.
fn record_plan(
    registry: &Registry,
    job: &JobId,
    plan: &Plan,
    shard_plan: &ShardPlan,
    workers: usize,
) -> Result<(), StepError> {
    let dir = shards_dir(registry, job);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    write_json(&dir.join("plan.json"), shard_plan)?;
    let mut settings = plan.settings.clone();
    settings.workers = workers;
    let running = running_body(plan, settings, registry, job, shard_plan.shards, None);
    let list: Vec<String> = plan.keys.iter().map(|k| k.as_str().to_owned()).collect();
    save_job(
        registry,
        job,
        &StepMetadata {
            status: Status::Running,
            source_job_id: Some(plan.source_job.to_string()),
            citekeys: Citekeys::new(list),
            body: running,
            failures: None,
            error: None,
            started_at: Some(shard_plan.created_at.clone()),
            duration_seconds: None,
        },
    )?;
    Ok(())
}

/// The running body of a sharded job: the plan's, with its shards.
pub(super) fn running_body(
    plan: &Plan,
    settings: OcrSettings,
    registry: &Registry,
    job: &JobId,
    count: usize,
    previous: Option<ShardsInfo>,
) -> OcrRunning {
    let dir = shards_dir(registry, job);
    let dir = dir
        .strip_prefix(registry.data_dir())
        .unwrap_or(&dir)
        .display()
        .to_string();
    let shards = ShardsInfo {
        count,
        dir,
        ..previous.unwrap_or_default()
    };
    plan.running(settings, registry, Some(shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_deals_runs_of_pages_of_equal_cost() {
        // 10 scanned pages, then 100 text-layer pages, then 10 scanned.
        let costs = vec![
            ("a".to_owned(), vec![OCR_PAGE_SECONDS; 10]),
            ("b".to_owned(), vec![TEXT_LAYER_PAGE_SECONDS; 100]),
            ("c".to_owned(), vec![OCR_PAGE_SECONDS; 10]),
        ];
        let cut = balance(&costs, 2);
        let (a, b) = (cost_of(&costs, &cut[0]), cost_of(&costs, &cut[1]));
        assert!((a - b).abs() <= OCR_PAGE_SECONDS, "{a} vs {b}");
        // Every page exactly once.
        let mut seen: Vec<(String, usize)> = Vec::new();
        for s in cut.iter().flatten() {
            for p in s.first..=s.last {
                seen.push((s.citekey.clone(), p));
            }
        }
        let mut want = Vec::new();
        for (k, c) in &costs {
            for p in 1..=c.len() {
                want.push((k.clone(), p));
            }
        }
        seen.sort();
        want.sort();
        assert_eq!(seen, want);
        // The same cut every time, and more shards than pages leaves some
        // empty rather than splitting a page.
        assert_eq!(balance(&costs, 2), cut);
        let many = balance(&[("a".to_owned(), vec![1.0; 3])], 5);
        assert_eq!(many.len(), 5);
        assert_eq!(many.iter().map(Vec::len).sum::<usize>(), 3);
    }

    #[test]
    fn an_unopened_document_goes_whole_to_the_least_loaded_shard() {
        let costs = vec![("a".to_owned(), vec![OCR_PAGE_SECONDS; 3])];
        let shards = assign(&costs, vec!["broken".into()], 2);
        let whole: Vec<_> = shards
            .iter()
            .flat_map(|s| s.slices.iter().map(move |x| (s.shard, x)))
            .filter(|(_, x)| x.citekey == "broken")
            .collect();
        assert_eq!(whole.len(), 1, "{shards:?}");
        let (shard, slice) = whole[0];
        assert_eq!((slice.first, slice.last), (1, 0), "the whole document");
        let loads: Vec<f64> = shards.iter().map(|s| s.estimated_seconds).collect();
        let least = loads.iter().cloned().fold(f64::INFINITY, f64::min);
        assert_eq!(loads[shard], least, "{loads:?}");
        assert_eq!(shards.iter().map(|s| s.pages).sum::<usize>(), 3);
    }
}
