//! `recto serve`: a local web app over the data directory. Four pages:
//! the library (every citekey and its state per step), a job (its record,
//! steps, failures, lineage), the document viewer (page image with the OCR
//! word boxes, the page text, the table of contents and segments) and
//! search (ranked hits that open the viewer with the hit's words marked).
//!
//! Read-only by construction: only GET routes, no handler writes. Every
//! path a request names is rebuilt from validated parts (citekey, job id,
//! `page_NNNN.jpg`) and must resolve, symlinks followed, inside the data
//! directory. Assets are compiled in; nothing is fetched from elsewhere.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use recto_page::PageJson;
use recto_registry::{Citekey, JobId, Registry};
use serde::Deserialize;
use serde_json::Value;

mod html;

use html::{esc, page};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the web server stopped: {0}")]
    Serve(#[source] std::io::Error),
    #[error("data directory {}: {source}", .path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the handlers share.
#[derive(Debug)]
struct App {
    registry: Registry,
    /// Canonical: every file served must resolve inside it.
    root: PathBuf,
}

/// A listening server; [`Server::run`] serves until `shutdown` resolves.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Server {
    /// Bind `addr` over the data directory of `registry`.
    pub async fn bind(registry: Registry, addr: SocketAddr) -> Result<Server, WebError> {
        // Read-only by construction: whatever the caller opened, the app
        // answers from a registry that cannot write, not even a repair.
        let registry = registry.read_only();
        let root = registry
            .data_dir()
            .canonicalize()
            .map_err(|e| WebError::DataDir {
                path: registry.data_dir().to_owned(),
                source: e,
            })?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| WebError::Bind { addr, source: e })?;
        Ok(Server {
            listener,
            router: router(Arc::new(App { registry, root })),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), WebError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(WebError::Serve)
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(library))
        .route("/library/rows", get(library_more))
        .route("/job/{job}", get(job))
        .route("/doc/{citekey}", get(viewer))
        .route("/search", get(search))
        .route("/img/{citekey}/{job}/{file}", get(image))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .fallback(|| async { not_found("no such page") })
        .with_state(app)
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Not found",
            "",
            &format!("<p class=\"empty\">{}</p>", esc(what)),
        ),
    )
        .into_response()
}

fn failure(what: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        page(
            "Error",
            "",
            &format!("<p class=\"empty\">{}</p>", esc(what)),
        ),
    )
        .into_response()
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/app.js"),
    )
}

fn badge(state: &str, title: Option<&str>) -> String {
    let class = match state {
        "done" | "completed" => "ok",
        "failed" | "interrupted" | "stale" => "bad",
        "running" => "run",
        "outdated" => "warn",
        _ => "none",
    };
    let title = title.map_or(String::new(), |t| format!(" title=\"{}\"", esc(t)));
    format!("<span class=\"badge {class}\"{title}>{}</span>", esc(state))
}

/// Rows in the library page's own HTML; the rest come in one request
/// after the first paint, so a 2,000-citekey library shows at once.
const FIRST_ROWS: usize = 150;

#[derive(Debug, Deserialize)]
struct LibraryQuery {
    /// Every row in the page itself (the link for browsers without
    /// scripts).
    all: Option<u8>,
    /// `/library/rows?from=N`: the rows from N on, as a fragment.
    from: Option<usize>,
}

fn library_rows(states: &[recto_registry::CitekeyState], steps: &[String], out: &mut String) {
    for st in states {
        let ocr = st.steps.iter().find(|s| s.step == "ocr");
        let _ = write!(
            out,
            "<tr><td><a href=\"/doc/{k}\">{k}</a></td><td>{}</td>",
            badge(&st.state, None),
            k = esc(&st.citekey)
        );
        for name in steps {
            match st.steps.iter().find(|s| &s.step == name) {
                Some(s) => {
                    let cell = badge(&s.state, s.reason.as_deref());
                    match &s.job_id {
                        Some(j) => {
                            let _ = write!(out, "<td><a href=\"/job/{}\">{cell}</a></td>", esc(j));
                        }
                        None => {
                            let _ = write!(out, "<td>{cell}</td>");
                        }
                    }
                }
                None => out.push_str("<td></td>"),
            }
        }
        let pages = ocr
            .and_then(|o| o.pages)
            .map_or(String::new(), |p| p.to_string());
        let conf = ocr
            .and_then(|o| o.mean_confidence)
            .map_or(String::new(), |c| format!("{c:.1}"));
        let source = st.source.as_ref().map_or(String::new(), |s| {
            format!("<a href=\"/job/{j}\">{j}</a>", j = esc(&s.job_id))
        });
        let _ = write!(
            out,
            "<td class=\"num\">{pages}</td><td class=\"num\">{conf}</td><td>{source}</td></tr>"
        );
    }
}

type Library = (Vec<recto_registry::CitekeyState>, Vec<String>);

fn library_states(app: &App) -> Result<Library, recto_registry::Error> {
    let states = app.registry.citekey_states(&[], None)?;
    let steps = app
        .registry
        .pipeline()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    Ok((states, steps))
}

async fn library_more(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let (states, steps) = match library_states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let from = lq.from.unwrap_or(FIRST_ROWS).min(states.len());
    let mut out = String::with_capacity(300 * (states.len() - from));
    library_rows(&states[from..], &steps, &mut out);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], out).into_response()
}

async fn library(State(app): State<Arc<App>>, Query(lq): Query<LibraryQuery>) -> Response {
    let (states, steps) = match library_states(&app) {
        Ok(s) => s,
        Err(e) => return failure(&e.to_string()),
    };
    let shown = if lq.all.is_some() {
        states.len()
    } else {
        states.len().min(FIRST_ROWS)
    };
    let mut body = String::with_capacity(300 * shown + 1024);
    let _ = write!(
        body,
        "<div class=\"bar\"><input id=\"filter\" type=\"search\" placeholder=\"Filter citekeys, states…\" autofocus> \
         <span class=\"muted\" id=\"count\">{} citekeys</span></div>",
        states.len()
    );
    body.push_str("<table id=\"library\" class=\"sortable\"><thead><tr><th data-sort=\"text\">Citekey</th><th data-sort=\"text\">State</th>");
    for s in &steps {
        let _ = write!(body, "<th data-sort=\"text\">{}</th>", esc(s));
    }
    body.push_str("<th data-sort=\"num\">Pages</th><th data-sort=\"num\">Confidence</th><th data-sort=\"text\">Source</th></tr></thead>");
    let _ = write!(
        body,
        "<tbody data-total=\"{}\" data-more=\"{}\">",
        states.len(),
        if shown < states.len() {
            format!("/library/rows?from={shown}")
        } else {
            String::new()
        }
    );
    library_rows(&states[..shown], &steps, &mut body);
    body.push_str("</tbody></table>");
    if shown < states.len() {
        let _ = write!(
            body,
            "<noscript><p><a href=\"/?all=1\">Show all {} citekeys</a></p></noscript>",
            states.len()
        );
    }
    if states.is_empty() {
        body.push_str(
            "<p class=\"empty\">No citekeys yet: <code>recto upload --from DIR</code>.</p>",
        );
    }
    page("Library", "library", &body).into_response()
}

async fn job(State(app): State<Arc<App>>, UrlPath(job): UrlPath<String>) -> Response {
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
    let mut body = String::new();
    let src = &doc["source"];
    let _ = write!(body, "<h2>Job {}</h2>", esc(job.as_str()));
    let _ = write!(
        body,
        "<p class=\"muted\">recorded {} · updated {}</p>",
        esc(doc["timestamp"].as_str().unwrap_or("")),
        esc(doc["updated_at"].as_str().unwrap_or(""))
    );
    body.push_str("<h3>Lineage</h3><ol class=\"lineage\">");
    if let Some(s) = src["job_id"].as_str() {
        let _ = write!(
            body,
            "<li><a href=\"/job/{s}\">source (upload) {s}</a> {} · {} citekeys</li>",
            badge(src["status"].as_str().unwrap_or("?"), None),
            src["citekeys"]["total"].as_u64().unwrap_or(0),
            s = esc(s)
        );
    }
    let steps = doc["pipeline_steps"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, info) in &steps {
        let j = info["job_id"].as_str().unwrap_or("");
        let rel = info["trace_relation"].as_str().unwrap_or("");
        let here = if j == job.as_str() {
            " class=\"here\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<li{here}><a href=\"/job/{j}\">{name} {j}</a> {} <span class=\"muted\">{}</span></li>",
            badge(info["status"].as_str().unwrap_or("?"), None),
            esc(rel),
            j = esc(j),
            name = esc(name)
        );
    }
    // Jobs that read this one.
    if let Ok(all) = app.registry.job_summaries(None) {
        for s in all.iter().filter(|s| {
            s.source_job_id.as_deref() == Some(job.as_str()) && s.job_id != job.as_str()
        }) {
            let label = s
                .steps
                .iter()
                .map(|(n, st)| format!("{n}: {st}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = write!(
                body,
                "<li class=\"down\"><a href=\"/job/{j}\">{j}</a> <span class=\"muted\">reads it: {}</span></li>",
                esc(&label),
                j = esc(&s.job_id)
            );
        }
    }
    body.push_str("</ol><h3>Steps</h3>");
    for (name, info) in &steps {
        let meta = info["metadata_path"]
            .as_str()
            .filter(|p| !p.contains(".."))
            .and_then(|p| std::fs::read(app.root.join(p)).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        let _ = write!(
            body,
            "<section class=\"step\"><h4>{} {}</h4><dl>",
            esc(name),
            badge(info["status"].as_str().unwrap_or("?"), None)
        );
        let mut row = |k: &str, v: String| {
            let _ = write!(body, "<dt>{}</dt><dd>{v}</dd>", esc(k));
        };
        row("job", esc(info["job_id"].as_str().unwrap_or("")));
        row("recorded", esc(info["timestamp"].as_str().unwrap_or("")));
        if let Some(d) = meta["duration_seconds"].as_f64() {
            row("duration", format!("{d:.1} s"));
        }
        let c = &info["citekeys"];
        row(
            "citekeys",
            esc(&format!(
                "{} ({} successful, {} failed)",
                c["total"].as_u64().unwrap_or(0),
                c["successful"].as_u64().unwrap_or(0),
                c["failed"].as_u64().unwrap_or(0)
            )),
        );
        if let Some(list) = c["list"].as_array() {
            let links: Vec<String> = list
                .iter()
                .filter_map(Value::as_str)
                .map(|k| format!("<a href=\"/doc/{k}\">{k}</a>", k = esc(k)))
                .collect();
            row("on", links.join(" "));
        }
        if let Some(f) = meta["failures"].as_object().filter(|f| !f.is_empty()) {
            let items: Vec<String> = f
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<li><b>{}</b>: {}</li>",
                        esc(k),
                        esc(v.as_str().unwrap_or(&v.to_string()))
                    )
                })
                .collect();
            row(
                "failures",
                format!("<ul class=\"failures\">{}</ul>", items.join("")),
            );
        }
        if !info["config"].is_null() {
            row(
                "config",
                format!(
                    "<details><summary>show</summary><pre>{}</pre></details>",
                    esc(&serde_json::to_string_pretty(&info["config"]).unwrap_or_default())
                ),
            );
        }
        body.push_str("</dl></section>");
    }
    page(&format!("Job {job}"), "job", &body).into_response()
}

#[derive(Debug, Deserialize)]
struct ViewerQuery {
    page: Option<usize>,
    label: Option<String>,
    q: Option<String>,
}

async fn viewer(
    State(app): State<Arc<App>>,
    UrlPath(citekey): UrlPath<String>,
    Query(vq): Query<ViewerQuery>,
) -> Response {
    let Ok(key) = Citekey::parse(&citekey) else {
        return not_found("not a citekey");
    };
    let ocr = match recto_library::ocr_result(&app.registry, &key, None) {
        Ok(o) => o,
        Err(e) => return not_found(&e.to_string()),
    };
    let result = |step: &str| recto_library::step_result(&app.registry, step, &key, None).ok();
    let toc = result("toc").and_then(|t| t.toc());
    let segments = result("segmentation").and_then(|s| s.segments());
    let read = |n: usize| -> Option<PageJson> {
        recto_library::pages::read_page(&ocr.dir, n).ok().flatten()
    };
    // The page count from the OCR record; page 1's JSON only without one.
    let count = match ocr.recorded_pages() {
        Some(n) => n,
        None => match read(1) {
            Some(p) => p.page_count,
            None => return not_found("this citekey has no page JSON"),
        },
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
    let Some(p) = read(n) else {
        return not_found(&format!("page {n} has no result"));
    };
    let q = vq.q.clone().unwrap_or_default();
    // The words the search asked for, found on this page as the search
    // finds them (the page's language decides the analysis).
    let marked: Vec<[i32; 4]> = if q.trim().is_empty() {
        Vec::new()
    } else {
        match recto_library::search::matcher(&app.registry, &q) {
            Ok(m) => m
                .words(recto_search::Lang::from_tesseract(&p.languages), &p)
                .into_iter()
                .map(|w| w.bbox)
                .collect(),
            Err(_) => Vec::new(),
        }
    };
    let qs = |page: usize| {
        if q.is_empty() {
            format!("/doc/{}?page={page}", esc(key.as_str()))
        } else {
            format!(
                "/doc/{}?page={page}&amp;q={}",
                esc(key.as_str()),
                esc(&url_encode(&q))
            )
        }
    };
    let label = toc
        .as_ref()
        .and_then(|t| t.page_labels.get(n - 1).cloned().flatten());
    let mut body = String::new();
    let _ = write!(
        body,
        "<div class=\"bar\"><h2>{k}</h2> <a class=\"btn\" id=\"prev\" href=\"{prev}\"{pd}>‹ prev</a> \
         <span id=\"pageno\">page {n} of {count}{lab}</span> \
         <a class=\"btn\" id=\"next\" href=\"{next}\"{nd}>next ›</a> \
         <form class=\"inline\" method=\"get\" action=\"/doc/{k}\"><input name=\"label\" size=\"5\" placeholder=\"p.\" aria-label=\"go to printed page\"><button>go</button></form> \
         <label><input type=\"checkbox\" id=\"toggle\" checked> word boxes</label> \
         <span class=\"muted\">OCR job <a href=\"/job/{j}\">{j}</a> · {src} · confidence {conf}</span></div>",
        k = esc(key.as_str()),
        prev = qs(n.saturating_sub(1).max(1)),
        next = qs((n + 1).min(count)),
        pd = if n == 1 {
            " aria-disabled=\"true\""
        } else {
            ""
        },
        nd = if n == count {
            " aria-disabled=\"true\""
        } else {
            ""
        },
        lab = label
            .as_ref()
            .map_or(String::new(), |l| format!(" (p. {})", esc(l))),
        j = esc(ocr.job_id.as_str()),
        src = match p.source {
            recto_page::TextSource::Ocr => "OCR",
            _ => "text layer",
        },
        conf = p
            .mean_confidence
            .map_or("–".to_owned(), |c| format!("{c:.1}")),
    );
    body.push_str("<div class=\"viewer\"><nav class=\"side\">");
    if let Some(t) = &toc
        && !t.entries.is_empty()
    {
        body.push_str("<h3>Contents</h3><ul class=\"toc\">");
        for e in &t.entries {
            if let Some(pg) = e.page {
                let _ = write!(
                    body,
                    "<li class=\"lvl{}\"><a href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>",
                    e.level.min(4),
                    qs(pg),
                    esc(&e.title),
                    esc(e.label.as_deref().unwrap_or(""))
                );
            }
        }
        body.push_str("</ul>");
    }
    if let Some(s) = &segments {
        body.push_str("<h3>Segments</h3><ul class=\"toc\">");
        for u in &s.units {
            let _ = write!(
                body,
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">{} · pp. {}–{}</span></li>",
                qs(u.first_page),
                esc(u.title.as_deref().unwrap_or(&u.kind)),
                esc(&u.kind),
                u.first_page,
                u.last_page
            );
        }
        body.push_str("</ul>");
    }
    if toc.as_ref().is_none_or(|t| t.entries.is_empty()) && segments.is_none() {
        body.push_str("<p class=\"muted\">No contents yet: <code>recto toc</code> and <code>recto segment</code> add them here.</p>");
    }
    body.push_str("</nav>");
    // The page image with the boxes over it, in percent of the page, so
    // they follow the image at any size.
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
    let _ = write!(
        body,
        "<figure class=\"page\" id=\"page\" style=\"aspect-ratio:{w}/{h}\">"
    );
    if let Some(img) = &p.image {
        let _ = write!(
            body,
            "<img src=\"/img/{}/{}/{}\" alt=\"page {n}\">",
            esc(key.as_str()),
            esc(ocr.job_id.as_str()),
            esc(&img.file)
        );
    }
    body.push_str("<div class=\"boxes\" id=\"boxes\">");
    for word in p
        .blocks
        .iter()
        .flat_map(|b| &b.lines)
        .flat_map(|l| &l.words)
    {
        let class = match word.confidence {
            None => "tl",
            Some(c) if c >= 90.0 => "hi",
            Some(c) if c >= 70.0 => "mid",
            Some(_) => "lo",
        };
        let _ = write!(
            body,
            "<i class=\"w {class}\" style=\"{}\" title=\"{}{}\"></i>",
            pct(word.bbox),
            esc(&word.text),
            word.confidence
                .map_or(String::new(), |c| format!(" ({c:.0})"))
        );
    }
    for b in &marked {
        let _ = write!(body, "<i class=\"hit\" style=\"{}\"></i>", pct(*b));
    }
    let _ = write!(
        body,
        "</div></figure><div class=\"text\"><h3>Text</h3><pre id=\"text\">{}</pre></div></div>",
        esc(&p.text)
    );
    page(&format!("{} p. {n}", key.as_str()), "doc", &body).into_response()
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
    citekey: Option<String>,
}

async fn search(State(app): State<Arc<App>>, Query(sq): Query<SearchQuery>) -> Response {
    let q = sq.q.unwrap_or_default();
    let mut body = format!(
        "<form class=\"bar\" method=\"get\" action=\"/search\"><input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" \
         placeholder='words, \"a phrase\", prefix*, AND OR NOT' autofocus size=\"50\"><button>Search</button></form>",
        esc(&q)
    );
    if !q.trim().is_empty() {
        let mut req = recto_search::SearchRequest::new(&q);
        req.citekey = sq.citekey.filter(|c| Citekey::parse(c).is_ok());
        req.limit = 50;
        match recto_library::search::search(&app.registry, &req) {
            Ok(found) => {
                let _ = write!(
                    body,
                    "<p class=\"muted\" id=\"total\">{} pages match; the first {} shown</p><ol class=\"hits\">",
                    found.total,
                    found.hits.len()
                );
                for h in &found.hits {
                    let snippet = esc(&h.marked)
                        .replace("[[", "<mark>")
                        .replace("]]", "</mark>");
                    let _ = write!(
                        body,
                        "<li class=\"hit\"><a class=\"open\" href=\"/doc/{k}?page={p}&amp;q={qq}\">{k} · page {p}{lab}</a> \
                         <span class=\"muted\">{score:.2}</span><p>{snippet}</p></li>",
                        k = esc(&h.hit.citekey),
                        p = h.hit.page,
                        qq = esc(&url_encode(&q)),
                        lab = h
                            .hit
                            .label
                            .as_ref()
                            .map_or(String::new(), |l| format!(" (p. {})", esc(l))),
                        score = h.hit.score,
                    );
                }
                body.push_str("</ol>");
            }
            Err(e) => {
                let _ = write!(body, "<p class=\"empty\">{}</p>", esc(&e.to_string()));
            }
        }
    }
    page("Search", "search", &body).into_response()
}

/// `page_0001.jpg` and nothing else.
fn is_page_image(file: &str) -> bool {
    let Some(num) = file
        .strip_prefix("page_")
        .and_then(|f| f.strip_suffix(".jpg"))
    else {
        return false;
    };
    num.len() >= 4 && num.bytes().all(|b| b.is_ascii_digit())
}

async fn image(
    State(app): State<Arc<App>>,
    UrlPath((citekey, job, file)): UrlPath<(String, String, String)>,
) -> Response {
    let (Ok(key), Ok(job)) = (Citekey::parse(&citekey), JobId::parse(&job)) else {
        return not_found("no such image");
    };
    if !is_page_image(&file) {
        return not_found("no such image");
    }
    let path = app
        .registry
        .layout()
        .analytics_dir()
        .join("ocr")
        .join(key.file_stem())
        .join(job.as_str())
        .join(&file);
    match inside(&app.root, &path) {
        Some(real) => match std::fs::read(&real) {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, "image/jpeg"),
                    (header::CACHE_CONTROL, "max-age=3600"),
                ],
                bytes,
            )
                .into_response(),
            Err(_) => not_found("no such image"),
        },
        None => not_found("no such image"),
    }
}

/// `path` with symlinks resolved, when that is inside `root` (the
/// library's check, which every recorded folder goes through too).
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    recto_library::paths::inside(root, &real).then_some(real)
}

/// A query string's value: everything but RFC 3986's unreserved
/// characters encoded.
fn url_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_page_images_are_served() {
        assert!(is_page_image("page_0001.jpg"));
        assert!(is_page_image("page_12345.jpg"));
        for bad in [
            "page_1.jpg",
            "../page_0001.jpg",
            "page_0001.json",
            "page_000a.jpg",
            "x.jpg",
        ] {
            assert!(!is_page_image(bad), "{bad}");
        }
    }

    #[test]
    fn paths_outside_the_root_are_refused() {
        let dir = std::env::temp_dir().join(format!("recto-web-{}", std::process::id()));
        let root = dir.join("data");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(dir.join("secret"), b"x").unwrap();
        std::fs::write(root.join("ok"), b"x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret"), root.join("link")).unwrap();
        let root = root.canonicalize().unwrap();
        assert!(inside(&root, &root.join("ok")).is_some());
        assert!(inside(&root, &root.join("../secret")).is_none());
        #[cfg(unix)]
        assert!(inside(&root, &root.join("link")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn queries_are_encoded_for_links() {
        assert_eq!(url_encode("\"a b\" c*"), "%22a%20b%22%20c%2A");
    }
}
