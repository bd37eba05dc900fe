//! Small-angle skew: find it on a page image, and rotate it away before
//! recognition (Tesseract's layout analysis splits and merges blocks on a
//! page scanned a degree or two off).
//!
//! The finder is the projection-profile method: on a binarised copy near
//! 100 dpi, for each candidate angle the dark pixels are projected along
//! lines of that slope into rows; text lines make the profile peaky when the
//! slope matches theirs. The score is the sum of squared row counts; the
//! best angle in +-`MAX_DEGREES` (0.1 degree steps, then 0.01 around the
//! best) wins. Confidence is the best score over the median of the range:
//! about 1 when the page has no lines to align, well above it when it has.

use crate::tess::GrayImage;

/// The largest skew looked for, in degrees either way.
pub const MAX_DEGREES: f32 = 4.0;

/// Below this confidence a found skew is recorded but not applied.
pub const MIN_CONFIDENCE: f32 = 1.5;

/// Skews smaller than this are left to Tesseract, which reads them well:
/// measured on the corpus, levelling 0.3-degree typescripts by resampling
/// cost more (CER 0.0223 -> 0.0250) than it gained.
pub const MIN_DEGREES: f32 = 0.5;

/// The skew of a page image: the angle its text lines descend to the right
/// (clockwise), in degrees, and the finder's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkewEstimate {
    pub degrees: f32,
    pub confidence: f32,
}

/// Find the skew of `img` (any resolution; it is looked at near 100 dpi
/// given its `dpi`). `None` for a page with too little ink to tell.
pub fn find_skew(img: &GrayImage, dpi: u32) -> Option<SkewEstimate> {
    let factor = (dpi / 100).max(1) as usize;
    let (w, h) = (img.width as usize / factor, img.height as usize / factor);
    if w < 50 || h < 50 {
        return None;
    }
    // Dark pixels of the reduced page, by a global threshold between the
    // page's darkest and lightest tones (scans are mostly paper).
    let mut hist = [0u32; 256];
    let sample = |x: usize, y: usize| img.data[(y * factor) * img.stride + x * factor];
    for y in 0..h {
        for x in 0..w {
            hist[sample(x, y) as usize] += 1;
        }
    }
    let threshold = otsu(&hist, (w * h) as u32);
    let mut points: Vec<(f32, f32)> = Vec::new();
    // Margins carry scanner edges and punch holes, not text.
    let (mx, my) = (w / 20, h / 20);
    for y in my..h - my {
        for x in mx..w - mx {
            if sample(x, y) < threshold {
                points.push((x as f32, y as f32));
            }
        }
    }
    if points.len() < 200 || points.len() > w * h / 2 {
        return None;
    }
    let rows = h * 2;
    let score = |deg: f32| -> f64 {
        let t = deg.to_radians().tan();
        let mut bins = vec![0u32; rows];
        for &(x, y) in &points {
            let r = (y - x * t + h as f32 / 2.0).round();
            if r >= 0.0 && (r as usize) < rows {
                bins[r as usize] += 1;
            }
        }
        bins.iter().map(|&c| f64::from(c) * f64::from(c)).sum()
    };
    let steps = (MAX_DEGREES * 10.0) as i32;
    let coarse: Vec<(f32, f64)> = (-steps..=steps)
        .map(|i| {
            let d = i as f32 / 10.0;
            (d, score(d))
        })
        .collect();
    let (mut best, mut best_score) = coarse
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("angles");
    for i in -10..=10 {
        let d = best + i as f32 / 100.0;
        let s = score(d);
        if s > best_score {
            (best, best_score) = (d, s);
        }
    }
    // How much aligning matters: the best score over the median one in
    // the range (about 1 on a page with no lines to align). Measured on the
    // corpus, the best-over-worst ratio applied wrong angles to typescript
    // pages whose edges and stains outweigh their short lines.
    let mut scores: Vec<f64> = coarse.iter().map(|c| c.1).collect();
    scores.sort_by(f64::total_cmp);
    let median = scores[scores.len() / 2];
    let confidence = if median > 0.0 {
        (best_score / median) as f32
    } else {
        0.0
    };
    Some(SkewEstimate {
        degrees: (best * 100.0).round() / 100.0,
        confidence: (confidence * 100.0).round() / 100.0,
    })
}

/// Otsu's threshold of a grey histogram.
pub(crate) fn otsu(hist: &[u32; 256], total: u32) -> u8 {
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * f64::from(c))
        .sum();
    let (mut sum_b, mut w_b, mut best, mut best_t) = (0.0, 0.0, 0.0, 128u8);
    for (t, &c) in hist.iter().enumerate() {
        w_b += f64::from(c);
        if w_b == 0.0 {
            continue;
        }
        let w_f = f64::from(total) - w_b;
        if w_f == 0.0 {
            break;
        }
        sum_b += t as f64 * f64::from(c);
        let (m_b, m_f) = (sum_b / w_b, (sum - sum_b) / w_f);
        let between = w_b * w_f * (m_b - m_f).powi(2);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t.saturating_add(1)
}

/// `img` rotated about its centre so that lines descending `degrees` to the
/// right become level (bilinear, same size, white where nothing maps).
/// Word boxes found on the result are in its coordinates: those of the
/// page image recto writes.
pub fn rotate_level(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (img.width as usize, img.height as usize);
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut out = vec![255u8; w * h];
    for y in 0..h {
        let dy = y as f32 + 0.5 - cy;
        for x in 0..w {
            let dx = x as f32 + 0.5 - cx;
            let xs = cx + dx * c - dy * s - 0.5;
            let ys = cy + dx * s + dy * c - 0.5;
            if xs < 0.0 || ys < 0.0 || xs >= (w - 1) as f32 || ys >= (h - 1) as f32 {
                continue;
            }
            let (x0, y0) = (xs as usize, ys as usize);
            let (fx, fy) = (xs - x0 as f32, ys - y0 as f32);
            let p = |xx: usize, yy: usize| f32::from(img.data[yy * img.stride + xx]);
            let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
            let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
            out[y * w + x] = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
    }
    GrayImage {
        width: img.width,
        height: img.height,
        stride: w,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark horizontal bars (text lines) on white.
    fn lines(w: u32, h: u32) -> GrayImage {
        let mut data = vec![255u8; (w * h) as usize];
        for y in 0..h {
            if (y / 12) % 3 == 0 && y > h / 10 && y < h * 9 / 10 {
                for x in w / 8..w * 7 / 8 {
                    if (x / 7) % 5 != 4 {
                        data[(y * w + x) as usize] = 20;
                    }
                }
            }
        }
        GrayImage {
            width: w,
            height: h,
            stride: w as usize,
            data,
        }
    }

    #[test]
    fn a_known_skew_is_found_and_levelled() {
        let level = lines(900, 1200);
        let found = find_skew(&level, 100).unwrap();
        assert!(found.degrees.abs() < 0.1, "{found:?}");
        for angle in [1.5f32, -2.2, 0.4] {
            // Rotating a level page by -angle makes its lines descend by angle.
            let skewed = rotate_level(&level, -angle);
            let found = find_skew(&skewed, 100).unwrap();
            assert!((found.degrees - angle).abs() <= 0.1, "{angle}: {found:?}");
            assert!(found.confidence > MIN_CONFIDENCE, "{found:?}");
            let back = find_skew(&rotate_level(&skewed, found.degrees), 100).unwrap();
            assert!(back.degrees.abs() <= 0.1, "{back:?}");
        }
        let blank = GrayImage {
            width: 400,
            height: 400,
            stride: 400,
            data: vec![255; 160_000],
        };
        assert_eq!(find_skew(&blank, 100), None);
    }
}
