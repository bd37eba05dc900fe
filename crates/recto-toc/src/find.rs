//! Where a title is printed: on a page, near the page a link expects, or
//! anywhere as a heading.

use crate::TITLE_MATCH;
use crate::text::{normalize_loose, similarity};
use crate::view::PageView;

/// With the same section number, the rest of a heading needs only this
/// similarity to the contents title.
const SAME_NUMBER_MATCH: f64 = 0.6;

/// A heading row matches the start of a noisy contents title when this
/// similar.
const PREFIX_MATCH: f64 = 0.85;

/// Whether `title` is printed on `page`: a row (or two rows read together,
/// for a heading broken over lines) at least [`TITLE_MATCH`] similar, or a
/// row that starts with the whole title.
pub fn title_on_page(page: &PageView, title: &str) -> bool {
    title_on_page_outside(page, title, 0..0)
}

/// [`title_on_page`], not counting the rows in `skip` (the contents
/// printed on the page, which name every title).
pub(crate) fn title_on_page_outside(
    page: &PageView,
    title: &str,
    skip: std::ops::Range<usize>,
) -> bool {
    find_title(page, title, skip, false).is_some()
}

/// Where a title was found on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TitleMatch {
    /// The row's own text.
    pub(crate) text: String,
    /// Whether the whole title matched (else the row matched the start of
    /// the title: a contents title read with leader-dot noise after it).
    pub(crate) whole: bool,
}

/// Find `title` on `page` outside the rows `skip`: a row (or two rows read
/// together) at least [`TITLE_MATCH`] similar, or starting with the whole
/// title; with `prefix`, also a heading row that matches the start of the
/// title (OCR reads leader dots as words: `1.3 Stetigkeit EEE ba ue`).
pub(crate) fn find_title(
    page: &PageView,
    title: &str,
    skip: std::ops::Range<usize>,
    prefix: bool,
) -> Option<TitleMatch> {
    let t = normalize_loose(title);
    if t.is_empty() {
        return None;
    }
    let rows: Vec<String> = page
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if skip.contains(&i) {
                String::new()
            } else {
                k.clone()
            }
        })
        .collect();
    let whole = |i: usize, r: &String| -> bool {
        if r.is_empty() {
            return false;
        }
        if similarity(r, &t) >= TITLE_MATCH || (r.starts_with(&t) && t.len() >= 6) {
            return true;
        }
        match rows.get(i + 1) {
            Some(next) if r.len() < t.len() && !next.is_empty() => {
                let two = format!("{r} {next}");
                similarity(&two, &t) >= TITLE_MATCH || (two.starts_with(&t) && t.len() >= 6)
            }
            _ => false,
        }
    };
    let hit = |i: usize, whole: bool| {
        Some(TitleMatch {
            text: page.rows[i].text(),
            whole,
        })
    };
    // The heading itself before a running head that repeats it.
    let body = |i: &usize| !page.is_edge(*i);
    let edge = |i: &usize| page.is_edge(*i);
    if let Some(i) = (0..rows.len()).filter(body).find(|&i| whole(i, &rows[i])) {
        return hit(i, true);
    }
    if let Some(i) = (0..rows.len()).filter(edge).find(|&i| whole(i, &rows[i])) {
        return hit(i, true);
    }
    if !prefix {
        return None;
    }
    let t_chars: Vec<char> = t.chars().collect();
    let starts_like = |i: usize| {
        let r = &rows[i];
        let n = r.chars().count();
        if n < 8 || n >= t_chars.len() || page.rows[i].words.len() > 12 {
            return false;
        }
        let head: String = t_chars[..n].iter().collect();
        similarity(r, &head) >= PREFIX_MATCH
    };
    if let Some(i) = (0..rows.len()).filter(body).find(|&i| starts_like(i)) {
        return hit(i, false);
    }
    // A heading with the same section number (`5.2`) whose words OCR read
    // differently on one side.
    let number = |s: &str| -> Option<String> {
        let first = s.split_whitespace().next()?;
        (first.len() >= 2 && first.chars().all(|c| c.is_ascii_digit())).then(|| first.to_owned())
    };
    let n_title = number(&t)?;
    let rest = |s: &str| {
        s.split_once(' ')
            .map_or(String::new(), |(_, r)| r.to_owned())
    };
    (0..rows.len())
        .filter(body)
        .find(|&i| {
            number(&rows[i]).as_deref() == Some(n_title.as_str())
                && page.rows[i].words.len() <= 12
                && similarity(&rest(&rows[i]), &rest(&t)) >= SAME_NUMBER_MATCH
        })
        .and_then(|i| hit(i, false))
}

/// Whether `title` is a heading of `page`: a whole match in a row that is
/// not a running head or page foot (nor in `skip`).
pub(crate) fn heading_anywhere(page: &PageView, title: &str, skip: std::ops::Range<usize>) -> bool {
    let t = normalize_loose(title);
    if t.len() < 6 {
        return false;
    }
    let rows = &page.keys;
    (0..rows.len())
        .filter(|i| !skip.contains(i) && !page.is_edge(*i))
        .any(|i| {
            similarity(&rows[i], &t) >= TITLE_MATCH
                || rows.get(i + 1).is_some_and(|next| {
                    page.rows[i].words.len() <= 3
                        && similarity(&format!("{} {next}", rows[i]), &t) >= TITLE_MATCH
                })
        })
}
