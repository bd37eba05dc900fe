//! `recto status`: the library view, per citekey.

use recto_registry::{CitekeyState, STATE_ORDER, StepName};

use super::Outcome;
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::output;

pub fn run(args: StatusArgs, config: &Config) -> anyhow::Result<Outcome> {
    let reg = config.reader();
    config.require_data_dir()?;
    let steps = args.step.as_deref().map(StepName::parse).transpose()?;
    let states = reg.citekey_states(&args.citekeys, steps.as_ref().map(std::slice::from_ref))?;
    if args.json {
        output::json(&states)?;
    } else {
        let mut out = String::new();
        let width = states.iter().map(|s| s.citekey.len()).max().unwrap_or(0);
        for s in &states {
            out.push_str(&line(s, width));
            out.push('\n');
            // The citekeys asked for by name, and every failed one: the
            // one command that brings it forward.
            let asked = !args.citekeys.is_empty() && s.state != "done";
            if (asked || s.state == "failed")
                && let Some(fix) = fix(s)
            {
                out.push_str(&format!("{:width$}  fix: {fix}\n", ""));
            }
        }
        out.push_str(&summary(&states));
        out.push('\n');
        output::text(&out)?;
    }
    Ok(Outcome::Success)
}

fn line(s: &CitekeyState, width: usize) -> String {
    let steps: Vec<String> = s
        .steps
        .iter()
        .map(|st| {
            let mut t = format!("{}: {}", st.step, st.state);
            let mut details = Vec::new();
            if let Some(j) = &st.job_id {
                details.push(j.clone());
            }
            if let Some(p) = st.pages {
                details.push(format!("{p} pages"));
            }
            if let Some(c) = st.mean_confidence {
                details.push(format!("confidence {c:.1}"));
            }
            if let Some(r) = &st.reason {
                details.push(r.clone());
            }
            if !details.is_empty() {
                t.push_str(&format!(" ({})", details.join(", ")));
            }
            t
        })
        .collect();
    format!("{:width$}  {:8}  {}", s.citekey, s.state, steps.join("; "))
}

/// The one command that brings citekey `s` forward: its first step
/// without a completed result (a sync step pushes the job its step ran
/// in); `None` when nothing is to do or a run is still going.
fn fix(s: &CitekeyState) -> Option<String> {
    let key = shlex::try_quote(&s.citekey).ok()?;
    if s.source.is_none() {
        return Some(format!(
            "upload its PDF: recto upload --from DIR --citekeys {key}"
        ));
    }
    let st = s.steps.iter().find(|st| st.needs_run())?;
    Some(match st.step.strip_prefix("sync_") {
        Some(step) => {
            let job = s
                .steps
                .iter()
                .find(|x| x.step == step)
                .and_then(|x| x.job_id.as_deref())
                .unwrap_or("latest");
            if step == "ocr" {
                format!("recto sync-ocr --job-id {job}")
            } else {
                format!("recto sync --step {step} --job-id {job}")
            }
        }
        None => format!("recto {} --citekeys {key}", super::command_of(&st.step)),
    })
}

/// `412 citekeys: 380 done, 20 pending, 9 failed, 3 outdated`.
fn summary(states: &[CitekeyState]) -> String {
    let counts: Vec<String> = STATE_ORDER
        .iter()
        .rev()
        .filter_map(|st| {
            let n = states.iter().filter(|s| s.state == *st).count();
            (n > 0).then(|| format!("{n} {st}"))
        })
        .collect();
    let noun = if states.len() == 1 {
        "citekey"
    } else {
        "citekeys"
    };
    if counts.is_empty() {
        format!("{} {noun}", states.len())
    } else {
        format!("{} {noun}: {}", states.len(), counts.join(", "))
    }
}
