//! One document to read, and what reading it reports: per page and per
//! document, and as progress.

use crate::OcrError;
use std::path::PathBuf;

use serde::Serialize;

use super::config::OcrConfig;
use crate::page::TextSource;

/// Images with a side shorter than this are not given to Tesseract: they
/// cannot hold text, and the engine's layout analysis is not made for them.
pub(super) const MIN_ENGINE_SIDE: u32 = 8;

/// One document to process.
#[derive(Debug, Clone)]
pub struct DocTask {
    pub citekey: String,
    pub pdf: PathBuf,
    pub password: Option<String>,
    /// Where `page_NNNN.json`, `page_NNNN.jpg` and `fulltext.txt` go.
    pub out_dir: PathBuf,
    /// This document's Tesseract languages, when not the run's (a BibTeX
    /// entry's `langid`).
    pub languages: Option<String>,
    /// Only these pages (runs of `(first, last)`, 1-based, inclusive): one
    /// shard's slices of the document. The full text is then left to
    /// whoever merges the shards ([`write_fulltext`]). `None`: every page.
    pub pages: Option<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageSummary {
    pub source: TextSource,
    pub chars: usize,
    pub mean_confidence: Option<f32>,
    pub rotation: u16,
    /// Found complete on disk from an earlier run, not redone.
    pub resumed: bool,
    pub seconds: f64,
    /// Read a second time (low confidence), and how long that took.
    pub retried: bool,
    pub retry_seconds: f64,
}

#[derive(Debug)]
pub struct PageOutcome {
    pub page: usize,
    pub result: Result<PageSummary, OcrError>,
}

#[derive(Debug)]
pub struct DocReport {
    pub citekey: String,
    pub page_count: usize,
    /// Why the document could not be processed at all.
    pub error: Option<OcrError>,
    pub pages: Vec<PageOutcome>,
    pub fulltext: Option<PathBuf>,
}

/// Told about progress, from the calling thread.
pub trait PageObserver {
    fn begin(&self, _total_pages: u64) {}
    fn page_done(&self, _citekey: &str, _page: usize, _ok: bool) {}
}

/// The run's settings for `task`: a document with languages of its own
/// reads with those.
pub(super) fn task_config<'a>(
    task: &DocTask,
    cfg: &'a OcrConfig,
) -> std::borrow::Cow<'a, OcrConfig> {
    match &task.languages {
        Some(l) if *l != cfg.languages => std::borrow::Cow::Owned(OcrConfig {
            languages: l.clone(),
            ..cfg.clone()
        }),
        _ => std::borrow::Cow::Borrowed(cfg),
    }
}

/// The pages of `task` to process: its slices, within the document.
pub(super) fn page_range(task: &DocTask, page_count: usize) -> Vec<usize> {
    match &task.pages {
        Some(runs) => {
            let mut pages: Vec<usize> = runs
                .iter()
                .flat_map(|(first, last)| (*first).max(1)..=(*last).min(page_count))
                .collect();
            pages.sort_unstable();
            pages.dedup();
            pages
        }
        None => (1..=page_count).collect(),
    }
}
