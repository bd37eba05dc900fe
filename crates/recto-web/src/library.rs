//! The library page: every citekey, its state per pipeline step, pages,
//! confidence and source. The first rows come in the page itself, the rest
//! in one request after the first paint, so a 2,000-citekey library shows
//! at once.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use recto_registry::CitekeyState;
use serde::Deserialize;

use crate::html::{badge, page};
use crate::{App, failure};

/// Rows in the library page's own HTML.
const FIRST_ROWS: usize = 150;

#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    /// Every row in the page itself (the link for browsers without
    /// scripts).
    all: Option<u8>,
    /// `/library/rows?from=N`: the rows from N on, as a fragment.
    from: Option<usize>,
}

fn rows(lib: &Library, from: usize, to: usize) -> Markup {
    let (states, steps, bib) = (&lib.states[from..to], &lib.steps, &lib.bib);
    html! {
        @for st in states {
            @let ocr = st.steps.iter().find(|s| s.step == "ocr");
            @let item = bib.get(&st.citekey);
            tr {
                td.key { a href={ "/doc/" (st.citekey) } { (st.citekey) } }
                td.item {
                    @if let Some(b) = item {
                        @if let Some(t) = &b.title { span.title { (t) } br; }
                        span.muted { (b.authors_short().unwrap_or_default()) " " (b.year.as_deref().unwrap_or("")) }
                    }
                }
                td {
                    (badge(&st.state, None))
                    @if let Some(why) = reason(st) { div.reason title=(why) { (recto_library::text::shorten(&why, 80)) } }
                }
                @for name in steps {
                    td {
                        @if let Some(s) = st.steps.iter().find(|s| &s.step == name) {
                            @if let Some(j) = &s.job_id {
                                a href={ "/job/" (j) } { (badge(&s.state, s.reason.as_deref())) }
                            } @else {
                                (badge(&s.state, s.reason.as_deref()))
                            }
                        }
                    }
                }
                td.num { @if let Some(p) = ocr.and_then(|o| o.pages) { (p) } }
                td.num { @if let Some(c) = ocr.and_then(|o| o.mean_confidence) { (format!("{c:.1}")) } }
                td { @if let Some(s) = &st.source { a href={ "/job/" (s.job_id) } { (s.job_id) } } }
            }
        }
    }
}

/// Why a failed citekey failed: its missing source, else the first failed
/// step's reason.
fn reason(st: &CitekeyState) -> Option<String> {
    if st.state != "failed" && st.state != "interrupted" && st.state != "stale" {
        return None;
    }
    st.source_problem
        .clone()
        .map(|p| format!("no source: {p}"))
        .or_else(|| {
            let s = st.steps.iter().find(|s| s.failed())?;
            Some(format!(
                "{}: {}",
                s.step,
                s.reason.as_deref().unwrap_or(&s.state)
            ))
        })
}

/// The library as the page shows it: each citekey's state over the
/// pipeline, with the state of every step recto runs (toc, segmentation,
/// export too, whether or not the pipeline counts them), and the .bib's
/// fields.
struct Library {
    states: Vec<CitekeyState>,
    steps: Vec<String>,
    bib: std::collections::BTreeMap<String, recto_library::Bib>,
}

/// recto's steps, shown beside the pipeline's.
const SHOWN: [&str; 5] = ["ocr", "sync_ocr", "toc", "segmentation", "export"];

fn states(app: &App) -> Result<Library, recto_registry::Error> {
    let pipeline: Vec<recto_registry::StepName> = app.registry.pipeline().to_vec();
    let mut all = pipeline.clone();
    for s in SHOWN {
        if !all.iter().any(|p| p.as_str() == s) {
            all.push(recto_registry::StepName::parse(s)?);
        }
    }
    // The state of a citekey is the pipeline's; each step's, every step's.
    let overall = app.registry.citekey_states(&[], Some(&pipeline))?;
    let mut states = app.registry.citekey_states(&[], Some(&all))?;
    for (s, o) in states.iter_mut().zip(&overall) {
        if s.citekey == o.citekey {
            s.state = o.state.clone();
        }
    }
    Ok(Library {
        states,
        steps: all.iter().map(|s| s.as_str().to_owned()).collect(),
        bib: recto_library::bibliography(&app.registry),
    })
}

/// `/library/rows?from=N`: the rows after the first paint.
pub async fn more(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let lib = match states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let from = lq.from.unwrap_or(FIRST_ROWS).min(lib.states.len());
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        rows(&lib, from, lib.states.len()).into_string(),
    )
        .into_response()
}

/// `/`: the library.
pub async fn library(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let lib = match states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let total = lib.states.len();
    let shown = if lq.all.is_some() {
        total
    } else {
        total.min(FIRST_ROWS)
    };
    let more = (shown < total).then(|| format!("/library/rows?from={shown}"));
    let body = html! {
        div.bar {
            input #filter type="search" placeholder="Filter citekeys, states…" autofocus;
            " "
            span.muted #count { (total) " citekeys" }
        }
        table #library .sortable {
            thead { tr {
                th data-sort="text" { "Citekey" }
                th data-sort="text" { "Item" }
                th data-sort="text" { "State" }
                @for s in &lib.steps { th data-sort="text" { (s) } }
                th data-sort="num" { "Pages" }
                th data-sort="num" { "Confidence" }
                th data-sort="text" { "Source" }
            } }
            tbody data-total=(total) data-more=(more.as_deref().unwrap_or("")) {
                (rows(&lib, 0, shown))
            }
        }
        @if more.is_some() {
            noscript { p { a href="/?all=1" { "Show all " (total) " citekeys" } } }
        }
        @if lib.states.is_empty() {
            p.empty { "No citekeys yet: " code { "recto upload --from DIR" } "." }
        }
    };
    page("Library", "library", body).into_response()
}
