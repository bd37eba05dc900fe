//! recto's pipeline steps, glued from the registry (what ran) and the store
//! (where sources and results live): the source upload, and the sync of OCR
//! results. Steps report progress through [`Progress`] and never print.

mod error;
pub mod hashcache;
pub mod ocr;
pub mod progress;
pub mod sources;
pub mod sync;
pub mod upload;

pub use error::StepError;
pub use progress::{NoProgress, Progress};
