//! What can go wrong when reading the library. Messages speak of citekeys,
//! steps, jobs and paths, never of command-line flags: the CLI adds those.

use std::path::PathBuf;

use recto_registry::JobId;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibraryError {
    #[error(transparent)]
    Registry(#[from] recto_registry::Error),

    #[error("no job has a {step} step yet")]
    NoJobForStep { step: String },

    #[error("{citekey} has no {step} result yet ({step}: {state})")]
    NoResult {
        citekey: String,
        step: String,
        state: String,
    },

    /// Pages asked for that the document does not have.
    #[error(
        "pages {first}-{last} are not within 1-{page_count} ({citekey} has {page_count} pages)"
    )]
    PageRange {
        citekey: String,
        first: usize,
        last: usize,
        page_count: usize,
    },

    /// A result folder without any page JSON.
    #[error("no page JSON in {}", .dir.display())]
    NoPages { dir: PathBuf },

    #[error("{}: not a page JSON: {source}", .path.display())]
    Page {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A folder named by a record that lies outside the data directory.
    #[error("{step} job {job} names {path:?} for {citekey}, which is outside the data directory")]
    OutsideDataDir {
        step: String,
        job: JobId,
        citekey: String,
        path: String,
    },

    /// The library has no search index yet.
    #[error("there is no search index yet in {}", .dir.display())]
    NoSearchIndex { dir: PathBuf },

    #[error(transparent)]
    Search(#[from] recto_search::SearchError),
}

impl LibraryError {
    /// True when something asked for does not exist (a job, a step of it, a
    /// citekey's result).
    pub fn is_not_found(&self) -> bool {
        match self {
            LibraryError::Registry(e) => e.is_not_found(),
            LibraryError::NoJobForStep { .. } | LibraryError::NoResult { .. } => true,
            _ => false,
        }
    }

    /// True when the caller's input is malformed (a job id, citekey, page
    /// range or query).
    pub fn is_invalid_input(&self) -> bool {
        match self {
            LibraryError::Registry(e) => e.is_invalid_input(),
            LibraryError::PageRange { .. }
            | LibraryError::Search(recto_search::SearchError::Query { .. }) => true,
            _ => false,
        }
    }
}
