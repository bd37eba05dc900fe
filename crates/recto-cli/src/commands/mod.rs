//! One module per command group; each returns the process's exit status.

pub mod citekey_step;
pub mod docs;
pub mod doctor;
pub mod export;
pub mod jobs;
pub mod ocr;
pub mod registry;
pub mod run;
pub mod search;
pub mod segment;
pub mod serve;
pub mod slurm;
pub mod status;
pub mod step;
pub mod sync;
pub mod text;
pub mod toc;
pub mod upload;
pub mod watch;

pub(crate) use crate::dispatch;

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

/// Errors the CLI finds itself (no library type describes them), with the
/// exit code each maps to.
#[derive(Debug)]
pub enum CliError {
    /// Something asked for does not exist (exit code 4).
    NotFound(String),
    /// What the user gave is malformed, e.g. metadata that is not JSON
    /// (exit code 2).
    Usage(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::NotFound(m) | CliError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// The command that runs step `step` (`segmentation` is `recto segment`).
pub fn command_of(step: &str) -> &str {
    recto_library::fix::command_of(step)
}

/// The exit status of a run that ended as `ending` says; a run where
/// nothing could be read fails with the report's message.
pub fn ended(ending: recto_steps::report::Ending) -> anyhow::Result<Outcome> {
    use recto_steps::report::Ending;
    match ending {
        Ending::Done => Ok(Outcome::Success),
        Ending::Partial => Ok(Outcome::Partial),
        Ending::Failed(why) => Err(anyhow::anyhow!(why)),
    }
}
