//! Columns Tesseract read across: split lines at a page's gutter and put
//! the left column before the right one.
//!
//! On a two-column typescript whose gutter is narrow or slightly skewed,
//! Tesseract's layout analysis sometimes builds lines that run from the left
//! column into the right one (`Erik Satie -Alors, monsieur, on m'a dit`):
//! every word is read, but the text interleaves the columns line by line.
//! Measured on the corpus's typewritten memoir, page 6 read at CER 0.72
//! that way. The gutter shows in the word boxes: one x position that falls
//! inside an unusually wide gap between words on many lines, and inside a
//! word on few. Such lines are cut there, and each stretch of the page
//! between lines that do cross the gutter (headings across both columns) is
//! read left column first.
//!
//! Only OCR'd pages go through this; a text layer's order is the author's.

use recto_page::{Block, ColumnSplit, Line, Word};

/// A gap between two words of a line is a gutter candidate when it is wider
/// than this many median word heights (word spaces are about a third of
/// one; typewriter columns are two or more apart).
const GAP_HEIGHTS: f32 = 1.5;

/// Lines that must be cut at the gutter before the page is reordered: at
/// least this many ...
const MIN_SPLIT_LINES: usize = 3;
/// ... and this share of the page's lines.
const MIN_SPLIT_SHARE: f32 = 0.2;

/// Lines that may cross the gutter (headings, a wide table row), as a share
/// of the lines cut there.
const MAX_CROSS_SHARE: f32 = 0.5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Left,
    Right,
    Across,
}

/// The page's blocks with merged column lines cut and the columns in
/// reading order, and where they were cut (`None`: the page is unchanged).
pub fn split_merged_columns(blocks: Vec<Block>) -> (Vec<Block>, Option<ColumnSplit>) {
    let Some((gutter, min_gap)) = find_gutter(&blocks) else {
        return (blocks, None);
    };
    let original = blocks.clone();
    let mut cut = 0;
    // (top y, side, block): each original block split by side, so that the
    // paragraphs Tesseract found stay together.
    let mut units: Vec<(i32, Side, Block)> = Vec::new();
    for block in blocks {
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut across = Vec::new();
        for line in block.lines {
            match cut_line(line, gutter, min_gap) {
                Cut::Left(l) => left.push(l),
                Cut::Right(r) => right.push(r),
                Cut::Across(a) => across.push(a),
                Cut::Both(l, r) => {
                    cut += 1;
                    left.push(l);
                    right.push(r);
                }
            }
        }
        for (side, lines) in [
            (Side::Left, left),
            (Side::Right, right),
            (Side::Across, across),
        ] {
            if let Some(b) = block_of(lines) {
                units.push((b.bbox[1], side, b));
            }
        }
    }
    if cut == 0 {
        // Nothing merged: Tesseract's own order stands.
        return (original, None);
    }
    units.sort_by_key(|u| u.0);
    let mut out = Vec::with_capacity(units.len());
    let mut left: Vec<Block> = Vec::new();
    let mut right: Vec<Block> = Vec::new();
    for (_, side, block) in units {
        match side {
            Side::Left => left.push(block),
            Side::Right => right.push(block),
            Side::Across => {
                out.append(&mut left);
                out.append(&mut right);
                out.push(block);
            }
        }
    }
    out.append(&mut left);
    out.append(&mut right);
    let split = ColumnSplit {
        gutter_x: gutter,
        lines_cut: cut,
    };
    (out, Some(split))
}

enum Cut {
    Left(Line),
    Right(Line),
    Across(Line),
    Both(Line, Line),
}

/// Which side of the gutter a line is on; a line with words on both sides
/// is cut only where its gap there is a wide one (otherwise it is a line
/// that runs across, whose word space happens to fall on the gutter).
fn cut_line(line: Line, gutter: i32, min_gap: i32) -> Cut {
    if line.bbox[2] <= gutter {
        return Cut::Left(line);
    }
    if line.bbox[0] >= gutter {
        return Cut::Right(line);
    }
    let (left, right): (Vec<Word>, Vec<Word>) = line
        .words
        .iter()
        .cloned()
        .partition(|w| w.bbox[2] <= gutter);
    let crossing = right.iter().any(|w| w.bbox[0] < gutter);
    let wide = match (left.last(), right.first()) {
        (Some(a), Some(b)) => b.bbox[0] - a.bbox[2] >= min_gap,
        _ => true,
    };
    match (left.is_empty(), right.is_empty()) {
        _ if crossing || !wide => Cut::Across(line),
        (false, false) => Cut::Both(line_of(left), line_of(right)),
        (true, _) => Cut::Right(line),
        (_, true) => Cut::Left(line),
    }
}

fn union(boxes: impl Iterator<Item = [i32; 4]>) -> Option<[i32; 4]> {
    boxes.reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    })
}

fn line_of(words: Vec<Word>) -> Line {
    let bbox = union(words.iter().map(|w| w.bbox)).unwrap_or_default();
    Line::new(bbox, words)
}

fn block_of(lines: Vec<Line>) -> Option<Block> {
    let bbox = union(lines.iter().map(|l| l.bbox))?;
    Some(Block { bbox, lines })
}

/// The x position of a gutter that many lines were read across, if any,
/// and the gap width that counts as wide on this page.
fn find_gutter(blocks: &[Block]) -> Option<(i32, i32)> {
    let lines: Vec<&Line> = blocks
        .iter()
        .flat_map(|b| &b.lines)
        .filter(|l| !l.words.is_empty())
        .collect();
    if lines.len() < MIN_SPLIT_LINES {
        return None;
    }
    let mut heights: Vec<i32> = lines
        .iter()
        .flat_map(|l| &l.words)
        .map(|w| w.bbox[3] - w.bbox[1])
        .collect();
    heights.sort_unstable();
    let word_height = heights[heights.len() / 2].max(1) as f32;
    let min_gap = (GAP_HEIGHTS * word_height).round() as i32;

    // Wide gaps and words as x intervals; the gutter is the x inside the
    // most wide gaps (one per line at most) and few words.
    let mut gaps: Vec<(i32, i32)> = Vec::new();
    let mut words: Vec<(i32, i32)> = Vec::new();
    for line in &lines {
        for pair in line.words.windows(2) {
            let (a, b) = (pair[0].bbox[2], pair[1].bbox[0]);
            if b - a >= min_gap {
                gaps.push((a, b));
            }
        }
        words.extend(line.words.iter().map(|w| (w.bbox[0], w.bbox[2])));
    }
    if gaps.len() < MIN_SPLIT_LINES {
        return None;
    }
    let count = |x: i32, set: &[(i32, i32)]| set.iter().filter(|&&(a, b)| a < x && x < b).count();
    // Candidates: the midpoints and edges of wide gaps (the best x lies in
    // the intersection of many, whose bounds are gap ends).
    let mut candidates: Vec<i32> = gaps
        .iter()
        .flat_map(|&(a, b)| [a + 1, (a + b) / 2, b - 1])
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let (best_x, split) = candidates
        .iter()
        .map(|&x| (x, count(x, &gaps)))
        .max_by_key(|&(x, n)| (n, std::cmp::Reverse(count(x, &words))))?;
    let crossing = count(best_x, &words);
    let enough = split >= MIN_SPLIT_LINES && split as f32 >= MIN_SPLIT_SHARE * lines.len() as f32;
    (enough && crossing as f32 <= MAX_CROSS_SHARE * split as f32).then_some((best_x, min_gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x: i32, y: i32) -> Word {
        let w = 20 * text.chars().count() as i32;
        Word {
            text: text.into(),
            bbox: [x, y, x + w, y + 40],
            confidence: Some(90.0),
        }
    }

    /// A line of words starting at x, 10 px apart.
    fn words(text: &str, x: i32, y: i32) -> Vec<Word> {
        let mut out = Vec::new();
        let mut x = x;
        for t in text.split(' ') {
            let w = word(t, x, y);
            x = w.bbox[2] + 12;
            out.push(w);
        }
        out
    }

    fn text(blocks: &[Block]) -> String {
        recto_page::blocks_text(blocks)
    }

    #[test]
    fn lines_read_across_two_columns_are_cut_and_reordered() {
        let left = ["one two", "three four", "five six", "seven eight"];
        let right = ["alpha beta", "gamma delta", "epsilon zeta", "eta theta"];
        let mut lines = vec![line_of(words(
            "A heading that runs right across both columns",
            0,
            0,
        ))];
        for (i, (l, r)) in left.iter().zip(right).enumerate() {
            let y = 100 + 60 * i as i32;
            let mut ws = words(l, 0, y);
            ws.extend(words(r, 600, y));
            lines.push(line_of(ws));
        }
        let block = block_of(lines).unwrap();
        let (blocks, cut) = split_merged_columns(vec![block]);
        assert_eq!(cut.map(|c| c.lines_cut), Some(4));
        assert_eq!(
            text(&blocks),
            "A heading that runs right across both columns\n\none two\nthree four\nfive six\nseven eight\n\n\
             alpha beta\ngamma delta\nepsilon zeta\neta theta"
        );
    }

    #[test]
    fn a_single_column_page_is_left_alone() {
        let lines: Vec<Line> = (0..10)
            .map(|i| line_of(words("a line of ordinary justified text", 0, 60 * i)))
            .collect();
        let before = vec![block_of(lines).unwrap()];
        let (after, cut) = split_merged_columns(before.clone());
        assert_eq!(cut, None);
        assert_eq!(after, before);
    }

    #[test]
    fn columns_tesseract_already_separated_keep_their_order() {
        let left: Vec<Line> = (0..5)
            .map(|i| line_of(words("left col", 0, 60 * i)))
            .collect();
        let right: Vec<Line> = (0..5)
            .map(|i| line_of(words("right col", 600, 60 * i)))
            .collect();
        let before = vec![block_of(left).unwrap(), block_of(right).unwrap()];
        let (after, cut) = split_merged_columns(before.clone());
        assert_eq!(cut, None);
        assert_eq!(after, before);
    }
}
