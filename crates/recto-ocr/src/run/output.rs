//! A page's JSON and image written to disk, found there again on resume,
//! and each document's full text.

use crate::OcrError;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::config::{OcrConfig, Thresholding};
use super::task::{DocTask, PageSummary, task_config};
use crate::image::to_jpeg;
use crate::page::{
    Binarisation, Block, ColumnSplit, Osd, PAGE_SCHEMA_VERSION, PageImage, PageJson, Retry, Skew,
    TextSource, Timings, blocks_text, mean_confidence, page_image_name, page_json_name,
};
use crate::render::MUPDF_VERSION;
use crate::tess::GrayImage;

/// Write the page image, then its JSON (its presence means "complete").
#[allow(clippy::too_many_arguments)]
pub(super) fn write_page(
    task: &DocTask,
    page_no: usize,
    page_count: usize,
    size: PageSize,
    read: Read,
    verdict: crate::heuristic::TextLayerVerdict,
    cfg: &OcrConfig,
    timings: Timings,
    start: Instant,
) -> Result<PageSummary, OcrError> {
    let mut timings = timings;
    let t = Instant::now();
    let jpeg = to_jpeg(&read.image, cfg.jpeg_quality).map_err(|e| OcrError::Page {
        page: page_no,
        reason: format!("image: {e}"),
    })?;
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
pub(super) fn resumable(
    json_path: &Path,
    dir: &Path,
    page: usize,
    cfg: &OcrConfig,
) -> Option<PageSummary> {
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
pub fn write_fulltext(task: &DocTask, pages: usize) -> Result<PathBuf, OcrError> {
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
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OcrError> {
    Ok(recto_fs::write_atomic(
        path,
        bytes,
        recto_fs::Durability::Renamed,
    )?)
}

pub(super) fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// What a low-confidence page is read again with.
#[derive(Debug, Clone, Copy)]
pub(super) enum RetryWith {
    /// The other orientation candidate (degrees clockwise).
    Turn(u16),
    Binarisation(Thresholding),
}

/// What reading a page produced, before it is written.
pub(super) struct Read {
    pub(super) blocks: Vec<Block>,
    pub(super) source: TextSource,
    pub(super) rotation: u16,
    pub(super) osd: Option<Osd>,
    pub(super) skew: Option<Skew>,
    pub(super) binarisation: Option<Binarisation>,
    pub(super) retry: Option<Retry>,
    pub(super) columns: Option<ColumnSplit>,
    /// The languages Tesseract read the page with (none for a text layer).
    pub(super) languages: Option<String>,
    pub(super) image: GrayImage,
    pub(super) image_dpi: u32,
}

/// The page's size as the PDF gives it, and the resolution it was read at.
#[derive(Clone, Copy)]
pub(super) struct PageSize {
    pub(super) width_pt: f32,
    pub(super) height_pt: f32,
    pub(super) dpi: u32,
}
