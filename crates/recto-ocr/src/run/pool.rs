//! The worker pool: every page of every document in one queue, N worker
//! threads, a worker's panic caught as that page's failure.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use crossbeam_channel::unbounded;

use super::config::OcrConfig;
use super::output::write_fulltext;
use super::task::{DocReport, DocTask, PageObserver, PageOutcome, page_range};
use super::worker::Worker;
use crate::OcrError;
use crate::heuristic::assess;
use crate::page::blocks_text;
use crate::render::Pdf;

/// Pages of a PDF, and how many have a text layer usable without OCR (for
/// a dry run's estimate: `recto ocr --dry-run` on the 117-page lecture
/// notes took 0.29 s in all).
pub fn count_text_layer_pages(
    path: &Path,
    password: Option<&str>,
) -> Result<(usize, usize), OcrError> {
    let usable = text_layer_pages(path, password)?;
    Ok((usable.len(), usable.iter().filter(|u| **u).count()))
}

/// For each page of a PDF, whether its text layer is usable without OCR:
/// what a sharded job's plan weighs pages by (an OCRed page costs about a
/// hundred times a text-layer page).
pub fn text_layer_pages(path: &Path, password: Option<&str>) -> Result<Vec<bool>, OcrError> {
    let pdf = Pdf::open(path, password)?;
    (1..=pdf.page_count())
        .map(|i| {
            let layer = pdf.page(i)?.text_layer(72)?;
            Ok(assess(&blocks_text(&layer)).usable)
        })
        .collect()
}

/// Process every page of every task. Documents that cannot be opened are
/// reported, and the others go on.
pub fn run(tasks: &[DocTask], cfg: &OcrConfig, observer: &dyn PageObserver) -> Vec<DocReport> {
    let mut reports: Vec<DocReport> = tasks
        .iter()
        .map(|t| {
            let (page_count, error) = match Pdf::open(&t.pdf, t.password.as_deref()) {
                Ok(pdf) => (pdf.page_count(), None),
                Err(e) => (0, Some(e)),
            };
            let error = error.or_else(|| {
                std::fs::create_dir_all(&t.out_dir)
                    .err()
                    .map(|source| OcrError::Io {
                        path: t.out_dir.clone(),
                        source,
                    })
            });
            DocReport {
                citekey: t.citekey.clone(),
                page_count,
                error,
                pages: Vec::new(),
                fulltext: None,
            }
        })
        .collect();
    let (work_tx, work_rx) = unbounded::<(usize, usize)>();
    let mut total = 0;
    for (i, r) in reports.iter().enumerate() {
        if r.error.is_none() {
            for p in page_range(&tasks[i], r.page_count) {
                work_tx.send((i, p)).expect("receiver alive");
                total += 1;
            }
        }
    }
    drop(work_tx);
    observer.begin(total as u64);
    let (done_tx, done_rx) = unbounded::<(usize, PageOutcome)>();
    let page_counts: Vec<usize> = reports.iter().map(|r| r.page_count).collect();

    std::thread::scope(|scope| {
        for _ in 0..cfg.workers.max(1).min(total.max(1)) {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let page_counts = &page_counts;
            scope.spawn(move || {
                let mut w = Worker::default();
                for (doc, page) in work_rx.iter() {
                    recto_fs::hold::point("ocr-page");
                    let task = &tasks[doc];
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        w.process(doc, task, page, page_counts[doc], cfg)
                    }))
                    .unwrap_or_else(|panic| {
                        // The worker's state may be damaged: start afresh.
                        w = Worker::default();
                        Err(OcrError::Page {
                            page,
                            reason: format!("crashed: {}", panic_message(&panic)),
                        })
                    });
                    if done_tx.send((doc, PageOutcome { page, result })).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for (doc, outcome) in done_rx.iter() {
            observer.page_done(&reports[doc].citekey, outcome.page, outcome.result.is_ok());
            reports[doc].pages.push(outcome);
        }
    });

    for (report, task) in reports.iter_mut().zip(tasks) {
        report.pages.sort_by_key(|p| p.page);
        if report.error.is_none() && task.pages.is_none() {
            match write_fulltext(task, report.page_count) {
                Ok(p) => report.fulltext = Some(p),
                Err(e) => report.error = Some(e),
            }
        }
    }
    reports
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}
