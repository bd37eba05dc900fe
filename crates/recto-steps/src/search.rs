//! The library's search index (`data/.recto/search/`): which pages go in
//! (each citekey's current OCR result, with the printed page labels of its
//! current table of contents), kept up to date incrementally, and searches
//! answered with the matching words' boxes. Derived data, like the SQLite
//! index: deleting the folder loses nothing, `recto index --rebuild` or
//! `recto registry rebuild` makes it again. Not a recorded step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use recto_library::LibraryError;
use recto_library::pages::for_each_page;
use recto_library::{StepResult, ocr_result, step_result};
use recto_page::PageJson;
use recto_registry::{Citekey, Registry};
use recto_search::{Lang, PageDoc, SearchIndex};
use serde::{Deserialize, Serialize};

use crate::StepError;
use crate::harness::{self, Selection};
use crate::progress::Progress;

pub use recto_library::search::index_dir;

/// Which results each citekey's pages in the index came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Indexed {
    ocr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    toc: Option<String>,
    pages: usize,
    /// The entry's fields when indexed: an edited .bib re-indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bib: Option<recto_library::Bib>,
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("indexed.json")
}

fn read_state(dir: &Path) -> BTreeMap<String, Indexed> {
    std::fs::read(state_path(dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// What `recto index` does.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    pub selection: Selection,
    /// Drop the index and build it from nothing.
    pub rebuild: bool,
}

/// What it did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexOutcome {
    pub index_dir: String,
    /// Citekeys whose pages were (re)indexed.
    pub indexed: Vec<String>,
    /// Citekeys already current in the index.
    pub unchanged: usize,
    pub pages: usize,
    pub pages_in_index: u64,
    pub seconds: f64,
    pub pages_per_second: f64,
    /// Citekeys that could not be indexed, and why.
    pub failures: BTreeMap<String, String>,
}

fn search_err(e: recto_search::SearchError) -> StepError {
    StepError::Library(e.into())
}

/// Bring the index up to date for the selected citekeys: a citekey is
/// (re)indexed when its current OCR or TOC result is not the one indexed.
pub fn run_index(
    registry: &Registry,
    req: &IndexRequest,
    progress: &dyn Progress,
) -> Result<IndexOutcome, StepError> {
    let started = Instant::now();
    let dir = index_dir(registry);
    if req.rebuild && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| StepError::Io {
            path: dir.clone(),
            source: e,
        })?;
    }
    let keys = match harness::select_citekeys(registry, &req.selection, "ocr", "ocr", None) {
        Ok(k) => k,
        Err(StepError::NoCitekeys) => Vec::new(),
        Err(e) => return Err(e),
    };
    let index = SearchIndex::open(&dir).map_err(search_err)?;
    let mut state = read_state(&dir);
    let root = registry.layout().root().to_owned();
    let mut outcome = IndexOutcome {
        index_dir: dir.display().to_string(),
        ..IndexOutcome::default()
    };
    let bibliography = recto_library::bibliography(registry);
    // What is current for each citekey, and whether the index has it.
    let mut todo = Vec::new();
    for key in keys {
        let ocr = match ocr_result(registry, &key, None) {
            Ok(o) => o,
            Err(e) => {
                outcome
                    .failures
                    .insert(key.as_str().to_owned(), e.to_string());
                continue;
            }
        };
        let toc = step_result(registry, "toc", &key, None).ok();
        let want = (
            ocr.job_id.to_string(),
            toc.as_ref().map(|t| t.job_id.to_string()),
        );
        let bib = bibliography.get(key.as_str()).cloned();
        match state.get(key.as_str()) {
            Some(had) if had.ocr == want.0 && had.toc == want.1 && had.bib == bib => {
                outcome.unchanged += 1;
            }
            _ => todo.push((key, ocr, toc, bib)),
        }
    }
    progress.begin("index", todo.len() as u64, None);
    let docs: Vec<(Citekey, Result<CitekeyDocs, LibraryError>)> = todo
        .par_iter()
        .map(|(key, ocr, toc, bib)| {
            let r = page_docs(&root, key, ocr, toc.as_ref(), bib.as_ref());
            progress.item_done(key.as_str(), r.is_ok());
            (key.clone(), r)
        })
        .collect();
    progress.end();
    let mut writer = index.writer().map_err(search_err)?;
    let mut written = Vec::new();
    for (key, r) in docs {
        match r {
            Ok((pages, indexed)) => {
                writer.replace(key.as_str(), &pages).map_err(search_err)?;
                outcome.pages += pages.len();
                written.push((key.as_str().to_owned(), indexed));
            }
            Err(why) => {
                outcome
                    .failures
                    .insert(key.as_str().to_owned(), why.to_string());
            }
        }
    }
    writer.commit().map_err(search_err)?;
    // The state follows the commit: a crash in between re-indexes those
    // citekeys next time, it never marks unindexed pages as indexed.
    for (key, indexed) in written {
        outcome.indexed.push(key.clone());
        state.insert(key, indexed);
    }
    let bytes = serde_json::to_vec_pretty(&state).expect("serialisable");
    recto_fs::write_atomic(&state_path(&dir), &bytes, recto_fs::Durability::Renamed).map_err(
        |e| StepError::Io {
            path: state_path(&dir),
            source: std::io::Error::other(e.to_string()),
        },
    )?;
    index.reload().map_err(search_err)?;
    outcome.pages_in_index = index.num_pages();
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome.pages_per_second = harness::pages_per_second(outcome.pages, started);
    Ok(outcome)
}

/// One citekey's pages as index documents, and what they came from.
type CitekeyDocs = (Vec<PageDoc>, Indexed);

/// A word broken at the foot of a page and ending on the next is added
/// whole to the page where it starts.
fn join_across_pages(docs: &mut [PageDoc]) {
    for i in 1..docs.len() {
        if docs[i].page != docs[i - 1].page + 1 {
            continue;
        }
        let head = docs[i]
            .text
            .lines()
            .find(|l| !l.trim().is_empty())
            .and_then(recto_search::continuation)
            .map(str::to_owned);
        let prev = &mut docs[i - 1];
        let tail = prev
            .text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(recto_search::broken_tail)
            .map(str::to_owned);
        if let (Some(tail), Some(head)) = (tail, head) {
            prev.text.push_str(&format!("{tail}{head}\n"));
        }
    }
}

/// One citekey's pages as index documents.
fn page_docs(
    root: &Path,
    key: &Citekey,
    ocr: &StepResult,
    toc: Option<&StepResult>,
    bib: Option<&recto_library::Bib>,
) -> Result<CitekeyDocs, LibraryError> {
    let labels: Vec<Option<String>> = toc
        .and_then(|t| t.toc())
        .map(|t| t.page_labels)
        .unwrap_or_default();
    let rel_dir = ocr
        .dir
        .strip_prefix(root)
        .unwrap_or(&ocr.dir)
        .to_string_lossy()
        .into_owned();
    let mut docs = Vec::new();
    for_each_page(
        &ocr.dir,
        ocr.recorded_pages(),
        None,
        |n, p: Option<PageJson>| {
            if let Some(p) = p {
                docs.push(PageDoc {
                    citekey: key.as_str().to_owned(),
                    job: ocr.job_id.to_string(),
                    page: n as u64,
                    label: labels.get(n - 1).cloned().flatten(),
                    lang: Lang::from_tesseract(&p.languages),
                    // Words broken at line ends, whole, as readers search.
                    text: recto_search::dehyphenate(&p.text),
                    json: format!("{rel_dir}/page_{n:04}.json"),
                    author: bib.and_then(|b| b.author.clone()),
                    title: bib.and_then(|b| b.title.clone()),
                    year: bib.and_then(|b| b.year.clone()),
                });
            }
        },
    )?;
    join_across_pages(&mut docs);
    let indexed = Indexed {
        ocr: ocr.job_id.to_string(),
        toc: toc.map(|t| t.job_id.to_string()),
        pages: docs.len(),
        bib: bib.cloned(),
    };
    Ok((docs, indexed))
}
