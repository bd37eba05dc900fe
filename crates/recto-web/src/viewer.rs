//! The document viewer: a page image with the OCR word boxes over it
//! (coloured by confidence, the search's words marked), the page's text,
//! and the table of contents and segments as links to their pages.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use recto_library::{Segments, StepResult, Toc};
use recto_page::PageJson;
use recto_registry::Citekey;
use serde::Deserialize;

use crate::html::page;
use crate::{App, not_found, url_encode};

#[derive(Debug, Deserialize)]
pub struct ViewerQuery {
    page: Option<usize>,
    label: Option<String>,
    q: Option<String>,
    /// `md`: the clean Markdown of the page's unit beside the scan,
    /// instead of the page's OCR text.
    view: Option<String>,
}

/// What the viewer shows of a citekey: its OCR result, contents and
/// segments, and the page asked for.
struct View {
    key: Citekey,
    ocr: StepResult,
    toc: Option<Toc>,
    segments: Option<Segments>,
    count: usize,
    n: usize,
    page: PageJson,
    q: String,
}

impl View {
    /// The viewer's link to page `page`, keeping the search.
    fn link(&self, page: usize) -> String {
        let base = format!("/doc/{}?page={page}", self.key.as_str());
        if self.q.is_empty() {
            base
        } else {
            format!("{base}&q={}", url_encode(&self.q))
        }
    }
}

/// `/doc/{citekey}?page=N` (or `label=` a printed page; `q=` the search).
pub async fn viewer(
    State(app): State<Arc<App>>,
    UrlPath(citekey): UrlPath<String>,
    Query(vq): Query<ViewerQuery>,
) -> Response {
    let markdown = vq.view.as_deref() == Some("md");
    let view = match open(&app, &citekey, vq) {
        Ok(v) => v,
        Err(why) => return not_ready(&app, &citekey, &why),
    };
    let marked = marked_words(&app, &view);
    let about = recto_library::bib_of(&app.registry, view.key.as_str())
        .map(|b| b.line())
        .filter(|l| !l.is_empty());
    let downloads = crate::exports_of(&app, &view.key);
    let original = crate::has_source(&app, &view.key);
    let body = html! {
        (bar(&view))
        div.bar.about {
            @if let Some(a) = &about { span #about { (a) } " " }
            @if original {
                a.btn.download href={ "/source/" (view.key.as_str()) } { "⤓ original PDF" } " "
            }
            @for (name, _, _) in &downloads {
                a.btn.download href={ "/export/" (view.key.as_str()) "/" (name) } { "⤓ " (name) } " "
            }
        }
        div.viewer {
            nav.side { (contents(&view)) }
            (figure(&view, &marked))
            div.text {
                @match markdown.then(|| unit_markdown(&app, &view)).flatten() {
                    Some((title, md)) => {
                        h3 { "Clean text: " (title) " " a.muted href=(view.link(view.n)) { "(page text)" } }
                        pre #markdown { (md) }
                    }
                    None => {
                        h3 {
                            "Text"
                            @if view.segments.is_some() {
                                " " a.muted href={ (view.link(view.n)) "&view=md" } { "(clean Markdown)" }
                            }
                        }
                        pre #text { (view.page.text) }
                    }
                }
                (diagnostics(&view))
            }
        }
    };
    let title = format!("{} p. {}", view.key.as_str(), view.n);
    page(&title, "doc", body).into_response()
}

/// The citekey's results and the page the query names, or why not.
fn open(app: &App, citekey: &str, vq: ViewerQuery) -> Result<View, String> {
    let key = Citekey::parse(citekey).map_err(|_| "not a citekey".to_owned())?;
    let ocr = recto_library::ocr_result(&app.registry, &key, None).map_err(|e| e.to_string())?;
    let result = |step: &str| recto_library::step_result(&app.registry, step, &key, None).ok();
    let toc = result("toc").and_then(|t| t.toc());
    let segments = result("segmentation").and_then(|s| s.segments());
    let read = |n: usize| recto_library::pages::read_page(&ocr.dir, n).ok().flatten();
    // The page count from the OCR record; page 1's JSON only without one.
    let count = match ocr.recorded_pages() {
        Some(n) => n,
        None => read(1)
            .map(|p| p.page_count)
            .ok_or("this citekey has no page JSON")?,
    }
    .max(1);
    // A printed label asked for: the first page that carries it.
    let from_label = vq.label.as_deref().and_then(|l| {
        toc.as_ref()?
            .page_labels
            .iter()
            .position(|x| x.as_deref() == Some(l.trim()))
            .map(|i| i + 1)
    });
    let n = from_label.or(vq.page).unwrap_or(1).clamp(1, count);
    let page = read(n).ok_or_else(|| format!("page {n} has no result"))?;
    Ok(View {
        key,
        ocr,
        toc,
        segments,
        count,
        n,
        page,
        q: vq.q.unwrap_or_default(),
    })
}

/// The boxes of the words the search asked for, found on this page as the
/// search finds them (the page's language decides the analysis).
fn marked_words(app: &App, view: &View) -> Vec<[i32; 4]> {
    if view.q.trim().is_empty() {
        return Vec::new();
    }
    match recto_library::search::matcher(&app.registry, &view.q) {
        Ok(m) => m
            .words(
                recto_search::Lang::from_tesseract(&view.page.languages),
                &view.page,
            )
            .into_iter()
            .map(|w| w.bbox)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Title, page navigation, the printed-page box and the OCR facts.
fn bar(v: &View) -> Markup {
    let p = &v.page;
    let label = v
        .toc
        .as_ref()
        .and_then(|t| t.page_labels.get(v.n - 1).cloned().flatten());
    // An inferred label says so: `p. 141?`.
    let unsure = v
        .toc
        .as_ref()
        .and_then(|t| t.page_label_confidence.get(v.n - 1).copied().flatten())
        .is_some_and(|c| c < 0.9);
    let source = match p.source {
        recto_page::TextSource::Ocr => "OCR",
        _ => "text layer",
    };
    let conf = p
        .mean_confidence
        .map_or("–".to_owned(), |c| format!("{c:.1}"));
    let key = v.key.as_str();
    html! {
        div.bar {
            h2 { (key) } " "
            a.btn #prev href=(v.link(v.n.saturating_sub(1).max(1))) aria-disabled=[(v.n == 1).then_some("true")] { "‹ prev" }
            " "
            span #pageno { "page " (v.n) " of " (v.count) @if let Some(l) = &label { " (p. " (l) @if unsure { "?" } ")" } }
            " "
            a.btn #next href=(v.link((v.n + 1).min(v.count))) aria-disabled=[(v.n == v.count).then_some("true")] { "next ›" }
            " "
            form.inline method="get" action={ "/doc/" (key) } {
                input name="label" size="5" placeholder="p." aria-label="go to printed page";
                button { "go" }
            }
            " "
            label { input type="checkbox" #toggle checked; " word boxes" }
            " "
            span.muted {
                "OCR job " a href={ "/job/" (v.ocr.job_id) } { (v.ocr.job_id) }
                " · " (source) " · confidence " (conf)
            }
        }
    }
}

/// The clean Markdown of the segmentation unit this page belongs to, and
/// the unit's title; `None` without segmentation.
fn unit_markdown(app: &App, v: &View) -> Option<(String, String)> {
    let seg = recto_library::step_result(&app.registry, "segmentation", &v.key, None).ok()?;
    let segments = v.segments.as_ref()?;
    let unit = segments
        .units
        .iter()
        .find(|u| (u.first_page..=u.last_page).contains(&v.n))?;
    // The unit's file is named by the step; read only inside the data
    // directory.
    let path = seg.dir.join(&unit.file);
    let real = crate::inside(&app.root, &path)?;
    let md = std::fs::read_to_string(real).ok()?;
    Some((unit.title.clone().unwrap_or_else(|| unit.kind.clone()), md))
}

/// A citekey the viewer cannot show yet: its state, why, the job, and
/// where to read the fix, instead of a bare "not found".
fn not_ready(app: &App, citekey: &str, why: &str) -> Response {
    let Ok(mut states) = app.registry.citekey_states(&[citekey.to_owned()], None) else {
        return not_found(why);
    };
    let st = states.remove(0);
    let failed = st.steps.iter().find(|s| s.failed() || s.state == "pending");
    let body = html! {
        div.bar { h2 { (citekey) } " " (crate::html::badge(&st.state, None)) }
        p.empty { "Nothing to show yet: " (why) "." }
        @if let Some(p) = &st.source_problem { p { "No source: " (p) } }
        @if let Some(s) = failed {
            p {
                (s.step) ": " (s.state)
                @if let Some(r) = &s.reason { " — " (r) }
                @if let Some(j) = &s.job_id { " (job " a href={ "/job/" (j) } { (j) } ")" }
            }
        }
        @if let Some(fix) = recto_library::fix_command(&st) {
            p { "To fix it: " code #fix { (fix) } }
        }
        p.muted { "The detail: " code { "recto status --why " (citekey) } "." }
    };
    (
        axum::http::StatusCode::NOT_FOUND,
        page(citekey, "doc", body),
    )
        .into_response()
}

/// How the page was read: source, script and languages, turn, skew,
/// binarisation, second reading, columns, resolution, confidence, timings;
/// and the command that reads it again.
fn diagnostics(v: &View) -> Markup {
    let p = &v.page;
    let ms = |x: f64| format!("{x:.0} ms");
    let mut rows: Vec<(&str, String)> = vec![(
        "source",
        match p.source {
            recto_page::TextSource::Ocr => "OCR (Tesseract)".to_owned(),
            _ => "the PDF's text layer".to_owned(),
        },
    )];
    rows.push((
        "text layer",
        format!(
            "{} characters, {} garbage",
            p.text_layer.chars, p.text_layer.garbage
        ),
    ));
    rows.push((
        "languages",
        p.languages_used
            .clone()
            .unwrap_or_else(|| p.languages.clone()),
    ));
    if let Some(o) = &p.osd {
        if let Some(s) = &o.script {
            let c = o
                .script_confidence
                .map(|c| format!(" ({c:.1})"))
                .unwrap_or_default();
            rows.push(("script", format!("{s}{c}")));
        }
        rows.push((
            "orientation",
            format!(
                "{}° (confidence {:.1}{})",
                o.rotate,
                o.confidence,
                if o.applied { ", turned" } else { "" }
            ),
        ));
    }
    if let Some(s) = &p.skew {
        rows.push((
            "skew",
            format!(
                "{:.2}°{}",
                s.degrees,
                if s.applied { ", levelled" } else { "" }
            ),
        ));
    }
    if let Some(b) = &p.binarisation {
        rows.push(("binarisation", b.method.clone()));
    }
    if let Some(r) = &p.retry {
        rows.push((
            "second reading",
            format!(
                "{}: {:.1} -> {:.1}, {}",
                r.tried,
                r.confidence_first,
                r.confidence_retry,
                if r.kept_retry { "kept" } else { "not kept" }
            ),
        ));
    }
    if let Some(c) = &p.columns {
        rows.push((
            "columns",
            format!("cut at x={} ({} lines)", c.gutter_x, c.lines_cut),
        ));
    }
    let dpi = match p.requested_dpi {
        Some(r) => format!("{} dpi (asked {r})", p.dpi),
        None => format!("{} dpi", p.dpi),
    };
    rows.push(("resolution", dpi));
    if let Some(c) = p.mean_confidence {
        rows.push(("confidence", format!("{c:.1}")));
    }
    let t = &p.timings;
    rows.push((
        "timings",
        format!(
            "{} in all: render {}, OSD {}, deskew {}, OCR {}, retry {}, image {}",
            ms(t.total_ms),
            ms(t.render_ms),
            ms(t.osd_ms),
            ms(t.deskew_ms),
            ms(t.ocr_ms),
            ms(t.retry_ms),
            ms(t.image_ms)
        ),
    ));
    let redo = format!(
        "recto ocr --citekeys {} --mode force-ocr --lang {}",
        v.key.as_str(),
        p.languages
    );
    html! {
        details #diagnostics {
            summary { "Page diagnostics" }
            table.facts {
                @for (k, val) in &rows { tr { th { (k) } td { (val) } } }
            }
            p.muted { "To read it again: " code { (redo) } }
        }
    }
}

/// The side: the table of contents and the segments, as page links.
fn contents(v: &View) -> Markup {
    let entries = v.toc.as_ref().map_or(&[][..], |t| &t.entries[..]);
    html! {
        @if !entries.is_empty() {
            h3 { "Contents" }
            ul.toc {
                @for e in entries {
                    @if let Some(pg) = e.page {
                        li class={ "lvl" (e.level.min(4)) } {
                            a href=(v.link(pg)) { (e.title) }
                            " " span.muted { (e.label.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if let Some(s) = &v.segments {
            h3 { "Segments" }
            ul.toc {
                @for u in &s.units {
                    li {
                        a href=(v.link(u.first_page)) { (u.title.as_deref().unwrap_or(&u.kind)) }
                        " " span.muted { (u.kind) " · pp. " (u.first_page) "–" (u.last_page) }
                        " " a.muted href={ "/unit/" (v.key.as_str()) "/" (u.file) } title="the unit's clean Markdown" { "⤓ md" }
                    }
                }
            }
        }
        @if entries.is_empty() && v.segments.is_none() {
            p.muted { "No contents yet: " code { "recto toc" } " and " code { "recto segment" } " add them here." }
        }
    }
}

/// The page image with the boxes over it, in percent of the page, so
/// they follow the image at any size.
fn figure(v: &View, marked: &[[i32; 4]]) -> Markup {
    let p = &v.page;
    let (w, h) = (f64::from(p.width_px.max(1)), f64::from(p.height_px.max(1)));
    let pct = |b: [i32; 4]| {
        format!(
            "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
            f64::from(b[0]) / w * 100.0,
            f64::from(b[1]) / h * 100.0,
            f64::from(b[2] - b[0]) / w * 100.0,
            f64::from(b[3] - b[1]) / h * 100.0
        )
    };
    let words = p
        .blocks
        .iter()
        .flat_map(|b| &b.lines)
        .flat_map(|l| &l.words);
    html! {
        figure.page #page style={ "aspect-ratio:" (w) "/" (h) } {
            @if let Some(img) = &p.image {
                img src={ "/img/" (v.key.as_str()) "/" (v.ocr.job_id) "/" (img.file) } alt={ "page " (v.n) };
            }
            div.boxes #boxes {
                @for word in words {
                    @let class = match word.confidence {
                        None => "tl",
                        Some(c) if c >= 90.0 => "hi",
                        Some(c) if c >= 70.0 => "mid",
                        Some(_) => "lo",
                    };
                    @let title = match word.confidence {
                        Some(c) => format!("{} ({c:.0})", word.text),
                        None => word.text.clone(),
                    };
                    i class={ "w " (class) } style=(pct(word.bbox)) title=(title) {}
                }
                @for b in marked { i.hit style=(pct(*b)) {} }
            }
        }
    }
}
