//! The `recto` binary: parses the command line, runs one command, prints the
//! error chain and maps it to a documented exit code.

mod cli;
mod commands;
mod config;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::Outcome;
use crate::config::Config;

fn main() -> ExitCode {
    ensure_single_threaded_openmp();
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(err) => {
            report(&err);
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let config = Config::from_args(&cli.global)?;
    match cli.command {
        Command::Upload(args) => commands::upload::run(args, &config),
        Command::Ocr(args) => commands::ocr::run(args, &config),
        Command::SyncOcr(args) => commands::sync::run(args, &config),
        Command::Jobs(cmd) => commands::jobs::run(cmd, &config),
        Command::Step(cmd) => commands::step::run(cmd, &config),
        Command::Registry(cmd) => commands::registry::run(cmd, &config),
    }
}

/// Debian's libtesseract uses OpenMP, which reads `OMP_THREAD_LIMIT` once,
/// when the library loads: setting it from `main` would be too late. So the
/// binary re-executes itself with the variable set; recto's parallelism is
/// its own worker threads, one single-threaded Tesseract each.
fn ensure_single_threaded_openmp() {
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
}

#[allow(clippy::print_stderr)]
fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    // object_store nests errors whose messages repeat their causes; print
    // only causes that add something.
    let mut shown = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {text}");
            shown.push_str(&text);
        }
    }
}

fn exit_code(err: &anyhow::Error) -> u8 {
    let not_found = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<recto_store::StoreError>(),
            Some(recto_store::StoreError::NotFound { .. })
        ) || e
            .downcast_ref::<recto_registry::Error>()
            .is_some_and(recto_registry::Error::is_not_found)
            || e.downcast_ref::<commands::jobs::NotFound>().is_some()
    });
    if not_found { 4 } else { 1 }
}
