//! A page as the TOC reads it: rows of words from top to bottom,
//! built from the page JSON's lines, with a short line joined to the row
//! level with it on its left (a contents entry and its right-aligned page
//! number are often separate lines, even separate blocks, in a text layer;
//! two columns of entries are not joined).

use recto_page::PageJson;

/// One row of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub words: Vec<String>,
    /// Each word's OCR confidence (0-100); 100 for text-layer words.
    pub conf: Vec<f32>,
    /// Each word's box height: the size of the type, which a skewed line's
    /// box (taller than its words) does not tell.
    pub word_heights: Vec<f32>,
    /// `[x0, y0, x1, y1]` in page pixels.
    pub bbox: [f32; 4],
    /// The first word's left edge of each joined line (a row's indentation
    /// is its first one).
    pub x0: f32,
}

impl Row {
    /// A row of `text`'s words, all certain, in `bbox`.
    pub fn from_text(text: &str, bbox: [f32; 4]) -> Self {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        Row {
            conf: vec![100.0; words.len()],
            word_heights: vec![bbox[3] - bbox[1]; words.len()],
            words,
            bbox,
            x0: bbox[0],
        }
    }

    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }

    /// The median height of the row's words: its type size.
    pub fn text_height(&self) -> f32 {
        if self.word_heights.is_empty() {
            return self.height();
        }
        let mut h = self.word_heights.clone();
        h.sort_by(f32::total_cmp);
        h[h.len() / 2]
    }
}

/// A page's rows and size.
#[derive(Debug, Clone, PartialEq)]
pub struct PageView {
    /// Physical page, 1-based.
    pub number: usize,
    pub width: f32,
    pub height: f32,
    pub rows: Vec<Row>,
    /// Whether each row is among the two topmost or two bottommost.
    pub edge: Vec<bool>,
    /// Each row's text as titles are looked for in it (`normalize_loose`),
    /// computed once: a title is looked for on many pages.
    pub keys: Vec<String>,
}

/// The share of the page height, top and bottom, where running heads and
/// page numbers are printed.
pub const BAND: f32 = 0.1;

/// Pieces of one printed line are at most this many line heights apart.
const MAX_JOIN_GAP: f32 = 2.5;

/// Whether a row ends in a page number after some title text: a complete
/// contents entry.
fn ends_in_number(r: &Row) -> bool {
    r.words.len() >= 2
        && r.words.last().is_some_and(|w| {
            crate::text::parse_page_number(w.trim_start_matches(['.', '…'])).is_some()
        })
        && r.words
            .iter()
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
}

/// A running head or page-number row is short.
pub const MAX_EDGE_WORDS: usize = 10;

impl PageView {
    /// An empty page (one whose OCR failed or that has no text).
    pub fn empty(number: usize) -> Self {
        PageView {
            number,
            width: 1.0,
            height: 1.0,
            rows: Vec::new(),
            edge: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// The page's rows from its JSON, top to bottom. A text layer
    /// often cuts one printed line into pieces (a section number, a title,
    /// leaders, a page number); pieces on one baseline are joined, left to
    /// right, unless a wide gap separates them, except that a page number
    /// (or leaders) joins across any gap. A row that already ends in a page
    /// number is complete: the next piece starts another column's row.
    pub fn from_page(page: &PageJson) -> Self {
        Self::from_page_ordered(page, false)
    }

    /// [`PageView::from_page`] with the rows in the page JSON's reading
    /// order (each row where its first piece is) instead of top to bottom:
    /// what reading a page's text needs, where the engine's order keeps
    /// columns apart.
    pub fn from_page_in_reading_order(page: &PageJson) -> Self {
        Self::from_page_ordered(page, true)
    }

    fn from_page_ordered(page: &PageJson, reading: bool) -> Self {
        let pieces: Vec<Row> = page
            .blocks
            .iter()
            .flat_map(|b| &b.lines)
            .filter(|l| !l.words.is_empty())
            .map(|l| Row {
                words: l.words.iter().map(|w| w.text.clone()).collect(),
                conf: l
                    .words
                    .iter()
                    .map(|w| w.confidence.unwrap_or(100.0))
                    .collect(),
                word_heights: l
                    .words
                    .iter()
                    .map(|w| (w.bbox[3] - w.bbox[1]) as f32)
                    .collect(),
                bbox: l.bbox.map(|v| v as f32),
                x0: l.words[0].bbox[0] as f32,
            })
            .collect();
        // Baseline bands: pieces overlapping vertically by most of their
        // height; each piece keeps its reading-order index.
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by(|&a, &b| pieces[a].bbox[1].total_cmp(&pieces[b].bbox[1]));
        let mut bands: Vec<(f32, f32, Vec<usize>)> = Vec::new();
        for i in order {
            let p = &pieces[i];
            let found = bands.iter_mut().rev().take(3).find(|(y0, y1, _)| {
                let overlap = y1.min(p.bbox[3]) - y0.max(p.bbox[1]);
                overlap >= 0.6 * p.height().min(y1 - y0).max(1.0)
            });
            match found {
                Some(band) => {
                    band.0 = band.0.min(p.bbox[1]);
                    band.1 = band.1.max(p.bbox[3]);
                    band.2.push(i);
                }
                None => bands.push((p.bbox[1], p.bbox[3], vec![i])),
            }
        }
        let mut rows: Vec<(usize, Row)> = Vec::new();
        for (_, _, mut members) in bands {
            members.sort_by(|&a, &b| pieces[a].bbox[0].total_cmp(&pieces[b].bbox[0]));
            let mut current: Option<(usize, Row)> = None;
            for i in members {
                let p = &pieces[i];
                let joins = current.as_ref().is_some_and(|(_, r)| {
                    let gap = p.bbox[0] - r.bbox[2];
                    let h = r.height().max(p.height()).max(1.0);
                    let complete = ends_in_number(r);
                    let number_piece = p.words.iter().all(|w| {
                        crate::text::is_leader(w) || crate::text::parse_page_number(w).is_some()
                    });
                    !complete && (gap <= MAX_JOIN_GAP * h || number_piece)
                });
                if joins {
                    let (first, r) = current.as_mut().expect("checked");
                    *first = (*first).min(i);
                    r.words.extend(p.words.iter().cloned());
                    r.conf.extend(p.conf.iter().copied());
                    r.word_heights.extend(p.word_heights.iter().copied());
                    r.bbox = [
                        r.bbox[0].min(p.bbox[0]),
                        r.bbox[1].min(p.bbox[1]),
                        r.bbox[2].max(p.bbox[2]),
                        r.bbox[3].max(p.bbox[3]),
                    ];
                } else {
                    rows.extend(current.take());
                    current = Some((i, p.clone()));
                }
            }
            rows.extend(current);
        }
        // Top to bottom: a text layer's block order is often not the
        // reading order (a contents page's page numbers can come as one
        // block after all titles); columns are told apart where it matters
        // (contents entries keep to their column).
        if reading {
            rows.sort_by_key(|(first, _)| *first);
        } else {
            rows.sort_by(|a, b| {
                a.1.bbox[1]
                    .total_cmp(&b.1.bbox[1])
                    .then(a.1.bbox[0].total_cmp(&b.1.bbox[0]))
            });
        }
        Self::from_rows(
            page.page,
            page.width_px.max(1) as f32,
            page.height_px.max(1) as f32,
            rows.into_iter().map(|(_, r)| r).collect(),
        )
    }

    /// A page of these rows (in reading order).
    pub fn from_rows(number: usize, width: f32, height: f32, rows: Vec<Row>) -> Self {
        let mut by_y: Vec<usize> = (0..rows.len()).collect();
        by_y.sort_by(|&a, &b| rows[a].bbox[1].total_cmp(&rows[b].bbox[1]));
        let mut edge = vec![false; rows.len()];
        let n = by_y.len();
        for (rank, &i) in by_y.iter().enumerate() {
            edge[i] = rank < 2 || rank + 2 >= n;
        }
        let keys = rows
            .iter()
            .map(|r| crate::text::normalize_loose(&r.text()))
            .collect();
        PageView {
            number,
            width,
            height,
            rows,
            edge,
            keys,
        }
    }

    /// Whether a row lies in the top or bottom band of the page.
    pub fn in_band(&self, row: &Row) -> bool {
        let cy = (row.bbox[1] + row.bbox[3]) / 2.0;
        cy < BAND * self.height || cy > (1.0 - BAND) * self.height
    }

    /// Rows where a page number or running head can be: the first two and
    /// last two rows of the page, and any row in its top or bottom band,
    /// when short.
    pub fn is_edge(&self, index: usize) -> bool {
        let row = &self.rows[index];
        let extreme = self.edge.get(index).copied().unwrap_or(false);
        row.words.len() <= MAX_EDGE_WORDS && (extreme || self.in_band(row))
    }
}
