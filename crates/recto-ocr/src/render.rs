//! MuPDF, linked as a library: open a PDF (with its password), render a page
//! to grayscale, read its text layer with boxes.

use std::path::Path;

use mupdf::text_page::TextBlockType;
use mupdf::{Colorspace, Document, Matrix, Page, TextPageFlags};

use crate::OcrError;
use crate::page::{Block, Line, Word};
use crate::tess::GrayImage;

/// The MuPDF version recto is built with.
pub const MUPDF_VERSION: &str = "1.27.2";

/// An open PDF. Not `Send`: each worker thread opens its own.
#[derive(Debug)]
pub struct Pdf {
    doc: Document,
}

/// Colour management off, once per thread: MuPDF's ICC conversion of
/// scans to gray (e.g. an aged-paper RGB JPEG with an ICC profile) gave
/// Tesseract a lighter, flatter page; on the corpus's 1784 Fraktur scan the
/// character error rate went from 0.29 with ICC to 0.12 without (Tesseract
/// CLI on the same renders agrees), and the plain conversion is faster.
fn disable_icc_once() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    DONE.with(|d| {
        if !d.get() {
            mupdf::Context::get().disable_icc();
            d.set(true);
        }
    });
}

impl Pdf {
    pub fn open(path: &Path, password: Option<&str>) -> Result<Self, OcrError> {
        disable_icc_once();
        let open_err = |reason: String| OcrError::Open {
            path: path.to_owned(),
            reason,
        };
        let p = path
            .to_str()
            .ok_or_else(|| open_err("the path is not UTF-8".into()))?;
        let mut doc = Document::open(p).map_err(|e| open_err(mupdf_reason(&e)))?;
        if doc
            .needs_password()
            .map_err(|e| open_err(mupdf_reason(&e)))?
        {
            let Some(pw) = password else {
                return Err(OcrError::Encrypted {
                    path: path.to_owned(),
                });
            };
            if !doc
                .authenticate(pw)
                .map_err(|e| open_err(mupdf_reason(&e)))?
            {
                return Err(OcrError::WrongPassword {
                    path: path.to_owned(),
                });
            }
        }
        if !doc.is_pdf() {
            return Err(open_err("not a PDF document".into()));
        }
        let n = doc.page_count().map_err(|e| open_err(mupdf_reason(&e)))?;
        if n <= 0 {
            return Err(OcrError::NoPages {
                path: path.to_owned(),
            });
        }
        Ok(Pdf { doc })
    }

    pub fn page_count(&self) -> usize {
        self.doc
            .page_count()
            .map(|n| n.max(0) as usize)
            .unwrap_or(0)
    }

    /// The outline (bookmarks) in reading order: `(level, title, physical
    /// page 1-based)`, the page `None` for an item whose destination does
    /// not resolve to a page of this document. Depth and size are bounded,
    /// so a malformed outline cannot run away.
    ///
    /// MuPDF resolves the outline (named destinations included) but gives
    /// up on the whole of it when one item's destination is broken; then
    /// the items are read from the PDF objects one by one, a broken one
    /// kept without a page.
    pub fn outline(&self) -> Result<Vec<OutlineItem>, OcrError> {
        match self.doc.outlines() {
            Ok(tree) => {
                let mut out = Vec::new();
                flatten_outline(&tree, 1, &mut out);
                Ok(out)
            }
            Err(e) => {
                tracing::debug!(
                    "MuPDF cannot resolve the outline ({}); reading it item by item",
                    mupdf_reason(&e)
                );
                let mupdf = |e: mupdf::Error| OcrError::Mupdf {
                    reason: mupdf_reason(&e),
                };
                let pdf = mupdf::pdf::PdfDocument::try_from(self.doc.clone()).map_err(mupdf)?;
                outline_from_objects(&pdf).map_err(mupdf)
            }
        }
    }

    /// The PDF's /PageLabels, one per page, when it has them (MuPDF would
    /// otherwise answer page numbers, which are not labels).
    pub fn page_labels(&self) -> Option<Vec<String>> {
        let pdf = mupdf::pdf::PdfDocument::try_from(self.doc.clone()).ok()?;
        let has = pdf
            .catalog()
            .ok()?
            .get_dict("PageLabels")
            .ok()
            .flatten()
            .is_some_and(|o| !o.is_null().unwrap_or(true));
        if !has {
            return None;
        }
        (0..self.page_count())
            .map(|i| pdf.page_label(i).ok())
            .collect()
    }

    /// Page `number` (1-based).
    pub fn page(&self, number: usize) -> Result<PdfPage, OcrError> {
        let page = self
            .doc
            .load_page((number - 1) as i32)
            .map_err(|e| page_err(number, &e))?;
        let bounds = page.bounds().map_err(|e| page_err(number, &e))?;
        Ok(PdfPage {
            page,
            number,
            x0: bounds.x0,
            y0: bounds.y0,
            width_pt: bounds.x1 - bounds.x0,
            height_pt: bounds.y1 - bounds.y0,
        })
    }
}

/// One outline item, flattened: its depth (1 = top), title and page.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineItem {
    pub level: usize,
    pub title: String,
    pub page: Option<usize>,
}

/// Outlines deeper or larger than this are cut there (MuPDF already
/// breaks cycles; this bounds the rest).
const MAX_OUTLINE_DEPTH: usize = 32;
const MAX_OUTLINE_ITEMS: usize = 100_000;

fn flatten_outline(items: &[mupdf::Outline], level: usize, out: &mut Vec<OutlineItem>) {
    if level > MAX_OUTLINE_DEPTH {
        return;
    }
    for item in items {
        if out.len() >= MAX_OUTLINE_ITEMS {
            return;
        }
        out.push(OutlineItem {
            level,
            title: item.title.trim().to_owned(),
            page: item.dest.map(|d| d.loc.page_number as usize + 1),
        });
        flatten_outline(&item.down, level + 1, out);
    }
}

/// The outline read from the PDF objects: titles and destinations item by
/// item, cycles broken, a destination that names no page kept as `None`
/// (and an integer page index kept as given, for the caller to check).
fn outline_from_objects(pdf: &mupdf::pdf::PdfDocument) -> Result<Vec<OutlineItem>, mupdf::Error> {
    use mupdf::pdf::PdfObject;
    let catalog = pdf.catalog()?;
    let mut out = Vec::new();
    let Some(outlines) = catalog.get_dict("Outlines")? else {
        return Ok(out);
    };
    let named = |name: &PdfObject| -> Option<PdfObject> {
        // /Dests in the catalog (PDF 1.1) or the /Names /Dests name tree.
        let key = if name.is_name().ok()? {
            String::from_utf8_lossy(&name.as_name().ok()?).into_owned()
        } else {
            name.as_string().ok()?
        };
        if let Some(d) = catalog.get_dict("Dests").ok().flatten()
            && let Some(v) = d.get_dict(key.as_str()).ok().flatten()
        {
            return Some(v);
        }
        let tree = catalog.get_dict("Names").ok()??.get_dict("Dests").ok()??;
        let flat = pdf.load_name_tree(tree).ok()?;
        flat.get_dict(key.as_str()).ok().flatten()
    };
    let page_of = |dest: &PdfObject| -> Option<usize> {
        let mut dest = dest.resolve().ok().flatten()?;
        if dest.is_name().ok()? || dest.is_string().ok()? {
            dest = named(&dest)?.resolve().ok().flatten()?;
        }
        if dest.is_dict().ok()? {
            dest = dest.get_dict("D").ok()??.resolve().ok().flatten()?;
        }
        let first = dest.get_array(0).ok()??;
        if first.is_int().ok()? {
            return usize::try_from(first.as_int().ok()?).ok().map(|p| p + 1);
        }
        let n = pdf.lookup_page_number(&first).ok()?;
        usize::try_from(n).ok().map(|p| p + 1)
    };
    // Depth-first, siblings through /Next; object numbers seen break cycles.
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(PdfObject, usize)> = Vec::new();
    if let Some(first) = outlines.get_dict("First")? {
        stack.push((first, 1));
    }
    while let Some((item, level)) = stack.pop() {
        if out.len() >= MAX_OUTLINE_ITEMS || level > MAX_OUTLINE_DEPTH {
            break;
        }
        if item.is_indirect()? && !seen.insert(item.as_indirect()?) {
            continue;
        }
        let title = item
            .get_dict("Title")?
            .and_then(|t| t.as_string().ok())
            .unwrap_or_default();
        let dest = match item.get_dict("Dest")? {
            Some(d) => Some(d),
            None => item
                .get_dict("A")?
                .and_then(|a| a.get_dict("D").ok().flatten()),
        };
        out.push(OutlineItem {
            level,
            title: title.trim().to_owned(),
            page: dest.as_ref().and_then(page_of),
        });
        if let Some(next) = item.get_dict("Next")? {
            stack.push((next, level));
        }
        if let Some(child) = item.get_dict("First")? {
            stack.push((child, level + 1));
        }
    }
    Ok(out)
}

/// A loaded page, in its displayed orientation (MuPDF applies /Rotate).
#[derive(Debug)]
pub struct PdfPage {
    page: Page,
    pub number: usize,
    x0: f32,
    y0: f32,
    pub width_pt: f32,
    pub height_pt: f32,
}

impl PdfPage {
    /// Pixel size of the page at `dpi`.
    pub fn pixel_size(&self, dpi: u32) -> (u32, u32) {
        let s = dpi as f32 / 72.0;
        (
            (self.width_pt * s).round() as u32,
            (self.height_pt * s).round() as u32,
        )
    }

    /// Render the page in grayscale at `dpi`.
    pub fn render_gray(&self, dpi: u32) -> Result<GrayImage, OcrError> {
        let s = dpi as f32 / 72.0;
        let pix = self
            .page
            .to_pixmap(
                &Matrix::new_scale(s, s),
                &Colorspace::device_gray(),
                false,
                false,
            )
            .map_err(|e| page_err(self.number, &e))?;
        let stride = usize::try_from(pix.stride()).unwrap_or(pix.width() as usize);
        Ok(GrayImage {
            width: pix.width(),
            height: pix.height(),
            stride,
            data: pix.samples().to_vec(),
        })
    }

    /// The resolution of the page's scan: when the page is one image
    /// covering at least 80% of it, the image's pixels per inch (the
    /// smaller of its two axes); `None` otherwise.
    pub fn scan_dpi(&self) -> Option<u32> {
        let tp = self
            .page
            .to_text_page(TextPageFlags::PRESERVE_IMAGES)
            .ok()?;
        let page_area = f64::from(self.width_pt) * f64::from(self.height_pt);
        let mut found = None;
        for block in tp.blocks() {
            if block.r#type() != TextBlockType::Image {
                continue;
            }
            let b = block.bounds();
            let (w, h) = (f64::from(b.x1 - b.x0), f64::from(b.y1 - b.y0));
            if w * h < 0.8 * page_area {
                continue;
            }
            if found.is_some() {
                return None; // two full-page images: not a plain scan
            }
            let img = block.image()?;
            let dpi = (f64::from(img.width()) * 72.0 / w).min(f64::from(img.height()) * 72.0 / h);
            found = Some(dpi.round() as u32);
        }
        found
    }

    /// The text layer as blocks, lines and words, boxes in pixels at `dpi`.
    pub fn text_layer(&self, dpi: u32) -> Result<Vec<Block>, OcrError> {
        let s = dpi as f32 / 72.0;
        let tp = self
            .page
            .to_text_page(TextPageFlags::empty())
            .map_err(|e| page_err(self.number, &e))?;
        let px = |r: mupdf::Rect| -> [i32; 4] {
            [
                ((r.x0 - self.x0) * s).floor() as i32,
                ((r.y0 - self.y0) * s).floor() as i32,
                ((r.x1 - self.x0) * s).ceil() as i32,
                ((r.y1 - self.y0) * s).ceil() as i32,
            ]
        };
        let mut blocks = Vec::new();
        for block in tp.blocks() {
            if block.r#type() != TextBlockType::Text {
                continue;
            }
            let mut lines = Vec::new();
            for line in block.lines() {
                let mut words = Vec::new();
                let mut current = String::new();
                let mut bounds: Option<mupdf::Rect> = None;
                let mut flush = |current: &mut String, bounds: &mut Option<mupdf::Rect>| {
                    if let Some(b) = bounds.take()
                        && !current.is_empty()
                    {
                        words.push(Word {
                            text: std::mem::take(current),
                            bbox: px(b),
                            confidence: None,
                        });
                    }
                    current.clear();
                };
                let mut prev: Option<mupdf::Rect> = None;
                for ch in line.chars() {
                    let Some(c) = ch.char() else { continue };
                    if c.is_whitespace() {
                        flush(&mut current, &mut bounds);
                        prev = None;
                        continue;
                    }
                    let r = mupdf::Rect::from(ch.quad());
                    // MuPDF puts runs that share a baseline in one line even
                    // when nothing separates them but a gap (a table cell,
                    // a margin note drawn between two halves of a line):
                    // a gap wider than a tenth of the font size, or a jump
                    // backwards, ends the word, as pdftotext decides.
                    if let Some(p) = prev
                        && gap_ends_word(&p, &r, ch.size())
                    {
                        flush(&mut current, &mut bounds);
                    }
                    prev = Some(r);
                    bounds = Some(match bounds {
                        Some(b) => b.union(&r),
                        None => r,
                    });
                    current.push(c);
                }
                flush(&mut current, &mut bounds);
                if !words.is_empty() {
                    lines.push(Line::new(px(line.bounds()), words));
                }
            }
            if !lines.is_empty() {
                blocks.push(Block {
                    bbox: px(block.bounds()),
                    lines,
                });
            }
        }
        Ok(blocks)
    }
}

/// Whether the gap between two neighbouring glyphs of a line separates
/// words: wider than 0.1 em, or going back more than half an em (a run
/// drawn out of order). Vertical text is left as MuPDF groups it.
fn gap_ends_word(prev: &mupdf::Rect, next: &mupdf::Rect, size: f32) -> bool {
    let em = if size > 0.0 {
        size
    } else {
        (next.y1 - next.y0).abs()
    };
    let gap = next.x0 - prev.x1;
    gap > 0.1 * em || gap < -0.5 * em - (prev.x1 - prev.x0)
}

pub(crate) fn mupdf_reason(e: &mupdf::Error) -> String {
    match e {
        mupdf::Error::MuPdf(m) => m.message.clone(),
        other => other.to_string(),
    }
}

fn page_err(number: usize, e: &mupdf::Error) -> OcrError {
    OcrError::Page {
        page: number,
        reason: mupdf_reason(e),
    }
}
