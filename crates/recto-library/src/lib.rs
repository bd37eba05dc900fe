//! The read side of a recto data directory: where a citekey's result of a
//! step is ([`result`]), its pages and text ([`pages`], [`text`]), and
//! searches of the library's index ([`search`]).
//!
//! Everything here reads. It links no engine (MuPDF, Tesseract), no object
//! store and no step, so the web app, the Python readers and the CLI's read
//! commands (`text`, `show`, `search`, `status`) depend on it and not on the
//! pipeline. Every folder a record names is resolved against the data
//! directory and refused when it would leave it ([`paths`]).

pub mod bib;
mod error;
pub mod fix;
pub mod pages;
pub mod paths;
pub mod result;
pub mod search;
pub mod text;

pub use bib::{Bib, bib_for, bib_of, bibliography, same_pdf, states_with_bib};
pub use error::LibraryError;
pub use fix::fix_command;
pub use result::{StepResult, ocr_result, resolve_job, step_result};
// The types its readers return, so callers need not name their crates.
pub use recto_segment::Segments;
pub use recto_toc::Toc;
