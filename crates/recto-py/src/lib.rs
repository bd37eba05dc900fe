//! `recto._native`: the registry API (the spec's readers and writers), the
//! library's read side (text, results, search) and the pipeline's steps
//! (`steps`) for Python, called in this process: no `recto` command, no
//! argv, no parsing of printed output.
//!
//! Values cross the boundary as JSON text: the Python side (`recto`) turns
//! them into plain `dict`/`list`/`str`/`int` with `json`, so callers get
//! exactly the shapes the spec shows and this module needs no object
//! conversion code. Work runs with the GIL released.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use recto_registry::{Error, Registry, parse_pipeline};

mod steps;

create_exception!(
    _native,
    RectoError,
    PyException,
    "Any error of recto's core."
);
create_exception!(
    _native,
    NotFoundError,
    RectoError,
    "A job, step or citekey that does not exist."
);
create_exception!(
    _native,
    InvalidInputError,
    RectoError,
    "A malformed job id, step name, citekey or metadata."
);

fn py_err(e: Error) -> PyErr {
    let msg = e.to_string();
    if e.is_not_found() {
        NotFoundError::new_err(msg)
    } else if matches!(
        e,
        Error::InvalidJobId { .. }
            | Error::InvalidStepName { .. }
            | Error::InvalidCitekey { .. }
            | Error::InvalidMetadata { .. }
    ) {
        InvalidInputError::new_err(msg)
    } else {
        RectoError::new_err(msg)
    }
}

fn registry(data_dir: &str, pipeline: Option<&str>) -> PyResult<Registry> {
    let reg = Registry::open(data_dir);
    Ok(match pipeline {
        Some(p) => reg.with_pipeline(parse_pipeline(p).map_err(py_err)?),
        None => reg,
    })
}

/// The registry for a reader: open to read only (it never writes, not
/// even a repair).
fn reader(data_dir: &str, pipeline: Option<&str>) -> PyResult<Registry> {
    Ok(registry(data_dir, pipeline)?.read_only())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

/// Run the registry call `f` without the GIL, mapping errors.
fn call<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
    py.allow_threads(f).map_err(py_err)
}

#[pyfunction]
#[pyo3(signature = (data_dir, pipeline, job_id))]
fn get_job_pipeline_status(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    job_id: &str,
) -> PyResult<String> {
    let reg = reader(data_dir, pipeline)?;
    call(py, || {
        let job = reg.resolve_job(job_id)?;
        reg.get_job_pipeline_status(&job).map(|s| json(&s))
    })
}

#[pyfunction]
#[pyo3(signature = (data_dir, pipeline, job_id))]
fn get_central_registry(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    job_id: &str,
) -> PyResult<String> {
    let reg = reader(data_dir, pipeline)?;
    call(py, || {
        let job = reg.resolve_job(job_id)?;
        reg.get_central_registry(&job).map(|r| json(&r))
    })
}

#[pyfunction]
fn find_jobs_for_citekey(py: Python<'_>, data_dir: &str, citekey: &str) -> PyResult<String> {
    let reg = reader(data_dir, None)?;
    call(py, || reg.find_jobs_for_citekey(citekey).map(|j| json(&j)))
}

#[pyfunction]
#[pyo3(signature = (data_dir, step_name=None))]
fn list_all_jobs(py: Python<'_>, data_dir: &str, step_name: Option<&str>) -> PyResult<Vec<String>> {
    let reg = reader(data_dir, None)?;
    call(py, || {
        reg.list_all_jobs(step_name)
            .map(|v| v.into_iter().map(|j| j.to_string()).collect())
    })
}

#[pyfunction]
fn get_latest_job(py: Python<'_>, data_dir: &str) -> PyResult<Option<String>> {
    let reg = reader(data_dir, None)?;
    call(py, || {
        reg.get_latest_job().map(|j| j.map(|j| j.to_string()))
    })
}

#[pyfunction]
fn get_step_metadata(py: Python<'_>, data_dir: &str, step: &str, job_id: &str) -> PyResult<String> {
    let reg = reader(data_dir, None)?;
    call(py, || {
        reg.metadata_by_name(step, job_id).map(|(_, m)| json(&m))
    })
}

#[pyfunction]
#[pyo3(signature = (data_dir, pipeline, step, job_id, metadata_json))]
fn save_step_metadata(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    step: &str,
    job_id: &str,
    metadata_json: &str,
) -> PyResult<String> {
    let reg = registry(data_dir, pipeline)?;
    let value: serde_json::Value = serde_json::from_str(metadata_json).map_err(|e| {
        InvalidInputError::new_err(format!("metadata is not JSON-serialisable: {e}"))
    })?;
    call(py, || {
        reg.save_by_name(step, job_id, value).map(|(_, m)| json(&m))
    })
}

#[pyfunction]
fn rebuild_central_registry(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
) -> PyResult<String> {
    let reg = registry(data_dir, pipeline)?;
    call(py, || reg.rebuild_central_registry().map(|r| json(&r)))
}

#[pyfunction]
fn new_job_id(py: Python<'_>, data_dir: &str) -> PyResult<String> {
    let reg = registry(data_dir, None)?;
    call(py, || reg.new_job_id().map(|j| j.to_string()))
}

/// A citekey's current result of `step`: JSON `{job_id, dir, entry}`
/// (`dir` inside the data directory), from the newest job that completed it.
#[pyfunction]
fn step_result(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    step: &str,
    citekey: &str,
) -> PyResult<String> {
    let reg = reader(data_dir, pipeline)?;
    py.allow_threads(|| {
        let key = recto_registry::Citekey::parse(citekey)?;
        recto_library::step_result(&reg, step, &key, None)
    })
    .map_err(library_err)
    .map(|r| {
        json(&serde_json::json!({
            "job_id": r.job_id.as_str(),
            "dir": r.dir.display().to_string(),
            "entry": r.entry,
        }))
    })
}

/// Search the library's index: JSON `{query, total, hits}` as
/// `recto search --json` prints it.
#[pyfunction]
#[pyo3(signature = (data_dir, query, limit, citekey=None, fuzzy=false))]
fn search(
    py: Python<'_>,
    data_dir: &str,
    query: &str,
    limit: usize,
    citekey: Option<&str>,
    fuzzy: bool,
) -> PyResult<String> {
    let reg = reader(data_dir, None)?;
    let mut req = recto_search::SearchRequest::new(query);
    req.limit = limit;
    req.fuzzy = fuzzy;
    if let Some(c) = citekey {
        recto_registry::Citekey::parse(c).map_err(py_err)?;
        req.citekey = Some(c.to_owned());
    }
    py.allow_threads(|| recto_library::search::search(&reg, &req))
        .map_err(library_err)
        .map(|found| json(&found))
}

fn library_err(e: recto_library::LibraryError) -> PyErr {
    match e {
        recto_library::LibraryError::Registry(e) => py_err(e),
        e if e.is_not_found() => NotFoundError::new_err(e.to_string()),
        e if e.is_invalid_input() => InvalidInputError::new_err(e.to_string()),
        e => RectoError::new_err(e.to_string()),
    }
}

/// The current text of a citekey: JSON `{citekey, job_id, dir, pages: [[n, text]]}`.
#[pyfunction]
#[pyo3(signature = (data_dir, pipeline, citekey, first=None, last=None, job_id=None))]
fn get_text(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    citekey: &str,
    first: Option<usize>,
    last: Option<usize>,
    job_id: Option<&str>,
) -> PyResult<String> {
    let reg = reader(data_dir, pipeline)?;
    let pages = first.map(|f| (f, last.unwrap_or(f)));
    py.allow_threads(|| recto_library::text::citekey_text(&reg, citekey, job_id, pages))
        .map_err(library_err)
        .map(|t| {
            json(&serde_json::json!({
                "citekey": t.citekey, "job_id": t.job_id.as_str(),
                "dir": t.dir.display().to_string(), "page_count": t.page_count,
                "pages": t.pages,
            }))
        })
}

/// The library view of the given citekeys (all when empty), as JSON.
#[pyfunction]
fn citekey_status(
    py: Python<'_>,
    data_dir: &str,
    pipeline: Option<&str>,
    citekeys: Vec<String>,
) -> PyResult<String> {
    let reg = reader(data_dir, pipeline)?;
    call(py, || {
        reg.citekey_states(&citekeys, None).map(|s| {
            json(&recto_library::states_with_bib(
                &s,
                &recto_library::bib_for(&reg, &citekeys),
            ))
        })
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(steps::run_step, m)?)?;
    m.add_function(wrap_pyfunction!(step_result, m)?)?;
    m.add_function(wrap_pyfunction!(search, m)?)?;
    m.add_function(wrap_pyfunction!(get_text, m)?)?;
    m.add_function(wrap_pyfunction!(citekey_status, m)?)?;
    m.add("RectoError", m.py().get_type::<RectoError>())?;
    m.add("NotFoundError", m.py().get_type::<NotFoundError>())?;
    m.add("InvalidInputError", m.py().get_type::<InvalidInputError>())?;
    m.add_function(wrap_pyfunction!(get_job_pipeline_status, m)?)?;
    m.add_function(wrap_pyfunction!(get_central_registry, m)?)?;
    m.add_function(wrap_pyfunction!(find_jobs_for_citekey, m)?)?;
    m.add_function(wrap_pyfunction!(list_all_jobs, m)?)?;
    m.add_function(wrap_pyfunction!(get_latest_job, m)?)?;
    m.add_function(wrap_pyfunction!(get_step_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(save_step_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(rebuild_central_registry, m)?)?;
    m.add_function(wrap_pyfunction!(new_job_id, m)?)?;
    Ok(())
}
