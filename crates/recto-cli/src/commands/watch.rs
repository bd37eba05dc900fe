//! `recto watch`: `recto run` again whenever the Better BibTeX auto-export
//! file or the PDF folder changes. A change is acted on once it has held
//! still for one interval (a PDF still being written, or a .bib half
//! exported, keeps changing its size or time), so a run never reads half a
//! file. Ctrl-C while waiting ends the watch; during a run it interrupts
//! the running step as it would any command (its record says so).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Outcome;
use crate::cli::WatchArgs;
use crate::config::Config;
use crate::output;

/// What is watched, as it stood at one poll: each file with its size and
/// modification time.
type Snapshot = Vec<(PathBuf, u64, Option<SystemTime>)>;

pub fn run(args: &WatchArgs, config: &Config) -> anyhow::Result<Outcome> {
    let watched = watched(args, config)?;
    let interval = Duration::from_secs_f64(args.interval.max(0.05));
    let rt = super::runtime()?;
    let mut ran_on = snapshot(&watched, &config.data_dir);
    run_once(args, config);
    let mut last = ran_on.clone();
    output::line(format!(
        "watching {} (every {:.1} s; Ctrl-C to stop)",
        watched.display(),
        interval.as_secs_f64()
    ))?;
    loop {
        let stop = rt.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => true,
                () = tokio::time::sleep(interval) => false,
            }
        });
        if stop {
            output::line("stopped watching")?;
            return Ok(Outcome::Success);
        }
        let now = snapshot(&watched, &config.data_dir);
        // Changed since the last run, and the same as one interval ago.
        if now != ran_on && now == last {
            run_once(args, config);
            ran_on = now.clone();
        }
        last = now;
    }
}

/// One `recto run`; its failures are printed and the watch goes on.
fn run_once(args: &WatchArgs, config: &Config) {
    if let Err(e) = super::run::run(&args.run, config) {
        crate::report(&e);
    }
}

/// The .bib (`--bib` or recto.toml's) or else the folder (`--from`).
fn watched(args: &WatchArgs, config: &Config) -> anyhow::Result<PathBuf> {
    let sources = config.sources();
    args.run
        .bib
        .clone()
        .or_else(|| sources.bib.clone())
        .or_else(|| args.run.from.clone())
        .or_else(|| sources.from.clone())
        .ok_or_else(|| {
            super::CliError::Usage(
                "nothing to watch: give --bib FILE or --from DIR (or `bib` / `from` in recto.toml)"
                    .into(),
            )
            .into()
        })
}

/// The watched file, or the PDFs under the watched folder (the files
/// `upload --from` takes: not the data directory, not hidden folders).
fn snapshot(path: &Path, data_dir: &Path) -> Snapshot {
    let stat = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (p.to_path_buf(), m.len(), m.modified().ok()))
    };
    if !path.is_dir() {
        return stat(path).into_iter().collect();
    }
    let files = recto_steps::sources::pdf_files(path, &[data_dir]).unwrap_or_default();
    let mut out: Snapshot = files.iter().filter_map(|f| stat(f)).collect();
    out.sort();
    out
}
