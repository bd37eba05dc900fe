//! The library's worst pages: the OCRed pages read with the lowest
//! confidence, across every citekey's current OCR result (each OCR record
//! keeps its citekeys' five worst pages), with a link to each page and
//! the command that reads the citekey again.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use recto_registry::{JobId, StepName};
use serde_json::Value;

use crate::html::page;
use crate::{App, failure};

/// Pages listed.
const SHOWN: usize = 100;

/// `(confidence, citekey, page)` of every worst page the current OCR
/// results record, worst first.
fn worst_pages(app: &App) -> Result<Vec<(f64, String, usize)>, recto_registry::Error> {
    let ocr = StepName::parse("ocr")?;
    let states = app
        .registry
        .citekey_states(&[], Some(std::slice::from_ref(&ocr)))?;
    let mut records: BTreeMap<String, Option<serde_json::Map<String, Value>>> = BTreeMap::new();
    let mut out = Vec::new();
    for st in &states {
        let Some(job) = st
            .steps
            .first()
            .filter(|s| s.state == "done")
            .and_then(|s| s.job_id.clone())
        else {
            continue;
        };
        let meta = records.entry(job.clone()).or_insert_with(|| {
            let id = JobId::parse(&job).ok()?;
            app.registry.get_step_metadata(&ocr, &id).ok()
        });
        let Some(pages) = meta.as_ref().and_then(|m| {
            m.get("per_citekey")?
                .get(&st.citekey)?
                .get("worst_pages")?
                .as_array()
                .cloned()
        }) else {
            continue;
        };
        for p in pages {
            if let (Some(n), Some(c)) = (p["page"].as_u64(), p["confidence"].as_f64()) {
                out.push((c, st.citekey.clone(), n as usize));
            }
        }
    }
    out.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    out.truncate(SHOWN);
    Ok(out)
}

/// `/worst`.
pub async fn worst(State(app): State<Arc<App>>) -> Response {
    let pages = match worst_pages(&app) {
        Ok(p) => p,
        Err(e) => return failure(&e.to_string()),
    };
    let body = html! {
        h2 { "Worst pages" }
        p.muted { "The OCRed pages read with the lowest confidence, worst first (each citekey's five worst)." }
        @if pages.is_empty() {
            p.empty { "No OCRed page yet." }
        } @else {
            table #worst {
                thead { tr { th { "Confidence" } th { "Page" } th { "Read it again" } } }
                tbody {
                    @for (c, key, n) in &pages {
                        tr {
                            td.num { (format!("{c:.1}")) }
                            td { a href={ "/doc/" (key) "?page=" (n) } { (key) " p. " (n) } }
                            td { code { "recto ocr --citekeys " (key) " --thresholding auto" } }
                        }
                    }
                }
            }
        }
    };
    page("Worst pages", "worst", body).into_response()
}
