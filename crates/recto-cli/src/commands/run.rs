//! `recto run`: every pending citekey through the configured pipeline, as
//! the commands a user would type one after the other (upload from the
//! configured .bib or folder, `ocr --pending`, the sync of each job with
//! unsynced results, `toc`/`segment`/`export --pending`, `index`). Each
//! command records its own job exactly as when typed; `run` adds no record
//! of its own, so the registry's answers are the same either way.

use std::ffi::OsString;

use clap::Parser;
use recto_registry::StepName;

use super::Outcome;
use crate::cli::{Cli, RunArgs};
use crate::config::Config;
use crate::output;

/// How one command of the run ended.
enum Ended {
    Done,
    Partial,
    NothingToDo,
    Failed,
}

pub fn run(args: &RunArgs, config: &Config) -> anyhow::Result<Outcome> {
    let mut failed: Vec<String> = Vec::new();
    let mut partial = false;
    let mut step = |argv: Vec<OsString>, config: &Config| -> Ended {
        // The command's name, for the summary of what failed.
        let name = argv
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ended = command(argv, config);
        match ended {
            Ended::Failed => failed.push(name),
            Ended::Partial => partial = true,
            _ => {}
        }
        ended
    };
    if let Some(upload) = upload_argv(args, config) {
        // Without the store nothing later can read a source: stop here.
        if matches!(step(upload, config), Ended::Failed) {
            anyhow::bail!("run stopped: the upload failed (see above)");
        }
    }
    for name in &config.pipeline {
        let name = name.as_str();
        if let Some(of) = name.strip_prefix("sync_") {
            for job in unsynced_jobs(config, of)? {
                step(sync_argv(of, &job), config);
            }
            continue;
        }
        let argv = match name {
            "ocr" => {
                let mut v = argv(&["ocr", "--pending"]);
                for l in &args.languages {
                    v.extend(argv(&["--lang", l]));
                }
                if let Some(w) = args.workers {
                    v.extend(argv(&["--workers", &w.to_string()]));
                }
                v
            }
            "toc" => argv(&["toc", "--pending"]),
            "segmentation" => argv(&["segment", "--pending"]),
            "export" => argv(&["export", "--pending", "--format", &args.format.join(",")]),
            // A step of the user's own: recto cannot run it.
            _ => continue,
        };
        step(argv, config);
    }
    step(argv(&["index"]), config);
    if !failed.is_empty() {
        anyhow::bail!(
            "run ended with {} failed: {} (`recto status` says which citekeys and how to fix them)",
            output::count(failed.len(), "command"),
            failed.join(", ")
        );
    }
    Ok(if partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

fn argv(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// The upload of the configured sources, when there are any: `--bib` or
/// `--from`, else recto.toml's `bib` or `from`.
fn upload_argv(args: &RunArgs, config: &Config) -> Option<Vec<OsString>> {
    let sources = config.sources();
    let bib = args.bib.clone().or_else(|| sources.bib.clone());
    let from = args.from.clone().or_else(|| sources.from.clone());
    let mut v = argv(&["upload"]);
    match (bib, from) {
        (Some(bib), _) => {
            v.push("--bib".into());
            v.push(bib.into());
            let given = args.bib_path_map.iter().map(|(a, b)| format!("{a}={b}"));
            for map in given.chain(sources.bib_path_map.iter().cloned()) {
                v.push("--bib-path-map".into());
                v.push(map.into());
            }
        }
        (None, Some(from)) => {
            v.push("--from".into());
            v.push(from.into());
        }
        (None, None) => return None,
    }
    Some(v)
}

/// The jobs of step `of` whose results some citekey still needs synced.
fn unsynced_jobs(config: &Config, of: &str) -> anyhow::Result<Vec<String>> {
    let steps = [
        StepName::parse(of)?,
        StepName::parse(&format!("sync_{of}"))?,
    ];
    let states = config.reader().citekey_states(&[], Some(&steps))?;
    let mut jobs: Vec<String> = states
        .iter()
        .filter(|s| s.steps.len() == 2 && s.steps[0].state == "done" && s.steps[1].needs_run())
        .filter_map(|s| s.steps[0].job_id.clone())
        .collect();
    jobs.sort();
    jobs.dedup();
    Ok(jobs)
}

fn sync_argv(of: &str, job: &str) -> Vec<OsString> {
    if of == "ocr" {
        argv(&["sync-ocr", "--job-id", job])
    } else {
        argv(&["sync", "--step", of, "--job-id", job])
    }
}

/// Run one command in this process, as `recto <argv>` would, and say how
/// it ended; its errors are printed as the command would print them.
fn command(args: Vec<OsString>, config: &Config) -> Ended {
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let _ = output::line(format!("==> recto {}", shown.join(" ")));
    let cli = match Cli::try_parse_from(std::iter::once(OsString::from("recto")).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ended::Failed;
        }
    };
    match super::dispatch(cli.command, config) {
        Ok(Outcome::Success) => Ended::Done,
        Ok(Outcome::Partial) => Ended::Partial,
        Err(e) if nothing_to_do(&e) => {
            let _ = output::line("nothing to do");
            Ended::NothingToDo
        }
        Err(e) => {
            crate::report(&e);
            Ended::Failed
        }
    }
}

fn nothing_to_do(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<recto_steps::StepError>(),
        Some(recto_steps::StepError::NothingToDo { .. })
    )
}
