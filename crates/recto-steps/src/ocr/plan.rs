//! The new-or-resume planner: which job, which citekeys, which settings
//! and which upload, decided before any work (a resume's own checks are in
//! `resume.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use recto_ocr::{Mode, OcrConfig};
use recto_registry::{Citekey, JobId, Registry};
use serde_json::{Map, Value};

use super::types::{
    CitekeyResult, DEFAULT_LANGUAGES, DPI_RANGE, IMAGE_DPI_RANGE, Ocr, OcrRequest, OcrRunning,
    OcrSettings, Selection,
};
use crate::StepError;
use crate::harness::{self, Start, Step};

/// Everything a run needs, decided before any work.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) start: Start,
    pub(crate) keys: Vec<Citekey>,
    /// Citekeys a resumed job already completed, with their results.
    pub(crate) kept: BTreeMap<String, CitekeyResult>,
    pub(crate) settings: OcrSettings,
    pub(crate) output: PathBuf,
    /// The upload each citekey is read from.
    pub(crate) sources: BTreeMap<String, JobId>,
    /// Those uploads' metadata.
    pub(crate) source_metas: BTreeMap<JobId, Map<String, Value>>,
    /// The newest of them: the job's `source_job_id`.
    pub(crate) source_job: JobId,
    /// Citekeys read with their own languages (BibTeX `langid`).
    pub(crate) languages: BTreeMap<String, String>,
}

impl Plan {
    /// What the job records while it runs: the settings, output folder,
    /// each citekey's upload (every upload read, when more than one) and
    /// languages, and for a sharded job its shards.
    pub(crate) fn running(
        &self,
        config: OcrSettings,
        registry: &Registry,
        shards: Option<crate::sharding::ShardsInfo>,
    ) -> OcrRunning {
        let ids: Vec<String> = self.source_metas.keys().map(|j| j.to_string()).collect();
        OcrRunning {
            config,
            output_dir: harness::recorded_dir(registry, &self.output),
            sources: self
                .sources
                .iter()
                .map(|(k, j)| (k.clone(), j.to_string()))
                .collect(),
            source_job_ids: if ids.len() > 1 { ids } else { Vec::new() },
            citekey_languages: self.languages.clone(),
            shards,
        }
    }
}

/// Settings out of range are refused before anything is recorded.
pub(crate) fn check_options(req: &OcrRequest) -> Result<(), StepError> {
    let given = &req.options;
    if let Some(dpi) = given.dpi {
        check_range("dpi", dpi, &DPI_RANGE)?;
    }
    if let Some(dpi) = given.image_dpi {
        check_range("image_dpi", dpi, &IMAGE_DPI_RANGE)?;
    }
    if let (Some(image), dpi) = (
        given.image_dpi,
        given.dpi.unwrap_or(OcrConfig::default().dpi),
    ) && image > dpi
    {
        return Err(StepError::InvalidSetting {
            name: "image_dpi".into(),
            reason: format!("{image} is above the OCR resolution dpi {dpi}"),
        });
    }
    if req.workers == Some(0) {
        return Err(StepError::InvalidSetting {
            name: "workers".into(),
            reason: "must be at least 1".into(),
        });
    }
    if let Some(mp) = given.max_megapixels
        && !(1.0..=recto_ocr::HARD_MAX_MEGAPIXELS).contains(&mp)
    {
        return Err(StepError::InvalidSetting {
            name: "max_megapixels".into(),
            reason: format!("{mp} is outside 1..={}", recto_ocr::HARD_MAX_MEGAPIXELS),
        });
    }
    Ok(())
}

/// The upload job a record names as its `source_job_id`.
pub(crate) fn recorded_source(
    job: &JobId,
    recorded: &harness::StepMetadata<OcrRunning>,
) -> Result<JobId, StepError> {
    recorded
        .source_job_id
        .as_deref()
        .map(JobId::parse)
        .transpose()?
        .ok_or_else(|| StepError::BadRecord {
            step: Ocr::NAME.into(),
            job: job.clone(),
            reason: "no source_job_id".into(),
        })
}

/// The plan of a job as its record says: citekeys, settings, output, each
/// citekey's upload (older records name one upload for all) and languages.
pub(crate) fn recorded_plan(
    registry: &Registry,
    job: &JobId,
    recorded: &harness::StepMetadata<OcrRunning>,
    source_job: JobId,
) -> Result<Plan, StepError> {
    let keys: Vec<Citekey> = recorded
        .citekeys
        .list
        .iter()
        .map(|k| Citekey::parse(k))
        .collect::<Result<_, _>>()?;
    let mut sources = BTreeMap::new();
    for k in &keys {
        let job = match recorded.body.sources.get(k.as_str()) {
            Some(j) => JobId::parse(j)?,
            None => source_job.clone(),
        };
        sources.insert(k.as_str().to_owned(), job);
    }
    let source_metas = load_sources(registry, &sources)?;
    Ok(Plan {
        start: Start::Resume(job.clone()),
        keys,
        kept: BTreeMap::new(),
        settings: recorded.body.config.clone(),
        output: harness::recorded_path(registry, &recorded.body.output_dir),
        sources,
        source_metas,
        source_job,
        languages: recorded.body.citekey_languages.clone(),
    })
}

pub(crate) fn plan_new(registry: &Registry, req: &OcrRequest) -> Result<Plan, StepError> {
    let (keys, sources) = select(registry, req)?;
    let given = &req.options;
    let defaults = OcrConfig::default();
    let settings = OcrSettings {
        dpi: given.dpi.unwrap_or(defaults.dpi),
        // The default image resolution follows a lower --dpi down.
        image_dpi: given
            .image_dpi
            .unwrap_or_else(|| defaults.image_dpi.min(given.dpi.unwrap_or(defaults.dpi))),
        languages: given
            .languages
            .clone()
            .unwrap_or_else(|| DEFAULT_LANGUAGES.to_owned()),
        mode: given.mode.unwrap_or(Mode::Auto),
        workers: 0,
        page_timeout_seconds: given
            .page_timeout
            .or(defaults.page_timeout)
            .map(|d| d.as_secs()),
        detect_rotation: given.detect_rotation.unwrap_or(true),
        max_megapixels: given.max_megapixels.unwrap_or(defaults.max_megapixels),
        native_resolution: given.native_resolution.unwrap_or(true),
        deskew: given.deskew.unwrap_or(true),
        detect_fraktur: given.detect_fraktur.unwrap_or(true),
        thresholding: given.thresholding.unwrap_or_default(),
        retry_low_confidence: given.retry_low_confidence.unwrap_or(true),
        engines: serde_json::json!({
            "tesseract": recto_ocr::tess::version(),
            "mupdf": recto_ocr::render::MUPDF_VERSION,
        })
        .as_object()
        .expect("object")
        .clone(),
    };
    let source_metas = load_sources(registry, &sources)?;
    let source_job = source_metas
        .keys()
        .next_back()
        .cloned()
        .expect("at least one citekey, so one source");
    // A citekey's own --lang first, else (with no --lang for all) its
    // BibTeX entry's language.
    let mut languages = if req.options.languages.is_none() {
        entry_languages(&keys, &sources, &source_metas)
    } else {
        BTreeMap::new()
    };
    for (k, l) in &req.options.citekey_languages {
        if !keys.iter().any(|c| c.as_str() == k) {
            return Err(StepError::InvalidSetting {
                name: "lang".into(),
                reason: format!("{k}={l} names a citekey this job does not take"),
            });
        }
        languages.insert(k.clone(), l.clone());
    }
    Ok(Plan {
        start: Start::New,
        keys,
        kept: BTreeMap::new(),
        settings,
        output: req
            .output
            .clone()
            .unwrap_or_else(|| harness::default_output_base::<Ocr>(registry)),
        sources,
        source_metas,
        source_job,
        languages,
    })
}

/// The languages of citekeys whose upload recorded one (a BibTeX `langid`):
/// that language with English (scholarly texts quote it), or English alone.
/// A language whose Tesseract data is not installed fails that citekey
/// alone, naming the package to install.
fn entry_languages(
    keys: &[Citekey],
    sources: &BTreeMap<String, JobId>,
    metas: &BTreeMap<JobId, Map<String, Value>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for k in keys {
        let Some(code) = sources
            .get(k.as_str())
            .and_then(|j| metas.get(j))
            .and_then(|m| m.get("languages")?.get(k.as_str())?.as_str())
        else {
            continue;
        };
        let langs = if code == "eng" {
            "eng".to_owned()
        } else {
            format!("{code}+eng")
        };
        tracing::debug!("{k}: read with {langs}, from its BibTeX entry's language");
        out.insert(k.as_str().to_owned(), langs);
    }
    out
}

/// The citekeys of a new job and the upload each is read from: the one
/// named, or each citekey's newest upload (several batches may meet in
/// one job).
fn select(
    registry: &Registry,
    req: &OcrRequest,
) -> Result<(Vec<Citekey>, BTreeMap<String, JobId>), StepError> {
    let ocr = [recto_registry::StepName::parse(Ocr::NAME).expect("valid")];
    let mut keys: Vec<Citekey> = Vec::new();
    match req.selection {
        Selection::Pending | Selection::Failed | Selection::All => {
            for s in registry.citekey_states(&[], Some(&ocr))? {
                let wanted = s.source.is_some()
                    && match req.selection {
                        Selection::Pending => s.steps[0].needs_run(),
                        Selection::Failed => s.steps[0].failed(),
                        _ => true,
                    };
                if wanted {
                    keys.push(Citekey::parse(&s.citekey)?);
                }
            }
            if keys.is_empty() {
                return Err(StepError::NothingToDo {
                    what: match req.selection {
                        Selection::All => "no uploaded citekeys".into(),
                        Selection::Failed => "no uploaded citekey's OCR failed".into(),
                        _ => "every uploaded citekey's OCR is done on its newest upload".into(),
                    },
                });
            }
        }
        Selection::Given | Selection::GivenSkippingUnknown => {
            if req.citekeys.is_empty() {
                return Err(StepError::NoCitekeys);
            }
            for k in &req.citekeys {
                let k = Citekey::parse(k)?;
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    let named = req
        .source_job_id
        .as_deref()
        .map(|s| recto_library::resolve_job(registry, "source", s))
        .transpose()?;
    let mut sources = BTreeMap::new();
    if let Some(job) = named {
        let meta = registry.get_source_metadata(&job)?;
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !holds(&meta, k))
            .map(|k| k.as_str().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(StepError::NotInSource {
                job,
                citekeys: missing,
            });
        }
        tracing::debug!(
            "source: upload job {job}, as named, for all {} citekeys",
            keys.len()
        );
        for k in &keys {
            sources.insert(k.as_str().to_owned(), job.clone());
        }
        return Ok((keys, sources));
    }
    // Each citekey's newest upload, from one query of the index (unknown
    // citekeys are an error with the nearest known ones, or skipped for a
    // BibTeX list).
    let newest: BTreeMap<String, Option<String>> = registry
        .citekey_states(&[], Some(&[]))?
        .into_iter()
        .map(|s| (s.citekey, s.source.map(|src| src.job_id)))
        .collect();
    let mut known = Vec::new();
    for k in keys {
        match newest.get(k.as_str()) {
            Some(Some(job)) => {
                tracing::debug!("source of {k}: upload job {job}, its newest");
                sources.insert(k.as_str().to_owned(), JobId::parse(job)?);
                known.push(k);
            }
            _ if req.selection == Selection::GivenSkippingUnknown => {
                tracing::warn!("{k}: skipped: no upload holds it");
            }
            Some(None) => {
                return Err(StepError::NoCommonSource {
                    holders: vec![(k.as_str().to_owned(), vec![])],
                });
            }
            // Asked alone, the registry names the nearest known citekeys.
            None => {
                registry.citekey_states(&[k.as_str().to_owned()], Some(&[]))?;
                return Err(StepError::NoCommonSource {
                    holders: vec![(k.as_str().to_owned(), vec![])],
                });
            }
        }
    }
    if known.is_empty() {
        return Err(StepError::NothingToDo {
            what: "none of the listed citekeys has been uploaded".into(),
        });
    }
    Ok((known, sources))
}

/// The metadata of every upload in `sources`.
fn load_sources(
    registry: &Registry,
    sources: &BTreeMap<String, JobId>,
) -> Result<BTreeMap<JobId, Map<String, Value>>, StepError> {
    let mut out = BTreeMap::new();
    for job in sources.values() {
        if !out.contains_key(job) {
            out.insert(job.clone(), registry.get_source_metadata(job)?);
        }
    }
    Ok(out)
}

fn check_range(
    name: &str,
    value: u32,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<(), StepError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(StepError::InvalidSetting {
            name: name.into(),
            reason: format!("{value} is outside {}-{}", range.start(), range.end()),
        })
    }
}

pub(crate) fn holds(meta: &Map<String, Value>, k: &Citekey) -> bool {
    meta.get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(k.as_str())))
        && meta
            .get("objects")
            .and_then(|o| o.get(k.as_str()))
            .is_some()
}
