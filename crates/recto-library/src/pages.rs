//! A result folder's page JSON, read one page at a time in page order, so
//! memory stays bounded on long books.

use std::path::Path;

use recto_page::{PageJson, page_json_name};

use crate::LibraryError;

/// Page `n` (1-based) of the result folder `dir`; `None` when it has no
/// JSON (the page failed).
pub fn read_page(dir: &Path, n: usize) -> Result<Option<PageJson>, LibraryError> {
    let path = dir.join(page_json_name(n));
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| LibraryError::Page { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LibraryError::Io { path, source }),
    }
}

/// Read the page JSON of a result folder in page order, handing each to
/// `each` with its number; a page without JSON (one that failed) is
/// `None`, so page N stays the Nth. The page count is `count` when given,
/// else the first page's, else `recorded` (the result entry's `pages`).
/// Returns the page count.
pub fn for_each_page(
    dir: &Path,
    recorded: Option<usize>,
    count: Option<usize>,
    mut each: impl FnMut(usize, Option<PageJson>),
) -> Result<usize, LibraryError> {
    let first = read_page(dir, 1)?;
    let count = count
        .or_else(|| first.as_ref().map(|p| p.page_count))
        .or(recorded)
        .unwrap_or(0);
    if count == 0 {
        return Err(LibraryError::NoPages {
            dir: dir.to_owned(),
        });
    }
    each(1, first);
    for n in 2..=count {
        each(n, read_page(dir, n)?);
    }
    Ok(count)
}
