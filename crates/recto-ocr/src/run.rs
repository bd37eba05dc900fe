//! The page pipeline over many documents, on N worker threads.
//!
//! Every page of every document goes into one queue; each worker keeps its
//! own MuPDF document handle (reopened when it moves to another document)
//! and its own Tesseract engines, reused across pages. A worker holds one
//! page at a time and writes it straight to disk, so memory is bounded by
//! the number of workers, not by the page count.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::unbounded;
use serde::Serialize;

use crate::OcrError;
use crate::heuristic::assess;
use crate::image::{downscale, rotate_cw, to_jpeg};
use crate::page::{
    Binarisation, Block, ColumnSplit, Line, Osd, PAGE_SCHEMA_VERSION, PageImage, PageJson, Retry,
    Skew, TextSource, Timings, Word, blocks_text, mean_confidence, page_image_name, page_json_name,
};
use crate::render::{MUPDF_VERSION, Pdf};
use crate::tess::{GrayImage, Tesseract, installed_languages};

/// Which pages get OCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The text layer where it is usable, OCR elsewhere.
    Auto,
    /// OCR every page.
    ForceOcr,
    /// Never OCR; take whatever text layer there is.
    TextLayerOnly,
}

#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// Tesseract languages, `eng+deu+fra`.
    pub languages: String,
    /// Resolution pages are rendered at for OCR, and of all boxes.
    pub dpi: u32,
    /// Resolution of the stored page images.
    pub image_dpi: u32,
    pub jpeg_quality: u8,
    pub mode: Mode,
    pub workers: usize,
    /// Give up on a page's OCR after this long.
    pub page_timeout: Option<Duration>,
    /// Tesseract's data folder; `None` for its default.
    pub tessdata: Option<String>,
    /// Detect pages turned by 90/180/270 degrees and read them upright.
    pub detect_rotation: bool,
    /// Below this OSD confidence a detected rotation is not applied.
    pub osd_min_confidence: f32,
    /// The largest image rendered for a page, in millions of pixels; a
    /// larger page is rendered at the highest resolution under it.
    pub max_megapixels: f64,
    /// Read a scanned page at its scan's resolution when that is higher
    /// than `dpi`.
    pub native_resolution: bool,
    /// Find small-angle skew on OCRed pages and level them first.
    pub deskew: bool,
    /// Read a page Tesseract's OSD finds set in Fraktur with a Fraktur
    /// model added to `languages` (see [`fraktur_languages`]).
    pub detect_fraktur: bool,
    /// Hunspell dictionaries that decide between two readings of a word
    /// (see [`crate::lexicon::doubled_i`]); loaded when first asked.
    pub dictionaries: Option<std::sync::Arc<crate::lexicon::Dictionaries>>,
    /// Tesseract's binarisation (`thresholding_method`).
    pub thresholding: Thresholding,
    /// Read a low-confidence page once more (the other way round when its
    /// orientation was in doubt, else with the other binarisation),
    /// keeping the better reading.
    pub retry_low_confidence: bool,
    /// The mean word confidence under which a page is read again
    /// ([`RETRY_BELOW`]).
    pub retry_below: f32,
}

/// Below this mean word confidence a page may be read a second time.
pub const RETRY_BELOW: f32 = 60.0;

/// Tesseract 5's binarisation methods, or a choice per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Thresholding {
    /// Per page: Sauvola for faint ink on white paper (a typescript),
    /// Otsu otherwise; see [`choose_thresholding`]. Not the default: on
    /// blurred and 150 dpi pages it chooses Sauvola wrongly.
    Auto,
    /// Tesseract's own Otsu (its default, and recto's).
    #[default]
    Otsu,
    /// Leptonica's adaptive Otsu (tiled).
    LeptonicaOtsu,
    /// Sauvola's local thresholding.
    Sauvola,
}

fn thresholding_name(t: Thresholding) -> &'static str {
    match t {
        Thresholding::Auto => "auto",
        Thresholding::Otsu => "otsu",
        Thresholding::LeptonicaOtsu => "leptonica-otsu",
        Thresholding::Sauvola => "sauvola",
    }
}

impl Thresholding {
    pub fn code(self) -> u8 {
        match self {
            Thresholding::Otsu | Thresholding::Auto => 0,
            Thresholding::LeptonicaOtsu => 1,
            Thresholding::Sauvola => 2,
        }
    }
}

/// The page's ink and paper tones (Otsu's two class means on a reduced
/// copy), and the binarisation they call for under `Auto`: faint ink (dark
/// mean at least 110) on white paper (light mean at least 240), as a
/// typescript is, reads better with Sauvola's local thresholds (the memoir
/// 0.1425 -> 0.1010 CER); grey paper, photographs and dark print read
/// better with Otsu (an illustrated book page 0.0063 with Otsu, 0.0404 with
/// Sauvola). Figures in docs/benchmarks.md.
pub fn choose_thresholding(img: &GrayImage, dpi: u32) -> (Thresholding, f32, f32) {
    let factor = (dpi / 100).max(1) as usize;
    let mut hist = [0u32; 256];
    let mut n = 0u32;
    for y in (0..img.height as usize).step_by(factor) {
        for x in (0..img.width as usize).step_by(factor) {
            hist[img.data[y * img.stride + x] as usize] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return (Thresholding::Otsu, 0.0, 0.0);
    }
    let t = crate::deskew::otsu(&hist, n) as usize;
    let mean = |r: std::ops::Range<usize>| {
        let (s, c) = r.fold((0f64, 0f64), |(s, c), i| {
            (s + i as f64 * f64::from(hist[i]), c + f64::from(hist[i]))
        });
        if c > 0.0 { (s / c) as f32 } else { 0.0 }
    };
    let (dark, light) = (mean(0..t), mean(t..256));
    let method = if dark >= 110.0 && light >= 240.0 {
        Thresholding::Sauvola
    } else {
        Thresholding::Otsu
    };
    (
        (method),
        (dark * 10.0).round() / 10.0,
        (light * 10.0).round() / 10.0,
    )
}

/// The highest native resolution a scan is read at.
pub const MAX_NATIVE_DPI: u32 = 1200;

/// The default cap on rendered pages: an A0 sheet at 250 dpi, ~100 MB of
/// grayscale. Leptonica refuses images of 2^31 bytes or more (and Tesseract
/// makes several copies of a page), so nothing near that is ever passed on.
pub const DEFAULT_MAX_MEGAPIXELS: f64 = 100.0;

/// The largest cap that may be configured.
pub const HARD_MAX_MEGAPIXELS: f64 = 400.0;

/// The resolution a `width_pt` x `height_pt` page is rendered at: `dpi`, or
/// the highest whole dpi that keeps the image under `max_megapixels`.
/// `None` for a page with no usable size.
pub fn capped_dpi(width_pt: f32, height_pt: f32, dpi: u32, max_megapixels: f64) -> Option<u32> {
    let (w, h) = (f64::from(width_pt), f64::from(height_pt));
    if !(w.is_finite() && h.is_finite() && w >= 1.0 && h >= 1.0) {
        return None;
    }
    let max_px = max_megapixels.clamp(0.01, HARD_MAX_MEGAPIXELS) * 1e6;
    let at = |d: f64| (w * d / 72.0).ceil() * (h * d / 72.0).ceil();
    if at(f64::from(dpi)) <= max_px {
        return Some(dpi);
    }
    let mut d = (72.0 * (max_px / (w * h)).sqrt()).floor();
    while d >= 1.0 && at(d) > max_px {
        d -= 1.0;
    }
    (d >= 1.0).then_some(d as u32)
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            languages: "eng".into(),
            dpi: 300,
            image_dpi: 100,
            jpeg_quality: 75,
            mode: Mode::Auto,
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            page_timeout: Some(Duration::from_secs(180)),
            tessdata: None,
            detect_rotation: true,
            osd_min_confidence: 2.0,
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
            native_resolution: true,
            deskew: true,
            detect_fraktur: true,
            dictionaries: Some(std::sync::Arc::new(crate::lexicon::Dictionaries::new(
                &crate::lexicon::default_dir(),
            ))),
            thresholding: Thresholding::default(),
            retry_low_confidence: true,
            retry_below: RETRY_BELOW,
        }
    }
}

/// Images with a side shorter than this are not given to Tesseract: they
/// cannot hold text, and the engine's layout analysis is not made for them.
const MIN_ENGINE_SIDE: u32 = 8;

/// One document to process.
#[derive(Debug, Clone)]
pub struct DocTask {
    pub citekey: String,
    pub pdf: PathBuf,
    pub password: Option<String>,
    /// Where `page_NNNN.json`, `page_NNNN.jpg` and `fulltext.txt` go.
    pub out_dir: PathBuf,
    /// This document's Tesseract languages, when not the run's (a BibTeX
    /// entry's `langid`).
    pub languages: Option<String>,
    /// Only these pages (runs of `(first, last)`, 1-based, inclusive): one
    /// shard's slices of the document. The full text is then left to
    /// whoever merges the shards ([`write_fulltext`]). `None`: every page.
    pub pages: Option<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageSummary {
    pub source: TextSource,
    pub chars: usize,
    pub mean_confidence: Option<f32>,
    pub rotation: u16,
    /// Found complete on disk from an earlier run, not redone.
    pub resumed: bool,
    pub seconds: f64,
    /// Read a second time (low confidence), and how long that took.
    pub retried: bool,
    pub retry_seconds: f64,
}

#[derive(Debug, Clone)]
pub struct PageOutcome {
    pub page: usize,
    pub result: Result<PageSummary, String>,
}

#[derive(Debug, Clone)]
pub struct DocReport {
    pub citekey: String,
    pub page_count: usize,
    /// Why the document could not be processed at all.
    pub error: Option<String>,
    pub pages: Vec<PageOutcome>,
    pub fulltext: Option<PathBuf>,
}

/// Told about progress, from the calling thread.
pub trait PageObserver {
    fn begin(&self, _total_pages: u64) {}
    fn page_done(&self, _citekey: &str, _page: usize, _ok: bool) {}
}

/// Check the languages before any work: each must be installed, and an
/// engine must load them.
pub fn validate_languages(cfg: &OcrConfig) -> Result<(), OcrError> {
    let langs = &cfg.languages;
    let bad_form = langs.is_empty()
        || langs
            .split('+')
            .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if bad_form {
        return Err(OcrError::Language {
            languages: langs.clone(),
            reason: "languages are Tesseract codes joined with +, e.g. eng or eng+fra".into(),
        });
    }
    let installed = installed_languages(cfg.tessdata.as_deref());
    let missing: Vec<&str> = langs
        .split('+')
        .filter(|l| !installed.iter().any(|i| i == l))
        .collect();
    if !missing.is_empty() && !installed.is_empty() {
        // A language's name instead of its code: say the code.
        let named: Vec<String> = missing
            .iter()
            .filter_map(|m| language_code(m).map(|c| format!("use {c} for {m}")))
            .collect();
        let reason = if named.len() == missing.len() {
            format!(
                "{} (languages are Tesseract codes joined with +, e.g. eng+fra)",
                named.join(", ")
            )
        } else {
            let packages: Vec<String> = missing.iter().map(|m| debian_package(m)).collect();
            format!(
                "not installed: {} (Debian: apt-get install {}); installed: {}",
                missing.join(", "),
                packages.join(" "),
                installed.join(", ")
            )
        };
        return Err(OcrError::Language {
            languages: langs.clone(),
            reason,
        });
    }
    Tesseract::new(cfg.tessdata.as_deref(), langs).map(drop)
}

/// The Debian package holding a Tesseract language or script model:
/// `nld` -> `tesseract-ocr-nld`, `script/Fraktur` -> `tesseract-ocr-script-frak`.
pub fn debian_package(code: &str) -> String {
    match code.strip_prefix("script/") {
        Some(script) => {
            let short: String = script.chars().take(4).collect::<String>().to_lowercase();
            format!("tesseract-ocr-script-{short}")
        }
        None => format!("tesseract-ocr-{}", code.to_lowercase().replace('_', "-")),
    }
}

/// The Tesseract code of a language named as people (and BibTeX's
/// `langid` / `language` fields) name it: `german` -> `deu`.
pub fn language_code(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    Some(match n.as_str() {
        "english" | "american" | "british" | "en" | "en-us" | "en-gb" | "eng" => "eng",
        "german" | "ngerman" | "deutsch" | "austrian" | "naustrian" | "de" | "de-de" | "deu" => {
            "deu"
        }
        "french" | "francais" | "français" | "fr" | "fr-fr" | "fra" => "fra",
        "italian" | "italiano" | "it" | "ita" => "ita",
        "spanish" | "español" | "espanol" | "es" | "spa" => "spa",
        "portuguese" | "portuges" | "brazilian" | "pt" | "por" => "por",
        "dutch" | "nederlands" | "nl" | "nld" => "nld",
        "latin" | "la" | "lat" => "lat",
        "greek" | "el" | "ell" => "ell",
        "russian" | "ru" | "rus" => "rus",
        "polish" | "pl" | "pol" => "pol",
        "swedish" | "sv" | "swe" => "swe",
        "danish" | "da" | "dan" => "dan",
        "norwegian" | "norsk" | "nb" | "nor" => "nor",
        "czech" | "cs" | "ces" => "ces",
        _ => return None,
    })
}

/// Pages of a PDF, and how many have a text layer usable without OCR (for
/// a dry run's estimate: `recto ocr --dry-run` on the 117-page lecture
/// notes took 0.29 s in all).
pub fn count_text_layer_pages(
    path: &Path,
    password: Option<&str>,
) -> Result<(usize, usize), OcrError> {
    let usable = text_layer_pages(path, password)?;
    Ok((usable.len(), usable.iter().filter(|u| **u).count()))
}

/// For each page of a PDF, whether its text layer is usable without OCR:
/// what a sharded job's plan weighs pages by (an OCRed page costs about a
/// hundred times a text-layer page).
pub fn text_layer_pages(path: &Path, password: Option<&str>) -> Result<Vec<bool>, OcrError> {
    let pdf = Pdf::open(path, password)?;
    (1..=pdf.page_count())
        .map(|i| {
            let layer = pdf.page(i)?.text_layer(72)?;
            Ok(assess(&blocks_text(&layer)).usable)
        })
        .collect()
}

/// Process every page of every task. Documents that cannot be opened are
/// reported, and the others go on.
pub fn run(tasks: &[DocTask], cfg: &OcrConfig, observer: &dyn PageObserver) -> Vec<DocReport> {
    let mut reports: Vec<DocReport> = tasks
        .iter()
        .map(|t| {
            let (page_count, error) = match Pdf::open(&t.pdf, t.password.as_deref()) {
                Ok(pdf) => (pdf.page_count(), None),
                Err(e) => (0, Some(e.to_string())),
            };
            let error = error.or_else(|| {
                std::fs::create_dir_all(&t.out_dir)
                    .err()
                    .map(|e| format!("{}: {e}", t.out_dir.display()))
            });
            DocReport {
                citekey: t.citekey.clone(),
                page_count,
                error,
                pages: Vec::new(),
                fulltext: None,
            }
        })
        .collect();
    let (work_tx, work_rx) = unbounded::<(usize, usize)>();
    let mut total = 0;
    for (i, r) in reports.iter().enumerate() {
        if r.error.is_none() {
            for p in page_range(&tasks[i], r.page_count) {
                work_tx.send((i, p)).expect("receiver alive");
                total += 1;
            }
        }
    }
    drop(work_tx);
    observer.begin(total as u64);
    let (done_tx, done_rx) = unbounded::<(usize, PageOutcome)>();
    let page_counts: Vec<usize> = reports.iter().map(|r| r.page_count).collect();

    std::thread::scope(|scope| {
        for _ in 0..cfg.workers.max(1).min(total.max(1)) {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let page_counts = &page_counts;
            scope.spawn(move || {
                let mut w = Worker::default();
                for (doc, page) in work_rx.iter() {
                    let task = &tasks[doc];
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        w.process(doc, task, page, page_counts[doc], cfg)
                    }))
                    .unwrap_or_else(|panic| {
                        // The worker's state may be damaged: start afresh.
                        w = Worker::default();
                        Err(format!("page {page}: crashed: {}", panic_message(&panic)))
                    });
                    if done_tx.send((doc, PageOutcome { page, result })).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for (doc, outcome) in done_rx.iter() {
            observer.page_done(&reports[doc].citekey, outcome.page, outcome.result.is_ok());
            reports[doc].pages.push(outcome);
        }
    });

    for (report, task) in reports.iter_mut().zip(tasks) {
        report.pages.sort_by_key(|p| p.page);
        if report.error.is_none() && task.pages.is_none() {
            match write_fulltext(task, report.page_count) {
                Ok(p) => report.fulltext = Some(p),
                Err(e) => report.error = Some(e),
            }
        }
    }
    reports
}

#[derive(Default)]
struct Worker {
    doc: Option<(usize, Pdf)>,
    /// One engine per language set met so far (usually one).
    ocr: std::collections::HashMap<String, Tesseract>,
    /// `Some(None)`: OSD was tried and is not available.
    osd: Option<Option<Tesseract>>,
    /// The installed Tesseract languages, once looked up.
    installed: Option<Vec<String>>,
}

impl Worker {
    fn pdf(&mut self, doc: usize, task: &DocTask) -> Result<&Pdf, String> {
        if self.doc.as_ref().is_none_or(|(i, _)| *i != doc) {
            self.doc = None;
            let pdf = Pdf::open(&task.pdf, task.password.as_deref()).map_err(|e| e.to_string())?;
            self.doc = Some((doc, pdf));
        }
        Ok(&self.doc.as_ref().expect("opened").1)
    }

    fn ocr_engine(&mut self, cfg: &OcrConfig) -> Result<&mut Tesseract, String> {
        if !self.ocr.contains_key(&cfg.languages) {
            let engine = Tesseract::new(cfg.tessdata.as_deref(), &cfg.languages)
                .map_err(|e| e.to_string())?;
            self.ocr.insert(cfg.languages.clone(), engine);
        }
        Ok(self.ocr.get_mut(&cfg.languages).expect("created"))
    }

    fn osd_engine(&mut self, cfg: &OcrConfig) -> Option<&mut Tesseract> {
        if self.osd.is_none() {
            let engine = Tesseract::new(cfg.tessdata.as_deref(), "osd");
            if let Err(e) = &engine {
                tracing::warn!("rotation detection unavailable: {e}");
            }
            self.osd = Some(engine.ok());
        }
        self.osd.as_mut().expect("set").as_mut()
    }

    /// One page: resume check, resolution, text layer or OCR, then the
    /// image and the JSON (last, so that its presence means "complete").
    fn process(
        &mut self,
        doc: usize,
        task: &DocTask,
        page_no: usize,
        page_count: usize,
        cfg: &OcrConfig,
    ) -> Result<PageSummary, String> {
        let cfg = &*task_config(task, cfg);
        let json_path = task.out_dir.join(page_json_name(page_no));
        if let Some(done) = resumable(&json_path, &task.out_dir, page_no, cfg) {
            return Ok(done);
        }
        let start = Instant::now();
        let mut timings = Timings::default();
        let pdf = self.pdf(doc, task)?;
        let page = pdf.page(page_no).map_err(|e| e.to_string())?;
        let mut dpi = page_dpi(&page, task, page_no, cfg)?;
        let (width_pt, height_pt) = (page.width_pt, page.height_pt);

        let t = Instant::now();
        let layer = if cfg.mode == Mode::ForceOcr {
            Vec::new()
        } else {
            page.text_layer(dpi).map_err(|e| e.to_string())?
        };
        let verdict = assess(&blocks_text(&layer));
        timings.text_layer_ms = ms(t);
        let use_layer = match cfg.mode {
            Mode::Auto => verdict.usable,
            Mode::ForceOcr => false,
            Mode::TextLayerOnly => true,
        };
        let read = if use_layer {
            let image_dpi = cfg.image_dpi.min(dpi);
            let t = Instant::now();
            let image = page.render_gray(image_dpi).map_err(|e| e.to_string())?;
            timings.render_ms = ms(t);
            let source = if cfg.mode == Mode::TextLayerOnly && verdict.chars == 0 {
                TextSource::NoText
            } else {
                TextSource::TextLayer
            };
            Read {
                blocks: layer,
                source,
                rotation: 0,
                osd: None,
                skew: None,
                binarisation: None,
                retry: None,
                columns: None,
                languages: None,
                image,
                image_dpi,
            }
        } else {
            // A scan finer than the configured resolution is read at its
            // own (rendering a 600 dpi bilevel scan at 300 loses strokes),
            // up to 1200 dpi and under the megapixel cap.
            if cfg.native_resolution
                && let Some(native) = page.scan_dpi()
                && native > dpi
            {
                let want = native.min(MAX_NATIVE_DPI);
                dpi = capped_dpi(width_pt, height_pt, want, cfg.max_megapixels)
                    .unwrap_or(dpi)
                    .max(dpi);
                tracing::debug!(
                    "{} page {page_no}: a {native} dpi scan, read at {dpi} dpi",
                    task.citekey
                );
            }
            let t = Instant::now();
            let img = page.render_gray(dpi).map_err(|e| e.to_string())?;
            drop(page);
            timings.render_ms = ms(t);
            self.read_by_ocr(img, dpi, page_no, cfg, &mut timings)?
        };
        let page_size = PageSize {
            width_pt,
            height_pt,
            dpi,
        };
        write_page(
            task, page_no, page_count, page_size, read, verdict, cfg, timings, start,
        )
    }

    /// Turn the rendered page upright (when OSD is sure) and recognise it.
    fn read_by_ocr(
        &mut self,
        img: GrayImage,
        dpi: u32,
        page_no: usize,
        cfg: &OcrConfig,
        timings: &mut Timings,
    ) -> Result<Read, String> {
        let (turn, osd, candidate) = if cfg.detect_rotation {
            let t = Instant::now();
            let found = self.orientation(&img, dpi, cfg);
            timings.osd_ms = ms(t);
            match found {
                // Applied: the other candidate is the page as it came.
                Some(o) if o.rotate_cw != 0 && o.confidence >= cfg.osd_min_confidence => {
                    (o.rotate_cw, Some(osd_record(&o, true)), Some(0))
                }
                // Not sure enough to turn: the turn is the other candidate.
                Some(o) if o.rotate_cw != 0 => (0, Some(osd_record(&o, false)), Some(o.rotate_cw)),
                Some(o) => (0, Some(osd_record(&o, false)), None),
                None => (0, None, None),
            }
        } else {
            (0, None, None)
        };
        // A page set in Fraktur is read with a Fraktur model added.
        let fraktur = osd
            .as_ref()
            .filter(|_| cfg.detect_fraktur)
            .and_then(|o| Some((o.script.as_deref()?, o.script_confidence?)))
            .and_then(|(script, conf)| {
                let installed = self
                    .installed
                    .get_or_insert_with(|| installed_languages(cfg.tessdata.as_deref()));
                fraktur_languages(script, conf, &cfg.languages, installed)
            })
            .map(|languages| OcrConfig {
                languages,
                ..cfg.clone()
            });
        let cfg = fraktur.as_ref().unwrap_or(cfg);
        // The page as rendered is kept only when a retry may need it: to
        // read it the other way round, or with the other binarisation.
        let other_binarisation = match cfg.thresholding {
            Thresholding::Otsu | Thresholding::LeptonicaOtsu => Some(Thresholding::Sauvola),
            Thresholding::Sauvola => Some(Thresholding::Otsu),
            Thresholding::Auto => None,
        };
        // A bilevel scan (CCITT, JBIG2) binarises the same either way.
        let retry_with = match candidate {
            Some(turn) => Some(RetryWith::Turn(turn)),
            None if is_bilevel(&img) => None,
            None => other_binarisation.map(RetryWith::Binarisation),
        }
        .filter(|_| cfg.retry_low_confidence);
        let original = retry_with.map(|_| img.clone());
        let first = self.read_turned(img, turn, dpi, page_no, cfg, timings)?;
        let first_conf = mean_confidence(&first.blocks).unwrap_or(0.0);
        // A page read with low confidence is read once more: the other
        // way round when its orientation was in doubt, else with the other
        // binarisation; the better reading (by confidence) is kept.
        let (Some(with), Some(original)) = (retry_with, original) else {
            return Ok(Read { osd, ..first });
        };
        if first_conf >= cfg.retry_below || first.blocks.is_empty() {
            return Ok(Read { osd, ..first });
        }
        let (other, retry_cfg, tried) = match with {
            RetryWith::Turn(other) => (other, None, format!("rotation {other}")),
            RetryWith::Binarisation(method) => (
                turn,
                Some(OcrConfig {
                    thresholding: method,
                    ..cfg.clone()
                }),
                format!("binarisation {}", thresholding_name(method)),
            ),
        };
        let t = Instant::now();
        let mut scratch = Timings::default();
        let second = self.read_turned(
            original,
            other,
            dpi,
            page_no,
            retry_cfg.as_ref().unwrap_or(cfg),
            &mut scratch,
        )?;
        let second_conf = mean_confidence(&second.blocks).unwrap_or(0.0);
        let keep_second = second_conf > first_conf;
        let retry = Retry {
            tried,
            confidence_first: first_conf,
            confidence_retry: second_conf,
            kept_retry: keep_second,
            ms: ms(t),
        };
        timings.retry_ms = retry.ms;
        let osd = osd.map(|o| Osd {
            applied: if keep_second { other != 0 } else { o.applied },
            ..o
        });
        let chosen = if keep_second { second } else { first };
        Ok(Read {
            osd,
            retry: Some(retry),
            ..chosen
        })
    }

    /// Turn the page by `turn` degrees, level its skew, binarise and
    /// recognise it.
    fn read_turned(
        &mut self,
        img: GrayImage,
        turn: u16,
        dpi: u32,
        page_no: usize,
        cfg: &OcrConfig,
        timings: &mut Timings,
    ) -> Result<Read, String> {
        let img = if turn == 0 {
            img
        } else {
            rotate_cw(&img, turn)
        };
        let t = Instant::now();
        let (img, skew) = if cfg.deskew {
            match crate::deskew::find_skew(&img, dpi) {
                Some(e) => {
                    let apply = e.confidence >= crate::deskew::MIN_CONFIDENCE
                        && e.degrees.abs() >= crate::deskew::MIN_DEGREES;
                    let img = if apply {
                        crate::deskew::rotate_level(&img, e.degrees)
                    } else {
                        img
                    };
                    (
                        img,
                        Some(Skew {
                            degrees: e.degrees,
                            confidence: e.confidence,
                            applied: apply,
                        }),
                    )
                }
                None => (img, None),
            }
        } else {
            (img, None)
        };
        timings.deskew_ms = ms(t);
        let t = Instant::now();
        let deadline = cfg
            .page_timeout
            .map(|d| d.as_millis().min(u32::MAX as u128) as u32);
        let binarisation = match cfg.thresholding {
            Thresholding::Auto => {
                let (method, ink, paper) = choose_thresholding(&img, dpi);
                Binarisation {
                    method: thresholding_name(method).into(),
                    ink: Some(ink),
                    paper: Some(paper),
                }
            }
            fixed => Binarisation {
                method: thresholding_name(fixed).into(),
                ink: None,
                paper: None,
            },
        };
        let method = match cfg.thresholding {
            Thresholding::Auto if binarisation.method == "sauvola" => Thresholding::Sauvola,
            Thresholding::Auto => Thresholding::Otsu,
            fixed => fixed,
        };
        // Too small to hold text; Tesseract is not given such images.
        let mut found = if img.width < MIN_ENGINE_SIDE || img.height < MIN_ENGINE_SIDE {
            Vec::new()
        } else {
            let engine = self.ocr_engine(cfg)?;
            engine.set_thresholding(method.code());
            let mut found = engine
                .recognize(&img, dpi, deadline)
                .map_err(|e| format!("page {page_no}: {e}"))?;
            read_empty_bands(engine, &img, dpi, &mut found);
            found
        };
        timings.ocr_ms = ms(t);
        if let Some(dicts) = &cfg.dictionaries {
            repair_words(&mut found, dicts, &cfg.languages);
        }
        let blocks = found.into_iter().map(block_from_engine).collect();
        let (blocks, columns) = crate::columns::split_merged_columns(blocks);
        let factor = (dpi / cfg.image_dpi.min(dpi).max(1)).max(1);
        Ok(Read {
            blocks,
            source: TextSource::Ocr,
            rotation: turn,
            osd: None,
            skew,
            binarisation: Some(binarisation),
            retry: None,
            columns,
            languages: Some(cfg.languages.clone()),
            image: downscale(&img, factor),
            image_dpi: dpi / factor,
        })
    }

    /// OSD's answer for the page; orientation needs far less detail than
    /// recognition, so it looks at a copy near 150 dpi.
    fn orientation(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        cfg: &OcrConfig,
    ) -> Option<crate::tess::Orientation> {
        let factor = (dpi / 150).max(1);
        let small = downscale(img, factor);
        if small.width < MIN_ENGINE_SIDE || small.height < MIN_ENGINE_SIDE {
            return None;
        }
        self.osd_engine(cfg)
            .and_then(|e| e.detect_orientation(&small, dpi / factor))
    }
}

/// The largest share of the page height, top and bottom, looked at again.
const BAND: f32 = 0.15;

/// Page numbers (and running heads) that the page's layout analysis
/// dropped: Tesseract treats a lone small number in a wide margin as
/// noise. The strip above the first word read (and below the last), within
/// the page's outer bands, is read again on its own as one block when it
/// has ink; words read there with confidence are kept.
fn read_empty_bands(
    engine: &mut crate::tess::Tesseract,
    img: &GrayImage,
    dpi: u32,
    found: &mut Vec<crate::tess::OcrBlock>,
) {
    let h = img.height as i32;
    let band = ((h as f32) * BAND) as i32;
    let words = || found.iter().flat_map(|b| &b.lines).flat_map(|l| &l.words);
    let (Some(top), Some(bottom)) = (
        words().map(|w| w.bbox[1]).min(),
        words().map(|w| w.bbox[3]).max(),
    ) else {
        return;
    };
    // A little clear of the words read, so none is read twice.
    let gap = (dpi as i32) / 20;
    let strips = [
        (0, (top - gap).min(band), true),
        ((bottom + gap).max(h - band), h, false),
    ];
    for (y0, y1, at_top) in strips {
        if y1 - y0 < MIN_ENGINE_SIDE as i32 || !has_ink(img, y0 as usize, y1 as usize) {
            continue;
        }
        let mut strip = crop_rows(img, y0 as usize, y1 as usize);
        // Specks in an empty margin make Tesseract drop a lone `1` with
        // them (measured on the structure corpus's scan: its page 3's
        // number read only once the specks were gone).
        let speck = (30.0 * (dpi as f32 / 300.0).powi(2)).max(4.0) as usize;
        despeckle(&mut strip, speck);
        let Ok(mut blocks) = engine.recognize_block(&strip, dpi, Some(5_000)) else {
            continue;
        };
        // Read as a block, a lone number next to specks can come out empty;
        // read as sparse text it does not.
        let words = |b: &[crate::tess::OcrBlock]| {
            b.iter()
                .flat_map(|b| &b.lines)
                .map(|l| l.words.len())
                .sum::<usize>()
        };
        if words(&blocks) == 0
            && let Ok(sparse) = engine.recognize_sparse(&strip, dpi, Some(5_000))
        {
            blocks = sparse;
        }
        tracing::trace!(
            "page strip {y0}..{y1} read again: {:?}",
            blocks
                .iter()
                .flat_map(|b| &b.lines)
                .flat_map(|l| &l.words)
                .map(|w| (&w.text, w.confidence))
                .collect::<Vec<_>>()
        );
        for mut b in blocks {
            for l in &mut b.lines {
                // Page numbers are read with less confidence than words
                // (one or two glyphs): a short number is kept from 20.
                l.words.retain(|w| {
                    let number = w.text.len() <= 4
                        && w.text
                            .chars()
                            .all(|c| c.is_ascii_digit() || "ivxlcIVXLC".contains(c));
                    let bar = if number { 20.0 } else { 85.0 };
                    w.confidence >= bar && w.text.chars().any(char::is_alphanumeric)
                });
            }
            b.lines.retain(|l| !l.words.is_empty());
            if b.lines.is_empty() {
                continue;
            }
            let shift = |bb: &mut [i32; 4]| {
                bb[1] += y0;
                bb[3] += y0;
            };
            shift(&mut b.bbox);
            for l in &mut b.lines {
                shift(&mut l.bbox);
                for w in &mut l.words {
                    shift(&mut w.bbox);
                }
            }
            if at_top {
                found.insert(0, b);
            } else {
                found.push(b);
            }
        }
    }
}

/// White out the dark specks of an image: 4-connected components of
/// pixels darker than 160 smaller than `max_area` pixels.
fn despeckle(img: &mut GrayImage, max_area: usize) {
    let (w, h) = (img.width as usize, img.height as usize);
    let dark = |img: &GrayImage, x: usize, y: usize| img.data[y * img.stride + x] < 160;
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut comp = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if seen[y * w + x] || !dark(img, x, y) {
                continue;
            }
            comp.clear();
            stack.push((x, y));
            seen[y * w + x] = true;
            while let Some((a, b)) = stack.pop() {
                comp.push((a, b));
                let mut visit = |c: usize, d: usize| {
                    if !seen[d * w + c] && dark(img, c, d) {
                        seen[d * w + c] = true;
                        stack.push((c, d));
                    }
                };
                if a + 1 < w {
                    visit(a + 1, b);
                }
                if a > 0 {
                    visit(a - 1, b);
                }
                if b + 1 < h {
                    visit(a, b + 1);
                }
                if b > 0 {
                    visit(a, b - 1);
                }
            }
            if comp.len() < max_area {
                for &(a, b) in &comp {
                    img.data[b * img.stride + a] = 255;
                }
            }
        }
    }
}

/// Whether rows `y0..y1` of the image hold some ink: on a sample of every
/// other row and column, a dozen dark pixels (a lone `1` at 200 dpi has
/// about 30; a speck one or two).
fn has_ink(img: &GrayImage, y0: usize, y1: usize) -> bool {
    let mut dark = 0usize;
    for y in (y0..y1).step_by(2) {
        let row = &img.data[y * img.stride..y * img.stride + img.width as usize];
        dark += row.iter().step_by(2).filter(|&&v| v < 100).count();
        if dark >= 12 {
            return true;
        }
    }
    false
}

/// Rows `y0..y1` of the image as an image of their own.
fn crop_rows(img: &GrayImage, y0: usize, y1: usize) -> GrayImage {
    let w = img.width as usize;
    let mut data = Vec::with_capacity(w * (y1 - y0));
    for y in y0..y1 {
        data.extend_from_slice(&img.data[y * img.stride..y * img.stride + w]);
    }
    GrayImage {
        width: img.width,
        height: (y1 - y0) as u32,
        stride: w,
        data,
    }
}

/// Whether a page image has only black and white (a bilevel scan), on a
/// sample of its rows.
fn is_bilevel(img: &GrayImage) -> bool {
    let step = (img.height as usize / 200).max(1);
    (0..img.height as usize).step_by(step).all(|y| {
        img.data[y * img.stride..y * img.stride + img.width as usize]
            .iter()
            .all(|&v| v == 0 || v == 255)
    })
}

/// What a low-confidence page is read again with.
#[derive(Debug, Clone, Copy)]
enum RetryWith {
    /// The other orientation candidate (degrees clockwise).
    Turn(u16),
    Binarisation(Thresholding),
}

/// What reading a page produced, before it is written.
struct Read {
    blocks: Vec<Block>,
    source: TextSource,
    rotation: u16,
    osd: Option<Osd>,
    skew: Option<Skew>,
    binarisation: Option<Binarisation>,
    retry: Option<Retry>,
    columns: Option<ColumnSplit>,
    /// The languages Tesseract read the page with (none for a text layer).
    languages: Option<String>,
    image: GrayImage,
    image_dpi: u32,
}

/// The page's size as the PDF gives it, and the resolution it was read at.
#[derive(Clone, Copy)]
struct PageSize {
    width_pt: f32,
    height_pt: f32,
    dpi: u32,
}

/// The page's own resolution: the configured one unless that would make an
/// image too large for the engines (a poster, a map, a huge `dpi`); boxes
/// and images then use this one.
fn page_dpi(
    page: &crate::render::PdfPage,
    task: &DocTask,
    page_no: usize,
    cfg: &OcrConfig,
) -> Result<u32, String> {
    let dpi = capped_dpi(page.width_pt, page.height_pt, cfg.dpi, cfg.max_megapixels).ok_or_else(
        || {
            format!(
                "page {page_no}: unusable page size {} x {} pt",
                page.width_pt, page.height_pt
            )
        },
    )?;
    if dpi != cfg.dpi {
        tracing::info!(
            "{} page {page_no}: {:.0} x {:.0} pt is over {} megapixels at {} dpi; rendered at {dpi} dpi",
            task.citekey,
            page.width_pt,
            page.height_pt,
            cfg.max_megapixels,
            cfg.dpi
        );
    }
    Ok(dpi)
}

fn osd_record(o: &crate::tess::Orientation, applied: bool) -> Osd {
    Osd {
        rotate: o.rotate_cw,
        confidence: o.confidence,
        applied,
        script: (!o.script.is_empty()).then(|| o.script.clone()),
        script_confidence: (!o.script.is_empty()).then_some(o.script_confidence),
    }
}

/// Words Tesseract read with an `i` twice (see
/// [`crate::lexicon::doubled_i`]), mended with the dictionaries of the
/// page's languages.
fn repair_words(
    blocks: &mut [crate::tess::OcrBlock],
    dicts: &crate::lexicon::Dictionaries,
    languages: &str,
) {
    let words = blocks
        .iter_mut()
        .flat_map(|b| &mut b.lines)
        .flat_map(|l| &mut l.words);
    for w in words {
        if let Some(fixed) = crate::lexicon::doubled_i(&w.text, |s| dicts.knows(languages, s)) {
            w.text = fixed;
        }
    }
}

/// OSD's script confidence from which a page it finds set in Fraktur is
/// read with a Fraktur model. recto's OSD (at 150 dpi) scores the 1784
/// Fraktur pages of the corpus 3.3 and 11.3; on the corpus's 166 other
/// scanned pages (bench files and structure books, all Latin script) it
/// named no page Fraktur, and the scripts it wrongly named there scored
/// up to 1.67 (`Thai` for a handwritten note; `Cyrillic`, `Greek`,
/// `Japanese` at 0-0.87).
const FRAKTUR_MIN_CONFIDENCE: f32 = 2.0;

/// Models that read Fraktur, best first: Tesseract's Fraktur script model
/// (Debian's tesseract-ocr-script-frak) and the German Fraktur one (frk).
const FRAKTUR_MODELS: [&str; 2] = ["Fraktur", "frk"];

/// The languages to read a page with when OSD found it set in Fraktur and
/// `languages` has no Fraktur model: the first one installed, ahead of the
/// run's languages (`Fraktur+deu`). On the 1784 page pair, word F1 0.48
/// with `deu`, 0.65 with `Fraktur+deu` (docs/benchmarks.md).
pub fn fraktur_languages(
    script: &str,
    confidence: f32,
    languages: &str,
    installed: &[String],
) -> Option<String> {
    if script != "Fraktur" || confidence < FRAKTUR_MIN_CONFIDENCE {
        return None;
    }
    let given = languages
        .split('+')
        .any(|l| FRAKTUR_MODELS.contains(&l) || l == "deu_latf" || l.ends_with("/Fraktur"));
    if given {
        return None;
    }
    let model = FRAKTUR_MODELS
        .iter()
        .find(|m| installed.iter().any(|i| i == *m))?;
    Some(format!("{model}+{languages}"))
}

fn block_from_engine(b: crate::tess::OcrBlock) -> Block {
    Block {
        bbox: b.bbox,
        lines: b
            .lines
            .into_iter()
            .map(|l| {
                Line::new(
                    l.bbox,
                    l.words
                        .into_iter()
                        .map(|w| Word {
                            text: w.text,
                            bbox: w.bbox,
                            confidence: Some((w.confidence * 100.0).round() / 100.0),
                        })
                        .collect(),
                )
            })
            .collect(),
    }
}

/// Write the page image, then its JSON (its presence means "complete").
#[allow(clippy::too_many_arguments)]
fn write_page(
    task: &DocTask,
    page_no: usize,
    page_count: usize,
    size: PageSize,
    read: Read,
    verdict: crate::heuristic::TextLayerVerdict,
    cfg: &OcrConfig,
    timings: Timings,
    start: Instant,
) -> Result<PageSummary, String> {
    let mut timings = timings;
    let t = Instant::now();
    let jpeg = to_jpeg(&read.image, cfg.jpeg_quality)
        .map_err(|e| format!("page {page_no}: image: {e}"))?;
    let image_name = page_image_name(page_no);
    write_atomic(&task.out_dir.join(&image_name), &jpeg)?;
    timings.image_ms = ms(t);

    let turned = read.rotation == 90 || read.rotation == 270;
    let (width_pt, height_pt) = if turned {
        (size.height_pt, size.width_pt)
    } else {
        (size.width_pt, size.height_pt)
    };
    let dpi = size.dpi;
    let s = dpi as f32 / 72.0;
    let text = blocks_text(&read.blocks);
    let json = PageJson {
        schema_version: PAGE_SCHEMA_VERSION,
        citekey: task.citekey.clone(),
        page: page_no,
        page_count,
        source: read.source,
        width_pt: round2(width_pt),
        height_pt: round2(height_pt),
        width_px: (width_pt * s).round() as u32,
        height_px: (height_pt * s).round() as u32,
        dpi,
        requested_dpi: (dpi != cfg.dpi).then_some(cfg.dpi),
        rotation: read.rotation,
        mean_confidence: mean_confidence(&read.blocks),
        text,
        blocks: read.blocks,
        image: Some(PageImage {
            file: image_name,
            format: "jpeg".into(),
            width: read.image.width,
            height: read.image.height,
            dpi: read.image_dpi,
        }),
        text_layer: verdict,
        osd: read.osd,
        skew: read.skew,
        binarisation: read.binarisation,
        retry: read.retry.clone(),
        columns: read.columns,
        languages: cfg.languages.clone(),
        languages_used: read.languages.clone().filter(|l| *l != cfg.languages),
        engine: match read.source {
            TextSource::Ocr => format!("tesseract {}", crate::tess::version()),
            TextSource::TextLayer | TextSource::NoText => format!("mupdf {MUPDF_VERSION}"),
        },
        timings: Timings {
            total_ms: ms(start),
            ..timings
        },
    };
    let bytes = serde_json::to_vec_pretty(&json).expect("page JSON serialises");
    let json_path = task.out_dir.join(page_json_name(page_no));
    write_atomic(&json_path, &bytes)?;
    Ok(PageSummary {
        source: read.source,
        chars: json.text.chars().filter(|c| !c.is_whitespace()).count(),
        mean_confidence: json.mean_confidence,
        rotation: read.rotation,
        resumed: false,
        seconds: start.elapsed().as_secs_f64(),
        retried: read.retry.is_some(),
        retry_seconds: read.retry.as_ref().map_or(0.0, |r| r.ms / 1000.0),
    })
}

/// A page finished by an earlier run with the same settings: its JSON
/// parses, names this page and resolution, and its image is there.
fn resumable(json_path: &Path, dir: &Path, page: usize, cfg: &OcrConfig) -> Option<PageSummary> {
    let json = finished_page(json_path, dir, page, cfg)?;
    tracing::debug!("page {page}: complete from an earlier run, kept");
    Some(summary_of(&json, true))
}

/// Page `page`'s JSON when a run with `cfg`'s resolution and languages left
/// it complete (its image too).
fn finished_page(json_path: &Path, dir: &Path, page: usize, cfg: &OcrConfig) -> Option<PageJson> {
    let bytes = std::fs::read(json_path).ok()?;
    let json: PageJson = serde_json::from_slice(&bytes).ok()?;
    let requested = json.requested_dpi.unwrap_or(json.dpi);
    if json.page != page || requested != cfg.dpi || json.languages != cfg.languages {
        return None;
    }
    if let Some(img) = &json.image
        && !dir.join(&img.file).is_file()
    {
        return None;
    }
    Some(json)
}

/// A finished page's summary; a resumed one does not count its second
/// reading again.
fn summary_of(json: &PageJson, resumed: bool) -> PageSummary {
    PageSummary {
        source: json.source,
        chars: json.text.chars().filter(|c| !c.is_whitespace()).count(),
        mean_confidence: json.mean_confidence,
        rotation: json.rotation,
        resumed,
        seconds: 0.0,
        retried: !resumed && json.retry.is_some(),
        retry_seconds: if resumed {
            0.0
        } else {
            json.timings.retry_ms / 1000.0
        },
    }
}

/// The run's settings for `task`: a document with languages of its own
/// reads with those.
fn task_config<'a>(task: &DocTask, cfg: &'a OcrConfig) -> std::borrow::Cow<'a, OcrConfig> {
    match &task.languages {
        Some(l) if *l != cfg.languages => std::borrow::Cow::Owned(OcrConfig {
            languages: l.clone(),
            ..cfg.clone()
        }),
        _ => std::borrow::Cow::Borrowed(cfg),
    }
}

/// The pages of `task` to process: its slices, within the document.
fn page_range(task: &DocTask, page_count: usize) -> Vec<usize> {
    match &task.pages {
        Some(runs) => {
            let mut pages: Vec<usize> = runs
                .iter()
                .flat_map(|(first, last)| (*first).max(1)..=(*last).min(page_count))
                .collect();
            pages.sort_unstable();
            pages.dedup();
            pages
        }
        None => (1..=page_count).collect(),
    }
}

/// Page `page` of `task` as a finished run left it on disk (its JSON and
/// image complete, made with `cfg`'s resolution and the task's
/// languages), or `None`: what the merge of a sharded job reads, the files
/// being the truth of what was done. Unlike a resumed page, its second
/// reading (if any) is counted.
pub fn completed_page(task: &DocTask, page: usize, cfg: &OcrConfig) -> Option<PageSummary> {
    let cfg = task_config(task, cfg);
    let path = task.out_dir.join(page_json_name(page));
    finished_page(&path, &task.out_dir, page, &cfg).map(|json| summary_of(&json, false))
}

/// `fulltext.txt`: every page's text, pages separated by form feeds (a
/// failed page contributes an empty page, so page N is always the Nth).
pub fn write_fulltext(task: &DocTask, pages: usize) -> Result<PathBuf, String> {
    let mut out = String::new();
    for p in 1..=pages {
        if p > 1 {
            out.push('\u{c}');
        }
        if let Ok(bytes) = std::fs::read(task.out_dir.join(page_json_name(p)))
            && let Ok(json) = serde_json::from_slice::<PageJson>(&bytes)
        {
            out.push_str(&json.text);
        }
    }
    let path = task.out_dir.join("fulltext.txt");
    write_atomic(&path, out.as_bytes())?;
    Ok(path)
}

/// Write via a temp file and rename (recto's one atomic writer), so a
/// killed process never leaves a half-written page; not fsynced per page:
/// the OCR step syncs the filesystem once before it records the job.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    recto_fs::write_atomic(path, bytes, recto_fs::Durability::Renamed).map_err(|e| e.to_string())
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_set_in_fraktur_get_a_fraktur_model() {
        let installed: Vec<String> = ["deu", "eng", "frk", "Fraktur", "osd"]
            .map(String::from)
            .to_vec();
        let got = |script, conf, langs: &str| fraktur_languages(script, conf, langs, &installed);
        assert_eq!(got("Fraktur", 3.3, "deu").as_deref(), Some("Fraktur+deu"));
        assert_eq!(
            got("Fraktur", 2.0, "deu+lat").as_deref(),
            Some("Fraktur+deu+lat")
        );
        // Not sure enough, another script, or a Fraktur model given.
        assert_eq!(got("Fraktur", 1.7, "deu"), None);
        assert_eq!(got("Latin", 9.0, "deu"), None);
        assert_eq!(got("Fraktur", 5.0, "deu+frk"), None);
        assert_eq!(got("Fraktur", 5.0, "deu_latf"), None);
        // The script model missing: the German Fraktur one; neither: none.
        let frk_only: Vec<String> = ["deu", "frk"].map(String::from).to_vec();
        assert_eq!(
            fraktur_languages("Fraktur", 5.0, "deu", &frk_only).as_deref(),
            Some("frk+deu")
        );
        assert_eq!(
            fraktur_languages("Fraktur", 5.0, "deu", &installed[..2]),
            None
        );
    }

    fn page(ink: u8, paper: u8) -> GrayImage {
        let (w, h) = (300usize, 400usize);
        let data = (0..w * h)
            .map(|i| {
                if (i / w) % 20 < 4 && (i % w) % 9 < 6 {
                    ink
                } else {
                    paper
                }
            })
            .collect();
        GrayImage {
            width: w as u32,
            height: h as u32,
            stride: w,
            data,
        }
    }

    #[test]
    fn faint_ink_on_white_paper_gets_sauvola() {
        let (m, ink, paper) = choose_thresholding(&page(125, 250), 100);
        assert_eq!(m, Thresholding::Sauvola, "{ink} {paper}");
        assert!((ink - 125.0).abs() < 1.0 && (paper - 250.0).abs() < 1.0);
        // Dark print, or grey paper (a photographed page): Otsu.
        assert_eq!(
            choose_thresholding(&page(30, 250), 100).0,
            Thresholding::Otsu
        );
        assert_eq!(
            choose_thresholding(&page(125, 210), 100).0,
            Thresholding::Otsu
        );
    }
}
