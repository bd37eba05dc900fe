//! The pipeline's steps for Python, called in this process: `recto.upload`,
//! `run_ocr`, `sync_ocr`, `extract_toc`, `segment`, `export` and `index` send
//! one JSON request to [`run_step`], which reads it into the step's typed
//! request (an unknown or mistyped field is an `InvalidInputError`), runs
//! the step on the same library functions as the `recto` command, and
//! answers with the same JSON its `--json` prints
//! (`recto_steps::report`) and the exit code the command would have.
//!
//! Settings the command reads from the environment (`RECTO_STORE`,
//! `RECTO_ENDPOINT_URL`, `RECTO_REGION`, `RECTO_PDF_PASSWORD`,
//! `RECTO_HUNSPELL_DIR`) are read here the same way when the request does
//! not give them; `recto.toml` is the command's alone.
//!
//! A step runs with the GIL released; Ctrl-C reaches Python when it
//! returns (the command line, `recto.run_cli`, stops at once instead).

use std::path::PathBuf;

use pyo3::prelude::*;
use recto_registry::Registry;
use recto_steps::StepError;
use recto_steps::driver::{self, CitekeyStep, Request, Sharding};
use recto_steps::harness::Selection;
use recto_steps::progress::NoProgress;
use recto_steps::report::{self, Ending, RunReport};
use recto_store::StoreConfig;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{InvalidInputError, NotFoundError, RectoError, library_err, py_err};

/// Which citekeys a step takes: the given ones, the pending ones, the
/// failed ones, or all with a result of the step's input (none of these).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    #[serde(default)]
    citekeys: Vec<String>,
    #[serde(default)]
    pending: bool,
    #[serde(default)]
    failed: bool,
}

impl Which {
    fn selection(&self) -> Selection {
        Selection::of(&self.citekeys, self.pending, self.failed)
    }
}

/// A store named by a request: a URL, with the S3 endpoint and region.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Store {
    url: Option<String>,
    endpoint_url: Option<String>,
    region: Option<String>,
    #[serde(default)]
    path_style: bool,
}

impl Store {
    /// The store given, else the one `RECTO_STORE` names, else none.
    fn config(&self) -> Option<StoreConfig> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let url = self.url.clone().or_else(|| env("RECTO_STORE"))?;
        Some(StoreConfig {
            url,
            endpoint_url: self
                .endpoint_url
                .clone()
                .or_else(|| env("RECTO_ENDPOINT_URL")),
            region: self.region.clone().or_else(|| env("RECTO_REGION")),
            path_style: self.path_style.then_some(true),
        })
    }
}

fn password(given: Option<String>) -> Option<String> {
    given.or_else(|| std::env::var("RECTO_PDF_PASSWORD").ok())
}

fn parse<T: DeserializeOwned>(step: &str, request: &str) -> PyResult<T> {
    serde_json::from_str(request)
        .map_err(|e| InvalidInputError::new_err(format!("{step}: invalid request: {e}")))
}

fn step_err(e: StepError) -> PyErr {
    match e {
        StepError::Registry(e) => py_err(e),
        StepError::Library(e) => library_err(e),
        e @ (StepError::NotInSource { .. }
        | StepError::NoCommonSource { .. }
        | StepError::NoStoreRecorded { .. }) => NotFoundError::new_err(e.to_string()),
        e @ (StepError::NoCitekeys
        | StepError::NoSources
        | StepError::InvalidSetting { .. }
        | StepError::ResumeConflict { .. }) => InvalidInputError::new_err(e.to_string()),
        e => RectoError::new_err(e.to_string()),
    }
}

fn runtime() -> PyResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RectoError::new_err(format!("cannot start the step's runtime: {e}")))
}

/// The report as Python gets it: its JSON and the command's exit code (0
/// done, 3 partial); a run where nothing could be read raises.
fn answer(r: RunReport) -> PyResult<(String, u8)> {
    let code = match r.ending {
        Ending::Done => 0,
        Ending::Partial => 3,
        Ending::Failed(why) => return Err(RectoError::new_err(why)),
    };
    Ok((r.json.to_string(), code))
}

/// Run step `step` (`upload`, `ocr`, `sync`, `toc`, `segmentation`,
/// `export`, `index`) as the JSON `request` says; returns `(report JSON,
/// exit code)`.
#[pyfunction]
#[pyo3(signature = (data_dir, pipeline, step, request))]
pub fn run_step(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    step: &str,
    request: &str,
) -> PyResult<(String, u8)> {
    let reg = crate::registry(data_dir, pipeline)?;
    let data = PathBuf::from(data_dir);
    let report = match step {
        "upload" => {
            let req = parse(step, request)?;
            py.allow_threads(|| upload(&reg, &data, req))?
        }
        "ocr" => {
            let req = parse(step, request)?;
            py.allow_threads(|| ocr(&reg, &data, req))?
        }
        "sync" => {
            let req = parse(step, request)?;
            py.allow_threads(|| sync(&reg, req))?
        }
        "toc" => {
            let req: TocRequest = parse(step, request)?;
            let toc = recto_steps::toc::TocStep {
                cache_dir: cache_dir(&data),
            };
            let run = request_of(&req.which, req.ocr_job_id, None);
            py.allow_threads(|| citekey_step(&reg, &toc, &run))?
        }
        "segmentation" => {
            let req: SegmentRequest = parse(step, request)?;
            let dir = req
                .dictionaries
                .or_else(|| std::env::var_os("RECTO_HUNSPELL_DIR").map(PathBuf::from))
                .unwrap_or_else(|| recto_lexicon::DEFAULT_DIR.into());
            let seg = recto_steps::segment::SegmentStep::new(&dir);
            let run = request_of(&req.which, req.toc_job_id, None);
            py.allow_threads(|| citekey_step(&reg, &seg, &run))?
        }
        "export" => {
            let req: ExportRequest = parse(step, request)?;
            let (export, run) = export_step(req, &data)?;
            py.allow_threads(|| citekey_step(&reg, &export, &run))?
        }
        "index" => {
            let req = parse(step, request)?;
            py.allow_threads(|| index(&reg, req))?
        }
        other => {
            return Err(InvalidInputError::new_err(format!(
                "no step {other:?} (upload, ocr, sync, toc, segmentation, export, index)"
            )));
        }
    };
    answer(report)
}

fn cache_dir(data: &std::path::Path) -> PathBuf {
    data.join("cache").join("sources")
}

fn request_of(which: &Which, input_job: Option<String>, output: Option<PathBuf>) -> Request {
    Request {
        selection: which.selection(),
        input_job,
        sharding: Sharding::Whole,
        output,
    }
}

fn citekey_step<S: CitekeyStep>(reg: &Registry, step: &S, req: &Request) -> PyResult<RunReport> {
    let out = runtime()?
        .block_on(driver::run(reg, step, req, &NoProgress))
        .map_err(step_err)?;
    Ok(report::citekey_step(&out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TocRequest {
    #[serde(flatten)]
    which: Which,
    ocr_job_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentRequest {
    #[serde(flatten)]
    which: Which,
    toc_job_id: Option<String>,
    dictionaries: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    #[serde(flatten)]
    which: Which,
    formats: Vec<String>,
    ocr_job_id: Option<String>,
    out: Option<PathBuf>,
    password: Option<String>,
    #[serde(default)]
    decrypt: bool,
    #[serde(default = "yes")]
    bookmarks: bool,
    #[serde(default = "yes")]
    rotate_pages: bool,
    #[serde(default = "yes")]
    deskew_pages: bool,
}

fn yes() -> bool {
    true
}

fn export_step(
    req: ExportRequest,
    data: &std::path::Path,
) -> PyResult<(recto_steps::export::ExportStep, Request)> {
    use recto_steps::export::{ExportStep, Format};
    let formats = req
        .formats
        .iter()
        .map(|f| Format::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(step_err)?;
    let run = request_of(&req.which, req.ocr_job_id, req.out);
    let step = ExportStep {
        formats,
        cache_dir: cache_dir(data),
        password: password(req.password),
        decrypt: req.decrypt,
        bookmarks: req.bookmarks,
        rotate_pages: req.rotate_pages,
        deskew_pages: req.deskew_pages,
    };
    Ok((step, run))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadRequest {
    from_dir: Option<PathBuf>,
    bib: Option<PathBuf>,
    #[serde(default)]
    citekeys: Vec<String>,
    #[serde(default = "yes")]
    recursive: bool,
    #[serde(default)]
    bib_path_map: Vec<(String, String)>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    store: Store,
}

fn upload(reg: &Registry, data: &std::path::Path, req: UploadRequest) -> PyResult<RunReport> {
    use recto_steps::sources;
    let inputs = match (&req.bib, &req.from_dir) {
        (Some(bib), _) => sources::from_bib(
            bib,
            &sources::BibPaths {
                base_dir: None,
                rewrites: req.bib_path_map.clone(),
            },
        )
        .map_err(step_err)?,
        (None, Some(dir)) if !req.citekeys.is_empty() => sources::from_citekeys(dir, &req.citekeys),
        (None, Some(dir)) => sources::from_dir(dir, req.recursive, &[data]).map_err(step_err)?,
        (None, None) => {
            return Err(InvalidInputError::new_err(
                "upload: give from_dir (a folder of PDFs) or bib (a BibTeX export)",
            ));
        }
    };
    let config = req.store.config().unwrap_or_else(|| StoreConfig {
        url: data.join("store").display().to_string(),
        ..Default::default()
    });
    let cwd = std::env::current_dir()
        .map_err(|e| RectoError::new_err(format!("the working directory: {e}")))?;
    let store = recto_store::Store::open(&config, &cwd).map_err(|e| step_err(e.into()))?;
    let opts = recto_steps::upload::UploadOptions {
        dry_run: req.dry_run,
        concurrency: 8,
    };
    let out = runtime()?
        .block_on(recto_steps::upload::upload(
            reg,
            &store,
            inputs,
            &opts,
            &NoProgress,
        ))
        .map_err(step_err)?;
    Ok(report::upload(&out, &store.url(), req.dry_run))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OcrRequest {
    #[serde(default)]
    citekeys: Vec<String>,
    #[serde(default)]
    pending: bool,
    #[serde(default)]
    failed: bool,
    #[serde(default)]
    all: bool,
    resume: Option<String>,
    source_job_id: Option<String>,
    lang: Option<String>,
    mode: Option<recto_ocr::Mode>,
    dpi: Option<u32>,
    workers: Option<usize>,
    password: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    store: Store,
}

fn ocr(reg: &Registry, data: &std::path::Path, req: OcrRequest) -> PyResult<RunReport> {
    use recto_steps::ocr::{OcrOptions, Selection};
    // As the command: `pending`, `failed` or `all`, else the given
    // citekeys (none is an error, unless a resume names the job).
    let selection = Selection::flagged(req.pending, req.failed, req.all).unwrap_or_default();
    let run = recto_steps::ocr::OcrRequest {
        citekeys: req.citekeys,
        selection,
        dry_run: req.dry_run,
        source_job_id: req.source_job_id,
        output: None,
        resume: req.resume,
        password: password(req.password),
        options: OcrOptions {
            languages: req.lang,
            dpi: req.dpi,
            mode: req.mode,
            ..Default::default()
        },
        workers: req.workers,
        store: req.store.config(),
        cache_dir: cache_dir(data),
    };
    match runtime()?.block_on(recto_steps::ocr::run_ocr(reg, run, &NoProgress)) {
        Ok(out) => Ok(report::ocr(&out)),
        Err(StepError::NothingToDo { what }) => Ok(report::nothing_to_do(&what)),
        Err(e) => Err(step_err(e)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    step: String,
    job_id: String,
    #[serde(default)]
    skip_images: bool,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    allow_incomplete: bool,
    #[serde(default)]
    store: Store,
}

fn sync(reg: &Registry, req: SyncRequest) -> PyResult<RunReport> {
    let run = recto_steps::sync::SyncRequest {
        step: req.step.clone(),
        job: req.job_id,
        skip_images: req.skip_images,
        dry_run: req.dry_run,
        concurrency: 16,
        store: req.store.config(),
        allow_incomplete: req.allow_incomplete,
    };
    let out = runtime()?
        .block_on(recto_steps::sync::run_sync(reg, &run, &NoProgress))
        .map_err(step_err)?;
    Ok(report::sync(&out, &req.step, req.dry_run))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexRequest {
    #[serde(default)]
    citekeys: Vec<String>,
    #[serde(default)]
    rebuild: bool,
}

fn index(reg: &Registry, req: IndexRequest) -> PyResult<RunReport> {
    let selection = if req.citekeys.is_empty() {
        Selection::All
    } else {
        Selection::Given(req.citekeys)
    };
    let out = recto_steps::search::run_index(
        reg,
        &recto_steps::search::IndexRequest {
            selection,
            rebuild: req.rebuild,
        },
        &NoProgress,
    )
    .map_err(step_err)?;
    Ok(report::index(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's fields are checked through the flattened selection too:
    /// a mistyped field is refused, not ignored.
    #[test]
    fn a_flattened_request_refuses_unknown_fields() {
        let toc: TocRequest =
            serde_json::from_str(r#"{"citekeys": ["a2020"], "ocr_job_id": "latest"}"#).unwrap();
        assert_eq!(toc.which.citekeys, ["a2020"]);
        assert_eq!(toc.ocr_job_id.as_deref(), Some("latest"));
        for bad in [
            r#"{"citekeys": ["a2020"], "ocr_job": "latest"}"#,
            r#"{"pendng": true}"#,
        ] {
            let err = serde_json::from_str::<TocRequest>(bad).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{bad}: {err}");
        }
    }
}
