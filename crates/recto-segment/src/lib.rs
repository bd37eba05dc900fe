//! Segmentation: every line of every page given its role, the document cut
//! into units (chapters, articles, front matter, bibliography, index), and
//! each unit's clean text as Markdown, from the page JSON and the table of
//! contents the TOC step found.
//!
//! Like `recto-toc` this crate is pure: page views and the TOC in, the
//! segments and Markdown out; no I/O, no native library. The spelling
//! dictionary that decides line-end hyphens comes in as a [`Lexicon`].
//!
//! The parts: [`roles`] (furniture: page numbers, running heads and feet,
//! footnotes; then contents, headings, captions, title, body), [`units`]
//! (units from the level-1 entries of the TOC), [`markdown`] (paragraphs,
//! dehyphenation, footnote references).

pub mod markdown;
pub mod roles;
pub mod units;

use std::collections::BTreeMap;

use recto_toc::{PageView, Toc};
use serde::{Deserialize, Serialize};

pub use crate::roles::Role;

/// Version of `segments.json`.
pub const SEGMENTS_SCHEMA_VERSION: u32 = 1;

/// A spelling dictionary: whether a word is one.
pub trait Lexicon: Sync {
    fn is_word(&self, word: &str) -> bool;
}

/// No dictionary: only the document's own vocabulary decides hyphens.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLexicon;

impl Lexicon for NoLexicon {
    fn is_word(&self, _: &str) -> bool {
        false
    }
}

/// What segmentation reads.
pub struct SegInput<'a> {
    pub citekey: String,
    /// Every physical page, in order, rows in reading order.
    pub pages: Vec<PageView>,
    /// The table of contents and page labels, when the TOC step found any.
    pub toc: Option<&'a Toc>,
    pub lexicon: &'a dyn Lexicon,
}

impl std::fmt::Debug for SegInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegInput")
            .field("citekey", &self.citekey)
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

/// One line of a page with its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegLine {
    /// `p3-l12`: page 3, line 12 (0-based, in reading order).
    pub id: String,
    pub role: Role,
    pub text: String,
    pub bbox: [i32; 4],
}

/// One page's lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegPage {
    pub page: usize,
    pub label: Option<String>,
    pub lines: Vec<SegLine>,
}

/// A unit of the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// `front_matter`, `chapter`, `article`, `bibliography`, `index`,
    /// `appendix` or `back_matter`.
    pub kind: String,
    pub title: Option<String>,
    pub level: usize,
    pub first_page: usize,
    pub last_page: usize,
    /// The id of the unit's first line (a unit can begin mid-page).
    pub first_line: Option<String>,
    /// Its Markdown file, `unit_NNN.md`.
    pub file: String,
}

/// A footnote, apart from the text it annotates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Footnote {
    pub page: usize,
    pub mark: String,
    pub text: String,
    /// The unit it belongs to (1-based, as in `unit_NNN.md`).
    pub unit: usize,
}

/// What was done, for the step metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Lines per role.
    pub lines: BTreeMap<String, usize>,
    /// Line-end hyphens removed (a word broken at the line end joined).
    pub dehyphenated: usize,
    /// Line-end hyphens kept (a real hyphen: `state-of-the-art`).
    pub hyphens_kept: usize,
    /// Footnote marks taken out of the body text.
    pub footnote_marks: usize,
}

/// `segments.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    pub schema_version: u32,
    pub citekey: String,
    pub page_count: usize,
    pub units: Vec<Unit>,
    pub pages: Vec<SegPage>,
    pub footnotes: Vec<Footnote>,
    pub counts: Counts,
}

/// Everything segmentation produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub segments: Segments,
    /// The Markdown of each unit, in order (`unit_001.md`, ...).
    pub units_markdown: Vec<String>,
    /// All units in order (`document.md`).
    pub document_markdown: String,
}

/// Segment one document.
pub fn segment(input: &SegInput<'_>) -> Output {
    let labelled = roles::classify(&input.pages, input.toc);
    let units = units::find_units(&input.pages, &labelled, input.toc);
    let (units_markdown, footnotes, mut counts) =
        markdown::render(&input.pages, &labelled, &units, input.lexicon);
    let mut pages = Vec::with_capacity(input.pages.len());
    for (page, roles) in input.pages.iter().zip(&labelled.roles) {
        let lines: Vec<SegLine> = page
            .rows
            .iter()
            .zip(roles)
            .enumerate()
            .map(|(i, (row, role))| SegLine {
                id: line_id(page.number, i),
                role: *role,
                text: row.text(),
                bbox: row.bbox.map(|v| v.round() as i32),
            })
            .collect();
        for l in &lines {
            *counts.lines.entry(l.role.as_str().to_owned()).or_default() += 1;
        }
        pages.push(SegPage {
            page: page.number,
            label: input
                .toc
                .and_then(|t| t.page_labels.get(page.number - 1).cloned().flatten()),
            lines,
        });
    }
    let document_markdown = units_markdown.join("\n\n");
    Output {
        segments: Segments {
            schema_version: SEGMENTS_SCHEMA_VERSION,
            citekey: input.citekey.clone(),
            page_count: input.pages.len(),
            units,
            pages,
            footnotes,
            counts,
        },
        units_markdown,
        document_markdown,
    }
}

/// The id of line `index` of `page`.
pub fn line_id(page: usize, index: usize) -> String {
    format!("p{page}-l{index}")
}
