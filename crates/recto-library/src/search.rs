//! Searches of the library's full-text index (`data/.recto/search/`),
//! answered with the matching words' boxes. Building the index is the
//! pipeline's (`recto_steps::search`); this side only opens it to read.

use std::path::PathBuf;

use recto_page::PageJson;
use recto_registry::Registry;
use recto_search::{SearchIndex, SearchRequest, WordHit};
use serde::Serialize;

use crate::LibraryError;
use crate::paths::inside;

/// Where the index lives.
pub fn index_dir(registry: &Registry) -> PathBuf {
    registry.layout().internal_dir().join("search")
}

/// The index, when there is one; opening it creates nothing.
fn open(registry: &Registry) -> Result<SearchIndex, LibraryError> {
    let dir = index_dir(registry);
    if !dir.join("recto-index-version").is_file() {
        return Err(LibraryError::NoSearchIndex { dir });
    }
    Ok(SearchIndex::open(&dir)?)
}

/// What `query` matches, to find its words on any page (the viewer's
/// highlights) without running it over the whole library.
pub fn matcher(registry: &Registry, query: &str) -> Result<recto_search::Matcher, LibraryError> {
    let index = open(registry)?;
    let mut req = SearchRequest::new(query);
    req.limit = 1;
    Ok(index.search(&req)?.matcher)
}

/// A hit and the words on its page that matched, with their boxes.
#[derive(Debug, Clone, Serialize)]
pub struct FoundPage {
    #[serde(flatten)]
    pub hit: recto_search::Hit,
    /// The snippet with matches between `[[` and `]]`.
    pub marked: String,
    /// Page size in the pixels of the boxes.
    pub width_px: u32,
    pub height_px: u32,
    pub words: Vec<WordHit>,
    /// The .bib entry's author, title and year, when an upload recorded them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bib: Option<crate::Bib>,
}

/// What a search found.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub query: String,
    pub total: usize,
    pub hits: Vec<FoundPage>,
}

/// Search the library's index. Page JSON paths come from the index; one
/// that would leave the data directory is not read.
pub fn search(registry: &Registry, req: &SearchRequest) -> Result<Found, LibraryError> {
    let index = open(registry)?;
    let res = index.search(req)?;
    let root = registry.data_dir();
    // The fields of the citekeys hit, each read once.
    let mut bibliography = std::collections::BTreeMap::new();
    for h in &res.hits {
        if !bibliography.contains_key(&h.citekey) {
            bibliography.insert(h.citekey.clone(), crate::bib_of(registry, &h.citekey));
        }
    }
    let hits = res
        .hits
        .into_iter()
        .map(|hit| {
            let path = root.join(&hit.json);
            let page = inside(root, &path)
                .then(|| std::fs::read(&path).ok())
                .flatten()
                .and_then(|b| serde_json::from_slice::<PageJson>(&b).ok());
            let (words, w, h) = match &page {
                Some(p) => (res.matcher.words(hit.lang, p), p.width_px, p.height_px),
                None => (Vec::new(), 0, 0),
            };
            FoundPage {
                marked: hit.marked("[[", "]]"),
                bib: bibliography.get(&hit.citekey).cloned().flatten(),
                hit,
                width_px: w,
                height_px: h,
                words,
            }
        })
        .collect();
    Ok(Found {
        query: req.query.clone(),
        total: res.total,
        hits,
    })
}
