//! The engine's side of a run: its configuration from the job's settings,
//! the stores sources come from, languages that are not installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use recto_ocr::OcrConfig;
use recto_registry::JobId;
use recto_store::{Store, StoreConfig};

use super::plan::Plan;
use super::types::OcrSettings;
use crate::StepError;
use crate::fetch::recorded_store;

/// The engine's settings for a plan's recorded settings.
pub(crate) fn engine_config(settings: &OcrSettings, workers: Option<usize>) -> OcrConfig {
    OcrConfig {
        languages: settings.languages.clone(),
        dpi: settings.dpi,
        image_dpi: settings.image_dpi,
        mode: settings.mode,
        workers: workers.unwrap_or_else(all_cores).max(1),
        page_timeout: settings.page_timeout_seconds.map(Duration::from_secs),
        detect_rotation: settings.detect_rotation,
        max_megapixels: settings.max_megapixels,
        native_resolution: settings.native_resolution,
        deskew: settings.deskew,
        detect_fraktur: settings.detect_fraktur,
        thresholding: settings.thresholding,
        retry_low_confidence: settings.retry_low_confidence,
        ..OcrConfig::default()
    }
}

/// One store per distinct recorded store (usually one for all), or the
/// one given instead.
pub(crate) fn open_stores(
    plan: &Plan,
    given: Option<&StoreConfig>,
) -> Result<BTreeMap<JobId, Store>, StepError> {
    let mut stores = BTreeMap::new();
    for (job, meta) in &plan.source_metas {
        let store = match given {
            Some(cfg) => Store::open(cfg, Path::new("."))?,
            None => Store::open(&recorded_store(meta, job)?, Path::new("."))?,
        };
        stores.insert(job.clone(), store);
    }
    Ok(stores)
}

/// Citekeys whose own languages are not installed: each fails alone.
/// Checked once per language set (loading an engine takes a while), not
/// once per citekey.
pub(crate) fn language_failures(plan: &Plan, engine: &OcrConfig) -> BTreeMap<String, String> {
    let mut checked: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for (k, l) in &plan.languages {
        let problem = checked.entry(l.as_str()).or_insert_with(|| {
            let cfg = OcrConfig {
                languages: l.clone(),
                ..engine.clone()
            };
            recto_ocr::validate_languages(&cfg)
                .err()
                .map(|e| e.to_string())
        });
        if let Some(e) = problem {
            tracing::warn!("{k}: {e}");
            failures.insert(k.clone(), e.clone());
        }
    }
    failures
}

pub(crate) fn all_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
