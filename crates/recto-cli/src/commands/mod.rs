//! One module per command group; each returns the process's exit status.

pub mod jobs;
pub mod ocr;
pub mod registry;
pub mod step;
pub mod sync;
pub mod upload;

/// The one tokio runtime builder of the commands that talk to stores.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Finished, but some items failed (exit code 3).
    Partial,
}

/// An error in what the user gave that no library type describes (metadata
/// that is not JSON); maps to the usage-error exit code.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
