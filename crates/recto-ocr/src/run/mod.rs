//! The page pipeline over many documents, on N worker threads.
//!
//! Every page of every document goes into one queue; each worker keeps its
//! own MuPDF document handle (reopened when it moves to another document)
//! and its own Tesseract engines, reused across pages. A worker holds one
//! page at a time and writes it straight to disk, so memory is bounded by
//! the number of workers, not by the page count.
//!
//! Its parts: [`config`] (what shapes the output), [`task`] (a document and
//! its reports), [`languages`], [`pool`] (the queue and the workers),
//! [`worker`] (one page read), [`bands`] (empty margins read again),
//! [`output`] (page files, resume, full text).

mod bands;
pub mod config;
pub mod languages;
mod output;
mod pool;
pub mod task;
mod worker;

pub use config::*;
pub use languages::{debian_package, fraktur_languages, language_code, validate_languages};
pub use output::{completed_page, write_fulltext};
pub use pool::{count_text_layer_pages, run, text_layer_pages};
pub use task::{DocReport, DocTask, PageObserver, PageOutcome, PageSummary};
