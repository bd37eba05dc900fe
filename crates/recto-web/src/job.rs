//! A job's page: its lineage (the upload it read, each step of the job,
//! the jobs that read it) and a section per step with its record: when,
//! how long, on which citekeys, what failed, with which settings. An
//! upload job shows its upload the same way.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use recto_registry::JobId;
use serde_json::Value;

use crate::html::{badge, page};
use crate::{App, not_found};

/// `/job/{job}`.
pub async fn job(State(app): State<Arc<App>>, UrlPath(job): UrlPath<String>) -> Response {
    let Ok(job) = JobId::parse(&job) else {
        return not_found("not a job id");
    };
    // The registry file as recorded, or derived again from the metadata
    // when it is missing (the registry is open to read only: nothing is
    // written back).
    let doc: Value = match app.registry.get_central_registry(&job) {
        Ok(v) => v,
        Err(_) => return not_found(&format!("job {job} is not in the registry")),
    };
    let steps = doc["pipeline_steps"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let src = &doc["source"];
    // An upload job: its own record is the source metadata.
    let upload = (src["job_id"].as_str() == Some(job.as_str()))
        .then(|| app.registry.metadata_by_name("source", job.as_str()).ok())
        .flatten()
        .map(|(_, m)| Value::Object(m));
    let body = html! {
        h2 { "Job " (job) }
        p.muted {
            "recorded " (doc["timestamp"].as_str().unwrap_or(""))
            " · updated " (doc["updated_at"].as_str().unwrap_or(""))
        }
        h3 { "Lineage" }
        ol.lineage { (lineage(&app, &job, src, &steps)) }
        h3 { "Steps" }
        @if let Some(meta) = &upload {
            (section("source (upload)", meta, meta))
        }
        @for (name, info) in &steps {
            (section(name, info, &recorded(&app, info)))
        }
    };
    page(&format!("Job {job}"), "job", body).into_response()
}

/// The upload, the job's steps, then the jobs that read this one.
fn lineage(app: &App, job: &JobId, src: &Value, steps: &serde_json::Map<String, Value>) -> Markup {
    let readers = app.registry.job_summaries(None).unwrap_or_default();
    let readers = readers
        .iter()
        .filter(|s| s.source_job_id.as_deref() == Some(job.as_str()) && s.job_id != job.as_str());
    html! {
        @if let Some(s) = src["job_id"].as_str() {
            li {
                a href={ "/job/" (s) } { "source (upload) " (s) }
                " " (badge(src["status"].as_str().unwrap_or("?"), None))
                " · " (src["citekeys"]["total"].as_u64().unwrap_or(0)) " citekeys"
            }
        }
        @for (name, info) in steps {
            @let j = info["job_id"].as_str().unwrap_or("");
            li class=[(j == job.as_str()).then_some("here")] {
                a href={ "/job/" (j) } { (name) " " (j) }
                " " (badge(info["status"].as_str().unwrap_or("?"), None))
                @if let Some(n) = info["citekeys"]["failed"].as_u64().filter(|n| *n > 0) {
                    " " span.muted { "(" (n) " failed)" }
                }
                " " span.muted { (info["trace_relation"].as_str().unwrap_or("")) }
            }
        }
        @for s in readers {
            @let label = s.steps.iter().map(|(n, st)| format!("{n}: {st}")).collect::<Vec<_>>().join(", ");
            li.down {
                a href={ "/job/" (s.job_id) } { (s.job_id) }
                " " span.muted { "reads it: " (label) }
            }
        }
    }
}

/// The step's metadata file as recorded (inside the data directory).
fn recorded(app: &App, info: &Value) -> Value {
    info["metadata_path"]
        .as_str()
        .filter(|p| !p.contains(".."))
        .and_then(|p| std::fs::read(app.root.join(p)).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null)
}

/// One step's section: `info` its registry entry, `meta` its metadata.
fn section(name: &str, info: &Value, meta: &Value) -> Markup {
    let c = &info["citekeys"];
    let list = c["list"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str));
    let failures = meta["failures"].as_object().filter(|f| !f.is_empty());
    html! {
        section.step {
            h4 { (name) " " (badge(info["status"].as_str().unwrap_or("?"), None)) }
            dl {
                @if let Some(j) = info["job_id"].as_str() { dt { "job" } dd { (j) } }
                dt { "recorded" } dd { (info["timestamp"].as_str().unwrap_or("")) }
                @if let Some(d) = meta["duration_seconds"].as_f64() {
                    dt { "duration" } dd { (format!("{d:.1} s")) }
                }
                dt { "citekeys" }
                dd {
                    (c["total"].as_u64().unwrap_or(0))
                    @if c.get("successful").is_some() {
                        " (" (c["successful"].as_u64().unwrap_or(0)) " successful, "
                        (c["failed"].as_u64().unwrap_or(0)) " failed)"
                    } @else if c.get("uploaded").is_some() {
                        " (" (c["uploaded"].as_u64().unwrap_or(0)) " uploaded, "
                        (c["skipped"].as_u64().unwrap_or(0)) " skipped)"
                    }
                }
                @if let Some(list) = list {
                    dt { "on" }
                    dd { @for k in list { a href={ "/doc/" (k) } { (k) } " " } }
                }
                @if let Some(f) = failures {
                    dt { "failures" }
                    dd { ul.failures {
                        @for (k, v) in f {
                            li { b { (k) } ": " (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) }
                        }
                    } }
                }
                @if !info["config"].is_null() {
                    dt { "config" }
                    dd { details {
                        summary { "show" }
                        pre { (serde_json::to_string_pretty(&info["config"]).unwrap_or_default()) }
                    } }
                }
            }
        }
    }
}
