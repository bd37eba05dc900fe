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

fn rows(states: &[CitekeyState], steps: &[String]) -> Markup {
    html! {
        @for st in states {
            @let ocr = st.steps.iter().find(|s| s.step == "ocr");
            tr {
                td { a href={ "/doc/" (st.citekey) } { (st.citekey) } }
                td { (badge(&st.state, None)) }
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

type Library = (Vec<CitekeyState>, Vec<String>);

fn states(app: &App) -> Result<Library, recto_registry::Error> {
    let states = app.registry.citekey_states(&[], None)?;
    let steps = app
        .registry
        .pipeline()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    Ok((states, steps))
}

/// `/library/rows?from=N`: the rows after the first paint.
pub async fn more(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let (states, steps) = match states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let from = lq.from.unwrap_or(FIRST_ROWS).min(states.len());
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        rows(&states[from..], &steps).into_string(),
    )
        .into_response()
}

/// `/`: the library.
pub async fn library(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let (states, steps) = match states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let total = states.len();
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
                th data-sort="text" { "State" }
                @for s in &steps { th data-sort="text" { (s) } }
                th data-sort="num" { "Pages" }
                th data-sort="num" { "Confidence" }
                th data-sort="text" { "Source" }
            } }
            tbody data-total=(total) data-more=(more.as_deref().unwrap_or("")) {
                (rows(&states[..shown], &steps))
            }
        }
        @if more.is_some() {
            noscript { p { a href="/?all=1" { "Show all " (total) " citekeys" } } }
        }
        @if states.is_empty() {
            p.empty { "No citekeys yet: " code { "recto upload --from DIR" } "." }
        }
    };
    page("Library", "library", body).into_response()
}
