//! The text of a citekey at hand: its current OCR result (the newest OCR
//! job that completed it), page by page, read from the page JSON.

use std::path::PathBuf;

use recto_registry::{Citekey, JobId, Registry};

use crate::LibraryError;
use crate::pages::read_page;
use crate::result::{ocr_result, resolve_job};

/// Pages of a citekey's text.
#[derive(Debug, Clone)]
pub struct CitekeyText {
    pub citekey: String,
    pub job_id: JobId,
    /// The folder of the OCR result.
    pub dir: PathBuf,
    /// `(page, text)`, 1-based, in order.
    pub pages: Vec<(usize, String)>,
    pub page_count: usize,
}

impl CitekeyText {
    /// Pages separated by form feeds, as in `fulltext.txt`.
    pub fn joined(&self) -> String {
        self.pages
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\u{c}")
    }
}

/// The OCR text of `citekey`: from `job` (an id or `latest`), or else from
/// its newest OCR job that completed it; `pages` (first, last), 1-based and
/// inclusive, or all.
pub fn citekey_text(
    registry: &Registry,
    citekey: &str,
    job: Option<&str>,
    pages: Option<(usize, usize)>,
) -> Result<CitekeyText, LibraryError> {
    let key = Citekey::parse(citekey)?;
    let job = match job {
        Some(j) => Some(resolve_job(registry, "ocr", j)?),
        None => None,
    };
    let result = ocr_result(registry, &key, job.as_ref())?;
    // Page 1 says how many there are; read once, kept for the text.
    let mut page_one = read_page(&result.dir, 1)?;
    let page_count = page_one
        .as_ref()
        .map(|p| p.page_count)
        .or(result.recorded_pages())
        .unwrap_or(0);
    let (first, last) = pages.unwrap_or((1, page_count));
    if first == 0 || first > last || last > page_count {
        return Err(LibraryError::PageRange {
            citekey: citekey.to_owned(),
            first,
            last,
            page_count,
        });
    }
    let mut out = Vec::new();
    for n in first..=last {
        // A page that failed has no JSON: it is an empty page, so page N
        // stays the Nth (as in fulltext.txt).
        let page = if n == 1 {
            page_one.take()
        } else {
            read_page(&result.dir, n)?
        };
        out.push((n, page.map(|p| p.text).unwrap_or_default()));
    }
    Ok(CitekeyText {
        citekey: citekey.to_owned(),
        job_id: result.job_id,
        dir: result.dir,
        pages: out,
        page_count,
    })
}

/// `text` cut to `max` characters (at least 1), with an ellipsis when cut:
/// for a line of output or a table cell.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.max(1) - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod shorten_tests {
    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(super::shorten("short", 10), "short");
        assert_eq!(
            super::shorten("Die Frau und der Sozialismus", 8),
            "Die Fra…"
        );
        assert_eq!(super::shorten("Mémoire", 4), "Mém…");
    }
}
