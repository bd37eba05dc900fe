//! recto's page engine: every page of a PDF into page JSON plus a page
//! image. MuPDF (linked as a library) renders pages and reads their text
//! layer; where the layer is missing or garbage, Tesseract (through its C
//! API, one engine per worker thread) reads the rendered page, after
//! orientation detection turned it upright.
//!
//! Debian's libtesseract is built with OpenMP: the process must run with
//! `OMP_THREAD_LIMIT=1` so that N workers use N cores and no more.

pub mod columns;
pub mod deskew;
mod error;
pub mod heuristic;
pub mod image;
pub mod page;
pub mod render;
pub mod run;
pub mod searchable;
pub mod tess;

pub use error::OcrError;
pub use run::{
    DEFAULT_MAX_MEGAPIXELS, DocReport, DocTask, HARD_MAX_MEGAPIXELS, Mode, OcrConfig, PageObserver,
    PageOutcome, PageSummary, Thresholding, capped_dpi, completed_page, count_text_layer_pages,
    debian_package, language_code, run, text_layer_pages, validate_languages, write_fulltext,
};
