//! A document's table of contents, linked to physical pages and printed
//! page labels, from what recto already has: the page JSON of every page
//! (text layer or OCR, with boxes) and, where the PDF has them, its outline
//! and /PageLabels.
//!
//! Four sources, each checked against the others:
//! 1. the PDF outline (bookmarks), each title looked for on its page;
//! 2. page labels: the PDF's own when the printed numbers agree, else the
//!    numbers printed on the pages ([`labels`]);
//! 3. printed contents pages ([`printed`]), each entry's label mapped to a
//!    physical page through the labels and the link verified by finding
//!    the title on that page or near it (and corrected when found near);
//! 4. headings ([`headings`]) when there is neither outline nor contents.
//!
//! This crate reads page JSON types only: no MuPDF, no Tesseract, no I/O.
//! The caller reads the PDF's outline and labels and hands them in.

mod find;
pub mod headings;
pub mod labels;
mod link;
pub mod printed;
pub mod text;
pub mod view;

use serde::{Deserialize, Serialize};

pub use crate::find::title_on_page;
use crate::labels::LabelSource;
use crate::link::*;
use crate::text::{normalize, similarity};
pub use crate::view::PageView;

/// Version of the `toc.json` format.
pub const TOC_SCHEMA_VERSION: u32 = 1;

/// A title matches a row when their normalised forms are this similar.
pub const TITLE_MATCH: f64 = 0.8;

/// One item of the PDF's outline, as the PDF reader hands it in.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineItem {
    /// 1 for top-level items.
    pub level: usize,
    pub title: String,
    /// Physical page (1-based) the item points to, if it resolves to one.
    pub page: Option<usize>,
}

/// What the analysis reads.
#[derive(Debug, Clone)]
pub struct TocInput {
    pub citekey: String,
    /// Every physical page in order (an empty view for a page without JSON).
    pub pages: Vec<PageView>,
    pub outline: Vec<OutlineItem>,
    /// The PDF's /PageLabels, one per page, when it has them.
    pub pdf_labels: Option<Vec<String>>,
}

/// One entry of the table of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub level: usize,
    pub title: String,
    /// Physical page, 1-based.
    pub page: Option<usize>,
    /// The printed label of that page.
    pub label: Option<String>,
    /// `outline`, `printed_toc` or `headings`.
    pub source: String,
    /// 0..1: 1 for an outline entry whose title is on its page, lower for
    /// links that could not be verified.
    pub confidence: f32,
    /// The authors the printed contents give for the entry (an edited
    /// volume's articles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
}

/// Where two sources disagreed, or a link could not be made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    pub title: String,
    pub page: Option<usize>,
    pub reason: String,
}

/// How the sources were checked against each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    /// Entries whose title was found on the page they link to.
    pub verified: usize,
    /// Printed contents entries whose link was moved to the page where
    /// their title is.
    pub corrected: usize,
    /// With both an outline and printed contents: printed entries whose
    /// title is in the outline, and of those, how many link to the same page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_in_outline: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_same_page: Option<usize>,
    /// Whether the PDF's /PageLabels agreed with the printed numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_labels_consistent: Option<bool>,
    pub disagreements: Vec<Disagreement>,
}

/// `toc.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Toc {
    pub schema_version: u32,
    pub citekey: String,
    pub page_count: usize,
    /// One per physical page: its printed label, or null.
    pub page_labels: Vec<Option<String>>,
    /// Beside `page_labels`, how sure each label is (0-1; null where there
    /// is no label): read on the page (>= 0.95), inferred from the
    /// numbering around it (0.6-0.8), or contradicted by the number the
    /// page itself prints (0.3, with a warning).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page_label_confidence: Vec<Option<f64>>,
    /// `pdf`, `printed` or `none`.
    pub label_source: String,
    /// Share of pages with a label.
    pub label_coverage: f64,
    /// Physical pages of the printed contents.
    pub toc_pages: Vec<usize>,
    /// The source the entries come from: `outline`, `printed_toc`,
    /// `headings`, or `none`.
    pub source: String,
    pub entries: Vec<Entry>,
    pub checks: Checks,
    /// Why there are no entries, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub warnings: Vec<String>,
}

/// Build the table of contents of one document.
pub fn build_toc(input: &TocInput) -> Toc {
    let pages = &input.pages;
    let n = pages.len();
    let mut warnings = Vec::new();
    let mut checks = Checks::default();
    let (page_labels, page_label_confidence, label_source) =
        choose_labels(input, &mut checks, &mut warnings);
    let label_of = |p: Option<usize>| p.and_then(|p| page_labels.get(p - 1).cloned().flatten());

    let printed = printed::find_printed_toc(pages);
    let (source, entries) = if !input.outline.is_empty() {
        let entries = outline_entries(input, &label_of, &mut checks, &mut warnings);
        if !printed.entries.is_empty() {
            compare_printed(pages, &printed, &page_labels, &entries, &mut checks);
        }
        ("outline", entries)
    } else if !printed.entries.is_empty() {
        let entries = link_printed(pages, &printed, &page_labels, &mut checks);
        for e in entries.iter().filter(|e| e.page.is_none()) {
            warnings.push(format!(
                "contents entry {:?} (page {}) could not be linked to a page of the document",
                e.title,
                e.label.as_deref().unwrap_or("?")
            ));
        }
        ("printed_toc", entries)
    } else {
        let entries: Vec<Entry> = headings::find_headings(pages)
            .into_iter()
            .map(|h| Entry {
                level: h.level,
                title: h.title,
                page: Some(h.page),
                label: label_of(Some(h.page)),
                source: "headings".into(),
                confidence: 0.5,
                authors: None,
            })
            .collect();
        (
            if entries.is_empty() {
                "none"
            } else {
                "headings"
            },
            entries,
        )
    };
    let labelled = page_labels.iter().filter(|l| l.is_some()).count();
    Toc {
        schema_version: TOC_SCHEMA_VERSION,
        citekey: input.citekey.clone(),
        page_count: n,
        label_coverage: if n == 0 {
            0.0
        } else {
            ((labelled as f64 / n as f64) * 1000.0).round() / 1000.0
        },
        page_labels,
        page_label_confidence,
        label_source: label_source.as_str().into(),
        toc_pages: printed.pages.clone(),
        source: source.into(),
        reason: entries
            .is_empty()
            .then(|| "no outline, no printed contents and no headings were found".to_owned()),
        entries,
        checks,
        warnings,
    }
}

/// Each page's label: the PDF's own when they agree with the numbers
/// printed on the pages, else the printed ones, else none.
/// The labels, their confidences, and where they came from.
type Labels = (Vec<Option<String>>, Vec<Option<f64>>, LabelSource);

fn choose_labels(input: &TocInput, checks: &mut Checks, warnings: &mut Vec<String>) -> Labels {
    let n = input.pages.len();
    let printed = labels::printed_labels(&input.pages);
    let use_printed = |printed: labels::Printed, warnings: &mut Vec<String>| {
        for (page, read, label) in &printed.contradicted {
            warnings.push(format!(
                "page {page} prints {read:?} where the numbering around it says {label:?}; labelled {label:?} with low confidence"
            ));
        }
        (printed.labels, printed.confidence, LabelSource::Printed)
    };
    match &input.pdf_labels {
        Some(pdf) if pdf.len() == n => {
            let ok = labels::pdf_labels_consistent(pdf, &printed);
            checks.pdf_labels_consistent = Some(ok);
            if ok {
                let labels: Vec<Option<String>> = pdf
                    .iter()
                    .map(|l| (!l.is_empty()).then(|| l.clone()))
                    .collect();
                // The producer's labels, checked against what the page reads.
                let confidence = labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let l = l.as_ref()?;
                        Some(match printed.read.get(&(i + 1)) {
                            Some(r) if r == l => 0.99,
                            Some(_) => 0.5,
                            None => 0.95,
                        })
                    })
                    .collect();
                (labels, confidence, LabelSource::Pdf)
            } else {
                warnings.push(
                    "the PDF's page labels disagree with the printed page numbers; the printed ones are used"
                        .to_owned(),
                );
                use_printed(printed, warnings)
            }
        }
        _ if printed.labels.iter().any(Option::is_some) => use_printed(printed, warnings),
        _ => (vec![None; n], vec![None; n], LabelSource::None),
    }
}

/// The outline's entries, each checked against the page it links to.
fn outline_entries(
    input: &TocInput,
    label_of: &dyn Fn(Option<usize>) -> Option<String>,
    checks: &mut Checks,
    warnings: &mut Vec<String>,
) -> Vec<Entry> {
    let pages = &input.pages;
    let n = pages.len();
    let mut entries = Vec::new();
    for item in &input.outline {
        let page = match item.page {
            Some(p) if (1..=n).contains(&p) => Some(p),
            Some(p) => {
                warnings.push(format!(
                    "outline entry {:?} points to page {p}, beyond the document's {n} pages",
                    item.title
                ));
                None
            }
            None => {
                warnings.push(format!(
                    "outline entry {:?} has no destination in the document",
                    item.title
                ));
                None
            }
        };
        let found = page.is_some_and(|p| title_on_page(&pages[p - 1], &item.title));
        if found {
            checks.verified += 1;
        } else if page.is_some() {
            checks.disagreements.push(Disagreement {
                title: item.title.clone(),
                page,
                reason: "title not found on the page the outline links to".into(),
            });
        }
        entries.push(Entry {
            level: item.level.max(1),
            title: item.title.trim().to_owned(),
            page,
            label: label_of(page),
            source: "outline".into(),
            confidence: match (page, found) {
                (Some(_), true) => 1.0,
                (Some(_), false) => 0.9,
                (None, _) => 0.0,
            },
            authors: None,
        });
    }
    entries
}

/// The printed contents against the outline: how many of its titles the
/// outline has, on the same page, and each that disagrees.
fn compare_printed(
    pages: &[PageView],
    printed: &printed::PrintedToc,
    page_labels: &[Option<String>],
    outline: &[Entry],
    checks: &mut Checks,
) {
    let linked = link_printed(pages, printed, page_labels, &mut Checks::default());
    let (mut same_title, mut same_page) = (0, 0);
    for p in &linked {
        let t = normalize(&p.title);
        let Some(o) = outline
            .iter()
            .find(|o| similarity(&normalize(&o.title), &t) >= TITLE_MATCH)
        else {
            continue;
        };
        same_title += 1;
        if o.page == p.page {
            same_page += 1;
        } else {
            checks.disagreements.push(Disagreement {
                title: p.title.clone(),
                page: p.page,
                reason: format!(
                    "printed contents link it to page {:?}, the outline to page {:?}",
                    p.page, o.page
                ),
            });
        }
    }
    checks.printed_in_outline = Some(same_title);
    checks.printed_same_page = Some(same_page);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Row;

    fn row(text: &str, x: f32, y: f32, h: f32) -> Row {
        Row::from_text(text, [x, y, x + 600.0, y + h])
    }

    /// A body page: an optional heading row (of height `hh`), prose, and
    /// an optional printed number at the foot.
    fn page(n: usize, heading: Option<(&str, f32)>, number: Option<&str>) -> PageView {
        let mut rows = Vec::new();
        if let Some((h, hh)) = heading {
            rows.push(row(h, 100.0, 150.0, hh));
        }
        for i in 0..15 {
            rows.push(row(
                "plain prose words that fill a line of this page",
                100.0,
                250.0 + 40.0 * i as f32,
                20.0,
            ));
        }
        if let Some(num) = number {
            rows.push(row(num, 480.0, 1320.0, 20.0));
        }
        PageView::from_rows(n, 1000.0, 1400.0, rows)
    }

    fn input(pages: Vec<PageView>) -> TocInput {
        TocInput {
            citekey: "k".into(),
            pages,
            outline: Vec::new(),
            pdf_labels: None,
        }
    }

    #[test]
    fn without_printed_numbers_the_contents_are_placed_by_the_offset_titles_agree_on() {
        let contents = PageView::from_rows(
            2,
            1000.0,
            1400.0,
            vec![
                row("Contents", 100.0, 100.0, 20.0),
                row("First Things . . . . . . 1", 100.0, 200.0, 20.0),
                row("Second Things . . . . . . 2", 100.0, 240.0, 20.0),
                row("Last Things . . . . . . 4", 100.0, 280.0, 20.0),
            ],
        );
        let pages = vec![
            page(1, Some(("A Title Page", 40.0)), None),
            contents,
            page(3, Some(("First Things", 20.0)), None),
            page(4, Some(("Second Things", 20.0)), None),
            page(5, None, None),
            page(6, Some(("Last Things", 20.0)), None),
        ];
        let toc = build_toc(&input(pages));
        assert_eq!(toc.label_source, "none");
        assert_eq!(toc.source, "printed_toc");
        let got: Vec<(&str, Option<usize>)> = toc
            .entries
            .iter()
            .map(|e| (e.title.as_str(), e.page))
            .collect();
        assert_eq!(
            got,
            vec![
                ("First Things", Some(3)),
                ("Second Things", Some(4)),
                ("Last Things", Some(6)),
            ]
        );
        assert_eq!(toc.checks.verified, 3);
    }

    #[test]
    fn headings_stand_in_when_there_is_nothing_else() {
        let pages = vec![
            page(1, Some(("On the Nature of Things", 40.0)), Some("1")),
            page(2, None, Some("2")),
            page(3, Some(("Of Other Matters", 40.0)), Some("3")),
            page(4, Some(("A Smaller Part", 28.0)), Some("4")),
        ];
        let toc = build_toc(&input(pages));
        assert_eq!(toc.source, "headings");
        let got: Vec<(usize, &str, Option<usize>, Option<&str>)> = toc
            .entries
            .iter()
            .map(|e| (e.level, e.title.as_str(), e.page, e.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "On the Nature of Things", Some(1), Some("1")),
                (1, "Of Other Matters", Some(3), Some("3")),
                (2, "A Smaller Part", Some(4), Some("4")),
            ]
        );
    }

    #[test]
    fn pdf_labels_that_contradict_the_printed_numbers_are_not_used() {
        let pages: Vec<PageView> = (1..=6)
            .map(|n| page(n, None, Some(&(n + 10).to_string())))
            .collect();
        let mut inp = input(pages);
        inp.pdf_labels = Some((1..=6).map(|n| n.to_string()).collect());
        let toc = build_toc(&inp);
        assert_eq!(toc.label_source, "printed");
        assert_eq!(toc.checks.pdf_labels_consistent, Some(false));
        assert_eq!(toc.page_labels[0].as_deref(), Some("11"));
        assert!(toc.warnings[0].contains("disagree"), "{:?}", toc.warnings);
        // The same labels printed on the pages are the PDF's to use.
        inp.pdf_labels = Some((1..=6).map(|n| (n + 10).to_string()).collect());
        assert_eq!(build_toc(&inp).label_source, "pdf");
    }

    #[test]
    fn an_outline_pointing_outside_the_document_is_kept_without_a_page() {
        let mut inp = input(vec![page(1, Some(("Real Heading", 40.0)), None)]);
        inp.outline = vec![
            OutlineItem {
                level: 1,
                title: "Real Heading".into(),
                page: Some(1),
            },
            OutlineItem {
                level: 2,
                title: "Nowhere".into(),
                page: Some(9),
            },
            OutlineItem {
                level: 1,
                title: "Broken".into(),
                page: None,
            },
        ];
        let toc = build_toc(&inp);
        let pages: Vec<Option<usize>> = toc.entries.iter().map(|e| e.page).collect();
        assert_eq!(pages, vec![Some(1), None, None]);
        assert_eq!(toc.entries[0].confidence, 1.0);
        assert_eq!(toc.checks.verified, 1);
        assert_eq!(toc.warnings.len(), 2, "{:?}", toc.warnings);
        assert!(toc.warnings[0].contains("beyond the document's 1 pages"));
    }
}
