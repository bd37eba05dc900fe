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
