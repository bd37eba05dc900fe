//! The searchable PDF: the source PDF with an invisible text layer (text
//! render mode 3) laid word by word over the pages recto OCRed, written
//! through MuPDF. Pages that kept their own text layer are not touched,
//! page images are never re-encoded: when MuPDF can, the copy is the source
//! byte for byte plus an incremental update holding only the new objects.
//!
//! Geometry: a word's box is in the pixels of the page as recto read it,
//! that is MuPDF's rendering of the page (its /Rotate and crop box
//! applied) at `dpi`, turned by `rotation` and levelled by `skew`. One
//! matrix per page undoes those steps and MuPDF's page transform, so the
//! words land on the ink whatever the page's rotation, skew or crop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mupdf::pdf::{PdfDocument, PdfObject, PdfWriteOptions};
use mupdf::{Buffer, Matrix};
use recto_page::{PageJson, TextSource};

use crate::OcrError;

/// Tesseract's GlyphLessFont: every glyph empty (see assets/README.md).
const GLYPHLESS_TTF: &[u8] = include_bytes!("../assets/glyphless.ttf");

/// The font's advance width, in thousandths of the font size; each word is
/// stretched to its box by horizontal scaling.
const CHAR_WIDTH: f64 = 500.0;

/// Ascent of the font that sizes a block's lines (thousandths): the font's
/// box runs from the top of a line's tallest letters to a fifth of the
/// size below its baseline, so that text extractors (Poppler, MuPDF) put
/// each word in its line and highlights cover the line's ink.
const ASCENT: f64 = 800.0;

/// Font variants step their ascent and descent by this share of the size
/// (a box edge within 0.025 sizes of where it should be: 0.3 pt at 12 pt).
const METRIC_STEP: f64 = 0.05;

/// A font variant's ascent and descent in [`METRIC_STEP`]s.
type Metrics = (u16, u16);

/// The usual font: ascent 0.8, descent 0.2 of the size.
const USUAL: Metrics = (16, 4);

/// How far (points) the usual font's box may reach past a line's ink, or
/// stop short of it, before the line gets a font variant whose Ascent and
/// Descent fit its ink. Poppler and MuPDF take a word's box across the
/// text from the font descriptor, so that box is what a search highlights;
/// a typewriter's uneven baselines or a line of small letters put it more
/// than 2 pt off the ink. Boxes are changed no more than that, since
/// Poppler's reading order is built from them.
const BOX_SLACK_PT: f64 = 1.5;

/// A bookmark to add: 1-based level, title, 0-based page.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    pub level: usize,
    pub title: String,
    pub page: usize,
}

/// How to write the copy.
#[derive(Debug, Clone, Default)]
pub struct SearchableOptions {
    /// The password of an encrypted source.
    pub password: Option<String>,
    /// Write an encrypted source's copy without encryption; without it an
    /// encrypted source is refused (recto does not re-encrypt).
    pub decrypt: bool,
    /// Added as the outline when the source has none.
    pub bookmarks: Vec<Bookmark>,
    /// Show the pages recto turned to read them (sideways or upside-down
    /// scans) upright, by adding recto's turn to the page's /Rotate.
    pub rotate_pages: bool,
    /// Show the pages recto levelled to read them (a scan a degree or two
    /// askew) level: the page's own content is drawn turned by the skew
    /// (its images are not touched, let alone re-encoded) and the text
    /// layer is written level on it, line by line.
    pub deskew_pages: bool,
}

/// What the copy holds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchableReport {
    /// Pages that got a text layer.
    pub pages_with_layer: usize,
    pub words: usize,
    /// True when the copy is the source plus an incremental update.
    pub incremental: bool,
    /// Bookmarks added (0 when the source had an outline of its own).
    pub bookmarks_added: usize,
    /// Pages now shown upright (their /Rotate changed by recto's turn).
    #[serde(default)]
    pub pages_turned: usize,
    /// Pages now shown level (their content drawn turned by the skew).
    #[serde(default)]
    pub pages_levelled: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Write `source` with a text layer on its OCRed `pages` to `target` (a
/// temporary path: the caller renames it into place). `pages[i]` is page
/// `i + 1`'s JSON, `None` for a page without a result.
pub fn write_searchable(
    source: &Path,
    target: &Path,
    pages: &[Option<PageJson>],
    opts: &SearchableOptions,
) -> Result<SearchableReport, OcrError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OcrError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let src = utf8(source)?;
    let mut doc = PdfDocument::open(src).map_err(|e| OcrError::Open {
        path: source.to_owned(),
        reason: crate::render::mupdf_reason(&e),
    })?;
    let encrypted = doc.needs_password().map_err(|e| fail(source, &e))?;
    if encrypted {
        let Some(pw) = opts.password.as_deref() else {
            return Err(OcrError::Encrypted {
                path: source.to_owned(),
            });
        };
        if !doc.authenticate(pw).map_err(|e| fail(source, &e))? {
            return Err(OcrError::WrongPassword {
                path: source.to_owned(),
            });
        }
        if !opts.decrypt {
            return Err(OcrError::EncryptedCopy {
                path: source.to_owned(),
            });
        }
    }
    let count = doc.page_count().map_err(|e| fail(source, &e))? as usize;
    if count != pages.len() {
        return Err(OcrError::Write {
            path: source.to_owned(),
            reason: format!("the PDF has {count} pages, its OCR result {}", pages.len()),
        });
    }
    let mut report = SearchableReport::default();
    // A repaired (damaged) source cannot take an incremental update: its
    // copy is written whole, streams still copied as they are.
    let incremental = !encrypted && doc.can_be_saved_incrementally();
    if incremental {
        drop(doc);
        std::fs::copy(source, target).map_err(|e| OcrError::Io {
            path: target.to_owned(),
            source: e,
        })?;
        doc = PdfDocument::open(utf8(target)?).map_err(|e| fail(target, &e))?;
    } else if !encrypted {
        report.warnings.push(
            "the source is damaged and was repaired by MuPDF; the copy is written whole".into(),
        );
    }
    report.incremental = incremental;

    let mut fonts: Option<Fonts> = None;
    // The fonts the layer has used so far, which later lines reuse where
    // one fits.
    let mut known = BTreeSet::new();
    for (i, page) in pages.iter().enumerate() {
        let Some(page) = page else { continue };
        if page.source != TextSource::Ocr {
            continue;
        }
        let words = page
            .blocks
            .iter()
            .flat_map(|b| &b.lines)
            .flat_map(|l| &l.words)
            .filter(|w| !w.text.trim().is_empty())
            .count();
        if words == 0 {
            continue;
        }
        let m = page_matrix(&doc, i, page)
            .map_err(|e| fail(source, &format!("page {}: {e}", i + 1)))?;
        let lv = unlevel(page);
        // The turned (unlevelled) image's pixels -> user space: where the
        // page's own content puts them.
        let t = lv.invert().map_or(m, |inv| inv.then(m));
        let level = opts.deskew_pages && lv != Affine::IDENTITY;
        let (stream, shown) = if level {
            // The content drawn so that each point of the scan lands where
            // its levelled pixel maps: T^-1, the levelling, T.
            let shown = t
                .invert()
                .zip(lv.invert())
                .map(|(ti, li)| ti.then(li).then(t));
            (layer_stream(page, t, Affine::IDENTITY, &mut known), shown)
        } else {
            (layer_stream(page, t, lv, &mut known), None)
        };
        if fonts.is_none() {
            fonts = Some(Fonts::new(&mut doc).map_err(|e| fail(source, &e))?);
        }
        let ((stream, metrics), shown) = (stream, shown);
        let family = fonts.as_mut().expect("just made");
        let used = metrics
            .into_iter()
            .map(|m| Ok((font_name(m), family.variant(&mut doc, m)?)))
            .collect::<Result<Vec<_>, mupdf::Error>>()
            .map_err(|e| fail(source, &e))?;
        add_layer(&mut doc, i, &stream, &used, shown)
            .map_err(|e| fail(source, &format!("page {}: {e}", i + 1)))?;
        report.pages_levelled += usize::from(shown.is_some());
        if opts.rotate_pages && page.rotation % 360 != 0 {
            turn_page(&doc, i, page.rotation)
                .map_err(|e| fail(source, &format!("page {}: {e}", i + 1)))?;
            report.pages_turned += 1;
        }
        report.pages_with_layer += 1;
        report.words += words;
    }

    let has_outline = !doc.outlines().map_err(|e| fail(source, &e))?.is_empty();
    if !has_outline && !opts.bookmarks.is_empty() {
        report.bookmarks_added =
            add_outline(&mut doc, &opts.bookmarks, count).map_err(|e| fail(source, &e))?;
    }

    let mut wo = PdfWriteOptions::default();
    if incremental {
        wo.set_incremental(true);
    } else {
        wo.set_encryption(mupdf::pdf::Encryption::None);
    }
    doc.save_with_options(utf8(target)?, wo)
        .map_err(|e| fail(target, &e))?;
    Ok(report)
}

fn utf8(path: &Path) -> Result<&str, OcrError> {
    path.to_str().ok_or_else(|| OcrError::Open {
        path: path.to_owned(),
        reason: "the path is not UTF-8".into(),
    })
}

/// An affine map in PDF's convention: `(x, y) -> (a x + c y + e, b x + d y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    pub const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self`, then `next`.
    pub fn then(self, next: Affine) -> Affine {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = next.0;
        Affine([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    pub fn apply(self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    pub fn invert(self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * d - b * c;
        if det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([
            ia,
            ib,
            ic,
            id,
            -(e * ia + f * ic),
            -(e * ib + f * id),
        ]))
    }
}

/// From a page's OCR pixels to MuPDF's page space (points, origin at the
/// top left of the page as displayed): undo the levelling, the turn and
/// the rendering scale. `origin` is the page bounds' top left.
pub fn pixels_to_page(page: &PageJson, origin: (f64, f64)) -> Affine {
    let (w, h) = (f64::from(page.width_px), f64::from(page.height_px));
    let turn = match page.rotation % 360 {
        90 => Affine([0.0, -1.0, 1.0, 0.0, 0.0, w]),
        180 => Affine([-1.0, 0.0, 0.0, -1.0, w, h]),
        270 => Affine([0.0, 1.0, -1.0, 0.0, h, 0.0]),
        _ => Affine::IDENTITY,
    };
    let s = 72.0 / f64::from(page.dpi.max(1));
    unlevel(page)
        .then(turn)
        .then(Affine([s, 0.0, 0.0, s, origin.0, origin.1]))
}

/// Levelled image -> turned image: `rotate_level` sampled the turned image
/// at centre + R(theta) (p - centre). The identity when no skew was
/// applied.
pub fn unlevel(page: &PageJson) -> Affine {
    let (w, h) = (f64::from(page.width_px), f64::from(page.height_px));
    match &page.skew {
        Some(s) if s.applied => {
            let (sn, cs) = f64::from(s.degrees).to_radians().sin_cos();
            let (cx, cy) = (w / 2.0, h / 2.0);
            Affine([
                cs,
                sn,
                -sn,
                cs,
                cx - cs * cx + sn * cy,
                cy - sn * cx - cs * cy,
            ])
        }
        _ => Affine::IDENTITY,
    }
}

/// The matrix from OCR pixels to the PDF page's own user space.
fn page_matrix(doc: &PdfDocument, index: usize, page: &PageJson) -> Result<Affine, String> {
    let p = doc
        .load_pdf_page(index as i32)
        .map_err(|e| crate::render::mupdf_reason(&e))?;
    let bounds = p.bounds().map_err(|e| crate::render::mupdf_reason(&e))?;
    let ctm: Matrix = p.ctm().map_err(|e| crate::render::mupdf_reason(&e))?;
    let ctm = Affine([ctm.a, ctm.b, ctm.c, ctm.d, ctm.e, ctm.f].map(f64::from));
    let to_user = ctm
        .invert()
        .ok_or("the page's transform cannot be inverted")?;
    Ok(pixels_to_page(page, (f64::from(bounds.x0), f64::from(bounds.y0))).then(to_user))
}

/// The text layer of one page.
///
/// On a page recto levelled (deskewed) before reading, each word is
/// written level as the page is shown, starting where the word's baseline
/// starts on the slanted line, at the height of its middle: a slanted
/// baseline makes Poppler's layout analysis split words into characters.
/// The highlight of a word is then off its ink by at most half the slant
/// across the word (0.4 pt for a 30 pt word at 1.5 degrees).
///
/// `t` maps from the turned image's pixels to user space and `lv` from
/// OCR pixels to the turned image's (the identity when the page is shown
/// level, or was never levelled). Returns the stream and the fonts it
/// names.
fn layer_stream(
    page: &PageJson,
    t: Affine,
    lv: Affine,
    known: &mut BTreeSet<Metrics>,
) -> (String, BTreeSet<Metrics>) {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(4096);
    let _ = writeln!(s, "q\n{}\nBT\n3 Tr", cm(t));
    let px_per_pt = f64::from(page.dpi.max(1)) / 72.0;
    let slack = BOX_SLACK_PT * px_per_pt;
    let mut lines: Vec<LayerLine<'_>> = page
        .blocks
        .iter()
        .enumerate()
        .flat_map(|(b, block)| block_lines(block).into_iter().map(move |l| (b, l)))
        .filter_map(|(block, (line, base, size))| {
            let words: Vec<(&str, [i32; 4])> = line
                .words
                .iter()
                .map(|w| (w.text.trim(), w.bbox))
                .filter(|(t, b)| !t.is_empty() && b[2] > b[0])
                .collect();
            if words.is_empty() {
                return None;
            }
            // Where each word starts and ends along the (level) line.
            let spans = word_spans(
                words.iter().map(|(_, b)| {
                    let (x, _) = lv.apply(f64::from(b[0]), base);
                    (x, x + f64::from(b[2] - b[0]))
                }),
                size,
                MAX_NUDGE_PT * px_per_pt,
            );
            Some(LayerLine {
                words,
                spans,
                base,
                size,
                metrics: line_metrics(line, base, size, slack, known),
                block,
            })
        })
        .collect();
    align_starts(&mut lines, START_SNAP_PT * px_per_pt);
    keep_block_overlaps(&mut lines);
    let mut used = BTreeSet::new();
    for LayerLine {
        words,
        spans,
        base,
        size,
        metrics,
        ..
    } in &lines
    {
        let (base, size) = (*base, tenths(*size));
        let _ = writeln!(s, "/{} {} Tf", font_name(*metrics), n(size));
        used.insert(*metrics);
        let glyph = size * CHAR_WIDTH / 1000.0;
        // Where the pen stands after the last word and its space: the next
        // word starts there without a Tm when the space was sized to reach
        // it, which keeps the layer a third smaller.
        let mut pen: Option<(f64, f64)> = None;
        for (k, (text, bbox)) in words.iter().enumerate() {
            let units: Vec<u16> = text.encode_utf16().collect();
            let (x, end) = spans[k];
            // At the height of its middle on the slanted line, so the level
            // box is off the ink by at most half the slant.
            let (_, y) = lv.apply(f64::from(bbox[0] + bbox[2]) / 2.0, base);
            let (x, y) = (tenths(x), tenths(y));
            if pen.is_none_or(|(px, py)| (px - x).abs() > 0.1 || py != y) {
                let _ = write!(s, "1 0 0 -1 {} {} Tm ", n(x), n(y));
            }
            let advance = units.len() as f64 * glyph;
            let tz = tenths(100.0 * (end - x) / advance).max(0.1);
            let _ = write!(s, "{} Tz <", n(tz));
            for u in units {
                let _ = write!(s, "{u:04X}");
            }
            s.push_str("> Tj");
            let mut at = x + advance * tz / 100.0;
            // A real space across the gap to the next word, so that text
            // extractors split words where recto did and copied text has
            // its spaces. Touching words (a formula's symbols) and words
            // read overlapping get one too, a sliver wide (Tz 0.1):
            // without it Poppler joins them. (A TJ array, the space at the
            // word's scaling and a number for the rest of the gap, came out
            // 2-7% larger after Flate: the gaps' scalings repeat.)
            if let Some((next_x, _)) = spans.get(k + 1) {
                let tz = tenths(100.0 * (next_x - at) / glyph).max(0.1);
                let _ = write!(s, " {} Tz <0020> Tj", n(tz));
                at += glyph * tz / 100.0;
            }
            pen = Some((at, y));
            s.push('\n');
        }
    }
    s.push_str("ET\nQ\n");
    known.extend(used.iter().copied());
    (s, used)
}

/// The font for a line at `base` in a font of `size` (OCR pixels): the
/// usual one where its box reaches no more than `slack` past the line's
/// ink or short of it, else a font of `known` that does (the one nearest
/// to the usual box), else a new variant that does, nearest to the usual
/// box on a grid of 0.1 sizes where it can be, added to `known`. Reuse
/// keeps a page of formulas to a few variants (geotopo's 4 pages: 18 fonts
/// without, 11 with).
fn line_metrics(
    line: &recto_page::Line,
    base: f64,
    size: f64,
    slack: f64,
    known: &mut BTreeSet<Metrics>,
) -> Metrics {
    let up = base - f64::from(line.bbox[1]);
    let down = f64::from(line.bbox[3]) - base;
    let fit = |usual: u16, ink: f64| -> u16 {
        let usual = f64::from(usual) * METRIC_STEP * size;
        let ink = ink.max(0.0);
        let v = usual.clamp((ink - slack).max(0.0), ink + slack);
        (v / size / METRIC_STEP)
            .round()
            .clamp(0.0, 2.9 / METRIC_STEP) as u16
    };
    // Poppler ignores an ascent of 0.
    let nearest = (fit(USUAL.0, up).max(1), fit(USUAL.1, down));
    if nearest == USUAL {
        return USUAL;
    }
    let fits = |m: u16, ink: f64| (f64::from(m) * METRIC_STEP * size - ink.max(0.0)).abs() <= slack;
    let distance = |m: &Metrics| nearest.0.abs_diff(m.0) + nearest.1.abs_diff(m.1);
    let reused = known
        .iter()
        .filter(|m| m.0 >= 1 && fits(m.0, up) && fits(m.1, down))
        .min_by_key(|m| distance(m))
        .copied();
    // A new variant on the coarser grid of 0.1 sizes where one fits, so
    // that more lines can share it.
    let even = |m: u16, ink: f64, least: u16| {
        [m + m % 2, m - m % 2]
            .into_iter()
            .find(|&e| e >= least && fits(e, ink))
            .unwrap_or(m)
    };
    let coarse = (even(nearest.0, up, 1), even(nearest.1, down, 0));
    let chosen = reused.unwrap_or(coarse);
    known.insert(chosen);
    chosen
}

/// The font resource's name: `RectoOCR` for the usual font.
fn font_name(m: Metrics) -> String {
    if m == USUAL {
        "RectoOCR".to_owned()
    } else {
        format!("RectoOCR{}_{}", m.0, m.1)
    }
}

/// A line of the layer: its words, where each starts and ends along the
/// level line, its baseline and font size (OCR pixels).
struct LayerLine<'a> {
    words: Vec<(&'a str, [i32; 4])>,
    spans: Vec<(f64, f64)>,
    base: f64,
    size: f64,
    metrics: Metrics,
    /// Its block's index on the page.
    block: usize,
}

impl LayerLine<'_> {
    /// Top and bottom of the font's box (OCR pixels) with metrics `m`.
    fn span(&self, m: Metrics) -> (f64, f64) {
        let step = METRIC_STEP * self.size;
        (
            self.base - f64::from(m.0) * step,
            self.base + f64::from(m.1) * step,
        )
    }

    /// Where the line runs along the page.
    fn extent(&self) -> (f64, f64) {
        (self.spans[0].0, self.spans[self.spans.len() - 1].1)
    }
}

/// Undo the part of a line's font variant that would change whether its
/// box overlaps, across the page, the box of a line of another block in the
/// same column. Poppler builds its blocks and reading order from these
/// boxes (a block is "below" another only when clear of it; four blocks
/// aligned two by two are read as a table, row by row), and the usual
/// boxes give it the order it should have: on a two-column page whose
/// side-by-side headings' boxes reach into their paragraphs, a heading's
/// box pulled up to its ink made heading, heading, paragraph, paragraph
/// a table.
fn keep_block_overlaps(lines: &mut [LayerLine<'_>]) {
    let overlap = |a: (f64, f64), b: (f64, f64)| a.0 <= b.1 && b.0 <= a.1;
    // Only a line with another beside it can be in a table's row.
    let beside: Vec<bool> = lines
        .iter()
        .map(|a| {
            lines
                .iter()
                .any(|b| overlap(a.span(USUAL), b.span(USUAL)) && !overlap(a.extent(), b.extent()))
        })
        .collect();
    for i in 0..lines.len() {
        if lines[i].metrics == USUAL || !beside[i] {
            continue;
        }
        let (mut up, mut down) = lines[i].metrics;
        for j in 0..lines.len() {
            let (a, b) = (&lines[i], &lines[j]);
            let apart = a.block != b.block || a.size != b.size;
            if i == j || !apart || !overlap(a.extent(), b.extent()) {
                continue;
            }
            let other = b.span(b.metrics);
            let before = overlap(a.span(USUAL), b.span(USUAL));
            if overlap(a.span((up, down)), other) == before {
                continue;
            }
            // The edge facing the other line goes back to the usual one.
            if b.base < a.base {
                up = USUAL.0;
            } else {
                down = USUAL.1;
            }
        }
        lines[i].metrics = (up, down);
    }
}

/// Line starts closer than this (points) are one left edge.
const START_SNAP_PT: f64 = 1.0;

/// Lines that start within `snap` of each other start at the leftmost of
/// them: a column's left edge, as it was set. OCR boxes jitter by a pixel
/// or two, and Poppler's reading order hangs on which block of a column
/// starts leftmost: on a two-column page whose paragraphs end level, a
/// block one pixel left of its column's first block made Poppler read the
/// lower half of the page as a table, row by row across both columns.
fn align_starts(lines: &mut [LayerLine<'_>], snap: f64) {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| lines[a].spans[0].0.total_cmp(&lines[b].spans[0].0));
    let mut k = 0;
    while k < order.len() {
        let left = lines[order[k]].spans[0].0;
        let mut end = k + 1;
        while end < order.len() && lines[order[end]].spans[0].0 - left <= snap {
            end += 1;
        }
        for &i in &order[k + 1..end] {
            let (start, stop) = lines[i].spans[0];
            // Never more than a fifth of the word's width, as word_spans.
            lines[i].spans[0].0 = left.max(start - 0.2 * (stop - start));
        }
        k = end;
    }
}

/// The least gap between two words of a line, as a share of the font size.
/// Poppler puts a space between two words only where they are more than
/// 0.15 font sizes apart in its raw order (`pdftotext -raw`, and what
/// viewers built on it copy), and a scan's tight word spaces can be less:
/// `the first` came out `thefirst`.
const MIN_WORD_GAP: f64 = 0.17;

/// How far (points) [`word_spans`] moves a word's end at most: a line's
/// size can be inflated by tall symbols (formulas), and its least gap with
/// it.
const MAX_NUDGE_PT: f64 = 1.0;

/// Each word's start and end along its line, narrowed where two words are
/// closer than [`MIN_WORD_GAP`]: each gives up to half the shortfall, never
/// more than a fifth of its width nor `reach`, so that a box stays within a
/// point of the word's ink.
fn word_spans(spans: impl Iterator<Item = (f64, f64)>, size: f64, reach: f64) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = spans.collect();
    for k in 1..spans.len() {
        let ((a0, a1), (b0, b1)) = (spans[k - 1], spans[k]);
        let short = MIN_WORD_GAP * size - (b0 - a1);
        if short <= 0.0 || b0 <= a0 {
            continue;
        }
        let give = (short / 2.0).min(reach);
        spans[k - 1].1 -= give.min(0.2 * (a1 - a0));
        spans[k].0 += give.min(0.2 * (b1 - b0));
    }
    spans
}

/// Each line of a block with its baseline and the block's font size (OCR
/// pixels). The baseline is the highest bottom among the line's words of at
/// least half its height (a word without descender ends on it; quotes and
/// dashes, which end above it, are left out); the size puts the font's
/// ascent at the top of the line's tallest letters, and is the median over
/// the block's lines, so that the lines of a block share it: extractors
/// (Poppler) start a new block where the font size changes by a few
/// percent, and line boxes vary with the letters they hold. A line more
/// than 15% off the median (a heading) keeps its own size.
fn block_lines(block: &recto_page::Block) -> Vec<(&recto_page::Line, f64, f64)> {
    let median = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let lines: Vec<(&recto_page::Line, f64)> = block
        .lines
        .iter()
        .filter(|l| !l.words.is_empty())
        .map(|l| {
            let half = (l.bbox[3] - l.bbox[1]) / 2;
            let base = l
                .words
                .iter()
                .filter(|w| w.bbox[3] - w.bbox[1] >= half)
                .map(|w| w.bbox[3])
                .min()
                .unwrap_or(l.bbox[3]);
            (l, f64::from(base))
        })
        .collect();
    if lines.is_empty() {
        return Vec::new();
    }
    let size = median(
        lines
            .iter()
            .map(|(l, base)| (base - f64::from(l.bbox[1])).max(1.0) * 1000.0 / ASCENT)
            .collect(),
    );
    let height = median(
        lines
            .iter()
            .map(|(l, _)| f64::from(l.bbox[3] - l.bbox[1]))
            .collect(),
    );
    let cap = size * ASCENT / 1000.0;
    lines
        .into_iter()
        .map(|(l, base)| {
            let top = f64::from(l.bbox[1]);
            let h = f64::from(l.bbox[3] - l.bbox[1]);
            let own = (base - top).max(1.0) * 1000.0 / ASCENT;
            if (h - height).abs() > 0.15 * height && (own - size).abs() > 0.15 * size {
                // A line clearly taller or shorter than the block's (a
                // heading) keeps its own size, as print does.
                (l, base, own)
            } else if base - top > 1.15 * cap {
                // A body line whose every word descends (commas count):
                // its baseline is a cap height below its top.
                (l, top + cap, size)
            } else {
                (l, base, size)
            }
        })
        .collect()
}

/// The `cm` operator that concatenates `m` to the current matrix.
fn cm(m: Affine) -> String {
    let [a, b, c, d, e, f] = m.0.map(n);
    format!("{a} {b} {c} {d} {e} {f} cm")
}

/// A number for a content stream: short, no exponent.
/// `v` rounded to tenths: of a pixel for positions (0.02 pt at 300 dpi),
/// of a percent for scalings (a word 1,000 px wide ends within 0.5 px; the
/// next word starts where the pen is, so errors do not add up).
fn tenths(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn n(v: f64) -> String {
    let r = (v * 10_000.0).round() / 10_000.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).expect("writing to memory");
    z.finish().expect("writing to memory")
}

fn flate_stream(
    doc: &mut PdfDocument,
    bytes: &[u8],
    dict: &str,
) -> Result<PdfObject, mupdf::Error> {
    let mut d = doc.new_object_from_str(dict)?;
    d.dict_put("Filter", PdfObject::new_name("FlateDecode")?)?;
    let buf = Buffer::from_bytes(&deflate(bytes))?;
    doc.add_stream(&buf, Some(&d), true)
}

/// The glyphless Type 0 font: the font file, its CIDToGIDMap and ToUnicode
/// CMap once per document, and a small font (Type 0, CIDFont, descriptor)
/// for each ascent and descent the lines need. Character codes are UTF-16
/// code units, mapped to themselves by the ToUnicode CMap and to the one
/// empty glyph by the CIDToGIDMap (as Tesseract's PDF renderer).
struct Fonts {
    file: PdfObject,
    gid_map: PdfObject,
    to_unicode: PdfObject,
    system_info: PdfObject,
    variants: BTreeMap<Metrics, PdfObject>,
}

impl Fonts {
    fn new(doc: &mut PdfDocument) -> Result<Fonts, mupdf::Error> {
        let file = flate_stream(
            doc,
            GLYPHLESS_TTF,
            &format!("<< /Length1 {} >>", GLYPHLESS_TTF.len()),
        )?;
        let gid_map: Vec<u8> = (0..65536).flat_map(|_| [0u8, 1u8]).collect();
        let gid_map = flate_stream(doc, &gid_map, "<< >>")?;
        let cmap = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
            /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
            1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
            1 beginbfrange\n<0000> <FFFF> <0000>\nendbfrange\n\
            endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
        let to_unicode = flate_stream(doc, cmap.as_bytes(), "<< >>")?;
        let system_info =
            doc.new_object_from_str("<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>")?;
        let system_info = doc.add_object(&system_info)?;
        Ok(Fonts {
            file,
            gid_map,
            to_unicode,
            system_info,
            variants: BTreeMap::new(),
        })
    }

    /// The font whose box spans `m` around the baseline, added once.
    fn variant(&mut self, doc: &mut PdfDocument, m: Metrics) -> Result<PdfObject, mupdf::Error> {
        if let Some(f) = self.variants.get(&m) {
            return Ok(f.clone());
        }
        let ascent = f64::from(m.0) * METRIC_STEP * 1000.0;
        // Poppler ignores a descent of 0: a thousandth stands for it.
        let descent = -(f64::from(m.1) * METRIC_STEP * 1000.0).max(1.0);
        let mut desc = doc.new_object_from_str(&format!(
            "<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 \
             /FontBBox [0 {descent} {CHAR_WIDTH} {ascent}] /ItalicAngle 0 \
             /Ascent {ascent} /Descent {descent} /CapHeight {ascent} /StemV 80 >>"
        ))?;
        desc.dict_put("FontFile2", self.file.clone())?;
        let desc = doc.add_object(&desc)?;
        let mut cid = doc.new_object_from_str(&format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont /DW {CHAR_WIDTH} >>"
        ))?;
        cid.dict_put("CIDSystemInfo", self.system_info.clone())?;
        cid.dict_put("FontDescriptor", desc)?;
        cid.dict_put("CIDToGIDMap", self.gid_map.clone())?;
        let cid = doc.add_object(&cid)?;
        let mut font = doc.new_object_from_str(
            "<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H >>",
        )?;
        let mut descendants = doc.new_array()?;
        descendants.array_push(cid)?;
        font.dict_put("DescendantFonts", descendants)?;
        font.dict_put("ToUnicode", self.to_unicode.clone())?;
        let font = doc.add_object(&font)?;
        self.variants.insert(m, font.clone());
        Ok(font)
    }
}

/// Put `content` first in page `index`'s contents (balanced in q/Q, so the
/// page's own content runs in the state it always did) and the font in
/// its resources. With `shown`, the page's own content is drawn under that
/// matrix (`q shown cm ... Q` around it).
fn add_layer(
    doc: &mut PdfDocument,
    index: usize,
    content: &str,
    used: &[(String, PdfObject)],
    shown: Option<Affine>,
) -> Result<(), mupdf::Error> {
    let mut page = doc.find_page(index as i32)?;
    let mut contents = doc.new_array()?;
    contents.array_push(flate_stream(doc, content.as_bytes(), "<< >>")?)?;
    if let Some(d) = shown {
        let before = format!("q\n{}\n", cm(d));
        contents.array_push(flate_stream(doc, before.as_bytes(), "<< >>")?)?;
    }
    match page.get_dict("Contents")? {
        Some(old) if old.is_array()? => {
            for item in old.array_iter()? {
                contents.array_push(item?)?;
            }
        }
        Some(old) if !old.is_null()? => contents.array_push(old)?,
        _ => {}
    }
    if shown.is_some() {
        contents.array_push(flate_stream(doc, b"Q\n", "<< >>")?)?;
    }
    page.dict_put("Contents", contents)?;

    // Resources inherited from the page tree are copied onto the page
    // (shallowly), so the font is added for this page alone.
    let mut resources = match page.get_dict("Resources")? {
        Some(r) if r.is_dict()? => r,
        _ => {
            let inherited = page.get_dict_inheritable("Resources")?;
            let r = match inherited {
                Some(r) if r.is_dict()? => r.copy_dict()?,
                _ => doc.new_dict()?,
            };
            page.dict_put("Resources", r)?;
            page.get_dict("Resources")?.expect("just put")
        }
    };
    let mut fonts = match resources.get_dict("Font")? {
        Some(f) if f.is_dict()? => f,
        _ => {
            resources.dict_put("Font", doc.new_dict()?)?;
            resources.get_dict("Font")?.expect("just put")
        }
    };
    for (name, font) in used {
        fonts.dict_put(name.as_str(), font.clone())?;
    }
    Ok(())
}

/// Add `turn` (clockwise degrees) to page `index`'s /Rotate. The text
/// layer lives in the page's own space, which /Rotate does not change.
fn turn_page(doc: &PdfDocument, index: usize, turn: u16) -> Result<(), mupdf::Error> {
    let mut page = doc.find_page(index as i32)?;
    let old = match page.get_dict_inheritable("Rotate")? {
        Some(r) if r.is_int()? => r.as_int()?,
        _ => 0,
    };
    let new = (old + i32::from(turn)).rem_euclid(360);
    page.dict_put("Rotate", PdfObject::new_int(new)?)
}

/// A UTF-16BE text string with its byte-order mark, as PDF wants for
/// titles beyond Latin-1.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        out.push_str(&format!("{u:04X}"));
    }
    out.push('>');
    out
}

/// Add `marks` as the document outline; returns how many were added.
fn add_outline(
    doc: &mut PdfDocument,
    marks: &[Bookmark],
    page_count: usize,
) -> Result<usize, mupdf::Error> {
    // Nest by level: each mark goes under the nearest earlier mark of a
    // lower level.
    let marks: Vec<&Bookmark> = marks.iter().filter(|m| m.page < page_count).collect();
    if marks.is_empty() {
        return Ok(0);
    }
    let mut parent: Vec<Option<usize>> = Vec::with_capacity(marks.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if marks[top].level >= m.level {
                stack.pop();
            } else {
                break;
            }
        }
        parent.push(stack.last().copied());
        stack.push(i);
    }
    let root = doc.new_object_from_str("<< /Type /Outlines >>")?;
    let root = doc.add_object(&root)?;
    let mut refs = Vec::with_capacity(marks.len());
    for m in &marks {
        let mut item =
            doc.new_object_from_str(&format!("<< /Title {} >>", text_string(&m.title)))?;
        let mut dest = doc.new_array()?;
        dest.array_push(doc.find_page(m.page as i32)?)?;
        dest.array_push(PdfObject::new_name("XYZ")?)?;
        for _ in 0..3 {
            dest.array_push(PdfObject::new_null())?;
        }
        item.dict_put("Dest", dest)?;
        refs.push(doc.add_object(&item)?);
    }
    let children =
        |p: Option<usize>| -> Vec<usize> { (0..marks.len()).filter(|&i| parent[i] == p).collect() };
    let link = |list: &[usize],
                parent_ref: &PdfObject,
                refs: &mut Vec<PdfObject>|
     -> Result<(), mupdf::Error> {
        for (k, &i) in list.iter().enumerate() {
            refs[i].dict_put("Parent", parent_ref.clone())?;
            if k > 0 {
                let prev = refs[list[k - 1]].clone();
                refs[i].dict_put("Prev", prev)?;
            }
            if let Some(&next) = list.get(k + 1) {
                let next = refs[next].clone();
                refs[i].dict_put("Next", next)?;
            }
        }
        Ok(())
    };
    let mut root = root;
    let top = children(None);
    link(&top, &root, &mut refs)?;
    root.dict_put("First", refs[top[0]].clone())?;
    root.dict_put("Last", refs[*top.last().expect("not empty")].clone())?;
    root.dict_put("Count", PdfObject::new_int(marks.len() as i32)?)?;
    for i in 0..marks.len() {
        let kids = children(Some(i));
        if kids.is_empty() {
            continue;
        }
        let me = refs[i].clone();
        link(&kids, &me, &mut refs)?;
        let (first, last) = (
            refs[kids[0]].clone(),
            refs[*kids.last().expect("not empty")].clone(),
        );
        refs[i].dict_put("First", first)?;
        refs[i].dict_put("Last", last)?;
        // Negative: closed; a reader opens the levels it wants.
        refs[i].dict_put("Count", PdfObject::new_int(-(kids.len() as i32))?)?;
    }
    doc.catalog()?.dict_put("Outlines", root)?;
    Ok(marks.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_inverse_and_composition_agree() {
        let m = Affine([0.0, -1.0, 1.0, 0.0, 3.0, 700.0])
            .then(Affine([0.24, 0.0, 0.0, 0.24, 5.0, 7.0]));
        let inv = m.invert().unwrap();
        let (x, y) = m.apply(120.0, 45.0);
        let (bx, by) = inv.apply(x, y);
        assert!((bx - 120.0).abs() < 1e-9 && (by - 45.0).abs() < 1e-9);
    }

    #[test]
    fn numbers_are_short_and_plain() {
        assert_eq!(n(2.0), "2");
        assert_eq!(n(-0.123456), "-0.1235");
        assert_eq!(n(1e-9), "0");
    }

    fn word(text: &str, bbox: [i32; 4]) -> recto_page::Word {
        recto_page::Word {
            text: text.into(),
            bbox,
            confidence: Some(90.0),
        }
    }

    #[test]
    fn lines_sit_on_their_baseline_and_share_the_block_size() {
        // "Tag" ends below the baseline (g); the quote ends above it.
        let l1 = recto_page::Line::new(
            [0, 100, 300, 150],
            vec![
                word("Tag", [0, 100, 80, 150]),
                word("“", [90, 100, 100, 110]),
                word("the", [110, 100, 180, 140]),
            ],
        );
        let l2 = recto_page::Line::new(
            [0, 200, 300, 244],
            vec![
                word("All", [0, 204, 80, 244]),
                word("ok", [90, 214, 150, 244]),
            ],
        );
        let block = recto_page::Block {
            bbox: [0, 100, 300, 244],
            lines: vec![l1, l2],
        };
        let got = block_lines(&block);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].1, got[1].1), (140.0, 244.0));
        // Cap heights 40 and 44: the block's median, 44, over the ascent.
        assert_eq!(got[0].2, got[1].2);
        assert!((got[0].2 - 44.0 / 0.8).abs() < 1e-9, "{}", got[0].2);

        // A heading twice as tall as the body keeps its own size.
        let mut block = block;
        block.lines.insert(
            0,
            recto_page::Line::new([0, 0, 300, 88], vec![word("Title", [0, 0, 200, 88])]),
        );
        block.lines.push(recto_page::Line::new(
            [0, 300, 300, 340],
            vec![word("Body", [0, 300, 90, 340])],
        ));
        let got = block_lines(&block);
        assert!((got[0].2 - 88.0 / 0.8).abs() < 1e-9, "{}", got[0].2);
        assert_eq!(got[1].2, got[2].2);
    }

    #[test]
    fn words_closer_than_a_word_space_are_moved_apart_a_little() {
        // Size 40: words need 6.8 px between them. 2 px apart: each gives
        // 2.4 px. A word 10 px wide gives at most 2 px.
        let near = |got: &[(f64, f64)], want: &[(f64, f64)]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| (g.0 - w.0).abs() < 1e-9 && (g.1 - w.1).abs() < 1e-9)
        };
        let got = word_spans(
            [(0.0, 100.0), (102.0, 200.0), (210.0, 300.0)].into_iter(),
            40.0,
            f64::INFINITY,
        );
        let want = [(0.0, 97.6), (104.4, 200.0), (210.0, 300.0)];
        assert!(near(&got, &want), "{got:?}");
        let got = word_spans([(0.0, 10.0), (11.0, 21.0)].into_iter(), 40.0, 9.0);
        assert!(near(&got, &[(0.0, 8.0), (13.0, 21.0)]), "{got:?}");
        // Apart enough, or out of order: left as they are.
        let apart = vec![(0.0, 50.0), (60.0, 90.0), (5.0, 20.0)];
        assert_eq!(word_spans(apart.clone().into_iter(), 40.0, 9.0), apart);
        // Never more than the reach: a size inflated by a formula's symbols.
        let got = word_spans([(0.0, 100.0), (100.0, 200.0)].into_iter(), 400.0, 3.0);
        assert!(near(&got, &[(0.0, 97.0), (103.0, 200.0)]), "{got:?}");
    }

    #[test]
    fn lines_starting_within_the_snap_share_the_leftmost_start() {
        let line = |start: f64, end: f64| LayerLine {
            words: Vec::new(),
            spans: vec![(start, end), (end + 10.0, end + 50.0)],
            base: 0.0,
            size: 40.0,
            metrics: USUAL,
            block: 0,
        };
        // 100, 101 and 103 are one edge (within 4 px of 100); 105 starts a
        // new one with 108; 140 (an indent) is alone; 200's word is 10 px
        // wide, so it moves 2 px at most.
        let mut lines = vec![
            line(103.0, 150.0),
            line(140.0, 190.0),
            line(100.0, 160.0),
            line(108.0, 170.0),
            line(101.0, 130.0),
            line(105.0, 170.0),
            line(202.0, 212.0),
            line(200.0, 260.0),
        ];
        align_starts(&mut lines, 4.0);
        let starts: Vec<f64> = lines.iter().map(|l| l.spans[0].0).collect();
        assert_eq!(
            starts,
            [100.0, 140.0, 100.0, 105.0, 100.0, 105.0, 200.0, 200.0]
        );
        // Word ends and the lines' other words stay where they were read.
        assert!(lines.iter().all(|l| l.spans[1].0 == l.spans[0].1 + 10.0));
        let mut narrow = vec![line(200.0, 260.0), line(203.0, 208.0)];
        align_starts(&mut narrow, 4.0);
        assert_eq!(narrow[1].spans[0].0, 202.0);
    }

    #[test]
    fn a_line_gets_a_font_whose_box_fits_its_ink() {
        let line = |top: i32, bottom: i32| recto_page::Line::new([0, top, 500, bottom], Vec::new());
        let metrics = |top: i32, bottom: i32, slack: f64| {
            line_metrics(&line(top, bottom), 100.0, 50.0, slack, &mut BTreeSet::new())
        };
        // Size 50, baseline 100: the usual box runs from 60 to 110.
        // Letters from 62 to 108, within the slack of 4: the usual font.
        assert_eq!(metrics(62, 108, 4.0), USUAL);
        // No descender (ink ends on the baseline): the descent shrinks to
        // the slack, 4 px = 0.08 sizes, rounded to 2 steps.
        assert_eq!(metrics(60, 100, 4.0), (16, 2));
        // A typewriter's letter 15 px below the baseline: the box reaches
        // down to 11 px of it; letters 50 px tall: up to 46.
        assert_eq!(metrics(50, 115, 4.0), (18, 4));
        assert_eq!(metrics(30, 110, 10.0), (24, 4));
        // Letters 56 px tall: 21 steps (52.5 px) is nearest to the usual
        // box, but 22 (55 px) fits too and lies on the coarser grid that
        // more lines share.
        assert_eq!(metrics(44, 100, 4.0), (22, 2));
        // An ascent is never 0 (Poppler would ignore it).
        assert_eq!(metrics(100, 100, 0.0).0, 1);
        // A font the document has that fits is reused, the nearest one.
        let mut known = BTreeSet::from([(15, 2), (17, 1), (30, 9)]);
        let m = line_metrics(&line(60, 100), 100.0, 50.0, 4.0, &mut known);
        assert_eq!(m, (17, 1));
        assert_eq!(known.len(), 3);
        let m = line_metrics(&line(50, 115), 100.0, 50.0, 4.0, &mut known);
        assert_eq!(m, (18, 4));
        assert!(known.contains(&(18, 4)));
    }

    #[test]
    fn a_font_variant_keeps_the_overlaps_of_lines_beside_others() {
        let line = |block: usize, x: (f64, f64), base: f64, size: f64, m: Metrics| LayerLine {
            words: Vec::new(),
            spans: vec![x],
            base,
            size,
            metrics: m,
            block,
        };
        // Two columns. Left: a heading (size 60) whose usual box (base
        // 100: 52-112) reaches into the paragraph's first line (size 40,
        // base 140: 108-148); its ink ends at the baseline, so its variant
        // would end at 104, clear of the paragraph. Right: a heading level
        // with it.
        let heading = line(0, (0.0, 100.0), 100.0, 60.0, (16, 1));
        let body = line(0, (10.0, 300.0), 140.0, 40.0, USUAL);
        let beside = line(1, (400.0, 600.0), 100.0, 60.0, USUAL);
        let mut lines = vec![heading, body, beside];
        keep_block_overlaps(&mut lines);
        assert_eq!(lines[0].metrics, USUAL, "the heading's descent comes back");
        // Its top, which faces no other line, may still move.
        lines[0].metrics = (14, 1);
        keep_block_overlaps(&mut lines);
        assert_eq!(lines[0].metrics, (14, 4));
        // Without a line beside it (one column), the variant stays.
        let mut alone = vec![
            line(0, (0.0, 100.0), 100.0, 60.0, (16, 1)),
            line(0, (10.0, 300.0), 140.0, 40.0, USUAL),
        ];
        keep_block_overlaps(&mut alone);
        assert_eq!(alone[0].metrics, (16, 1));
    }

    #[test]
    fn titles_are_utf16_with_a_byte_order_mark() {
        assert_eq!(text_string("Ä"), "<FEFF00C4>");
    }
}
