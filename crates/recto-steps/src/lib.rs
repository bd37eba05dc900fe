//! recto's pipeline steps, glued from the registry (what ran) and the store
//! (where sources and results live): the source upload, OCR, the table of
//! contents, and the sync of a step's results. Every step runs on the shared [`harness`]; steps
//! report progress through [`Progress`] and never print.

pub mod driver;
mod error;
pub mod export;
pub mod fetch;
pub mod harness;
pub mod hashcache;
pub mod ocr;
pub mod progress;
pub mod report;
pub mod search;
pub mod segment;

pub mod sharding;
pub mod sources;
pub mod sync;
pub mod toc;
pub mod upload;

pub use error::{CitekeyError, StepError};
pub use progress::{NoProgress, Progress};
pub use recto_store::error_chain;
