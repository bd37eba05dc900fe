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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use recto_registry::{Citekey, JobId, Registry};

mod html;
mod job;
mod library;
mod search;
mod viewer;
mod worst;

use html::page;

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
        .route("/", get(library::library))
        .route("/library/rows", get(library::more))
        .route("/job/{job}", get(job::job))
        .route("/doc/{citekey}", get(viewer::viewer))
        .route("/search", get(search::search))
        .route("/worst", get(worst::worst))
        .route("/img/{citekey}/{job}/{file}", get(image))
        .route("/export/{citekey}/{file}", get(export_file))
        .route("/source/{citekey}", get(source_file))
        .route("/unit/{citekey}/{file}", get(unit_file))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .fallback(|| async { not_found("no such page") })
        .with_state(app)
}

fn not_found(what: &str) -> Response {
    let body = html! { p.empty { (what) } };
    (StatusCode::NOT_FOUND, page("Not found", "", body)).into_response()
}

fn failure(what: &str) -> Response {
    let body = html! { p.empty { (what) } };
    (StatusCode::INTERNAL_SERVER_ERROR, page("Error", "", body)).into_response()
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

/// The export formats the web app hands out, by file suffix, with their
/// content types.
const EXPORTS: [(&str, &str); 5] = [
    (".pdf", "application/pdf"),
    (".md", "text/markdown; charset=utf-8"),
    (".txt", "text/plain; charset=utf-8"),
    (".hocr", "text/html; charset=utf-8"),
    (".alto.xml", "application/xml"),
];

/// Whether `/source/KEY` has the citekey's original PDF to give.
pub(crate) fn has_source(app: &App, key: &Citekey) -> bool {
    source_path(app, key).is_some()
}

/// The export files of `key` that its `current/` folder has, as
/// `(file name, content type, real path inside the data directory)`:
/// `<stem>.pdf` and the like, nothing else.
fn exports_of(app: &App, key: &Citekey) -> Vec<(String, &'static str, PathBuf)> {
    let dir = export_dir(app, key);
    EXPORTS
        .iter()
        .filter_map(|(ext, ty)| {
            let name = format!("{}{ext}", key.file_stem());
            let real = inside(&app.root, &dir.join(&name))?;
            Some((name, *ty, real))
        })
        .collect()
}

fn export_dir(app: &App, key: &Citekey) -> PathBuf {
    app.registry
        .layout()
        .analytics_dir()
        .join("export")
        .join(key.file_stem())
        .join(recto_library::paths::CURRENT)
}

/// `/export/{citekey}/{file}`: a current export (the searchable PDF, the
/// Markdown, ...) to download; only the names the export step writes.
async fn export_file(
    State(app): State<Arc<App>>,
    UrlPath((citekey, file)): UrlPath<(String, String)>,
) -> Response {
    let Ok(key) = Citekey::parse(&citekey) else {
        return not_found("no such file");
    };
    let Some((name, ty, real)) = exports_of(&app, &key)
        .into_iter()
        .find(|(n, _, _)| *n == file)
    else {
        return not_found("no such file");
    };
    download(Some(real), ty, &name)
}

/// The citekey's newest uploaded PDF, when the upload went to a local
/// store inside the data directory (the default `<data dir>/store`): the
/// web app opens no other store, and no file outside the data directory.
fn source_path(app: &App, key: &Citekey) -> Option<PathBuf> {
    let st = app
        .registry
        .citekey_states(&[key.as_str().to_owned()], None)
        .ok()?
        .pop()?;
    let job = JobId::parse(&st.source?.job_id).ok()?;
    let meta = app.registry.get_source_metadata(&job).ok()?;
    let store = meta.get("store")?.as_str()?;
    let root = store.strip_prefix("file://").unwrap_or(store);
    if root.contains("://") {
        return None;
    }
    let object = meta.get("objects")?.get(key.as_str())?.as_str()?;
    inside(&app.root, &Path::new(root).join(object))
}

/// `/source/{citekey}`: the original PDF, to download (see `source_path`).
async fn source_file(State(app): State<Arc<App>>, UrlPath(citekey): UrlPath<String>) -> Response {
    let Ok(key) = Citekey::parse(&citekey) else {
        return not_found("no such file");
    };
    download(
        source_path(&app, &key),
        "application/pdf",
        &format!("{}.pdf", key.file_stem()),
    )
}

/// `/unit/{citekey}/{file}`: one unit's clean Markdown from the citekey's
/// newest segmentation; only a file its `segments.json` names.
async fn unit_file(
    State(app): State<Arc<App>>,
    UrlPath((citekey, file)): UrlPath<(String, String)>,
) -> Response {
    let Ok(key) = Citekey::parse(&citekey) else {
        return not_found("no such file");
    };
    let Ok(seg) = recto_library::step_result(&app.registry, "segmentation", &key, None) else {
        return not_found("no such file");
    };
    let named = seg
        .segments()
        .is_some_and(|s| s.units.iter().any(|u| u.file == file));
    let path = seg.dir.join(&file);
    download(
        inside(&app.root, &path).filter(|_| named),
        "text/markdown; charset=utf-8",
        &file,
    )
}

/// A file found inside the data directory (`real`, or none), served to
/// download as `name`.
fn download(real: Option<PathBuf>, content_type: &str, name: &str) -> Response {
    match real.map(std::fs::read) {
        Some(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        _ => not_found("no such file"),
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
