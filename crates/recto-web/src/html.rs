//! The page frame every view shares, and HTML escaping.

use axum::response::Html;

/// Text made safe for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the header with the navigation (`active` marked), then
/// `body`. Styles and script are the binary's own assets.
pub fn page(title: &str, active: &str, body: &str) -> Html<String> {
    let nav = |id: &str, href: &str, label: &str| {
        let cls = if id == active {
            " class=\"active\""
        } else {
            ""
        };
        format!("<a href=\"{href}\"{cls}>{label}</a>")
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · recto</title><link rel=\"stylesheet\" href=\"/assets/app.css\"></head>\
         <body data-view=\"{}\"><header><a class=\"brand\" href=\"/\">recto</a><nav>{}{}</nav>\
         <form method=\"get\" action=\"/search\"><input name=\"q\" type=\"search\" placeholder=\"Search the library\" aria-label=\"search\"></form></header>\
         <main>{body}</main><script src=\"/assets/app.js\" defer></script></body></html>",
        esc(title),
        esc(active),
        nav("library", "/", "Library"),
        nav("search", "/search", "Search"),
    ))
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
