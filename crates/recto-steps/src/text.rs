//! The text of a citekey at hand: its current OCR result (the newest OCR
//! job that completed it), page by page, read from the page JSON.

use std::path::PathBuf;

use recto_page::{PageJson, page_json_name};
use recto_registry::{Citekey, JobId, Registry, StepName};
use serde_json::{Map, Value};

use crate::StepError;
use crate::harness;

/// Pages of a citekey's text.
#[derive(Debug, Clone)]
pub struct CitekeyText {
    pub citekey: String,
    pub job_id: JobId,
    /// The folder of the OCR result.
    pub dir: PathBuf,
    /// `(page, text)`, 1-based, in order.
    pub pages: Vec<(usize, String)>,
    pub page_count: usize,
}

impl CitekeyText {
    /// Pages separated by form feeds, as in `fulltext.txt`.
    pub fn joined(&self) -> String {
        self.pages
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\u{c}")
    }
}

/// The OCR text of `citekey`: from `job` (an id or `latest`), or else from
/// its newest OCR job that completed it; `pages` (first, last), 1-based and
/// inclusive, or all.
pub fn citekey_text(
    registry: &Registry,
    citekey: &str,
    job: Option<&str>,
    pages: Option<(usize, usize)>,
) -> Result<CitekeyText, StepError> {
    let key = Citekey::parse(citekey)?;
    let job = match job {
        Some(j) => Some(harness::resolve_job(registry, "ocr", j)?),
        None => None,
    };
    let OcrResult {
        job_id: job,
        dir,
        entry,
    } = ocr_result(registry, &key, job.as_ref())?;
    let read = |n: usize| -> Result<Option<PageJson>, StepError> {
        let path = dir.join(page_json_name(n));
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StepError::Input {
                    path,
                    reason: format!("not a page JSON: {e}"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StepError::Input {
                path,
                reason: e.to_string(),
            }),
        }
    };
    let page_count = match read(1)? {
        Some(p) => p.page_count,
        None => entry
            .as_ref()
            .and_then(|c| c.get("pages"))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize,
    };
    let (first, last) = pages.unwrap_or((1, page_count));
    if first == 0 || first > last || last > page_count {
        return Err(StepError::InvalidSetting {
            name: "pages".into(),
            reason: format!(
                "{first}-{last} is not within 1-{page_count} ({citekey} has {page_count} pages)"
            ),
        });
    }
    let mut out = Vec::new();
    for n in first..=last {
        // A page that failed has no JSON: it is an empty page, so page N
        // stays the Nth (as in fulltext.txt).
        out.push((n, read(n)?.map(|p| p.text).unwrap_or_default()));
    }
    Ok(CitekeyText {
        citekey: citekey.to_owned(),
        job_id: job,
        dir,
        pages: out,
        page_count,
    })
}

impl OcrResult {
    /// The `toc.json` of a TOC result, when it reads.
    pub fn toc(&self) -> Option<recto_toc::Toc> {
        read_json(&self.dir.join("toc.json"))
    }

    /// The `segments.json` of a segmentation result, when it reads.
    pub fn segments(&self) -> Option<recto_segment::Segments> {
        read_json(&self.dir.join("segments.json"))
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Where a citekey's result of a step (OCR, TOC) is.
#[derive(Debug, Clone)]
pub struct OcrResult {
    pub job_id: JobId,
    /// The folder of its page JSON.
    pub dir: PathBuf,
    /// The job's `per_citekey` entry for it.
    pub entry: Option<Map<String, Value>>,
}

/// The OCR result of `key`: in `job` when given (an error if that job did
/// not complete it), else in the newest OCR job that completed it.
pub fn ocr_result(
    registry: &Registry,
    key: &Citekey,
    job: Option<&JobId>,
) -> Result<OcrResult, StepError> {
    step_result(registry, "ocr", key, job)
}

/// The result of step `step` for `key` (its job, folder and `per_citekey`
/// entry): in `job` when given, else in the newest job of that step that
/// completed it.
pub fn step_result(
    registry: &Registry,
    step: &str,
    key: &Citekey,
    job: Option<&JobId>,
) -> Result<OcrResult, StepError> {
    let name = StepName::parse(step)?;
    let citekey = key.as_str();
    let job = match job {
        Some(j) => j.clone(),
        None => {
            let state = registry
                .citekey_states(&[citekey.to_owned()], Some(std::slice::from_ref(&name)))?
                .remove(0);
            let on = &state.steps[0];
            match (&on.job_id, on.state.as_str()) {
                (Some(j), "done" | "outdated") => JobId::parse(j)?,
                _ => {
                    return Err(StepError::NoResult {
                        citekey: citekey.to_owned(),
                        step: step.into(),
                        state: on.state.clone(),
                    });
                }
            }
        }
    };
    let meta = registry.get_step_metadata(&name, &job)?;
    let entry = meta
        .get("per_citekey")
        .and_then(|p| p.get(citekey))
        .and_then(Value::as_object)
        .cloned();
    let failed = meta.get("failures").and_then(|f| f.get(citekey)).is_some();
    let listed = meta
        .get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(citekey)));
    if entry.is_none() && (failed || !listed) {
        return Err(StepError::NoResult {
            citekey: citekey.to_owned(),
            step: step.into(),
            state: if failed {
                format!("failed in job {job}")
            } else {
                format!("not in job {job}")
            },
        });
    }
    let dir = entry
        .as_ref()
        .and_then(|c| c.get("dir"))
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let base = meta
                .get("output_dir")
                .and_then(Value::as_str)
                .map(PathBuf::from)
                .unwrap_or_else(|| registry.layout().analytics_dir().join(step));
            harness::output_dir(&base, key, &job)
        });
    Ok(OcrResult {
        job_id: job,
        dir,
        entry,
    })
}

/// Read the page JSON of a result folder in page order, one page at a time
/// (memory stays bounded on long books), handing each to `each` with its
/// number; a page without JSON (one that failed) is `None`, so page N stays
/// the Nth. The page count is `count` when given, else the first page's,
/// else the result entry's `pages`. Returns the page count.
pub fn for_each_page(
    dir: &std::path::Path,
    entry: Option<&Map<String, Value>>,
    count: Option<usize>,
    mut each: impl FnMut(usize, Option<PageJson>),
) -> Result<usize, String> {
    let read = |n: usize| -> Result<Option<PageJson>, String> {
        let path = dir.join(page_json_name(n));
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a page JSON: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    };
    let first = read(1)?;
    let count = count
        .or_else(|| first.as_ref().map(|p| p.page_count))
        .or_else(|| {
            entry
                .and_then(|c| c.get("pages"))
                .and_then(Value::as_u64)
                .map(|n| n as usize)
        })
        .unwrap_or(0);
    if count == 0 {
        return Err(format!("no page JSON in {}", dir.display()));
    }
    each(1, first);
    for n in 2..=count {
        each(n, read(n)?);
    }
    Ok(count)
}
