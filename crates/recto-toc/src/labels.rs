//! Printed page labels: the number printed on each page, found in its
//! running head or foot and made into one consistent sequence.
//!
//! Every short edge row (first two and last two rows of a page) offers its
//! first and last word as a candidate number. A candidate says "this
//! document numbers page p as v", i.e. an offset v - p within a numbering
//! (arabic, lower or upper roman). Runs of pages that agree on a numbering
//! and an offset are the evidence; a chapter number or a year agrees with
//! nothing and is dropped. Runs are taken in order of support; pages
//! without a printed number (chapter openings, plates, blank versos) take
//! the numbering of the run around them, so every page from the first
//! counted one gets a label.
//!
//! A number that stands alone on its edge row, decorations aside
//! (`— 140 —`, `( 484 )`, `[12]`, `- 7 -`), is a page number even on a
//! page no other page agrees with (an excerpt of a few pages of a book).
//!
//! Each label has a confidence that says where it came from: read on the
//! page alone on its row (0.99) or in a running head (0.95), inferred
//! inside a run's span (0.8) or beyond it (0.6); a page whose own lone
//! number contradicts the sequence keeps the sequence's label at 0.3 and
//! is reported, never silently replaced.

use std::collections::BTreeMap;

use crate::text::{NumberKind, format_label, parse_page_number};
use crate::view::PageView;

/// The largest gap, in pages, between two pages of one run.
const MAX_GAP: usize = 12;

/// What the labels came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// The PDF's /PageLabels.
    Pdf,
    /// Numbers printed on the pages.
    Printed,
    None,
}

impl LabelSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::Pdf => "pdf",
            LabelSource::Printed => "printed",
            LabelSource::None => "none",
        }
    }
}

/// One candidate printed number: physical page (1-based) and value.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    page: usize,
    value: u32,
    kind: NumberKind,
    /// The number is all its row says (decorations aside).
    lone: bool,
    /// OCR's confidence in the number (0-100; 100 for a text layer).
    conf: f32,
}

/// A numbering that some pages agree on.
#[derive(Debug, Clone)]
struct Run {
    kind: NumberKind,
    /// value = page + offset.
    offset: i64,
    pages: Vec<usize>,
    /// Some page of it reads its number alone on the row.
    lone: bool,
    /// OCR's best confidence in a number of it.
    conf: f32,
}

impl Run {
    fn value_at(&self, page: usize) -> Option<u32> {
        u32::try_from(page as i64 + self.offset)
            .ok()
            .filter(|&v| v >= 1)
    }
}

/// Labels found on the pages: one per page (index 0 = page 1), and the
/// pages whose own printed number was read (for checking other sources).
#[derive(Debug, Clone, Default)]
pub struct Printed {
    pub labels: Vec<Option<String>>,
    /// How sure each label is (0-1), `None` where there is no label.
    pub confidence: Vec<Option<f64>>,
    pub read: BTreeMap<usize, String>,
    /// Pages whose own lone number disagrees with the sequence's label:
    /// `(page, read, label)`.
    pub contradicted: Vec<(usize, String, String)>,
}

/// The confidences of the module's doc.
const READ_LONE: f64 = 0.99;
const READ_IN_HEAD: f64 = 0.95;
/// Read alone, but OCR was unsure of the digits.
const READ_UNSURE: f64 = 0.85;
/// OCR's confidence (0-100) under which a lone number is read unsure.
const SURE_OCR: f32 = 70.0;
/// OCR's confidence under which a one-character mark beside a number is
/// noise (the `0` of `— 180 0 —`); longer words are kept, however unsure,
/// and compete by confidence (a speck read `47` loses to `(484...)`).
const NOISE_OCR: f32 = 50.0;
const INSIDE_RUN: f64 = 0.8;
const BEYOND_RUN: f64 = 0.6;
const CONTRADICTED: f64 = 0.3;
/// Front matter before an arabic page 1 and no roman number read: counted
/// i, ii, ... from the first page, the common convention.
const FRONT_MATTER: f64 = 0.5;

/// The numbers an edge row of page `page` offers (see the module's doc).
fn row_candidates(page: usize, row: &crate::view::Row, cands: &mut Vec<Candidate>) {
    // The row without one-character marks OCR hardly believed in;
    // decorations (`—`, `(`) stay.
    let kept: Vec<(&str, f32)> = row
        .words
        .iter()
        .zip(&row.conf)
        .map(|(w, c)| (w.as_str(), *c))
        .filter(|(w, c)| {
            *c >= NOISE_OCR || w.chars().count() > 1 || !w.chars().any(char::is_alphanumeric)
        })
        .collect();
    if kept.is_empty() {
        return;
    }
    let words: Vec<&str> = kept.iter().map(|(w, _)| *w).collect();
    let alnum: Vec<f32> = kept
        .iter()
        .filter(|(w, _)| w.chars().any(char::is_alphanumeric))
        .map(|(_, c)| *c)
        .collect();
    // The row holds one word with letters or digits: a lone number.
    let alone = alnum.len() == 1;
    let joined = words.concat();
    let (first, last) = (kept[0], kept[kept.len() - 1]);
    let mut tokens = vec![(first.0, words.len() == 1, first.1)];
    if words.len() > 1 {
        tokens.push((last.0, false, last.1));
    }
    // `- 4 -`, `[ 12 ]`, `— 140 —`.
    if words.len() <= 3 {
        tokens.push((&joined, alone, alnum.first().copied().unwrap_or(0.0)));
    }
    // A lone `il` or `vil` under a page is `ii`, `vii` misread.
    let roman_fix = (row.words.len() == 1 && row.words[0].contains('l'))
        .then(|| row.words[0].replace('l', "i"));
    let fixed = roman_fix
        .as_deref()
        .and_then(parse_page_number)
        .filter(|n| n.kind == NumberKind::RomanLower);
    let fixed_conf = row.conf.first().copied().unwrap_or(0.0);
    for (num, lone, conf) in tokens
        .into_iter()
        .filter_map(|(t, lone, c)| Some((parse_page_number(t)?, lone, c)))
        .chain(fixed.map(|n| (n, true, fixed_conf)))
    {
        cands.push(Candidate {
            page,
            value: num.value,
            kind: num.kind,
            lone,
            conf,
        });
    }
}

/// The printed page labels of `pages`.
pub fn printed_labels(pages: &[PageView]) -> Printed {
    let n = pages.len();
    let mut cands = Vec::new();
    for p in pages {
        for (i, row) in p.rows.iter().enumerate() {
            if p.is_edge(i) {
                row_candidates(p.number, row, &mut cands);
            }
        }
    }
    let runs = find_runs(&cands);
    let mut owner: Vec<Option<usize>> = vec![None; n + 1];
    // Claim each run's span, best supported first.
    for (ri, run) in runs.iter().enumerate() {
        let (first, last) = (run.pages[0], *run.pages.last().expect("non-empty"));
        for slot in owner.iter_mut().take(last + 1).skip(first) {
            if slot.is_none() {
                *slot = Some(ri);
            }
        }
    }
    // The run labelling each page (index 0 unused): the one claiming it,
    // else the fill's.
    let run_of: Vec<Option<usize>> = (0..=n)
        .map(|page| match page {
            0 => None,
            p => owner[p].or_else(|| fill(&owner, &runs, p)),
        })
        .collect();
    let mut labels = vec![None; n];
    for page in 1..=n {
        labels[page - 1] = run_of[page].and_then(|r| {
            runs[r]
                .value_at(page)
                .map(|v| format_label(v, runs[r].kind))
        });
    }
    let mut read = BTreeMap::new();
    for c in &cands {
        if let Some(l) = &labels[c.page - 1]
            && *l == format_label(c.value, c.kind)
        {
            read.insert(c.page, l.clone());
        }
    }
    let mut confidence = vec![None; n];
    let mut contradicted = Vec::new();
    for page in 1..=n {
        let (Some(label), Some(r)) = (&labels[page - 1], run_of[page]) else {
            continue;
        };
        let own: Vec<&Candidate> = cands.iter().filter(|c| c.page == page).collect();
        let agrees = |c: &&&Candidate| format_label(c.value, c.kind) == *label;
        let conf = if own
            .iter()
            .any(|c| c.lone && c.conf >= SURE_OCR && agrees(&c))
        {
            READ_LONE
        } else if own.iter().any(|c| c.lone && agrees(&c)) {
            READ_UNSURE
        } else if own.iter().any(|c| agrees(&c)) {
            READ_IN_HEAD
        } else if let Some(c) = own.iter().find(|c| c.lone) {
            contradicted.push((page, format_label(c.value, c.kind), label.clone()));
            CONTRADICTED
        } else {
            let run = &runs[r];
            let (first, last) = (run.pages[0], *run.pages.last().expect("non-empty"));
            if (first..=last).contains(&page) {
                INSIDE_RUN
            } else {
                BEYOND_RUN
            }
        };
        confidence[page - 1] = Some(conf);
    }
    front_matter(&mut labels, &mut confidence);
    Printed {
        labels,
        confidence,
        read,
        contradicted,
    }
}

/// The unlabelled pages before the first label, when that label begins
/// the arabic numbering at 1 or so (pages before it that no number could
/// reach) and no roman number was read: `i`, `ii`, ... counted from the
/// first physical page, at low confidence.
fn front_matter(labels: &mut [Option<String>], confidence: &mut [Option<f64>]) {
    // A roman number labels some page: the front matter has its own.
    let roman = |l: &String| !l.chars().all(|c| c.is_ascii_digit());
    if labels.iter().flatten().any(roman) {
        return;
    }
    let Some(first) = labels.iter().position(Option::is_some) else {
        return;
    };
    let starts_at_one = labels[first]
        .as_deref()
        .and_then(|l| l.parse::<u32>().ok())
        .is_some_and(|v| v <= 1);
    if !starts_at_one {
        return;
    }
    for page in 0..first {
        labels[page] = Some(format_label(page as u32 + 1, NumberKind::RomanLower));
        confidence[page] = Some(FRONT_MATTER);
    }
}

/// The run an unnumbered page belongs to: the one before it, unless that
/// is front matter (roman) and the one after it counts this page already
/// (the unnumbered first page of the body); before the first run, the
/// first run counted backwards while it stays >= 1.
fn fill(owner: &[Option<usize>], runs: &[Run], page: usize) -> Option<usize> {
    let prev = owner[1..page].iter().rev().find_map(|o| *o);
    let next = owner[page + 1..].iter().find_map(|o| *o);
    match (prev, next) {
        (Some(p), Some(n)) if p != n => {
            let roman_then_arabic = runs[p].kind != NumberKind::Arabic
                && runs[n].kind == NumberKind::Arabic
                && runs[n].value_at(page).is_some();
            Some(if roman_then_arabic { n } else { p })
        }
        (Some(p), _) => Some(p),
        (None, Some(n)) => runs[n].value_at(page).map(|_| n),
        (None, None) => None,
    }
}

/// Runs of candidates that agree, best supported first. A run needs two
/// pages, or one page for roman front matter (a lone `iii` whose row holds
/// nothing else is rarely anything but a page number).
fn find_runs(cands: &[Candidate]) -> Vec<Run> {
    let mut groups: BTreeMap<(NumberKind, i64), Vec<(usize, bool)>> = BTreeMap::new();
    let mut best: BTreeMap<(NumberKind, i64), f32> = BTreeMap::new();
    for c in cands {
        let key = (c.kind, i64::from(c.value) - c.page as i64);
        groups.entry(key).or_default().push((c.page, c.lone));
        let b = best.entry(key).or_insert(0.0);
        *b = b.max(c.conf);
    }
    let mut runs = Vec::new();
    for ((kind, offset), mut pages) in groups {
        // A page's lone reading first, so the dedup keeps it.
        pages.sort_unstable_by_key(|(p, lone)| (*p, !*lone));
        pages.dedup_by_key(|(p, _)| *p);
        let mut current: Vec<(usize, bool)> = Vec::new();
        let mut close = |current: &mut Vec<(usize, bool)>| {
            let taken = std::mem::take(current);
            runs.push(Run {
                kind,
                offset,
                lone: taken.iter().any(|(_, l)| *l),
                conf: best.get(&(kind, offset)).copied().unwrap_or(0.0),
                pages: taken.into_iter().map(|(p, _)| p).collect(),
            });
        };
        for (p, lone) in pages {
            if let Some(&(last, _)) = current.last()
                && p - last > MAX_GAP
            {
                close(&mut current);
            }
            current.push((p, lone));
        }
        if !current.is_empty() {
            close(&mut current);
        }
    }
    // One page is enough when its number stands alone on the row: an
    // arabic number anywhere, a roman one in the front matter.
    // A year alone under a title page (`1879`) is no page number.
    let year = |r: &Run| {
        r.kind == NumberKind::Arabic
            && r.value_at(r.pages[0])
                .is_some_and(|v| (1400..=2100).contains(&v))
    };
    // A lone roman numeral is a letter or two: only when OCR was sure.
    runs.retain(|r| {
        r.pages.len() >= 2
            || (r.lone
                && !year(r)
                && (r.kind == NumberKind::Arabic || (r.offset <= 0 && r.conf >= SURE_OCR)))
    });
    // By support, then by how sure OCR was (two lone numbers on a page).
    runs.sort_by_key(|r| std::cmp::Reverse((r.pages.len(), r.conf as u32)));
    runs
}

/// Whether the PDF's own labels agree with the numbers printed on the
/// pages: at least 80% of the pages whose number was read (or nothing was
/// read to contradict them).
pub fn pdf_labels_consistent(pdf: &[String], printed: &Printed) -> bool {
    if printed.read.is_empty() {
        return true;
    }
    let agree = printed
        .read
        .iter()
        .filter(|(page, label)| pdf.get(*page - 1).is_some_and(|l| l == *label))
        .count();
    agree as f64 >= 0.8 * printed.read.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Row;

    /// A page whose only printed edge text is `top` and `bottom`, with body
    /// text between.
    fn page(number: usize, top: Option<&str>, bottom: Option<&str>) -> PageView {
        let mut rows = Vec::new();
        let row = |text: &str, y: f32| Row::from_text(text, [100.0, y, 900.0, y + 20.0]);
        if let Some(t) = top {
            rows.push(row(t, 50.0));
        }
        for i in 0..10 {
            rows.push(row(
                "Body text of the page with several ordinary words 1914",
                200.0 + 40.0 * i as f32,
            ));
        }
        if let Some(b) = bottom {
            rows.push(row(b, 1300.0));
        }
        PageView::from_rows(number, 1000.0, 1400.0, rows)
    }

    #[test]
    fn a_book_gets_roman_front_matter_and_arabic_body() {
        // 1 title (nothing), 2-3 front matter ii-iii at the foot, 4 chapter
        // opening (unnumbered), 5-12 body 10-17 in the head beside a
        // running title, 8 a plate (unnumbered), 10 with 15 misread `l5`.
        let mut pages = vec![
            page(1, None, None),
            page(2, None, Some("ii")),
            page(3, None, Some("iii")),
            page(4, Some("1 Introduction"), None),
        ];
        for p in 5..=12 {
            let v = p + 5;
            let head = match p {
                8 => None,
                10 => Some("l5".to_owned()),
                _ if p % 2 == 0 => Some(format!("{v} THE BOOK")),
                _ => Some(format!("CHAPTER ONE {v}")),
            };
            pages.push(page(p, head.as_deref(), None));
        }
        let got = printed_labels(&pages);
        let want: Vec<Option<String>> = [
            "i", "ii", "iii", "9", "10", "11", "12", "13", "14", "15", "16", "17",
        ]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
        assert_eq!(got.labels, want);
        assert_eq!(got.read.get(&10).map(String::as_str), Some("15"));
        assert!(!got.read.contains_key(&8));
    }

    #[test]
    fn labels_say_how_sure_they_are() {
        // The book above: read alone (ii, iii), read in a running head,
        // inferred inside the body's run (the plate, 8), beyond it (1).
        let mut pages = vec![
            page(1, None, None),
            page(2, None, Some("ii")),
            page(3, None, Some("iii")),
            page(4, None, None),
        ];
        for p in 5..=9 {
            pages.push(page(p, Some(&format!("{} THE BOOK", p + 5)), None));
        }
        pages[7] = page(8, None, None);
        let got = printed_labels(&pages);
        let conf: Vec<f64> = got.confidence.iter().map(|c| c.unwrap()).collect();
        assert_eq!(conf, [0.6, 0.99, 0.99, 0.6, 0.95, 0.95, 0.95, 0.8, 0.95]);
    }

    #[test]
    fn decorated_numbers_of_an_excerpt_are_read_page_by_page() {
        // Four pages of a book, not consecutive: each number alone on its
        // row, decorated as old books print them.
        let pages = vec![
            page(1, None, Some("— 140 —")),
            page(2, Some("( 484 )"), None),
            page(3, None, Some("[12]")),
            page(4, None, Some("- 7 -")),
        ];
        let got = printed_labels(&pages);
        let labels: Vec<&str> = got.labels.iter().map(|l| l.as_deref().unwrap()).collect();
        assert_eq!(labels, ["140", "484", "12", "7"]);
        assert!(got.confidence.iter().all(|c| *c == Some(0.99)));
    }

    #[test]
    fn a_roman_word_in_a_head_is_no_page_number() {
        // `( 484 )` alone, then a head whose last word reads as roman.
        let pages = vec![
            page(1, None, Some("( 484 )")),
            page(2, Some("Teil ii"), None),
        ];
        let got = printed_labels(&pages);
        assert_eq!(got.labels[0].as_deref(), Some("484"));
        // Page 2 continues the numbering, inferred, not read: below 0.9.
        assert_eq!(got.labels[1].as_deref(), Some("485"));
        assert!(got.confidence[1].unwrap() < 0.9);
    }

    #[test]
    fn a_number_that_contradicts_the_sequence_is_reported() {
        let mut pages: Vec<PageView> = (1..=8)
            .map(|p| page(p, None, Some(&(p + 9).to_string())))
            .collect();
        // Page 5 prints 41 (a misprint, or OCR reading 14 backwards).
        pages[4] = page(5, None, Some("41"));
        let got = printed_labels(&pages);
        assert_eq!(got.labels[4].as_deref(), Some("14"));
        assert_eq!(got.confidence[4], Some(0.3));
        assert_eq!(got.contradicted, [(5, "41".to_owned(), "14".to_owned())]);
    }

    #[test]
    fn marks_ocr_hardly_believed_are_not_numbers() {
        // Kant: a speck read `47` (confidence 46) above `(484...)` (76);
        // Bebel: `— 180 0 —` with a stray `0` (39).
        let row = |text: &str, conf: &[f32], y: f32| {
            let mut r = Row::from_text(text, [100.0, y, 900.0, y + 20.0]);
            r.conf = conf.to_vec();
            r
        };
        let body = |y: f32| row("Body text of the page with ordinary words", &[96.0; 8], y);
        let kant = PageView::from_rows(
            1,
            1000.0,
            1400.0,
            vec![
                row("47", &[46.0], 20.0),
                row("(484...)", &[76.0], 60.0),
                body(200.0),
                body(240.0),
                body(280.0),
            ],
        );
        let bebel = PageView::from_rows(
            2,
            1000.0,
            1400.0,
            vec![
                row("— 180 0 —", &[89.0, 87.0, 39.0, 81.0], 20.0),
                body(200.0),
                body(240.0),
                body(280.0),
            ],
        );
        let got = printed_labels(&[kant, bebel]);
        assert_eq!(got.labels[0].as_deref(), Some("484"));
        assert_eq!(got.labels[1].as_deref(), Some("180"));
        // Both read alone, OCR sure enough of the digits kept.
        assert_eq!(got.confidence, [Some(READ_LONE), Some(READ_LONE)]);
    }

    #[test]
    fn a_year_alone_on_a_title_page_is_no_label() {
        let pages = vec![page(1, None, Some("1879")), page(2, None, None)];
        assert!(printed_labels(&pages).labels.iter().all(Option::is_none));
    }

    #[test]
    fn unnumbered_front_matter_before_page_one_counts_in_roman() {
        let mut pages = vec![page(1, None, None), page(2, None, None)];
        for p in 3..=7 {
            pages.push(page(p, None, Some(&(p - 2).to_string())));
        }
        let got = printed_labels(&pages);
        assert_eq!(got.labels[0].as_deref(), Some("i"));
        assert_eq!(got.labels[1].as_deref(), Some("ii"));
        assert_eq!(got.confidence[0], Some(FRONT_MATTER));
        assert_eq!(got.labels[2].as_deref(), Some("1"));
        // Not when the body starts later than 1 (an excerpt): unlabelled.
        let pages: Vec<PageView> = (1..=4)
            .map(|p| page(p, None, (p > 1).then(|| (p + 40).to_string()).as_deref()))
            .collect();
        let got = printed_labels(&pages);
        assert_eq!(got.labels[0].as_deref(), Some("41"));
    }

    #[test]
    fn no_numbers_no_labels() {
        let pages: Vec<PageView> = (1..=5).map(|p| page(p, None, None)).collect();
        let got = printed_labels(&pages);
        assert!(got.labels.iter().all(Option::is_none));
    }
}
