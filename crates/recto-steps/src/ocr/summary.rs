//! The engine's reports into the job's typed record, and its page events
//! as progress.

use std::collections::BTreeMap;

use recto_ocr::{DocReport, PageObserver};
use recto_registry::{Citekey, JobId};

use super::plan::Plan;
use super::types::{
    CitekeyResult, OcrBody, OcrRunning, PageCounts, WORST_PAGES, WorstPage, round2,
};
use crate::harness::{self, Citekeys};
use crate::progress::Progress;

/// Turn the engine's reports (and the citekeys a resume kept) into the record.
pub(crate) fn summarise(
    plan: &Plan,
    reports: &[DocReport],
    failures: &mut BTreeMap<String, String>,
    running: OcrRunning,
    store_url: Option<String>,
    job: &JobId,
    seconds: f64,
) -> OcrBody {
    let mut pages = PageCounts::default();
    let mut page_failures = BTreeMap::new();
    let mut per_citekey = plan.kept.clone();
    for kept in plan.kept.values() {
        pages.total += kept.pages;
        pages.text_layer += kept.text_layer;
        pages.ocr += kept.ocr;
    }
    let mut resumed = 0;
    let mut retry_seconds = 0.0;
    for r in reports {
        pages.total += r.page_count;
        let Tally {
            tl,
            oc,
            nt,
            confs,
            by_page,
            pf,
        } = tally(r, &mut pages, &mut resumed, &mut retry_seconds);
        pages.text_layer += tl;
        pages.ocr += oc;
        pages.no_text += nt;
        pages.failed += pf.len();
        if let Some(e) = &r.error {
            // Name the user's own file besides the stored copy.
            let orig = plan
                .sources
                .get(&r.citekey)
                .and_then(|j| plan.source_metas.get(j))
                .and_then(|m| m.get("files")?.get(&r.citekey)?.as_str());
            let e = match orig {
                Some(o) => format!("{e} (uploaded from {o})"),
                None => e.to_string(),
            };
            failures.insert(r.citekey.clone(), e);
        } else if !pf.is_empty() {
            failures.insert(
                r.citekey.clone(),
                format!("{} of {} pages failed", pf.len(), r.page_count),
            );
            page_failures.insert(r.citekey.clone(), pf);
        }
        let mean = (!confs.is_empty())
            .then(|| round2(f64::from(confs.iter().sum::<f32>()) / confs.len() as f64));
        let dir = Citekey::parse(&r.citekey)
            .map(|c| harness::output_dir(&plan.output, &c, job))
            .unwrap_or_default();
        per_citekey.insert(
            r.citekey.clone(),
            CitekeyResult {
                pages: r.page_count,
                text_layer: tl,
                ocr: oc,
                no_text: nt,
                mean_confidence: mean,
                dir: dir.display().to_string(),
                source_job_id: plan.sources.get(&r.citekey).map(|j| j.to_string()),
                sha256: plan
                    .sources
                    .get(&r.citekey)
                    .and_then(|j| plan.source_metas.get(j))
                    .and_then(|m| m.get("checksums")?.get(&r.citekey)?.as_str())
                    .map(str::to_owned),
                same_as: None,
                worst_pages: worst(by_page),
            },
        );
    }
    pages.resumed = resumed;
    let done_now = reports
        .iter()
        .flat_map(|r| &r.pages)
        .filter(|p| p.result.is_ok())
        .count()
        - resumed;
    OcrBody {
        pages,
        running,
        page_failures,
        per_citekey,
        source_store: store_url,
        pages_per_second: if seconds > 0.0 {
            round2(done_now as f64 / seconds)
        } else {
            0.0
        },
        retry_seconds: round2(retry_seconds),
    }
}

/// The engine's page events, as progress (shared with the shards).
pub(crate) struct Observer<'a>(pub(crate) &'a dyn Progress);

impl PageObserver for Observer<'_> {
    fn begin(&self, total: u64) {
        self.0.begin("ocr", total, None);
    }
    fn page_done(&self, citekey: &str, page: usize, ok: bool) {
        self.0.item_done(&format!("{citekey} p{page}"), ok);
    }
}

/// The `citekeys` header of an ended job over `list`, and the citekeys of
/// the plan done (those without a failure): what a one-machine run and a
/// merge of shards both record.
pub(crate) fn ended(
    plan: &Plan,
    list: Vec<String>,
    failures: &BTreeMap<String, String>,
) -> (Citekeys, Vec<Citekey>) {
    let successful = list.len() - failures.len();
    let citekeys = Citekeys::new(list)
        .count("successful", successful)
        .count("failed", failures.len());
    let done = plan
        .keys
        .iter()
        .filter(|k| !failures.contains_key(k.as_str()))
        .cloned()
        .collect();
    (citekeys, done)
}

/// The `WORST_PAGES` pages of lowest confidence, worst first.
fn worst(mut pages: Vec<WorstPage>) -> Vec<WorstPage> {
    pages.sort_by(|a, b| {
        a.confidence
            .total_cmp(&b.confidence)
            .then(a.page.cmp(&b.page))
    });
    pages.truncate(WORST_PAGES);
    pages
}

/// One document's pages counted: by source, their confidences, the
/// failed ones.
struct Tally {
    tl: usize,
    oc: usize,
    nt: usize,
    confs: Vec<f32>,
    by_page: Vec<WorstPage>,
    pf: BTreeMap<String, String>,
}

/// Count `r`'s pages, adding the job-wide figures (retries, resumed pages,
/// retry time) as it goes.
fn tally(
    r: &DocReport,
    pages: &mut PageCounts,
    resumed: &mut usize,
    retry_seconds: &mut f64,
) -> Tally {
    let mut t = Tally {
        tl: 0,
        oc: 0,
        nt: 0,
        confs: Vec::new(),
        by_page: Vec::new(),
        pf: BTreeMap::new(),
    };
    for p in &r.pages {
        match &p.result {
            Ok(s) => {
                match s.source {
                    recto_ocr::page::TextSource::TextLayer => t.tl += 1,
                    recto_ocr::page::TextSource::Ocr => t.oc += 1,
                    recto_ocr::page::TextSource::NoText => t.nt += 1,
                }
                *resumed += usize::from(s.resumed);
                pages.retried += usize::from(s.retried);
                *retry_seconds += s.retry_seconds;
                t.confs.extend(s.mean_confidence);
                if let Some(c) = s.mean_confidence {
                    t.by_page.push(WorstPage {
                        page: p.page,
                        confidence: round2(f64::from(c)),
                    });
                }
            }
            Err(why) => {
                t.pf.insert(p.page.to_string(), why.to_string());
            }
        }
    }
    t
}
