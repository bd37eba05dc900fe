//! The search page: the query box and ranked hits, each opening the viewer
//! on its page with the matched words marked.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use recto_registry::Citekey;
use serde::Deserialize;

use crate::html::page;
use crate::{App, url_encode};

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    citekey: Option<String>,
}

/// `/search?q=...` (optionally `citekey=`).
pub async fn search(State(app): State<Arc<App>>, Query(sq): Query<SearchQuery>) -> Response {
    let q = sq.q.unwrap_or_default();
    let found = (!q.trim().is_empty()).then(|| {
        let mut req = recto_search::SearchRequest::new(&q);
        req.citekey = sq.citekey.filter(|c| Citekey::parse(c).is_ok());
        req.limit = 50;
        recto_library::search::search(&app.registry, &req)
    });
    let body = html! {
        form.bar method="get" action="/search" {
            input #q name="q" type="search" value=(q)
                placeholder="words, \"a phrase\", prefix*, AND OR NOT" autofocus size="50";
            button { "Search" }
        }
        @match found {
            Some(Ok(found)) => {
                p.muted #total {
                    @if found.total == 1 { "1 page matches" } @else { (found.total) " pages match" }
                    @if found.hits.len() < found.total { "; the first " (found.hits.len()) " shown" }
                }
                @for (key, hits) in grouped(&found.hits) {
                    section.item {
                        h3 {
                            a href={ "/doc/" (key) } { (key) }
                            @if let Some(b) = hits[0].bib.as_ref().map(|b| b.line()).filter(|l| !l.is_empty()) {
                                " " span.muted { "— " (b) }
                            }
                        }
                        ol.hits {
                            @for h in hits {
                                li.hit {
                                    a.open href={ "/doc/" (h.hit.citekey) "?page=" (h.hit.page) "&q=" (url_encode(&q)) } {
                                        (h.hit.citekey) " · page " (h.hit.page)
                                        @if let Some(l) = &h.hit.label { " (p. " (l) ")" }
                                    }
                                    " " span.muted { (format!("{:.2}", h.hit.score)) }
                                    p { (snippet(&h.marked)) }
                                }
                            }
                        }
                    }
                }
            }
            Some(Err(e)) => p.empty { (e.to_string()) }
            None => {}
        }
    };
    page("Search", "search", body).into_response()
}

/// Hits grouped by item, the items in the order of their best page.
fn grouped(
    hits: &[recto_library::search::FoundPage],
) -> Vec<(&str, Vec<&recto_library::search::FoundPage>)> {
    let mut out: Vec<(&str, Vec<&recto_library::search::FoundPage>)> = Vec::new();
    for h in hits {
        match out.iter_mut().find(|(k, _)| *k == h.hit.citekey) {
            Some((_, v)) => v.push(h),
            None => out.push((&h.hit.citekey, vec![h])),
        }
    }
    out
}

/// A snippet whose matches the search put in `[[...]]`, with those parts
/// in `<mark>`: the text is escaped, only the marks are markup.
fn snippet(marked: &str) -> Markup {
    let mut parts = Vec::new();
    let mut rest = marked;
    while let Some(open) = rest.find("[[") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("]]") else { break };
        parts.push((&rest[..open], false));
        parts.push((&after[..close], true));
        rest = &after[close + 2..];
    }
    parts.push((rest, false));
    html! {
        @for (text, hit) in parts {
            @if hit { mark { (text) } } @else { (text) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn marks_are_markup_and_the_text_is_not() {
        assert_eq!(
            snippet("a <b> [[Gutenberg]] & [[press]] [[open").into_string(),
            "a &lt;b&gt; <mark>Gutenberg</mark> &amp; <mark>press</mark> [[open"
        );
    }
}
