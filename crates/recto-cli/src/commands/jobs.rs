//! `recto jobs ...`: the registry's queries.

use recto_registry::{JobId, Registry};

use super::Outcome;
use crate::cli::JobsCommand;
use crate::config::Config;
use crate::output;

pub fn run(cmd: JobsCommand, config: &Config) -> anyhow::Result<Outcome> {
    let reg = match cmd {
        JobsCommand::NewId => config.registry(),
        _ => config.reader(),
    };
    match cmd {
        JobsCommand::List { step, json, long } => {
            config.require_data_dir()?;
            list(&reg, step.as_deref(), json, long)?
        }
        JobsCommand::Latest { json } => {
            let latest = reg.resolve_job("latest")?;
            if json {
                output::json(latest.as_str())?;
            } else {
                output::line(latest.as_str())?;
            }
        }
        JobsCommand::Status { job, json } => status(&reg, &job, json)?,
        JobsCommand::Show { job } => {
            let job = reg.resolve_job(&job)?;
            output::json(&reg.get_central_registry(&job)?)?;
        }
        JobsCommand::Citekey { citekey, json } => {
            let jobs = reg.find_jobs_for_citekey(&citekey)?;
            if json {
                output::json(&jobs)?;
            } else if jobs.is_empty() {
                anyhow::bail!(super::CliError::NotFound(format!(
                    "no job has processed citekey {citekey:?}"
                )));
            } else {
                for j in jobs {
                    output::line(format!("{} > {}: {}", j.job_id, j.step, j.status))?;
                }
            }
        }
        JobsCommand::NewId => output::line(reg.new_job_id()?.as_str())?,
    }
    Ok(Outcome::Success)
}

fn list(reg: &Registry, step: Option<&str>, json: bool, long: bool) -> anyhow::Result<()> {
    if json && long {
        return output::json(&reg.job_summaries(step)?);
    }
    if json {
        let ids: Vec<String> = reg
            .list_all_jobs(step)?
            .iter()
            .map(JobId::to_string)
            .collect();
        return output::json(&ids);
    }
    let mut out = String::new();
    for job in reg.job_summaries(step)? {
        let steps: Vec<String> = job
            .steps
            .iter()
            .zip(&job.counts)
            .map(|((s, st), c)| format!("{s}: {}", step_detail(st, c)))
            .collect();
        out.push_str(&format!("{}  {}", job.job_id, steps.join(", ")));
        if let Some(src) = job.source_job_id.filter(|s| *s != job.job_id) {
            out.push_str(&format!("  (from {src})"));
        }
        out.push('\n');
    }
    output::text(&out)
}

/// `completed (7 citekeys, 1 failed, 42 s)`: a step that reached its end
/// with some failures is shown so, never as a bare `completed`.
fn step_detail(status: &str, c: &recto_registry::StepCounts) -> String {
    let mut parts = Vec::new();
    if c.citekeys > 0 {
        parts.push(output::count(c.citekeys, "citekey"));
    }
    if c.citekeys_failed > 0 && status != "failed" {
        parts.push(format!("{} failed", c.citekeys_failed));
    }
    match c.duration_seconds {
        Some(d) if d < 10.0 => parts.push(format!("{d:.1} s")),
        Some(d) => parts.push(format!("{d:.0} s")),
        None => {}
    }
    if parts.is_empty() {
        status.to_owned()
    } else {
        format!("{status} ({})", parts.join(", "))
    }
}

fn status(reg: &Registry, job: &str, json: bool) -> anyhow::Result<()> {
    let job = reg.resolve_job(job)?;
    let st = reg.get_job_pipeline_status(&job)?;
    // A job run by shards: each shard's state, pages and Slurm task.
    let shards = recto_steps::ocr::shard::status(reg, &job)?;
    // The later steps' shards, by citekey.
    let mut step_shards = std::collections::BTreeMap::new();
    for s in &st.steps {
        if s.step != "ocr"
            && let Some(v) = recto_steps::driver::status(reg, &s.step, &job)?
        {
            step_shards.insert(s.step.clone(), v);
        }
    }
    if json {
        let mut v = serde_json::to_value(&st)?;
        if let Some(obj) = v.as_object_mut() {
            if let Some(shards) = &shards {
                obj.insert("shards".into(), serde_json::to_value(shards)?);
            }
            if !step_shards.is_empty() {
                obj.insert("step_shards".into(), serde_json::to_value(&step_shards)?);
            }
        }
        return output::json(&v);
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!("job {}\n", st.job_id);
    out.push_str(&format!(
        "source:    {}\n",
        st.source_job_id.as_deref().unwrap_or("-")
    ));
    out.push_str(&format!("completed: {}\n", list(&st.steps_completed)));
    out.push_str(&format!("pending:   {}\n", list(&st.steps_pending)));
    out.push_str(&format!("failed:    {}\n", list(&st.steps_failed)));
    for (step, keys) in &st.citekeys_missing {
        let shown: Vec<String> = keys
            .iter()
            .take(20)
            .map(|(k, state)| format!("{k} ({state})"))
            .collect();
        let more = keys.len().saturating_sub(shown.len());
        out.push_str(&format!(
            "not done:  {step}: {}{}\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more (recto status --step {step})")
            } else {
                String::new()
            }
        ));
    }
    if !st.steps.is_empty() {
        out.push_str("steps:\n");
        let width = st.steps.iter().map(|s| s.step.len()).max().unwrap_or(0);
        for s in &st.steps {
            out.push_str(&format!(
                "  {:width$}  {:9}  {}  {}",
                s.step,
                s.shown(),
                s.job_id,
                s.timestamp
            ));
            if let Some(why) = &s.stale_reason {
                out.push_str(&format!("  ({why})"));
            }
            out.push('\n');
        }
    }
    if let Some(shards) = shards {
        out.push_str("shards:\n");
        for s in shards {
            out.push_str(&format!(
                "  {:>3}  {:24}  {:>5}/{:<5} pages",
                s.shard, s.state, s.pages_done, s.pages
            ));
            if s.runs > 1 {
                out.push_str(&format!("  {} runs", s.runs));
            }
            if let Some(h) = &s.host {
                out.push_str(&format!("  on {h}"));
            }
            if let Some(id) = &s.slurm_job_id {
                out.push_str(&format!("  slurm {id}"));
            }
            if let Some(q) = &s.slurm_state {
                out.push_str(&format!(" {q}"));
            }
            out.push('\n');
        }
    }
    for (step, shards) in &step_shards {
        out.push_str(&format!("shards of {step}:\n"));
        for s in shards {
            out.push_str(&format!(
                "  {:>3}  {:24}  {:>5}/{:<5} citekeys\n",
                s.shard, s.state, s.citekeys_done, s.citekeys
            ));
        }
    }
    output::text(&out)
}
