//! The OCR step's request, settings and record: what a caller asks for
//! and what a job records, typed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use recto_ocr::Mode;
use recto_registry::JobId;
use recto_store::StoreConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::harness::Step;

/// The OCR step.
#[derive(Debug)]
pub struct Ocr;

impl Step for Ocr {
    const NAME: &'static str = "ocr";
    const INPUT: Option<&'static str> = Some("source");
}

/// Settings that shape the output; `None` means "not given" (the default
/// for a new job, the recorded value on resume).
#[derive(Debug, Clone, Default)]
pub struct OcrOptions {
    pub languages: Option<String>,
    /// Languages of single citekeys (`--lang smith2020=deu+frk`).
    pub citekey_languages: BTreeMap<String, String>,
    pub dpi: Option<u32>,
    pub image_dpi: Option<u32>,
    pub mode: Option<Mode>,
    pub page_timeout: Option<Duration>,
    pub detect_rotation: Option<bool>,
    pub max_megapixels: Option<f64>,
    pub native_resolution: Option<bool>,
    pub deskew: Option<bool>,
    pub detect_fraktur: Option<bool>,
    pub thresholding: Option<recto_ocr::Thresholding>,
    pub retry_low_confidence: Option<bool>,
}

/// Which citekeys a new OCR job takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Exactly these (an unknown one is an error naming the nearest known).
    #[default]
    Given,
    /// These, leaving out (with a warning) those never uploaded, as a
    /// BibTeX export lists entries without a PDF.
    GivenSkippingUnknown,
    /// Every uploaded citekey without a completed OCR result on its newest
    /// upload: never run, outdated, failed, interrupted or stale.
    Pending,
    /// Every uploaded citekey whose OCR failed, was interrupted or died.
    Failed,
    /// Every uploaded citekey.
    All,
}

impl Selection {
    /// The selection a caller's flags name instead of a list: pending,
    /// failed or all; `None` when none is set (the list given decides).
    pub fn flagged(pending: bool, failed: bool, all: bool) -> Option<Self> {
        if pending {
            Some(Selection::Pending)
        } else if failed {
            Some(Selection::Failed)
        } else if all {
            Some(Selection::All)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone)]
pub struct OcrRequest {
    pub citekeys: Vec<String>,
    /// How `citekeys` is read, or which citekeys to take instead.
    pub selection: Selection,
    /// Only say what would be done: no job, no pages.
    pub dry_run: bool,
    /// An upload job id or `latest`.
    pub source_job_id: Option<String>,
    /// `data/analytics/ocr` by default; pages go to `<output>/<citekey>/<job>/`.
    pub output: Option<PathBuf>,
    /// Continue this job (an id or `latest`) instead of starting a new one.
    pub resume: Option<String>,
    pub password: Option<String>,
    pub options: OcrOptions,
    /// Pages at once; does not change the output.
    pub workers: Option<usize>,
    /// Read sources from this store instead of the one the upload recorded.
    pub store: Option<StoreConfig>,
    /// Where to keep fetched source PDFs (content-addressed).
    pub cache_dir: PathBuf,
}

/// Resolutions accepted for `dpi`: below 70 Tesseract reads little, above
/// 1200 no scan has more detail to give (and the megapixel cap applies).
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 70..=1200;

/// Resolutions accepted for the page images (`image_dpi`, at most `dpi`).
pub const IMAGE_DPI_RANGE: std::ops::RangeInclusive<u32> = 20..=1200;

/// The settings an OCR job records under `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrSettings {
    pub dpi: u32,
    pub image_dpi: u32,
    pub languages: String,
    pub mode: Mode,
    /// Worker threads of the run that recorded this (`jobs` in older records).
    #[serde(alias = "jobs")]
    pub workers: usize,
    pub page_timeout_seconds: Option<u64>,
    pub detect_rotation: bool,
    #[serde(default = "default_megapixels")]
    pub max_megapixels: f64,
    /// Scans finer than `dpi` are read at their own resolution.
    #[serde(default = "yes")]
    pub native_resolution: bool,
    /// OCRed pages are levelled (small-angle skew) before recognition.
    #[serde(default = "yes")]
    pub deskew: bool,
    /// Pages OSD reads as Fraktur are read with a Fraktur model added.
    #[serde(default = "yes")]
    pub detect_fraktur: bool,
    /// Tesseract's binarisation.
    #[serde(default)]
    pub thresholding: recto_ocr::Thresholding,
    /// Low-confidence pages are read once more (the other way round when
    /// their orientation was in doubt, else with the other binarisation).
    #[serde(default = "yes")]
    pub retry_low_confidence: bool,
    #[serde(default)]
    pub engines: Map<String, Value>,
}

fn yes() -> bool {
    true
}

fn default_megapixels() -> f64 {
    recto_ocr::DEFAULT_MAX_MEGAPIXELS
}

/// What an OCR job records while it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrRunning {
    pub config: OcrSettings,
    pub output_dir: String,
    /// The upload each citekey is read from (a job may take citekeys from
    /// several upload batches: each from its newest upload).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Every upload job read from; `source_job_id` is the newest of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_job_ids: Vec<String>,
    /// Citekeys read with languages other than `config.languages`: from
    /// their BibTeX entry's `langid` when no languages were given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub citekey_languages: BTreeMap<String, String>,
    /// A job run by shards (`recto ocr --shards N`, `recto slurm ocr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<crate::sharding::ShardsInfo>,
}

/// Page counts of a job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PageCounts {
    pub total: usize,
    pub text_layer: usize,
    pub ocr: usize,
    pub failed: usize,
    pub resumed: usize,
    /// `text-layer-only` pages that had no text layer (no text recorded).
    #[serde(default)]
    pub no_text: usize,
    /// Pages read a second time for low confidence (the other orientation).
    #[serde(default)]
    pub retried: usize,
}

/// One citekey's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CitekeyResult {
    pub pages: usize,
    pub text_layer: usize,
    pub ocr: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_text: usize,
    pub mean_confidence: Option<f64>,
    pub dir: String,
    /// The upload the citekey's PDF was read from, and its checksum: what
    /// `recto status` compares with the newest upload to call it outdated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The citekey whose identical PDF (same sha256) was read once for both;
    /// this citekey's folder links to that result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
    /// The OCRed pages read with the lowest confidence (at most five,
    /// worst first): what the library's "worst pages" list shows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub worst_pages: Vec<WorstPage>,
}

/// One badly read page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstPage {
    pub page: usize,
    pub confidence: f64,
}

/// Pages kept per citekey in `worst_pages`.
pub(crate) const WORST_PAGES: usize = 5;

/// What a finished OCR job records besides the common header: what it
/// recorded while running, and its results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrBody {
    pub pages: PageCounts,
    #[serde(flatten)]
    pub running: OcrRunning,
    #[serde(default)]
    pub page_failures: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub per_citekey: BTreeMap<String, CitekeyResult>,
    #[serde(default)]
    pub source_store: Option<String>,
    #[serde(default)]
    pub pages_per_second: f64,
    /// Seconds spent on second readings (`pages.retried`).
    #[serde(default)]
    pub retry_seconds: f64,
}

#[derive(Debug, Clone)]
pub enum OcrOutcome {
    /// The job ran (or resumed) and was recorded.
    Ran {
        job_id: JobId,
        metadata: Map<String, Value>,
        failures: BTreeMap<String, String>,
    },
    /// `--resume` of a job that is already completed: nothing was done.
    AlreadyCompleted { job_id: JobId },
    /// `--dry-run`: what a run would do.
    DryRun(DryRun),
}

/// What a run would do, per citekey.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub citekeys: Vec<DryRunCitekey>,
    pub pages: usize,
    pub pages_text_layer: usize,
    pub pages_ocr: usize,
    /// An estimate on `workers` cores: 0.01 s a text-layer page, and per
    /// OCRed page the CPU time this data directory's past OCR jobs took
    /// (1.6 s, as measured on the corpus, before there are any).
    pub estimated_seconds: f64,
    pub workers: usize,
    /// CPU seconds an OCRed page is counted at.
    pub seconds_per_ocr_page: f64,
    /// Where that comes from: `past jobs (N)` or `default`.
    pub calibrated_from: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DryRunCitekey {
    pub citekey: String,
    pub source_job_id: String,
    pub pages: Option<usize>,
    pub text_layer: Option<usize>,
    /// Why the PDF could not be looked at (not fetched yet, encrypted, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The languages a new job reads when none are given.
pub const DEFAULT_LANGUAGES: &str = "eng+deu+fra";
