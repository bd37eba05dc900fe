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
    /// The authors the contents give (an edited volume's article).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use recto_toc::view::Row;
    use recto_toc::{Checks, Entry};

    /// A lexicon of a few words, standing in for a Hunspell dictionary.
    struct Words(&'static [&'static str]);

    impl Lexicon for Words {
        fn is_word(&self, w: &str) -> bool {
            self.0.contains(&w.to_lowercase().as_str())
        }
    }

    const LEX: Words = Words(&[
        "information",
        "paragraph",
        "state",
        "of",
        "the",
        "art",
        "continues",
        "here",
    ]);

    fn row(text: &str, x: f32, y: f32, h: f32) -> Row {
        Row::from_text(text, [x, y, x + 30.0 * text.len() as f32 / 2.0, y + h])
    }

    /// A page: a running head (unless `head` is None), body lines, optional
    /// footnote lines in smaller type under a gap, the page number.
    fn page(n: usize, head: Option<&str>, body: &[&str], notes: &[&str]) -> PageView {
        let mut rows = Vec::new();
        if let Some(h) = head {
            rows.push(row(h, 300.0, 60.0, 30.0));
        }
        for (i, b) in body.iter().enumerate() {
            rows.push(row(b, 100.0, 200.0 + 45.0 * i as f32, 30.0));
        }
        for (i, f) in notes.iter().enumerate() {
            rows.push(row(f, 100.0, 1150.0 + 30.0 * i as f32, 20.0));
        }
        rows.push(row(&n.to_string(), 480.0, 1340.0, 30.0));
        PageView::from_rows(n, 1000.0, 1400.0, rows)
    }

    fn toc(entries: &[(&str, usize)], pages: usize) -> Toc {
        Toc {
            schema_version: 1,
            citekey: "k".into(),
            page_count: pages,
            page_labels: (1..=pages).map(|p| Some(p.to_string())).collect(),
            page_label_confidence: vec![Some(0.99); pages],
            label_source: "printed".into(),
            label_coverage: 1.0,
            toc_pages: vec![],
            source: "printed_toc".into(),
            entries: entries
                .iter()
                .map(|(t, p)| Entry {
                    level: 1,
                    title: (*t).into(),
                    page: Some(*p),
                    label: Some(p.to_string()),
                    source: "printed_toc".into(),
                    confidence: 0.95,
                    authors: None,
                })
                .collect(),
            checks: Checks::default(),
            reason: None,
            warnings: vec![],
        }
    }

    fn roles_of(out: &Output, page: usize) -> Vec<(Role, String)> {
        out.segments.pages[page - 1]
            .lines
            .iter()
            .map(|l| (l.role, l.text.clone()))
            .collect()
    }

    #[test]
    fn furniture_footnotes_hyphens_and_units() {
        let pages = vec![
            // Chapter 1 opens without a running head.
            page(
                1,
                None,
                &[
                    "Getting Started",
                    "This opening paragraph of the chapter carries a mark¹ and some infor-",
                    "mation that runs on, with a state-of-the-",
                    "art compound kept whole as it",
                ],
                &["¹ A note at the foot of the first page, in smaller type."],
            ),
            // The paragraph continues across the page break; the heading on
            // this page repeats the running head's words.
            page(
                2,
                Some("Getting Started"),
                &[
                    "continues here after the page break.",
                    "Getting Started",
                    "A second paragraph under the repeated heading.",
                ],
                &[],
            ),
            page(
                3,
                None,
                &["Second Chapter", "Its own text begins here on a new page."],
                &[],
            ),
            page(
                4,
                Some("Second Chapter"),
                &["More of the second chapter, nothing special."],
                &[],
            ),
        ];
        // `Getting Started` on page 2 is a heading the body has (taller).
        let mut pages = pages;
        pages[1].rows[2].bbox[3] += 25.0;
        pages[1].rows[2].word_heights = vec![55.0; 2];
        for p in [0usize, 2] {
            pages[p].rows[0].bbox[3] += 25.0;
            pages[p].rows[0].word_heights = vec![55.0; 2];
        }
        let t = toc(&[("Getting Started", 1), ("Second Chapter", 3)], 4);
        let input = SegInput {
            citekey: "k".into(),
            pages,
            toc: Some(&t),
            lexicon: &LEX,
        };
        let out = segment(&input);

        // Roles: running heads and page numbers out; the heading equal to
        // the running head stays a heading; the note is a footnote.
        let p2 = roles_of(&out, 2);
        assert_eq!(p2[0], (Role::RunningHeader, "Getting Started".into()));
        assert_eq!(p2[2], (Role::Heading, "Getting Started".into()));
        assert_eq!(p2.last().unwrap().0, Role::PageNumber);
        let p1 = roles_of(&out, 1);
        assert_eq!(p1[0].0, Role::Heading);
        assert_eq!(p1[4].0, Role::Footnote, "{p1:?}");
        assert_eq!(roles_of(&out, 4)[0].0, Role::RunningHeader);

        // Units: one per chapter, from the TOC, no front matter.
        let units: Vec<(&str, usize, usize)> = out
            .segments
            .units
            .iter()
            .map(|u| (u.kind.as_str(), u.first_page, u.last_page))
            .collect();
        assert_eq!(units, vec![("chapter", 1, 2), ("chapter", 3, 4)]);

        // Text: the broken word joined (dictionary), the real hyphen kept,
        // the paragraph whole across the page break, no furniture, the mark
        // a reference with its note defined at the end.
        let md = &out.units_markdown[0];
        assert!(md.starts_with("# Getting Started\n\n"), "{md}");
        assert!(
            md.contains("a mark[^1] and some information that runs on"),
            "{md}"
        );
        assert!(
            md.contains(
                "state-of-the-art compound kept whole as it continues here after the page break."
            ),
            "{md}"
        );
        assert!(
            md.contains("\n\n## Getting Started\n\nA second paragraph"),
            "{md}"
        );
        assert!(
            md.trim_end()
                .ends_with("[^1]: A note at the foot of the first page, in smaller type."),
            "{md}"
        );
        assert!(!md.contains("\n2\n"), "{md}");
        assert_eq!(out.segments.footnotes.len(), 1);
        assert_eq!(out.segments.footnotes[0].unit, 1);
        assert_eq!(out.segments.counts.dehyphenated, 1);
        assert_eq!(out.segments.counts.hyphens_kept, 1);
        assert!(out.units_markdown[1].starts_with("# Second Chapter"));
        assert!(out.document_markdown.contains("# Second Chapter"));
    }

    #[test]
    fn a_document_without_a_toc_is_one_unit_cleaned_the_same_way() {
        let pages = vec![
            page(1, None, &["A short paper with a single run of text."], &[]),
            page(2, Some("A Short Paper"), &["Its second page goes on."], &[]),
            page(3, Some("A Short Paper"), &["And ends here."], &[]),
            PageView::empty(4),
        ];
        let input = SegInput {
            citekey: "k".into(),
            pages,
            toc: None,
            lexicon: &NoLexicon,
        };
        let out = segment(&input);
        assert_eq!(out.segments.units.len(), 1);
        assert_eq!(out.segments.units[0].kind, "article");
        assert_eq!(out.segments.pages[3].lines, vec![]);
        let md = &out.units_markdown[0];
        assert!(!md.contains("A Short Paper"), "{md}");
        assert_eq!(roles_of(&out, 2)[0].0, Role::RunningHeader);
        assert_eq!(roles_of(&out, 3).last().unwrap().0, Role::PageNumber);
    }

    #[test]
    fn list_items_are_items_and_their_wrapped_lines_join_them() {
        let mut rows: Vec<Row> = (0..6)
            .map(|i| {
                row(
                    "Some ordinary prose of the page before the list begins,",
                    100.0,
                    200.0 + 45.0 * i as f32,
                    30.0,
                )
            })
            .collect();
        for (text, x, y) in [
            ("• First item of the list that wraps", 100.0, 470.0),
            ("onto a second line under its text", 130.0, 515.0),
            ("• Second item", 100.0, 560.0),
            ("2. A numbered one", 100.0, 605.0),
            ("3", 480.0, 1340.0),
        ] {
            rows.push(row(text, x, y, 30.0));
        }
        let input = SegInput {
            citekey: "k".into(),
            pages: vec![PageView::from_rows(1, 1000.0, 1400.0, rows)],
            toc: None,
            lexicon: &LEX,
        };
        let out = segment(&input);
        let md = out.units_markdown.join("\n");
        assert!(
            md.contains("- First item of the list that wraps onto a second line under its text"),
            "{md}"
        );
        assert!(
            md.contains("\n\n- Second item\n\n2. A numbered one"),
            "{md}"
        );
    }

    #[test]
    fn decorated_page_numbers_leave_the_clean_text_whatever_the_label() {
        // `— 140 —` over an excerpt's page, with no TOC (no labels at all).
        let mut p = page(
            1,
            None,
            &["Die Gartenwirthschaft ihre Blüthen entfalten."],
            &[],
        );
        p.rows.insert(0, row("— 140 —", 450.0, 40.0, 30.0));
        let p = PageView::from_rows(1, 1000.0, 1400.0, p.rows);
        let input = SegInput {
            citekey: "k".into(),
            pages: vec![p],
            toc: None,
            lexicon: &LEX,
        };
        let out = segment(&input);
        let roles = roles_of(&out, 1);
        assert_eq!(roles[0], (Role::PageNumber, "— 140 —".into()), "{roles:?}");
        assert!(
            out.units_markdown.iter().all(|md| !md.contains("140")),
            "{:?}",
            out.units_markdown
        );
    }

    #[test]
    fn articles_have_their_authors_and_an_index_is_known_by_its_lines() {
        let terms: Vec<String> = (0..14)
            .map(|i| format!("Term number{i}, {}", 3 + i * 7))
            .collect();
        let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let mut pages = vec![
            page(
                1,
                None,
                &["On Reading", "A contribution about reading old books."],
                &[],
            ),
            page(
                2,
                None,
                &["On Writing", "Another contribution, about writing them."],
                &[],
            ),
            page(3, None, &[&["Terms"][..], &term_refs[..]].concat(), &[]),
        ];
        for p in &mut pages {
            p.rows[0].word_heights = vec![55.0; p.rows[0].words.len()];
        }
        let mut t = toc(&[("On Reading", 1), ("On Writing", 2), ("Terms", 3)], 3);
        t.entries[0].authors = Some("Jane Doe".into());
        t.entries[1].authors = Some("John Roe and Mary Major".into());
        let out = segment(&SegInput {
            citekey: "k".into(),
            pages,
            toc: Some(&t),
            lexicon: &NoLexicon,
        });
        let units: Vec<(&str, Option<&str>)> = out
            .segments
            .units
            .iter()
            .map(|u| (u.kind.as_str(), u.authors.as_deref()))
            .collect();
        assert_eq!(
            units,
            vec![
                ("article", Some("Jane Doe")),
                ("article", Some("John Roe and Mary Major")),
                ("index", None),
            ]
        );
    }
}
