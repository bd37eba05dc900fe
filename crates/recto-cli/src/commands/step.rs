//! `recto step ...`: read and record one step's metadata.

use std::io::Read;

use anyhow::Context;
use serde_json::Value;

use super::Outcome;
use crate::cli::StepCommand;
use crate::config::Config;
use crate::output;

pub fn run(cmd: StepCommand, config: &Config) -> anyhow::Result<Outcome> {
    let reg = match cmd {
        StepCommand::Show { .. } => config.reader(),
        _ => config.registry(),
    };
    match cmd {
        StepCommand::Show { step, job } => {
            let (_, meta) = reg.metadata_by_name(&step, &job)?;
            output::json(&meta)?;
        }
        StepCommand::Save {
            step,
            job,
            metadata,
        } => {
            // Names first: a bad step or job id is reported before any
            // metadata is read (or waited for on stdin).
            recto_registry::RecordKind::from_user(&step)?;
            if job != "new" {
                recto_registry::JobId::parse(&job)?;
            }
            let text = if metadata.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading metadata from stdin")?;
                s
            } else {
                std::fs::read_to_string(&metadata)
                    .with_context(|| format!("reading {}", metadata.display()))?
            };
            let source = if metadata.as_os_str() == "-" {
                "stdin".to_owned()
            } else {
                metadata.display().to_string()
            };
            let mut value: Value = serde_json::from_str(&text).map_err(|e| {
                super::CliError::Usage(format!("{source}: metadata is not valid JSON: {e}"))
            })?;
            // The process that records a running step is the one that called
            // recto, not this short-lived recto process.
            if let Value::Object(m) = &mut value
                && m.get("status").and_then(Value::as_str)
                    == Some(recto_registry::Status::Running.as_str())
                && !m.contains_key("pid")
            {
                m.insert("pid".into(), parent_pid().into());
            }
            let (job, _) = reg.save_by_name(&step, &job, value)?;
            output::line(job.as_str())?;
        }
    }
    Ok(Outcome::Success)
}

fn parent_pid() -> u32 {
    // SAFETY: getppid has no preconditions and cannot fail.
    let ppid = unsafe { libc::getppid() };
    u32::try_from(ppid).unwrap_or(0)
}
