//! How the CLI runs and reports any step on the steps' one driver
//! (`recto_steps::driver`): one run, one report from the typed outcome,
//! one hint for a citekey whose input step has no result. A step's command
//! module builds the step and its request from its flags and says how a
//! citekey's entry reads as a line.

use recto_steps::driver::{self, CitekeyStep, Remedy, Request};

use super::Outcome;
use crate::config::Config;
use crate::progress::CliProgress;

/// A step as the CLI reports it.
pub trait Report: CitekeyStep {
    /// One line about a citekey's result.
    fn line(key: &str, entry: &Self::Entry) -> String;
}

/// What every step command prints: `--json` or a line per citekey.
#[derive(Debug, Clone, Copy)]
pub struct Printing {
    pub json: bool,
    pub quiet: bool,
}

/// Run `step` as `req` says, report it, and say how it ended.
pub fn run<S: Report>(
    step: &S,
    req: &Request,
    printing: Printing,
    config: &Config,
) -> anyhow::Result<Outcome> {
    run_then(step, req, printing, config, |_| Ok(()))
}

/// [`run`], then `after` on what the run recorded (e.g. export's `--flat`),
/// before the exit status is decided.
pub fn run_then<S: Report>(
    step: &S,
    req: &Request,
    printing: Printing,
    config: &Config,
    after: impl FnOnce(&driver::Outcome<S>) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let progress = CliProgress::new(printing.quiet || printing.json, "citekeys");
    let rt = super::runtime()?;
    crate::watch_interrupts(&rt);
    let out = rt.block_on(driver::run(&registry, step, req, &progress))?;
    after(&out)?;
    report(&out, printing)
}

/// The step each step reads, as the steps declare it.
fn input_of(step: &str) -> Option<&'static str> {
    use recto_steps::{export::ExportStep, segment::SegmentStep, toc::TocStep};
    [
        (TocStep::NAME, TocStep::INPUT),
        (SegmentStep::NAME, SegmentStep::INPUT),
        (ExportStep::NAME, ExportStep::INPUT),
        ("ocr", "source"),
    ]
    .into_iter()
    .find_map(|(s, input)| (s == step).then_some(input))
}

/// The steps a citekey needs before a step reading `input` can read it,
/// when `missing` has no result for it: `missing`, then each step reading
/// the one before, up to `input`; `None` when `input` does not lead back
/// to `missing`.
fn to_run_first(missing: &str, input: &str) -> Option<Vec<String>> {
    let mut chain = vec![input.to_owned()];
    while chain.last().is_some_and(|s| s != missing) {
        let before = input_of(chain.last()?)?;
        chain.push(before.to_owned());
    }
    chain.reverse();
    Some(chain)
}

/// The hint for a citekey that failed because `missing` has no result.
pub fn run_first_hint(key: &str, missing: &str, input: &str) -> Option<String> {
    let steps = to_run_first(missing, input)?;
    let commands: Vec<String> = steps
        .iter()
        .map(|s| format!("`recto {} --citekeys {key}`", super::command_of(s)))
        .collect();
    Some(format!("run {} first", commands.join(", then ")))
}

fn report<S: Report>(out: &driver::Outcome<S>, printing: Printing) -> anyhow::Result<Outcome> {
    for (key, f) in &out.failures {
        tracing::error!("{key}: {}", f.message);
        let hint = match &f.remedy {
            Some(Remedy::RunFirst { step }) => run_first_hint(key, step, S::INPUT),
            Some(Remedy::Decrypt) => Some(
                "pass --decrypt with its --password to write its copy without encryption".into(),
            ),
            _ => None,
        };
        if let Some(h) = hint {
            tracing::error!("hint: {h}");
        }
    }
    let report = recto_steps::report::citekey_step(out);
    let per = &out.recorded.per_citekey;
    if printing.json {
        crate::output::json(&report.json)?;
    } else if !printing.quiet {
        for (key, entry) in per {
            crate::output::line(S::line(key, entry))?;
        }
        crate::output::line(format!(
            "{} job {}: {}, {} failed",
            S::NAME,
            out.job_id,
            crate::output::count(per.len() + out.failures.len(), "citekey"),
            out.failures.len()
        ))?;
    }
    super::ended(report.ending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_input_names_every_step_to_run_in_order() {
        assert_eq!(
            run_first_hint("k", "ocr", "toc").unwrap(),
            "run `recto ocr --citekeys k`, then `recto toc --citekeys k` first"
        );
        assert_eq!(
            run_first_hint("k", "toc", "toc").unwrap(),
            "run `recto toc --citekeys k` first"
        );
        assert_eq!(
            run_first_hint("k", "ocr", "ocr").unwrap(),
            "run `recto ocr --citekeys k` first"
        );
        assert_eq!(run_first_hint("k", "nothing", "ocr"), None);
    }
}
