//! The role of every line: furniture first (page numbers from the page
//! labels, running heads and feet by comparing each page with its
//! neighbours, footnotes at the foot in a smaller size under a gap, starting
//! with a mark), then the contents pages, the headings the TOC names (and
//! other display lines), captions, the title page, and body text.

use std::collections::BTreeMap;

use recto_toc::text::{normalize_loose, parse_page_number, similarity};
use recto_toc::view::Row;
use recto_toc::{PageView, Toc};
use serde::{Deserialize, Serialize};

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Title,
    Toc,
    Heading,
    Body,
    RunningHeader,
    RunningFooter,
    PageNumber,
    Footnote,
    Caption,
    Other,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Title => "title",
            Role::Toc => "toc",
            Role::Heading => "heading",
            Role::Body => "body",
            Role::RunningHeader => "running_header",
            Role::RunningFooter => "running_footer",
            Role::PageNumber => "page_number",
            Role::Footnote => "footnote",
            Role::Caption => "caption",
            Role::Other => "other",
        }
    }

    /// Lines that are not the text of the document (removed from units).
    pub fn is_furniture(self) -> bool {
        matches!(
            self,
            Role::RunningHeader | Role::RunningFooter | Role::PageNumber
        )
    }
}

/// Every page's roles, and what the later parts need to know.
#[derive(Debug, Clone, Default)]
pub struct Labelled {
    /// `roles[page index][row index]`.
    pub roles: Vec<Vec<Role>>,
    /// Heading levels, by (page index, row index).
    pub levels: BTreeMap<(usize, usize), usize>,
    /// For each TOC entry (by index), the first row of its heading found on
    /// its page: (page index, row index).
    pub entry_rows: BTreeMap<usize, (usize, usize)>,
    /// The median type size (word height) of body rows.
    pub body_height: f32,
    /// The median line height of body rows.
    pub line_height: f32,
}

/// A display row's type is at least this much larger than body type (word
/// heights; OCR's vary a good deal around their median).
const TALL: f32 = 1.4;
/// A footnote row is at most this much as tall as body rows.
const SMALL: f32 = 0.88;
/// Running heads and feet are found within this share of the page height.
const BAND: f32 = 0.12;
/// Pages either side compared for running heads.
const NEIGHBOURS: usize = 6;

/// Classify every row of every page: furniture first, then contents,
/// footnotes, the headings the TOC names, and the rest. The first role
/// given to a line stands.
pub fn classify(pages: &[PageView], toc: Option<&Toc>) -> Labelled {
    let mut l = Labeller {
        pages,
        toc,
        roles: pages
            .iter()
            .map(|p| vec![Role::Body; p.rows.len()])
            .collect(),
        fixed: pages.iter().map(|p| vec![false; p.rows.len()]).collect(),
        levels: BTreeMap::new(),
        entry_rows: BTreeMap::new(),
        body_height: median_height(pages, Row::text_height),
        line_height: median_height(pages, Row::height),
    };
    l.page_numbers();
    l.contents_pages();
    l.running_heads_and_feet();
    l.footnotes();
    l.entry_headings();
    l.the_rest();
    Labelled {
        roles: l.roles,
        levels: l.levels,
        entry_rows: l.entry_rows,
        body_height: l.body_height,
        line_height: l.line_height,
    }
}

/// The roles given so far, and what each pass reads.
struct Labeller<'a> {
    pages: &'a [PageView],
    toc: Option<&'a Toc>,
    roles: Vec<Vec<Role>>,
    /// Rows whose role is decided.
    fixed: Vec<Vec<bool>>,
    levels: BTreeMap<(usize, usize), usize>,
    entry_rows: BTreeMap<usize, (usize, usize)>,
    body_height: f32,
    line_height: f32,
}

impl Labeller<'_> {
    /// Give row `i` of page `p` role `r`, unless it has one.
    fn set(&mut self, p: usize, i: usize, r: Role) {
        if !self.fixed[p][i] {
            self.roles[p][i] = r;
            self.fixed[p][i] = true;
        }
    }

    /// Page numbers: the page's label alone on an edge row, or any number
    /// standing alone there between decorations (`— 140 —`, `( 484 )`),
    /// which the clean text drops whatever label the page got.
    fn page_numbers(&mut self) {
        for (pi, page) in self.pages.iter().enumerate() {
            let label = self
                .toc
                .and_then(|t| t.page_labels.get(pi).cloned().flatten());
            for (i, row) in page.rows.iter().enumerate() {
                if !page.is_edge(i) || row.words.len() > 4 {
                    continue;
                }
                let joined = row.words.concat();
                let t = joined.trim_matches(|c: char| !c.is_alphanumeric());
                let alnum: Vec<&String> = row
                    .words
                    .iter()
                    .filter(|w| w.chars().any(char::is_alphanumeric))
                    .collect();
                let decorated = alnum.len() == 1
                    && alnum.len() < row.words.len()
                    && parse_page_number(alnum[0]).is_some();
                let is_number = decorated
                    || match &label {
                        // `il` for `ii`: OCR's l for a roman i.
                        Some(l) => t.eq_ignore_ascii_case(l) || t.replace('l', "i") == *l,
                        None => parse_page_number(&joined).is_some() && row.words.len() <= 2,
                    };
                if is_number {
                    self.set(pi, i, Role::PageNumber);
                }
            }
        }
    }

    /// The contents pages: their entries, and the heading above them.
    fn contents_pages(&mut self) {
        let Some(t) = self.toc else { return };
        for &tp in &t.toc_pages {
            let Some(pi) = tp.checked_sub(1).filter(|&i| i < self.pages.len()) else {
                continue;
            };
            let region = recto_toc::printed::region(&self.pages[pi]);
            for i in 0..self.pages[pi].rows.len() {
                if region.contains(&i) {
                    self.set(pi, i, Role::Toc);
                } else if i < region.start {
                    self.set(pi, i, Role::Heading);
                    self.levels.insert((pi, i), 1);
                }
            }
        }
    }

    /// Running heads and feet: a band row repeated on neighbouring pages,
    /// or (a head) naming an entry on a page other than the one it opens.
    fn running_heads_and_feet(&mut self) {
        let pages = self.pages;
        let titles: Vec<(String, Option<usize>)> = self
            .toc
            .map(|t| t.entries.iter().map(|e| (key(&e.title), e.page)).collect())
            .unwrap_or_default();
        let band = |top: bool| -> Vec<Vec<(usize, String)>> {
            pages
                .iter()
                .zip(&self.roles)
                .map(|(p, r)| band_rows(p, r, top, self.body_height))
                .collect()
        };
        let (heads, feet) = (band(true), band(false));
        for pi in 0..pages.len() {
            for (band, role) in [(&heads, Role::RunningHeader), (&feet, Role::RunningFooter)] {
                for (i, k) in &band[pi] {
                    if k.is_empty() || self.fixed[pi][*i] {
                        continue;
                    }
                    let lo = pi.saturating_sub(NEIGHBOURS);
                    let hi = (pi + NEIGHBOURS).min(pages.len() - 1);
                    let repeated = (lo..=hi)
                        .filter(|&q| q != pi)
                        .any(|q| band[q].iter().any(|(_, other)| similarity(k, other) >= 0.8));
                    let names_entry = role == Role::RunningHeader
                        && titles.iter().any(|(t, page)| {
                            !t.is_empty() && *page != Some(pi + 1) && similarity(k, t) >= 0.8
                        });
                    if repeated || names_entry {
                        self.set(pi, *i, role);
                    }
                }
            }
        }
    }

    fn footnotes(&mut self) {
        for (pi, page) in self.pages.iter().enumerate() {
            for i in footnote_rows(page, &self.roles[pi], self.body_height, self.line_height) {
                self.set(pi, i, Role::Footnote);
            }
        }
    }

    /// Headings the TOC names, on their page.
    fn entry_headings(&mut self) {
        let Some(t) = self.toc else { return };
        for (ei, e) in t.entries.iter().enumerate() {
            let Some(pi) = e
                .page
                .and_then(|p| p.checked_sub(1))
                .filter(|&i| i < self.pages.len())
            else {
                continue;
            };
            if let Some((i, n)) = self.find_heading(pi, &e.title) {
                self.entry_rows.insert(ei, (pi, i));
                for j in i..i + n {
                    self.set(pi, j, Role::Heading);
                    self.levels.insert((pi, j), e.level);
                }
            }
        }
    }

    /// The rows of page `pi` that show `title`: (first row, rows): one
    /// row, or two read together (`Chapitre 1` over the title), with a
    /// chapter label just above (`Chapitre 2`, `II`).
    fn find_heading(&self, pi: usize, title: &str) -> Option<(usize, usize)> {
        let want = normalize_loose(title);
        let page = &self.pages[pi];
        let texts = &page.keys;
        let free = |i: usize| !self.fixed[pi][i] || self.roles[pi][i] == Role::Heading;
        let mut found = None;
        for i in 0..texts.len() {
            if !free(i) || page.rows[i].words.len() > 16 {
                continue;
            }
            if similarity(&texts[i], &want) >= 0.8 {
                found = Some((i, 1));
                break;
            }
            // `Chapitre 1` over the title: a short display first row.
            let label_row = {
                let r = &page.rows[i];
                r.words.len() <= 4
                    && !r.text().ends_with(['.', ',', ';', ':'])
                    && r.text_height() >= 1.1 * self.body_height
            };
            if i + 1 < texts.len() && free(i + 1) && label_row {
                let two = format!("{} {}", texts[i], texts[i + 1]);
                if similarity(&two, &want) >= 0.8 {
                    found = Some((i, 2));
                    break;
                }
            }
        }
        let (i, n) = found?;
        let label = i.checked_sub(1).filter(|&j| {
            let r = &page.rows[j];
            free(j)
                && r.words.len() <= 3
                && page.rows[i].bbox[1] - r.bbox[3] <= 2.0 * self.line_height
                && (chapter_label(&r.words) || r.text_height() >= TALL * self.body_height)
        });
        Some(match label {
            Some(j) => (j, n + 1),
            None => (i, n),
        })
    }

    /// Other headings, captions; the title page.
    fn the_rest(&mut self) {
        let first_entry_page = self
            .toc
            .and_then(|t| t.entries.iter().filter_map(|e| e.page).min())
            .unwrap_or(usize::MAX);
        let first_toc_page = self
            .toc
            .and_then(|t| t.toc_pages.first().copied())
            .unwrap_or(usize::MAX);
        for (pi, page) in self.pages.iter().enumerate() {
            for (i, row) in page.rows.iter().enumerate() {
                if self.fixed[pi][i] {
                    continue;
                }
                let text = row.text();
                let letters = text.chars().filter(|c| c.is_alphabetic()).count();
                let tall = row.text_height() >= TALL * self.body_height;
                let short = row.words.len() <= 8;
                let sentence_end = text.ends_with(['.', ',', ';', ':']);
                let front = page.number < first_entry_page.min(first_toc_page);
                // A title page is sparse: a few display lines.
                let title_page = front && page.rows.len() <= 8;
                if front && (tall || title_page) {
                    self.set(pi, i, Role::Title);
                } else if is_caption(&row.words) {
                    self.set(pi, i, Role::Caption);
                } else if (tall || numbered_heading(&row.words))
                    && short
                    && letters >= 2
                    && !sentence_end
                {
                    self.set(pi, i, Role::Heading);
                    self.levels
                        .insert((pi, i), numbering_level(&row.words).unwrap_or(2));
                } else if letters == 0 && row.words.len() <= 2 && page.is_edge(i) {
                    self.set(pi, i, Role::Other);
                }
            }
        }
    }
}

/// The median `height` of rows with several words (body text).
fn median_height(pages: &[PageView], height: fn(&Row) -> f32) -> f32 {
    let mut h: Vec<f32> = pages
        .iter()
        .flat_map(|p| &p.rows)
        .filter(|r| r.words.len() >= 5)
        .map(height)
        .collect();
    if h.is_empty() {
        return 1.0;
    }
    h.sort_by(f32::total_cmp);
    h[h.len() / 2].max(1.0)
}

/// A row's text as compared for running heads: page numbers left out.
fn key(text: &str) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| parse_page_number(w).is_none())
        .collect();
    normalize_loose(&words.join(" "))
}

/// The topmost (or bottommost) row of a page that is not its page number,
/// if it is short and in the top (or bottom) band, with its comparison key
/// (a heading at the top of a page sits below the running head, so only
/// the outermost line can be one).
fn band_rows(page: &PageView, roles: &[Role], top: bool, body_height: f32) -> Vec<(usize, String)> {
    let mut idx: Vec<usize> = (0..page.rows.len())
        .filter(|&i| roles[i] != Role::PageNumber)
        .collect();
    idx.sort_by(|&a, &b| page.rows[a].bbox[1].total_cmp(&page.rows[b].bbox[1]));
    if !top {
        idx.reverse();
    }
    idx.into_iter()
        .take(1)
        .filter(|&i| {
            let r = &page.rows[i];
            let cy = (r.bbox[1] + r.bbox[3]) / 2.0;
            let in_band = if top {
                cy < BAND * page.height
            } else {
                cy > (1.0 - BAND) * page.height
            };
            in_band && r.words.len() <= 14 && r.text_height() <= 1.6 * body_height
        })
        .map(|i| (i, key(&page.rows[i].text())))
        .collect()
}

/// Whether a word opens a footnote: a superscript or small number, a
/// symbol, or OCR's reading of a superscript one (`!`, `'`, `I`, `l`).
pub fn is_mark(word: &str) -> bool {
    let w = word.trim_end_matches(['.', ')']);
    !w.is_empty()
        && (w.chars().all(|c| "¹²³⁴⁵⁶⁷⁸⁹⁰".contains(c))
            || (w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit()))
            || matches!(
                w,
                "*" | "**" | "†" | "‡" | "§" | "!" | "'" | "’" | "I" | "l" | "|"
            ))
}

/// The rows of the footnote block at the foot of a page: below the body,
/// under a gap, smaller than body text, its first row opening with a mark.
fn footnote_rows(
    page: &PageView,
    roles: &[Role],
    body_height: f32,
    line_height: f32,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..page.rows.len())
        .filter(|&i| !roles[i].is_furniture())
        .collect();
    idx.sort_by(|&a, &b| page.rows[a].bbox[1].total_cmp(&page.rows[b].bbox[1]));
    // From the bottom up, the small rows.
    let mut zone: Vec<usize> = Vec::new();
    for &i in idx.iter().rev() {
        let r = &page.rows[i];
        // Smaller type, or smaller line spacing (word heights of a short
        // line are too few to tell).
        if r.text_height() <= SMALL * body_height || r.height() <= SMALL * line_height {
            zone.push(i);
        } else {
            break;
        }
    }
    zone.reverse();
    if zone.is_empty() {
        return Vec::new();
    }
    // The block starts at its first row that opens with a mark; OCR can
    // lose the mark (`¹4.1.5` read as `14.1.5`), so a block of small type
    // well apart from the text above counts as notes too.
    let marked = zone
        .iter()
        .position(|&i| page.rows[i].words.first().is_some_and(|w| is_mark(w)));
    let start = marked.unwrap_or(0);
    let zone = &zone[start..];
    let first = &page.rows[zone[0]];
    // Under a gap: the body row above ends well above the block.
    let above = idx
        .iter()
        .rev()
        .map(|&i| &page.rows[i])
        .find(|r| r.bbox[3] <= first.bbox[1] + 1.0);
    let needed = if marked.is_some() {
        0.6 * body_height
    } else {
        2.0 * line_height
    };
    let gap_ok = match above {
        Some(a) => first.bbox[1] - a.bbox[3] >= needed,
        None => false,
    };
    if gap_ok { zone.to_vec() } else { Vec::new() }
}

/// `Chapitre 2`, `Chapter IV`, `Kapitel 3`, `Part One`, or a lone number.
fn chapter_label(words: &[String]) -> bool {
    const WORDS: &[&str] = &[
        "chapitre",
        "chapter",
        "kapitel",
        "capitolo",
        "capítulo",
        "part",
        "partie",
        "teil",
        "livre",
        "book",
        "buch",
        "hoofdstuk",
    ];
    match words {
        [w] => parse_page_number(w).is_some(),
        [w, n] => {
            WORDS.contains(&w.to_lowercase().as_str())
                && (parse_page_number(n).is_some() || n.chars().all(char::is_alphabetic))
        }
        _ => false,
    }
}

/// `1.2` -> 2 for a row that opens with a section number.
fn numbering_level(words: &[String]) -> Option<usize> {
    let first = words.first()?.trim_end_matches('.');
    let parts: Vec<&str> = first.split('.').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
        .then_some(parts.len())
}

/// A short numbered section heading: `2.3 Erik Satie` (two levels or more,
/// a capital after the number, few words).
fn numbered_heading(words: &[String]) -> bool {
    numbering_level(words).is_some_and(|l| l >= 2)
        && words.len() <= 8
        && words
            .get(1)
            .and_then(|w| w.chars().next())
            .is_some_and(char::is_uppercase)
}

fn is_caption(words: &[String]) -> bool {
    const WORDS: &[&str] = &[
        "figure",
        "fig",
        "abbildung",
        "abb",
        "tableau",
        "table",
        "tabelle",
        "tab",
        "plate",
        "planche",
        "tafel",
    ];
    let (Some(first), Some(second)) = (words.first(), words.get(1)) else {
        return false;
    };
    let w = first.trim_end_matches(['.', ':']).to_lowercase();
    WORDS.contains(&w.as_str())
        && second
            .trim_end_matches(['.', ':'])
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || "IVXivx".contains(c))
}
