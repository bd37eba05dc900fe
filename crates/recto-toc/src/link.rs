//! Printed contents entries linked to physical pages through the page
//! labels (or the offset most titles agree with), each link verified on
//! its page or corrected to a page near it.

use std::collections::BTreeMap;

use crate::find::*;
use crate::text::NumberKind;
use crate::view::PageView;
use crate::{Checks, Disagreement, Entry, printed};

/// Pages either side of the expected one where a title is looked for.
const LOOK_BEFORE: usize = 2;
const LOOK_AFTER: usize = 3;

/// Printed contents entries linked to physical pages: each label through
/// the page labels (or, without labels, through the offset most titles
/// agree with), then verified on the page or corrected to a page near it
/// where the title is.
pub(crate) fn link_printed(
    pages: &[PageView],
    toc: &printed::PrintedToc,
    page_labels: &[Option<String>],
    checks: &mut Checks,
) -> Vec<Entry> {
    let expected = expected_pages(pages, toc, page_labels);
    let (mut found, titles) = verify(pages, toc, &expected);
    find_misread(pages, toc, &expected, &mut found);
    let n = pages.len();
    // A contents printed before the last revision is off by the same
    // amount throughout: entries not found move by the shift most found
    // ones needed.
    let shifts: Vec<i64> = expected
        .iter()
        .zip(&found)
        .filter_map(|(e, f)| Some(*f.as_ref()? as i64 - *e.as_ref()? as i64))
        .collect();
    let common = mode(&shifts)
        .filter(|&s| s != 0 && shifts.iter().filter(|&&x| x == s).count() * 2 >= shifts.len());
    let mut out = Vec::with_capacity(toc.entries.len());
    for (((e, exp), f), title) in toc.entries.iter().zip(&expected).zip(&found).zip(titles) {
        let (page, confidence) = match (exp, f) {
            (Some(x), Some(y)) if x == y => {
                checks.verified += 1;
                (Some(*y), 0.95)
            }
            (Some(x), Some(y)) => {
                checks.verified += 1;
                checks.corrected += 1;
                checks.disagreements.push(Disagreement {
                    title: e.title.clone(),
                    page: Some(*y),
                    reason: format!(
                        "printed contents say page {} (physical {x}); the title is on physical page {y}",
                        e.label
                    ),
                });
                (Some(*y), 0.85)
            }
            (Some(x), None) => {
                let shifted = common
                    .map(|s| *x as i64 + s)
                    .and_then(|p| usize::try_from(p).ok())
                    .filter(|p| (1..=n).contains(p));
                checks.disagreements.push(Disagreement {
                    title: e.title.clone(),
                    page: shifted.or(Some(*x)),
                    reason: "title not found on or near the page the contents give".into(),
                });
                (shifted.or(Some(*x)), 0.6)
            }
            (None, _) => (None, 0.0),
        };
        out.push(Entry {
            level: e.level,
            title,
            page,
            label: page
                .and_then(|p| page_labels.get(p - 1).cloned().flatten())
                .or_else(|| Some(e.label.clone())),
            source: "printed_toc".into(),
            confidence,
            authors: e.authors.clone(),
        });
    }
    out
}

/// On a contents page, the rows of the contents, which do not count as
/// the page's own (a chapter can begin below the contents on that page).
fn contents_rows(toc: &printed::PrintedToc, q: usize, page: &PageView) -> std::ops::Range<usize> {
    if toc.pages.contains(&q) {
        printed::region(page)
    } else {
        0..0
    }
}

/// The physical page each entry's printed number points to: by the page
/// labels; entries the labels could not place, arabic numbers at the
/// offset the placed ones agree on, or, with no labels at all, at the
/// offset under which most titles are found on their pages.
fn expected_pages(
    pages: &[PageView],
    toc: &printed::PrintedToc,
    page_labels: &[Option<String>],
) -> Vec<Option<usize>> {
    let n = pages.len();
    let after_toc = toc.pages.last().copied().unwrap_or(0);
    let mut by_label: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, l) in page_labels.iter().enumerate() {
        if let Some(l) = l {
            by_label.entry(l.to_lowercase()).or_default().push(i + 1);
        }
    }
    let mut expected: Vec<Option<usize>> = toc
        .entries
        .iter()
        .map(|e| {
            let pages = by_label.get(&e.label.to_lowercase())?;
            pages
                .iter()
                .copied()
                .find(|&p| p > after_toc)
                .or_else(|| pages.first().copied())
        })
        .collect();
    let offsets: Vec<i64> = toc
        .entries
        .iter()
        .zip(&expected)
        .filter(|(e, p)| e.number.kind == NumberKind::Arabic && p.is_some())
        .map(|(e, p)| p.expect("filtered") as i64 - i64::from(e.number.value))
        .collect();
    let offset = mode(&offsets).or_else(|| best_offset(pages, toc));
    for (e, slot) in toc.entries.iter().zip(expected.iter_mut()) {
        if slot.is_none()
            && e.number.kind == NumberKind::Arabic
            && let Some(o) = offset
        {
            let p = i64::from(e.number.value) + o;
            *slot = usize::try_from(p).ok().filter(|p| (1..=n).contains(p));
        }
    }
    expected
}

/// Each entry's title looked for on its expected page, else the nearest
/// page around it: the page found, and the title (as printed on its page
/// when the contents' came with noise).
fn verify(
    pages: &[PageView],
    toc: &printed::PrintedToc,
    expected: &[Option<usize>],
) -> (Vec<Option<usize>>, Vec<String>) {
    let n = pages.len();
    let mut found: Vec<Option<usize>> = Vec::with_capacity(expected.len());
    let mut titles: Vec<String> = toc.entries.iter().map(|e| e.title.clone()).collect();
    for ((e, exp), title) in toc.entries.iter().zip(expected).zip(titles.iter_mut()) {
        let Some(p) = *exp else {
            found.push(None);
            continue;
        };
        let lo = p.saturating_sub(LOOK_BEFORE).max(1);
        let hi = (p + LOOK_AFTER).min(n);
        let mut order: Vec<usize> = (lo..=hi).collect();
        order.sort_by_key(|&q| ((q as i64 - p as i64).abs(), std::cmp::Reverse(q)));
        let hit = order.into_iter().find_map(|q| {
            let page = &pages[q - 1];
            find_title(page, &e.title, contents_rows(toc, q, page), true).map(|m| (q, m))
        });
        if let Some((_, m)) = &hit
            && !m.whole
        {
            *title = m.text.clone();
        }
        found.push(hit.map(|(q, _)| q));
    }
    (found, titles)
}

/// A title not near its page, when its number was misread (`Il` for
/// `1`): the whole title as a heading anywhere in the document (not a
/// running head, which repeats titles on many pages), nearest first.
fn find_misread(
    pages: &[PageView],
    toc: &printed::PrintedToc,
    expected: &[Option<usize>],
    found: &mut [Option<usize>],
) {
    let n = pages.len();
    for (k, e) in toc.entries.iter().enumerate() {
        let (None, Some(p)) = (found[k], expected[k]) else {
            continue;
        };
        let mut order: Vec<usize> = (1..=n).collect();
        order.sort_by_key(|&q| (q as i64 - p as i64).abs());
        found[k] = order.into_iter().find(|&q| {
            let page = &pages[q - 1];
            heading_anywhere(page, &e.title, contents_rows(toc, q, page))
        });
    }
}

/// The most common value (the smallest of equally common ones).
pub(crate) fn mode(values: &[i64]) -> Option<i64> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(*v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(v, c)| (c, std::cmp::Reverse(v)))
        .map(|(v, _)| v)
}

/// Without page labels: the offset (physical page - printed number) under
/// which the most contents titles are found on their pages.
pub(crate) fn best_offset(pages: &[PageView], toc: &printed::PrintedToc) -> Option<i64> {
    let n = pages.len() as i64;
    let arabic: Vec<&printed::PrintedEntry> = toc
        .entries
        .iter()
        .filter(|e| e.number.kind == NumberKind::Arabic)
        .collect();
    let mut best = (0usize, None);
    for o in -5..=40i64 {
        let hits = arabic
            .iter()
            .filter(|e| {
                let p = i64::from(e.number.value) + o;
                (1..=n).contains(&p)
                    && title_on_page_outside(
                        &pages[p as usize - 1],
                        &e.title,
                        if toc.pages.contains(&(p as usize)) {
                            printed::region(&pages[p as usize - 1])
                        } else {
                            0..0
                        },
                    )
            })
            .count();
        if hits > best.0 {
            best = (hits, Some(o));
        }
    }
    best.1
}
