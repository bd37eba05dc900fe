//! The `recto` command line as a library: parse arguments, run one command,
//! print the error chain and map it to a documented exit code. The `recto`
//! binary and the Python scripts (through `recto-py`) both call [`run_cli`].

mod cli;
mod commands;
mod config;
mod output;
mod progress;
mod slurm;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::Outcome;
use crate::config::Config;

/// The documented exit codes (`recto --help` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    Success = 0,
    /// The command could not do its work.
    Error = 1,
    /// Bad flags or arguments, or a malformed id, name or setting.
    Usage = 2,
    /// Finished, but some items failed.
    Partial = 3,
    /// The job, step or citekey asked for does not exist.
    NotFound = 4,
}

/// Run `recto` with these arguments (the first is the program name) and
/// return the process exit code.
pub fn run_cli<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; clap prints both kinds.
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Usage as u8
            } else {
                ExitStatus::Success as u8
            };
        }
    };
    init_logging(cli.global.verbose);
    let status = match run(cli) {
        Ok(Outcome::Success) => ExitStatus::Success,
        Ok(Outcome::Partial) => ExitStatus::Partial,
        Err(err) => {
            report(&err);
            exit_status(&err)
        }
    };
    status as u8
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let config = Config::from_args(&cli.global)?;
    if !matches!(
        cli.command,
        Command::Step(_) | Command::Registry(_) | Command::Completions { .. } | Command::Man { .. }
    ) {
        config.check_pipeline()?;
    }
    commands::dispatch(cli.command, &config)
}

/// Run one parsed command with `config` (`recto run` runs several).
pub(crate) fn dispatch(command: Command, config: &Config) -> anyhow::Result<Outcome> {
    match command {
        Command::Upload(args) => commands::upload::run(args, config),
        Command::Run(args) => commands::run::run(&args, config),
        Command::Doctor(args) => commands::doctor::run(&args, config),
        Command::Completions { shell } => commands::docs::completions(shell),
        Command::Man { dir } => commands::docs::man(dir.as_deref()),
        Command::Watch(args) => commands::watch::run(&args, config),
        Command::Ocr(args) => commands::ocr::run(args, config),
        Command::SyncOcr(args) => commands::sync::run("ocr", args, config),
        Command::Sync(args) => commands::sync::run(&args.step, args.sync, config),
        Command::Toc(args) => commands::toc::run(args, config),
        Command::Segment(args) => commands::segment::run(args, config),
        Command::Export(args) => commands::export::run(args, config),
        Command::Index(args) => commands::search::index(args, config),
        Command::Serve(args) => commands::serve::run(args, config),
        Command::Search(args) => commands::search::search(args, config),
        Command::Status(args) => commands::status::run(args, config),
        Command::Text(args) => commands::text::run(args, config),
        Command::Show { citekey, json } => commands::text::show(&citekey, json, config),
        Command::Slurm(crate::cli::SlurmCommand::Ocr(args)) => commands::slurm::ocr(args, config),
        Command::Jobs(cmd) => commands::jobs::run(cmd, config),
        Command::Step(cmd) => commands::step::run(cmd, config),
        Command::Registry(cmd) => commands::registry::run(cmd, config),
    }
}

/// [`run_cli`], returning what it would print on stdout instead of
/// printing it (errors and progress still go to stderr).
pub fn run_cli_captured<I, T>(args: I) -> (u8, String)
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    output::captured(|| run_cli(args))
}

static HANDLE_INTERRUPTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Make Ctrl-C and SIGTERM end a running step cleanly: its record says
/// `interrupted`, the message says how to resume, the exit code is 130.
/// The binary turns this on; a host process (Python) keeps its own
/// signal handling.
pub fn handle_interrupts() {
    HANDLE_INTERRUPTS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Watch for Ctrl-C / SIGTERM on `rt` while a step command runs.
pub(crate) fn watch_interrupts(rt: &tokio::runtime::Runtime) {
    if !HANDLE_INTERRUPTS.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    rt.spawn(async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let runs = recto_steps::harness::record_interrupted();
        report_interrupt(&runs);
        std::process::exit(130);
    });
}

#[allow(clippy::print_stderr)]
fn report_interrupt(runs: &[(String, recto_registry::JobId)]) {
    eprintln!("interrupted");
    for (step, job) in runs {
        let resume = match step.as_str() {
            "ocr" => format!("recto ocr --resume {job}"),
            "source" => "run the same `recto upload` again (stored files are skipped)".to_owned(),
            s if s.starts_with("sync_") => format!(
                "run the same sync again (recto sync --step {} --job-id {job})",
                &s[5..]
            ),
            s => format!("run `recto {} --pending`", commands::command_of(s)),
        };
        eprintln!("  {step} job {job} is recorded as interrupted; to finish it: {resume}");
    }
}

/// Debian's libtesseract uses OpenMP, which reads `OMP_THREAD_LIMIT` once,
/// when the library loads: setting it from `main` would be too late. So the
/// binary re-executes itself with the variable set; recto's parallelism is
/// its own worker threads, one single-threaded Tesseract each.
pub fn ensure_single_threaded_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    // Only reached when exec failed: go on, merely slower.
    tracing::warn!("could not re-execute with OMP_THREAD_LIMIT=1: {err}");
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RECTO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // try_init: a second call in one process (the Python module) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}

#[allow(clippy::print_stderr)]
pub(crate) fn report(err: &anyhow::Error) {
    let causes = recto_store::error_causes(err.as_ref());
    for (i, text) in causes.iter().enumerate() {
        if i == 0 {
            eprintln!("error: {text}");
        } else {
            eprintln!("  caused by: {text}");
        }
    }
    if let Some(hint) = hint(err) {
        eprintln!("hint: {hint}");
    }
}

/// What to type next, in the command line's own terms: the libraries'
/// errors name no flags, since their other callers (Python) have none.
fn hint(err: &anyhow::Error) -> Option<String> {
    use recto_steps::StepError;
    let store = err
        .chain()
        .find_map(|e| e.downcast_ref::<recto_store::StoreError>());
    if let Some(recto_store::StoreError::WrongRegion { .. }) = store {
        return Some("give the bucket's region with --region (or RECTO_REGION)".into());
    }
    let library = err
        .chain()
        .find_map(|e| e.downcast_ref::<recto_library::LibraryError>());
    match library {
        Some(recto_library::LibraryError::NoSearchIndex { .. }) => {
            return Some("run `recto index` first".into());
        }
        Some(recto_library::LibraryError::Search(recto_search::SearchError::Incompatible {
            ..
        })) => return Some("rebuild it with `recto index --rebuild`".into()),
        _ => {}
    }
    let e = err.chain().find_map(|e| e.downcast_ref::<StepError>())?;
    Some(match e {
        StepError::NoCitekeys => "give --citekeys KEY[,KEY...]".into(),
        StepError::NoSources => "give --from DIR or --bib FILE with at least one PDF".into(),
        StepError::NotInSource { .. } => {
            "name an upload that holds them with --source-job-id, or upload them first".into()
        }
        StepError::NoCommonSource { .. } => {
            "upload these citekeys together, or name one upload with --source-job-id".into()
        }
        StepError::NoStoreRecorded { .. } => "give the store with --store".into(),
        StepError::NotCompleted { step, job, .. } if step == "ocr" => format!(
            "finish it with `recto ocr --resume {job}`, or sync what is complete with --allow-incomplete"
        ),
        StepError::NotCompleted { .. } => {
            "finish the job first, or sync what is complete with --allow-incomplete".into()
        }
        StepError::ResumeConflict { .. } => {
            "leave those options out to resume the job as recorded, or start a new job without --resume".into()
        }
        StepError::Ocr(recto_ocr::OcrError::Language { .. }) => {
            "--lang takes Tesseract codes joined with + (eng, deu, fra, eng+fra); `tesseract --list-langs` lists those installed, Debian packages others as tesseract-ocr-<code>".into()
        }
        StepError::NotSharded { step, .. } => format!(
            "plan a job in shards with `recto {} --shards N`",
            commands::command_of(step)
        ),
        StepError::ShardRunning { step, job, .. } => format!(
            "run `recto {} --finalize {job}` once it has ended",
            commands::command_of(step)
        ),
        StepError::Registry(recto_registry::Error::JobBusy { .. }) => {
            "wait for the other run to end; `recto jobs status JOB` shows it".into()
        }
        _ => return None,
    })
}

fn exit_status(err: &anyhow::Error) -> ExitStatus {
    let not_found = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<recto_store::StoreError>(),
            Some(recto_store::StoreError::NotFound { .. })
        ) || e
            .downcast_ref::<recto_registry::Error>()
            .is_some_and(recto_registry::Error::is_not_found)
            || e.downcast_ref::<recto_steps::StepError>()
                .is_some_and(recto_steps::StepError::is_not_found)
            || e.downcast_ref::<recto_library::LibraryError>()
                .is_some_and(recto_library::LibraryError::is_not_found)
            || matches!(
                e.downcast_ref::<commands::CliError>(),
                Some(commands::CliError::NotFound(_))
            )
    });
    let invalid = err.chain().any(|e| {
        e.downcast_ref::<recto_registry::Error>()
            .is_some_and(recto_registry::Error::is_invalid_input)
            || e.downcast_ref::<recto_steps::StepError>()
                .is_some_and(recto_steps::StepError::is_invalid_input)
            || e.downcast_ref::<recto_library::LibraryError>()
                .is_some_and(recto_library::LibraryError::is_invalid_input)
            || matches!(
                e.downcast_ref::<commands::CliError>(),
                Some(commands::CliError::Usage(_))
            )
    });
    if not_found {
        ExitStatus::NotFound
    } else if invalid {
        ExitStatus::Usage
    } else {
        ExitStatus::Error
    }
}
