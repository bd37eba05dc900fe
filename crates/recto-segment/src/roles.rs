//! The role of every line: furniture first (page numbers from the page
//! labels, running heads and feet by comparing each page with its
//! neighbours, footnotes at the foot in a smaller size under a gap, starting
//! with a mark), then the contents pages, the headings the TOC names (and
//! other display lines), captions, the title page, and body text.

use std::collections::BTreeMap;

use recto_toc::text::{normalize_loose, parse_page_number, similarity};
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
    /// The median height of body rows.
    pub body_height: f32,
}

/// A heading row is at least this much taller than body rows.
const TALL: f32 = 1.2;
/// A footnote row is at most this much as tall as body rows.
const SMALL: f32 = 0.88;
/// Running heads and feet are found within this share of the page height.
const BAND: f32 = 0.12;
/// Pages either side compared for running heads.
const NEIGHBOURS: usize = 6;

/// Classify every row of every page.
pub fn classify(pages: &[PageView], toc: Option<&Toc>) -> Labelled {
    let body_height = body_height(pages);
    let mut roles: Vec<Vec<Role>> = pages
        .iter()
        .map(|p| vec![Role::Body; p.rows.len()])
        .collect();
    let mut fixed: Vec<Vec<bool>> = pages.iter().map(|p| vec![false; p.rows.len()]).collect();
    let set =
        |roles: &mut Vec<Vec<Role>>, fixed: &mut Vec<Vec<bool>>, p: usize, i: usize, r: Role| {
            // The first role given to a line stands.
            if !fixed[p][i] {
                roles[p][i] = r;
                fixed[p][i] = true;
            }
        };

    // Page numbers: the page's label, alone on an edge row.
    for (pi, page) in pages.iter().enumerate() {
        let label = toc.and_then(|t| t.page_labels.get(pi).cloned().flatten());
        for (i, row) in page.rows.iter().enumerate() {
            if !page.is_edge(i) || row.words.len() > 3 {
                continue;
            }
            let joined = row.words.concat();
            let t = joined.trim_matches(|c: char| !c.is_alphanumeric());
            let is_number = match &label {
                Some(l) => t.eq_ignore_ascii_case(l),
                None => parse_page_number(&joined).is_some() && row.words.len() <= 2,
            };
            if is_number {
                set(&mut roles, &mut fixed, pi, i, Role::PageNumber);
            }
        }
    }

    // Running heads and feet.
    let titles: Vec<String> = toc
        .map(|t| t.entries.iter().map(|e| key(&e.title)).collect())
        .unwrap_or_default();
    let heads: Vec<Vec<(usize, String)>> = pages
        .iter()
        .map(|p| band_rows(p, true, body_height))
        .collect();
    let feet: Vec<Vec<(usize, String)>> = pages
        .iter()
        .map(|p| band_rows(p, false, body_height))
        .collect();
    for (pi, _) in pages.iter().enumerate() {
        for (band, role) in [(&heads, Role::RunningHeader), (&feet, Role::RunningFooter)] {
            for (i, k) in &band[pi] {
                if k.is_empty() || fixed[pi][*i] {
                    continue;
                }
                let lo = pi.saturating_sub(NEIGHBOURS);
                let hi = (pi + NEIGHBOURS).min(pages.len() - 1);
                let repeated = (lo..=hi)
                    .filter(|&q| q != pi)
                    .any(|q| band[q].iter().any(|(_, other)| similarity(k, other) >= 0.8));
                let names_entry = role == Role::RunningHeader
                    && titles
                        .iter()
                        .any(|t| !t.is_empty() && similarity(k, t) >= 0.8);
                if repeated || names_entry {
                    set(&mut roles, &mut fixed, pi, *i, role);
                }
            }
        }
    }

    // Footnotes.
    for (pi, page) in pages.iter().enumerate() {
        for i in footnote_rows(page, &roles[pi], body_height) {
            set(&mut roles, &mut fixed, pi, i, Role::Footnote);
        }
    }

    // Contents pages.
    let mut levels = BTreeMap::new();
    if let Some(t) = toc {
        for &tp in &t.toc_pages {
            let Some(pi) = tp.checked_sub(1).filter(|&i| i < pages.len()) else {
                continue;
            };
            let region = recto_toc::printed::region(&pages[pi]);
            for i in 0..pages[pi].rows.len() {
                let r = if region.contains(&i) {
                    Role::Toc
                } else if i < region.start {
                    Role::Heading
                } else {
                    continue;
                };
                set(&mut roles, &mut fixed, pi, i, r);
                if r == Role::Heading {
                    levels.insert((pi, i), 1);
                }
            }
        }
    }

    // Headings the TOC names, on their page: one row, or two read together
    // (`Chapitre 1` over the title).
    let mut entry_rows = BTreeMap::new();
    if let Some(t) = toc {
        for (ei, e) in t.entries.iter().enumerate() {
            let Some(pi) = e
                .page
                .and_then(|p| p.checked_sub(1))
                .filter(|&i| i < pages.len())
            else {
                continue;
            };
            let want = normalize_loose(&e.title);
            let page = &pages[pi];
            let texts: Vec<String> = page
                .rows
                .iter()
                .map(|r| normalize_loose(&r.text()))
                .collect();
            let free = |i: usize| !fixed[pi][i] || roles[pi][i] == Role::Heading;
            let mut found = None;
            for i in 0..texts.len() {
                if !free(i) || page.rows[i].words.len() > 16 {
                    continue;
                }
                if similarity(&texts[i], &want) >= 0.8 {
                    found = Some((i, 1));
                    break;
                }
                if i + 1 < texts.len() && free(i + 1) {
                    let two = format!("{} {}", texts[i], texts[i + 1]);
                    if similarity(&two, &want) >= 0.8 || two.ends_with(&want) && want.len() >= 8 {
                        found = Some((i, 2));
                        break;
                    }
                }
            }
            if let Some((i, n)) = found {
                entry_rows.insert(ei, (pi, i));
                for j in i..i + n {
                    set(&mut roles, &mut fixed, pi, j, Role::Heading);
                    levels.insert((pi, j), e.level);
                }
            }
        }
    }

    // Other headings, captions; the title page.
    let first_entry_page = toc
        .and_then(|t| t.entries.iter().filter_map(|e| e.page).min())
        .unwrap_or(usize::MAX);
    let first_toc_page = toc
        .and_then(|t| t.toc_pages.first().copied())
        .unwrap_or(usize::MAX);
    for (pi, page) in pages.iter().enumerate() {
        for (i, row) in page.rows.iter().enumerate() {
            if fixed[pi][i] {
                continue;
            }
            let text = row.text();
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            let tall = row.height() >= TALL * body_height;
            let short = row.words.len() <= 14;
            let front = page.number < first_entry_page.min(first_toc_page);
            if front && tall {
                set(&mut roles, &mut fixed, pi, i, Role::Title);
            } else if is_caption(&row.words) {
                set(&mut roles, &mut fixed, pi, i, Role::Caption);
            } else if tall && short && letters >= 2 && !text.ends_with([',', ';']) {
                set(&mut roles, &mut fixed, pi, i, Role::Heading);
                levels.insert((pi, i), 2);
            } else if letters == 0 && row.words.len() <= 2 && page.is_edge(i) {
                set(&mut roles, &mut fixed, pi, i, Role::Other);
            }
        }
    }
    Labelled {
        roles,
        levels,
        entry_rows,
        body_height,
    }
}

/// The median height of rows with several words (body text).
fn body_height(pages: &[PageView]) -> f32 {
    let mut h: Vec<f32> = pages
        .iter()
        .flat_map(|p| &p.rows)
        .filter(|r| r.words.len() >= 5)
        .map(|r| r.height())
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

/// The short rows in the top (or bottom) band of a page, topmost (or
/// bottommost) first, at most two, with their comparison keys.
fn band_rows(page: &PageView, top: bool, body_height: f32) -> Vec<(usize, String)> {
    let mut idx: Vec<usize> = (0..page.rows.len()).collect();
    idx.sort_by(|&a, &b| page.rows[a].bbox[1].total_cmp(&page.rows[b].bbox[1]));
    if !top {
        idx.reverse();
    }
    idx.into_iter()
        .take(2)
        .filter(|&i| {
            let r = &page.rows[i];
            let cy = (r.bbox[1] + r.bbox[3]) / 2.0;
            let in_band = if top {
                cy < BAND * page.height
            } else {
                cy > (1.0 - BAND) * page.height
            };
            in_band && r.words.len() <= 14 && r.height() <= 1.6 * body_height
        })
        .map(|i| (i, key(&page.rows[i].text())))
        .collect()
}

/// Whether a word opens a footnote: a superscript or small number, a
/// symbol, or OCR's reading of a superscript one (`!`, `'`).
pub fn is_mark(word: &str) -> bool {
    let w = word.trim_end_matches(['.', ')']);
    !w.is_empty()
        && (w.chars().all(|c| "¹²³⁴⁵⁶⁷⁸⁹⁰".contains(c))
            || (w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit()))
            || matches!(w, "*" | "**" | "†" | "‡" | "§" | "!" | "'" | "’"))
}

/// The rows of the footnote block at the foot of a page: below the body,
/// under a gap, smaller than body text, its first row opening with a mark.
fn footnote_rows(page: &PageView, roles: &[Role], body_height: f32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..page.rows.len())
        .filter(|&i| !roles[i].is_furniture())
        .collect();
    idx.sort_by(|&a, &b| page.rows[a].bbox[1].total_cmp(&page.rows[b].bbox[1]));
    // From the bottom up, the small rows.
    let mut zone: Vec<usize> = Vec::new();
    for &i in idx.iter().rev() {
        let r = &page.rows[i];
        if r.height() <= SMALL * body_height {
            zone.push(i);
        } else {
            break;
        }
    }
    zone.reverse();
    // The block starts at its first row that opens with a mark.
    let Some(start) = zone
        .iter()
        .position(|&i| page.rows[i].words.first().is_some_and(|w| is_mark(w)))
    else {
        return Vec::new();
    };
    let zone = &zone[start..];
    let first = &page.rows[zone[0]];
    // Under a gap: the body row above ends well above the block.
    let above = idx
        .iter()
        .rev()
        .map(|&i| &page.rows[i])
        .find(|r| r.bbox[3] <= first.bbox[1] + 1.0);
    let gap_ok = match above {
        Some(a) => first.bbox[1] - a.bbox[3] >= 0.8 * body_height,
        None => false,
    };
    if gap_ok { zone.to_vec() } else { Vec::new() }
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
