//! `recto status`: the library view, per citekey: one line each (`ocr
//! done, sync_ocr pending`), the command that fixes a citekey that needs
//! one, and with `--why` the detail behind each state.

use recto_registry::{CitekeyState, STATE_ORDER, StepName, StepOnCitekey};

use super::Outcome;
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::output;

pub fn run(args: StatusArgs, config: &Config) -> anyhow::Result<Outcome> {
    let reg = config.reader();
    config.require_data_dir()?;
    let steps = args.step.as_deref().map(StepName::parse).transpose()?;
    let states = reg.citekey_states(&args.citekeys, steps.as_ref().map(std::slice::from_ref))?;
    if args.summary {
        output::text(&library_summary(&reg, &states, &config.data_dir))?;
        return Ok(Outcome::Success);
    }
    let bib = recto_library::bib_for(&reg, &args.citekeys);
    if args.json {
        output::json(&recto_library::states_with_bib(&states, &bib))?;
        return Ok(Outcome::Success);
    }
    let mut out = String::new();
    let width = states.iter().map(|s| s.citekey.len()).max().unwrap_or(0);
    // Only the citekeys shown are compared: ask for both to see a pair.
    let twins = recto_library::same_pdf(&states);
    for s in &states {
        let about = bib.get(&s.citekey).map(|b| b.line()).unwrap_or_default();
        if args.why {
            out.push_str(&why(s, &about));
            continue;
        }
        out.push_str(&line(s, width));
        if !about.is_empty() {
            out.push_str(&format!("  [{}]", recto_library::text::shorten(&about, 60)));
        }
        if let Some(t) = twins.get(&s.citekey) {
            out.push_str(&format!("  (same PDF as {})", t.join(", ")));
        }
        out.push('\n');
        // The citekeys asked for by name, and every failed one: the one
        // command that brings it forward.
        let asked = !args.citekeys.is_empty() && s.state != "done";
        if (asked || s.state == "failed")
            && let Some(fix) = recto_library::fix_command(s)
        {
            out.push_str(&format!("{:width$}  fix: {fix}\n", ""));
        }
    }
    out.push_str(&summary(&states));
    out.push('\n');
    output::text(&out)?;
    Ok(Outcome::Success)
}

/// `smith2020  pending   ocr done (2026-..., 12 pages), sync_ocr pending`:
/// each step's own state, so a citekey whose OCR is done never reads as a
/// bare `pending`.
fn line(s: &CitekeyState, width: usize) -> String {
    let mut steps: Vec<String> = Vec::new();
    // Without a source no step can run: that is the one thing to say.
    let problem = s
        .source
        .is_none()
        .then_some(())
        .and(s.source_problem.as_ref());
    if let Some(p) = problem {
        steps.push(format!("no source ({p})"));
    }
    for st in s.steps.iter().filter(|_| problem.is_none()) {
        let mut t = format!("{} {}", st.step, st.state);
        let mut details = Vec::new();
        if let Some(j) = &st.job_id {
            details.push(j.clone());
        }
        if let Some(p) = st.pages.filter(|p| *p > 0 || st.state == "done") {
            details.push(output::count(p, "page"));
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
        steps.push(t);
    }
    format!("{:width$}  {:8}  {}", s.citekey, s.state, steps.join(", "))
}

/// The detail behind a citekey's state, one line per fact.
fn why(s: &CitekeyState, about: &str) -> String {
    let mut out = format!("{}: {}\n", s.citekey, s.state);
    if !about.is_empty() {
        out.push_str(&format!("  {about}\n"));
    }
    let width = s.steps.iter().map(|st| st.step.len()).max().unwrap_or(0);
    let width = width.max("source".len());
    let source = match (&s.source, &s.source_problem) {
        (Some(src), _) => {
            let mut t = format!("uploaded in job {}", src.job_id);
            if let Some(sha) = &src.sha256 {
                t.push_str(&format!(", sha256 {}", &sha[..sha.len().min(12)]));
            }
            if let Some(size) = src.size {
                t.push_str(&format!(", {size} bytes"));
            }
            t
        }
        (None, Some(p)) => format!("none: the upload failed on it: {p}"),
        (None, None) => "none: never uploaded".to_owned(),
    };
    out.push_str(&format!("  {:width$}  {source}\n", "source"));
    let mut before: Option<&StepOnCitekey> = None;
    for st in &s.steps {
        out.push_str(&format!("  {:width$}  {}\n", st.step, step_why(st, before)));
        before = Some(st);
    }
    match recto_library::fix_command(s) {
        Some(fix) => out.push_str(&format!("  fix: {fix}\n")),
        None if s.state == "running" => out.push_str("  a run is still going\n"),
        None => {}
    }
    out
}

/// Why one step is in its state; `before` is the step it reads from.
fn step_why(st: &StepOnCitekey, before: Option<&StepOnCitekey>) -> String {
    let at = |what: &str| match (&st.job_id, &st.timestamp) {
        (Some(j), Some(t)) => format!("{what} in job {j} at {t}"),
        (Some(j), None) => format!("{what} in job {j}"),
        _ => what.to_owned(),
    };
    let reason = st
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    match st.state.as_str() {
        "done" => at("done"),
        "pending" => match before {
            Some(b) if b.state != "done" => format!("pending: waits for {}", b.step),
            _ => "pending: never run on this source".to_owned(),
        },
        "outdated" => format!("{}{reason}", at("outdated: ran")),
        "running" => at("running"),
        state => format!("{}{reason}", at(state)),
    }
}

/// `412 citekeys: ...`, pages read, OCR CPU hours over every OCR job, and
/// the disk each folder of the data directory takes.
fn library_summary(
    reg: &recto_registry::Registry,
    states: &[CitekeyState],
    data_dir: &std::path::Path,
) -> String {
    let mut out = summary(states);
    out.push('\n');
    let pages: u64 = states
        .iter()
        .filter_map(|s| s.steps.iter().find(|st| st.step == "ocr")?.pages)
        .sum();
    let costs = recto_steps::ocr::job_costs(reg);
    let (cpu, jobs): (f64, usize) = (costs.iter().map(|c| c.cpu_seconds).sum(), costs.len());
    out.push_str(&format!(
        "{} read; {:.2} OCR CPU hours over {}\n",
        output::count(pages, "page"),
        cpu / 3600.0,
        output::count(jobs, "OCR job")
    ));
    out.push_str(&format!("disk use under {}:\n", data_dir.display()));
    for (name, bytes) in disk_use(data_dir) {
        out.push_str(&format!("  {:>10}  {name}\n", human_bytes(bytes)));
    }
    out
}

/// Bytes under each folder of the data directory (`analytics/` by step),
/// symlinks not followed (a `current` link is not counted twice).
fn disk_use(data_dir: &std::path::Path) -> Vec<(String, u64)> {
    let size = |dir: &std::path::Path| -> u64 {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    // A folder's entries, sorted, with their names.
    let entries = |dir: &std::path::Path| -> Vec<(String, std::path::PathBuf)> {
        let mut v: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        v.sort();
        v
    };
    let mut out = Vec::new();
    for (name, d) in entries(data_dir) {
        if name == "analytics" {
            for (step, s) in entries(&d) {
                out.push((format!("analytics/{step}"), size(&s)));
            }
        } else if d.is_dir() {
            out.push((name, size(&d)));
        }
    }
    out
}

/// `1.2 GB`, `340 kB`, `12 B`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
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
    let all = output::count(states.len(), "citekey");
    if counts.is_empty() {
        all
    } else {
        format!("{all}: {}", counts.join(", "))
    }
}
