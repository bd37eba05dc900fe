//! Bands at the top and bottom of a page that the engine's layout left
//! empty (running heads, page numbers), read again on their own.

use super::task::MIN_ENGINE_SIDE;
use crate::tess::GrayImage;

/// The largest share of the page height, top and bottom, looked at again.
const BAND: f32 = 0.15;

/// Page numbers (and running heads) that the page's layout analysis
/// dropped: Tesseract treats a lone small number in a wide margin as
/// noise. The strip above the first word read (and below the last), within
/// the page's outer bands, is read again on its own as one block when it
/// has ink; words read there with confidence are kept.
pub(super) fn read_empty_bands(
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
pub(super) fn is_bilevel(img: &GrayImage) -> bool {
    let step = (img.height as usize / 200).max(1);
    (0..img.height as usize).step_by(step).all(|y| {
        img.data[y * img.stride..y * img.stride + img.width as usize]
            .iter()
            .all(|&v| v == 0 || v == 255)
    })
}
