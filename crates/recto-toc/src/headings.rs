//! Headings, for a document with neither outline nor printed contents:
//! rows clearly taller than the body text, or numbered like sections, or
//! opening with Chapter / Kapitel / Chapitre, that are short and are not
//! running heads.

use crate::text::normalize;
use crate::view::PageView;

/// A heading found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    pub title: String,
    pub page: usize,
    pub level: usize,
    pub height: f32,
}

/// Words that open a chapter heading, normalised.
const CHAPTER_WORDS: &[&str] = &[
    "chapter",
    "chapitre",
    "kapitel",
    "capitolo",
    "capítulo",
    "hoofdstuk",
    "part",
    "partie",
    "teil",
    "book",
    "livre",
    "buch",
];

/// A heading row is at least this much taller than the median body row.
const TALL: f32 = 1.3;
/// Headings are short.
const MAX_WORDS: usize = 14;
/// More headings than this per page on average means the signal is noise
/// (a page of display type, a table), so none are reported.
const MAX_PER_PAGE: f64 = 3.0;

fn numbered(text: &str) -> Option<usize> {
    let mut it = text.split_whitespace();
    let first = it.next()?;
    let second = it.next()?;
    let t = first.trim_end_matches('.');
    let parts: Vec<&str> = t.split('.').collect();
    let ok = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()));
    let capital = second.chars().next().is_some_and(char::is_uppercase);
    (ok && capital).then_some(parts.len())
}

fn chapter_word(text: &str) -> bool {
    let n = normalize(text);
    let mut words = n.split_whitespace();
    match (words.next(), words.next()) {
        (Some(w), Some(_)) => CHAPTER_WORDS.contains(&w),
        _ => false,
    }
}

/// The headings of a document, in reading order, levels by height (the
/// tallest class is level 1) or by section number.
pub fn find_headings(pages: &[PageView]) -> Vec<Heading> {
    let mut heights: Vec<f32> = pages
        .iter()
        .flat_map(|p| p.rows.iter())
        .filter(|r| r.words.len() >= 6)
        .map(|r| r.height())
        .collect();
    if heights.is_empty() {
        return Vec::new();
    }
    heights.sort_by(f32::total_cmp);
    let body = heights[heights.len() / 2].max(1.0);
    let mut found = Vec::new();
    for p in pages {
        for (i, row) in p.rows.iter().enumerate() {
            if p.is_edge(i) && p.in_band(row) {
                continue;
            }
            let text = row.text();
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            if row.words.len() > MAX_WORDS || letters < 3 || text.ends_with([',', ';']) {
                continue;
            }
            let tall = row.height() >= TALL * body;
            let depth = numbered(&text).filter(|_| row.height() >= 1.05 * body);
            if tall || depth.is_some() || chapter_word(&text) && row.height() >= body {
                found.push((
                    Heading {
                        title: text,
                        page: p.number,
                        level: 1,
                        height: row.height(),
                    },
                    depth,
                ));
            }
        }
    }
    if found.len() as f64 > MAX_PER_PAGE * pages.len() as f64 {
        return Vec::new();
    }
    // Height classes, tallest first, within 8% of each other.
    let mut classes: Vec<f32> = found.iter().map(|h| h.0.height).collect();
    classes.sort_by(|a, b| b.total_cmp(a));
    let mut levels: Vec<f32> = Vec::new();
    for h in classes {
        if levels.last().is_none_or(|&l| h < 0.92 * l) {
            levels.push(h);
        }
    }
    found
        .into_iter()
        .map(|(mut h, depth)| {
            let by_height = levels
                .iter()
                .position(|&l| h.height >= 0.92 * l)
                .map_or(1, |i| i + 1);
            h.level = depth.unwrap_or(by_height);
            h
        })
        .collect()
}
