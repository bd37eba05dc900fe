//! `recto text` (a citekey's current text) and `recto show` (where every
//! artifact of a citekey is).

use recto_registry::{Citekey, JobId, RecordKind};
use serde_json::{Value, json};

use super::Outcome;
use crate::cli::TextArgs;
use crate::config::Config;
use crate::output;

pub fn run(args: TextArgs, config: &Config) -> anyhow::Result<Outcome> {
    config.require_data_dir()?;
    let reg = config.reader();
    let text =
        recto_library::text::citekey_text(&reg, &args.citekey, args.job.as_deref(), args.pages)?;
    if args.markdown {
        let mut out = String::new();
        for (n, t) in &text.pages {
            out.push_str(&format!("## Page {n}\n\n{}\n\n", t.trim_end()));
        }
        output::text(&out)?;
    } else {
        output::text(&text.joined())?;
        output::line("")?;
    }
    Ok(Outcome::Success)
}

/// Every record that names the citekey, and the files and objects each
/// made for it.
pub fn show(citekey: &str, json_out: bool, config: &Config) -> anyhow::Result<Outcome> {
    config.require_data_dir()?;
    let reg = config.reader();
    let key = Citekey::parse(citekey)?;
    // The library view first: an unknown citekey is "not found", with the
    // nearest known ones.
    let state = reg.citekey_states(&[citekey.to_owned()], None)?.remove(0);
    let mut items = Vec::new();
    for hit in reg.find_jobs_for_citekey(citekey)? {
        let Ok(job) = JobId::parse(&hit.job_id) else {
            continue;
        };
        let step = if hit.step == recto_registry::SOURCE_STEP_LABEL {
            "source".to_owned()
        } else {
            hit.step.clone()
        };
        let Ok((_, meta)) = reg.metadata_by_name(&step, job.as_str()) else {
            continue;
        };
        let mut item = json!({"step": hit.step, "job_id": hit.job_id, "status": hit.status});
        let field = |m: &str| meta.get(m).and_then(|v| v.get(citekey)).cloned();
        if step == "source" {
            item["store"] = meta.get("store").cloned().unwrap_or(Value::Null);
            item["object"] = field("objects").unwrap_or(Value::Null);
            item["original_file"] = field("files").unwrap_or(Value::Null);
            item["sha256"] = field("checksums").unwrap_or(Value::Null);
        } else if let Some(dir) = field("per_citekey").and_then(|c| c.get("dir").cloned()) {
            item["dir"] = dir;
        } else if let Some(target) = meta.get("target") {
            let synced = step.strip_prefix("sync_").unwrap_or(&step);
            item["store"] = target.get("store").cloned().unwrap_or(Value::Null);
            item["keys"] = format!(
                "analytics/{synced}/{}/{}/",
                key.file_stem(),
                meta.get(&format!("{synced}_job_id"))
                    .and_then(Value::as_str)
                    .unwrap_or(job.as_str())
            )
            .into();
        } else if let Some(out) = meta.get("output_dir").and_then(Value::as_str) {
            let base = recto_library::paths::output_base(reg.data_dir(), out);
            item["dir"] = recto_library::paths::output_dir(&base, &key, &job)
                .display()
                .to_string()
                .into();
        }
        if let Some(reason) = meta.get("failures").and_then(|f| f.get(citekey)) {
            item["reason"] = reason.clone();
        }
        items.push(item);
    }
    // The `current` link of each step folder that has one.
    let mut current = serde_json::Map::new();
    if let Ok(steps) = std::fs::read_dir(reg.layout().analytics_dir()) {
        for s in steps.flatten() {
            let link = s
                .path()
                .join(key.file_stem())
                .join(recto_library::paths::CURRENT);
            if let Ok(target) = std::fs::read_link(&link) {
                let name = s.file_name().to_string_lossy().into_owned();
                if RecordKind::from_user(&name).is_ok() {
                    current.insert(
                        name,
                        json!({"path": link.display().to_string(), "job_id": target.display().to_string()}),
                    );
                }
            }
        }
    }
    let bib = recto_library::bib_of(&reg, citekey);
    let mut doc = json!({"citekey": citekey, "state": state, "records": items, "current": current});
    if let Some(b) = &bib {
        doc["bib"] = serde_json::to_value(b)?;
    }
    if json_out {
        return output::json(&doc).map(|()| Outcome::Success);
    }
    output::text(&show_text(
        citekey,
        &state.state,
        bib.as_ref(),
        &items,
        &current,
    ))?;
    Ok(Outcome::Success)
}

/// `recto show`'s plain output: the state, the .bib's fields, every record
/// with its paths, the `current` links.
fn show_text(
    citekey: &str,
    state: &str,
    bib: Option<&recto_library::Bib>,
    items: &[Value],
    current: &serde_json::Map<String, Value>,
) -> String {
    let mut out = format!("{citekey}: {state}\n");
    if let Some(b) = bib {
        for (k, v) in [
            ("author", &b.author),
            ("title", &b.title),
            ("year", &b.year),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("  {k}: {v}\n"));
            }
        }
    }
    for item in items {
        let mut line = format!(
            "  {} {} {}",
            item["job_id"].as_str().unwrap_or(""),
            item["step"].as_str().unwrap_or(""),
            item["status"].as_str().unwrap_or("")
        );
        for k in ["store", "object", "original_file", "dir", "keys", "reason"] {
            if let Some(v) = item.get(k).and_then(Value::as_str) {
                line.push_str(&format!("\n      {k}: {v}"));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    for (step, c) in current {
        out.push_str(&format!(
            "  current {step}: {} -> {}\n",
            c["path"].as_str().unwrap_or(""),
            c["job_id"].as_str().unwrap_or("")
        ));
    }
    out
}
