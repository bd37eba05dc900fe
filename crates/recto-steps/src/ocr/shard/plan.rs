//! [`plan_sharded`]: a new sharded OCR job, every source fetched and
//! weighed once, the pages dealt into shards of equal estimated cost.

use std::collections::BTreeMap;

use recto_ocr::{DocTask, Mode};
use recto_registry::{Citekey, JobId, Registry, Status, now_timestamp};

use super::record::{PlannedDoc, PlannedShard, ShardPlan, Slice, save_job, shards_dir};
use crate::StepError;
use crate::harness::{Citekeys, StepMetadata};
use crate::ocr::engine::{engine_config, open_stores};
use crate::ocr::plan::{Plan, plan};
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
    let plan = match plan(registry, req)? {
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
    let mut documents = Vec::new();
    let mut costs = Vec::new();
    let mut unopened = Vec::new();
    let tasks: BTreeMap<&str, &DocTask> = tasks.iter().map(|t| (t.citekey.as_str(), t)).collect();
    for k in &plan.keys {
        let key = k.as_str();
        if let Some((_, first)) = dups.iter().find(|(d, _)| d == k) {
            documents.push(PlannedDoc {
                citekey: key.to_owned(),
                pages: 0,
                ocr_pages: 0,
                same_as: Some(first.as_str().to_owned()),
                note: None,
            });
            continue;
        }
        let layers = match tasks.get(key) {
            Some(t) => recto_ocr::text_layer_pages(&t.pdf, req.password.as_deref())
                .map_err(|e| e.to_string()),
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
                documents.push(PlannedDoc {
                    citekey: key.to_owned(),
                    pages: layers.len(),
                    ocr_pages: page_costs
                        .iter()
                        .filter(|c| **c == OCR_PAGE_SECONDS)
                        .count(),
                    same_as: None,
                    note: None,
                });
                costs.push((key.to_owned(), page_costs));
            }
            Err(why) => {
                tracing::warn!("{key}: {why} (its shard tries again)");
                documents.push(PlannedDoc {
                    citekey: key.to_owned(),
                    pages: 0,
                    ocr_pages: 0,
                    same_as: None,
                    note: Some(why),
                });
                unopened.push(key.to_owned());
            }
        }
    }
    let cut = balance(&costs, shards);
    let cost_of = |slices: &[Slice]| -> f64 {
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
    };
    let mut assignments: Vec<PlannedShard> = cut
        .into_iter()
        .enumerate()
        .map(|(i, slices)| PlannedShard {
            shard: i,
            pages: slices.iter().map(|s| s.last - s.first + 1).sum(),
            estimated_seconds: round2(cost_of(&slices)),
            slices,
        })
        .collect();
    // A document the planner could not open goes whole to the least
    // loaded shard, which fetches and opens it again (and fails it, naming
    // itself, if it still cannot).
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
    let shard_plan = ShardPlan {
        job_id: job.to_string(),
        shards,
        created_at: now_timestamp(),
        created_unix: unix_now(),
        documents,
        assignments,
    };
    let dir = shards_dir(registry, &job);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    // The plan before the record: a shard that sees the job finds its plan.
    write_json(&dir.join("plan.json"), &shard_plan)?;
    let mut settings = plan.settings.clone();
    settings.workers = engine.workers;
    let running = running_body(&plan, settings, registry, &job, shards, None);
    let list: Vec<String> = plan.keys.iter().map(|k| k.as_str().to_owned()).collect();
    save_job(
        registry,
        &job,
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
    Ok((job, shard_plan))
}

pub(super) fn running_body(
    plan: &Plan,
    settings: OcrSettings,
    registry: &Registry,
    job: &JobId,
    count: usize,
    previous: Option<ShardsInfo>,
) -> OcrRunning {
    let sources: BTreeMap<String, String> = plan
        .sources
        .iter()
        .map(|(k, j)| (k.clone(), j.to_string()))
        .collect();
    let ids: Vec<String> = plan.source_metas.keys().map(|j| j.to_string()).collect();
    let dir = shards_dir(registry, job);
    let dir = dir
        .strip_prefix(registry.data_dir())
        .unwrap_or(&dir)
        .display()
        .to_string();
    OcrRunning {
        config: settings,
        output_dir: crate::harness::recorded_dir(registry, &plan.output),
        sources,
        source_job_ids: if ids.len() > 1 { ids } else { Vec::new() },
        citekey_languages: plan.languages.clone(),
        shards: Some(ShardsInfo {
            count,
            dir,
            ..previous.unwrap_or_default()
        }),
    }
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
        let cost = |slices: &[Slice]| -> f64 {
            slices
                .iter()
                .map(|s| {
                    let c = &costs.iter().find(|(k, _)| *k == s.citekey).unwrap().1;
                    c[s.first - 1..s.last].iter().sum::<f64>()
                })
                .sum()
        };
        let (a, b) = (cost(&cut[0]), cost(&cut[1]));
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
}
