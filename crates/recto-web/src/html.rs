//! The page frame every view shares and the state badge, in maud
//! templates: every value is escaped by construction, and markup is only
//! what a template writes.

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

/// A whole page: the header with the navigation (`active` marked), then
/// `body`. Styles and script are the binary's own assets.
pub fn page(title: &str, active: &str, body: Markup) -> Html<String> {
    let nav = |id: &str, href: &str, label: &str| {
        html! { a href=(href) class=[(id == active).then_some("active")] { (label) } }
    };
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · recto" }
                    link rel="stylesheet" href="/assets/app.css";
                }
                body data-view=(active) {
                    header {
                        a.brand href="/" { "recto" }
                        nav { (nav("library", "/", "Library")) (nav("search", "/search", "Search")) (nav("worst", "/worst", "Worst pages")) }
                        form method="get" action="/search" {
                            input name="q" type="search" placeholder="Search the library" aria-label="search";
                        }
                    }
                    main { (body) }
                    script src="/assets/app.js" defer {}
                }
            }
        }
        .into_string(),
    )
}

/// A step's or a citekey's state, coloured by what it asks of the user.
pub fn badge(state: &str, title: Option<&str>) -> Markup {
    let class = match state {
        "done" | "completed" => "ok",
        "failed" | "interrupted" | "stale" => "bad",
        "running" => "run",
        "outdated" => "warn",
        _ => "none",
    };
    html! { span class={ "badge " (class) } title=[title] { (state) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        let page = page("<b>'&'</b>", "x\"y", html! { "<i>" });
        let text = page.0;
        assert!(
            text.contains("<title>&lt;b&gt;'&amp;'&lt;/b&gt; · recto</title>"),
            "{text}"
        );
        assert!(text.contains("data-view=\"x&quot;y\""), "{text}");
        assert!(text.contains("<main>&lt;i&gt;</main>"), "{text}");
        let b = badge("failed", Some("a \"quote\"")).into_string();
        assert_eq!(
            b,
            "<span class=\"badge bad\" title=\"a &quot;quote&quot;\">failed</span>"
        );
    }
}
