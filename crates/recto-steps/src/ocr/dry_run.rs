//! `--dry-run`: what a run would do, from the plan, without OCR.

use std::collections::BTreeMap;
use std::path::Path;

use super::plan::Plan;
use super::types::{DryRun, DryRunCitekey, round2};
use recto_ocr::Mode;
use recto_registry::{JobId, Registry};
use recto_store::Store;
use serde_json::Value;

/// Open each source PDF the plan can see without downloading (local
/// stores, or copies already in the cache) and count its pages and those
/// with a usable text layer.
pub(super) async fn dry_run(
    plan: &Plan,
    stores: &BTreeMap<JobId, Store>,
    cache: &Path,
    workers: usize,
    password: Option<&str>,
    registry: &Registry,
) -> DryRun {
    let mut out = Vec::new();
    for k in &plan.keys {
        let job = &plan.sources[k.as_str()];
        let meta = &plan.source_metas[job];
        let local = meta
            .get("objects")
            .and_then(|o| o.get(k.as_str()))
            .and_then(Value::as_str)
            .and_then(|obj| stores[job].local_path(obj).ok().flatten())
            .or_else(|| {
                let sha = meta.get("checksums")?.get(k.as_str())?.as_str()?;
                let p = cache.join(format!("{sha}.pdf"));
                p.is_file().then_some(p)
            });
        let mut item = DryRunCitekey {
            citekey: k.as_str().to_owned(),
            source_job_id: job.to_string(),
            pages: None,
            text_layer: None,
            note: None,
        };
        match local {
            None => item.note = Some("not fetched yet: pages unknown".into()),
            Some(p) => match recto_ocr::count_text_layer_pages(&p, password) {
                Ok((pages, tl)) => {
                    let tl = match plan.settings.mode {
                        Mode::ForceOcr => 0,
                        Mode::TextLayerOnly => pages,
                        Mode::Auto => tl,
                    };
                    item.pages = Some(pages);
                    item.text_layer = Some(tl);
                }
                Err(e) => item.note = Some(e.to_string()),
            },
        }
        out.push(item);
    }
    let pages: usize = out.iter().filter_map(|c| c.pages).sum();
    let tl: usize = out.iter().filter_map(|c| c.text_layer).sum();
    let (rate, from) = match calibration(registry) {
        Some((rate, n)) => (rate, format!("past jobs ({n})")),
        None => (DEFAULT_OCR_PAGE_SECONDS, "default".to_owned()),
    };
    let est = (tl as f64 * 0.01 + (pages - tl) as f64 * rate) / workers.max(1) as f64;
    DryRun {
        citekeys: out,
        pages,
        pages_text_layer: tl,
        pages_ocr: pages - tl,
        estimated_seconds: round2(est),
        workers,
        seconds_per_ocr_page: round2(rate),
        calibrated_from: from,
    }
}

/// CPU seconds an OCRed page takes, before this machine has a record.
const DEFAULT_OCR_PAGE_SECONDS: f64 = 1.6;

/// CPU seconds per OCRed page on this data directory's past completed OCR
/// jobs (duration x workers over OCRed pages; the newest 20 jobs with at
/// least 5 OCRed pages), and how many jobs that is.
fn calibration(registry: &Registry) -> Option<(f64, usize)> {
    let used: Vec<super::cost::JobCost> = super::cost::job_costs(registry)
        .into_iter()
        .filter(|c| c.completed && c.ocr_pages >= 5.0)
        .take(20)
        .collect();
    let cpu: f64 = used.iter().map(|c| c.cpu_seconds).sum();
    let pages: f64 = used.iter().map(|c| c.ocr_pages).sum();
    (pages > 0.0).then(|| (cpu / pages, used.len()))
}
