//! One module per command group; each returns the process's exit status.

pub mod jobs;
pub mod ocr;
pub mod registry;
pub mod step;
pub mod sync;
pub mod upload;

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Finished, but some items failed (exit code 3).
    Partial,
}
