//! What shapes a run's output: which pages get OCR, languages, resolutions,
//! thresholding, retries; the size limits of rendered pages.

use std::time::Duration;

use serde::Serialize;

use crate::tess::GrayImage;

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
    /// (see [`recto_lexicon::doubled_i`]); loaded when first asked.
    pub dictionaries: Option<std::sync::Arc<recto_lexicon::Dictionaries>>,
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

pub(super) fn thresholding_name(t: Thresholding) -> &'static str {
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
            dictionaries: Some(std::sync::Arc::new(recto_lexicon::Dictionaries::new(
                &recto_lexicon::default_dir(),
            ))),
            thresholding: Thresholding::default(),
            retry_low_confidence: true,
            retry_below: RETRY_BELOW,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
