//! The text layer's geometry: where each word of a page's OCR goes in the
//! searchable PDF's content stream, at what size, in which of the glyphless
//! font's variants. Everything here is shaped by how Poppler and MuPDF read
//! text back (a word's box across the text from the font descriptor, lines
//! and blocks joined only at equal sizes, spaces from gaps, reading order
//! from block boxes), each rule with the measurement that chose it in
//! docs/benchmarks.md.

use std::collections::BTreeSet;

use recto_page::PageJson;

use super::Affine;

/// The font's advance width, in thousandths of the font size; each word is
/// stretched to its box by horizontal scaling.
pub(super) const CHAR_WIDTH: f64 = 500.0;

/// Ascent of the font that sizes a block's lines (thousandths): the font's
/// box runs from the top of a line's tallest letters to a fifth of the
/// size below its baseline, so that text extractors (Poppler, MuPDF) put
/// each word in its line and highlights cover the line's ink.
const ASCENT: f64 = 800.0;

/// Font variants step their ascent and descent by this share of the size
/// (a box edge within 0.025 sizes of where it should be: 0.3 pt at 12 pt).
pub(super) const METRIC_STEP: f64 = 0.05;

/// A font variant's ascent and descent in [`METRIC_STEP`]s.
pub(super) type Metrics = (u16, u16);

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
pub(super) fn layer_stream(
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
        // it (the four linn pages' copy 119 -> 108 KB).
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
pub(super) fn font_name(m: Metrics) -> String {
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
/// box overlaps, across the page, the box of a line above or below it of
/// another block or size, where the line has another beside it (a column
/// next to it; on one column no table can form). Poppler builds its blocks and reading order from these
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
pub(super) fn cm(m: Affine) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
