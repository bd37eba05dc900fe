//! The page JSON (`page_NNNN.json`): what recto knows about one page.
//!
//! This crate has no native dependencies, so that steps which only read
//! pages (table of contents, segmentation, search, export) need neither
//! MuPDF nor Tesseract to build and test.
//!
//! Boxes are `[x0, y0, x1, y1]` in pixels of the upright page at `dpi`
//! (after any rotation recto applied; `rotation` says how many degrees it
//! turned the page clockwise to read it). The page image is stored beside
//! the JSON at `image.dpi`, in the same upright orientation.

use serde::{Deserialize, Serialize};

pub mod roman;

/// Version of the page JSON format.
pub const PAGE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub bbox: [i32; 4],
    /// 0-100, for OCR words; absent for text-layer words.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub bbox: [i32; 4],
    pub text: String,
    pub words: Vec<Word>,
}

impl Line {
    pub fn new(bbox: [i32; 4], words: Vec<Word>) -> Self {
        let text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Line { bbox, text, words }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub bbox: [i32; 4],
    pub lines: Vec<Line>,
}

/// Where the page's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    TextLayer,
    Ocr,
    /// `text-layer-only` on a page that has no text layer: recorded as
    /// such (and counted), not passed off as an empty text page.
    NoText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageImage {
    /// File name, beside the JSON.
    pub file: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Osd {
    /// Degrees the page was turned clockwise.
    pub rotate: u16,
    pub confidence: f32,
    /// Whether the rotation was applied (confidence above the threshold).
    pub applied: bool,
    /// The script OSD found (`Latin`, `Fraktur`, ...) and its confidence.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub script_confidence: Option<f32>,
}

/// A second reading of a low-confidence page, and which was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// What the second reading changed (`rotation 90`).
    pub tried: String,
    pub confidence_first: f32,
    pub confidence_retry: f32,
    pub kept_retry: bool,
    pub ms: f64,
}

/// How an OCRed page was binarised: the method, and under `auto` the
/// page's ink and paper tones (0-255) that chose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binarisation {
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ink: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paper: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skew {
    /// Degrees the text lines descended to the right (negative: rose).
    pub degrees: f32,
    pub confidence: f32,
    pub applied: bool,
}

/// Columns Tesseract read across, cut at their gutter by recto: the
/// gutter's x (page pixels) and how many lines were cut there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSplit {
    pub gutter_x: i32,
    pub lines_cut: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub text_layer_ms: f64,
    pub render_ms: f64,
    pub osd_ms: f64,
    #[serde(default)]
    pub deskew_ms: f64,
    #[serde(default)]
    pub retry_ms: f64,
    pub ocr_ms: f64,
    pub image_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageJson {
    pub schema_version: u32,
    pub citekey: String,
    /// 1-based.
    pub page: usize,
    pub page_count: usize,
    pub source: TextSource,
    pub width_pt: f32,
    pub height_pt: f32,
    pub width_px: u32,
    pub height_px: u32,
    /// The resolution of every box on this page, as used: the configured
    /// one, a scan's own higher one, or less for a page too large for it
    /// (see `requested_dpi`).
    pub dpi: u32,
    /// The configured resolution, when the page was read at another one:
    /// a scan's own higher resolution, or a lower one under the megapixel
    /// limit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub requested_dpi: Option<u32>,
    /// Degrees recto turned the page clockwise to read it (0, 90, 180, 270),
    /// on top of the PDF's own /Rotate, which MuPDF already applies.
    pub rotation: u16,
    /// The page text in reading order: words joined by spaces, lines by
    /// newlines, blocks by blank lines.
    pub text: String,
    /// Mean word confidence (OCR pages), else `null`.
    pub mean_confidence: Option<f32>,
    pub blocks: Vec<Block>,
    pub image: Option<PageImage>,
    pub text_layer: TextLayerVerdict,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub osd: Option<Osd>,
    /// The small-angle skew found on an OCRed page (and whether it was
    /// rotated away before recognition; boxes are then in the coordinates
    /// of the levelled page, which is the image written beside the JSON).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skew: Option<Skew>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub binarisation: Option<Binarisation>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry: Option<Retry>,
    /// Present when lines read across two columns were cut and the
    /// columns put in reading order (OCR pages only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub columns: Option<ColumnSplit>,
    /// The run's languages (`--lang`, the citekey's own).
    pub languages: String,
    /// The languages the page was read with when not `languages`: a
    /// Fraktur model added for a page OSD found set in Fraktur.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub languages_used: Option<String>,
    pub engine: String,
    pub timings: Timings,
}

/// The verdict on one page's text layer, recorded in the page JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TextLayerVerdict {
    /// Visible (non-whitespace) characters.
    pub chars: usize,
    pub garbage: usize,
    pub alnum_ratio: f64,
    pub usable: bool,
    pub reason: String,
}

/// Text of blocks in reading order.
pub fn blocks_text(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|b| {
            b.lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Mean confidence over all words that have one.
pub fn mean_confidence(blocks: &[Block]) -> Option<f32> {
    let confs: Vec<f32> = blocks
        .iter()
        .flat_map(|b| &b.lines)
        .flat_map(|l| &l.words)
        .filter_map(|w| w.confidence)
        .collect();
    if confs.is_empty() {
        None
    } else {
        Some(((confs.iter().sum::<f32>() / confs.len() as f32) * 100.0).round() / 100.0)
    }
}

/// `page_0001.json` for page 1.
pub fn page_json_name(page: usize) -> String {
    format!("page_{page:04}.json")
}

pub fn page_image_name(page: usize) -> String {
    format!("page_{page:04}.jpg")
}
