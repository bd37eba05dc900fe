//! Units: the top-level entries of the table of contents (each from the
//! line its heading is on), the pages before the first one as front matter,
//! a bibliography and an index known by their titles; a document without a
//! table of contents is one unit.

use recto_toc::{PageView, Toc};

use crate::roles::{Labelled, Role};
use crate::{Unit, line_id};

/// Titles of bibliographies, normalised (first words).
const BIBLIOGRAPHY: &[&str] = &[
    "references",
    "bibliography",
    "works cited",
    "literature",
    "literaturverzeichnis",
    "literatur",
    "quellen",
    "quellen und literatur",
    "bibliographie",
    "bibliografia",
    "bibliografía",
    "références",
    "références bibliographiques",
];

/// Titles of indexes, normalised.
const INDEX: &[&str] = &[
    "index",
    "register",
    "stichwortverzeichnis",
    "sachregister",
    "personenregister",
    "namensregister",
    "index des noms",
    "index nominum",
    "indice",
];

/// Titles of appendices, normalised (first word).
const APPENDIX: &[&str] = &["appendix", "anhang", "annexe", "annexes", "appendice"];

/// The kind of a unit from its title.
pub fn kind_of(title: &str) -> &'static str {
    let n = recto_toc::text::normalize(title);
    // Leading section numbers say nothing of the kind.
    let n = n
        .split_whitespace()
        .skip_while(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ");
    let first = n.split_whitespace().next().unwrap_or("");
    if BIBLIOGRAPHY
        .iter()
        .any(|b| n == *b || n.starts_with(&format!("{b} ")))
    {
        "bibliography"
    } else if INDEX.contains(&n.as_str()) {
        "index"
    } else if APPENDIX.contains(&first) {
        "appendix"
    } else {
        "chapter"
    }
}

/// Where a unit starts: (page index, row), and what the TOC says of it.
struct Start {
    at: (usize, usize),
    title: String,
    level: usize,
    authors: Option<String>,
}

/// The units of a document.
pub fn find_units(pages: &[PageView], labelled: &Labelled, toc: Option<&Toc>) -> Vec<Unit> {
    let n = pages.len();
    let mut starts: Vec<Start> = Vec::new();
    if let Some(t) = toc {
        let top = t
            .entries
            .iter()
            .filter(|e| e.page.is_some())
            .map(|e| e.level)
            .min();
        for (ei, e) in t.entries.iter().enumerate() {
            if Some(e.level) != top {
                continue;
            }
            let Some(page) = e.page.filter(|p| (1..=n).contains(p)) else {
                continue;
            };
            let (pi, row) = labelled
                .entry_rows
                .get(&ei)
                .copied()
                .unwrap_or_else(|| (page - 1, first_content_row(&labelled.roles[page - 1])));
            starts.push(Start {
                at: (pi, row),
                title: e.title.clone(),
                level: e.level,
                authors: e.authors.clone(),
            });
        }
    }
    starts.sort_by_key(|s| s.at);
    starts.dedup_by_key(|s| s.at);
    let mut units = Vec::new();
    if starts.is_empty() {
        // One unit: an article if it is short, else a book's one chapter.
        units.push(Unit {
            kind: if n <= 60 { "article" } else { "chapter" }.into(),
            title: None,
            authors: None,
            level: 1,
            first_page: 1,
            last_page: n.max(1),
            first_line: first_line(pages, labelled, 0),
            file: String::new(),
        });
    } else {
        // The last page (1-based) of what comes before a start: the page
        // before it when the start opens its page, else the start's page.
        let before = |pi: usize, row: usize| -> usize {
            if row <= first_content_row(&labelled.roles[pi]) {
                pi
            } else {
                pi + 1
            }
        };
        let (pi0, row0) = starts[0].at;
        if before(pi0, row0) >= 1 {
            units.push(Unit {
                kind: "front_matter".into(),
                title: None,
                authors: None,
                level: 1,
                first_page: 1,
                last_page: before(pi0, row0),
                first_line: first_line(pages, labelled, 0),
                file: String::new(),
            });
        }
        for (k, st) in starts.iter().enumerate() {
            let (pi, row) = st.at;
            let last_page = match starts.get(k + 1) {
                Some(next) => before(next.at.0, next.at.1),
                None => n,
            };
            let kind = match (kind_of(&st.title), &st.authors) {
                // A contribution with its own authors: an article.
                ("chapter", Some(_)) => "article",
                (k, _) => k,
            };
            units.push(Unit {
                kind: kind.into(),
                title: Some(st.title.clone()),
                authors: st.authors.clone(),
                level: st.level,
                first_page: pi + 1,
                last_page: last_page.max(pi + 1),
                first_line: Some(line_id(pi + 1, row)),
                file: String::new(),
            });
        }
    }
    for (i, u) in units.iter_mut().enumerate() {
        u.file = unit_file(i + 1, u.title.as_deref());
        if u.kind == "chapter" {
            u.kind = kind_by_shape(pages, labelled, u.first_page, u.last_page).into();
        }
    }
    units
}

/// A unit whose title did not say what it is, by the shape of its lines:
/// an index is short lines ending in page numbers (`Topologie, 5, 17`); a
/// bibliography is entries opening with a surname and a comma, with years.
fn kind_by_shape(
    pages: &[PageView],
    labelled: &Labelled,
    first: usize,
    last: usize,
) -> &'static str {
    let mut lines = 0usize;
    let (mut index_like, mut surname, mut year) = (0usize, 0usize, 0usize);
    let range = first.saturating_sub(1)..last.min(pages.len());
    for (page, roles) in pages[range.clone()].iter().zip(&labelled.roles[range]) {
        for (row, role) in page.rows.iter().zip(roles) {
            if *role != Role::Body {
                continue;
            }
            lines += 1;
            let w = &row.words;
            let ends_number = w.last().is_some_and(|t| {
                t.trim_end_matches([',', '.', ';'])
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '–')
                    && t.chars().any(|c| c.is_ascii_digit())
            });
            if ends_number && w.len() <= 8 {
                index_like += 1;
            }
            if w.first().is_some_and(|t| {
                t.ends_with(',')
                    && t.chars().next().is_some_and(char::is_uppercase)
                    && t.chars().count() > 2
            }) {
                surname += 1;
            }
            if w.iter().any(|t| {
                let d: String = t.chars().filter(char::is_ascii_digit).collect();
                d.len() == 4 && d.parse::<u32>().is_ok_and(|y| (1500..=2099).contains(&y))
            }) {
                year += 1;
            }
        }
    }
    if lines < 10 {
        "chapter"
    } else if index_like * 10 >= lines * 6 {
        "index"
    } else if surname * 10 >= lines * 3 && year * 10 >= lines * 3 {
        "bibliography"
    } else {
        "chapter"
    }
}

/// The first row of a page that is not furniture (0 if none).
fn first_content_row(roles: &[Role]) -> usize {
    roles.iter().position(|r| !r.is_furniture()).unwrap_or(0)
}

/// The id of the first non-furniture line from page index `from` on.
fn first_line(pages: &[PageView], labelled: &Labelled, from: usize) -> Option<String> {
    pages.iter().enumerate().skip(from).find_map(|(pi, p)| {
        labelled.roles[pi]
            .iter()
            .position(|r| !r.is_furniture())
            .map(|i| line_id(p.number, i))
    })
}

/// `unit_002-1-introduction.md`: the unit's number (the order) and its
/// title as a file name (lower case, accents dropped, at most 40
/// characters); `unit_002.md` for a unit without a title.
pub fn unit_file(n: usize, title: Option<&str>) -> String {
    let mut slug = String::new();
    for c in title.unwrap_or("").chars().flat_map(fold_char) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("unit_{n:03}.md")
    } else {
        format!("unit_{n:03}-{slug}.md")
    }
}

/// A letter without its accent (`é` -> `e`, `ß` -> `ss`), as far as a
/// file name needs.
fn fold_char(c: char) -> Vec<char> {
    let plain = match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Î' | 'Ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ô' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Û' | 'Ü' => 'u',
        'ÿ' => 'y',
        'ß' => return vec!['s', 's'],
        'œ' | 'Œ' => return vec!['o', 'e'],
        'æ' | 'Æ' => return vec!['a', 'e'],
        c => c,
    };
    vec![plain]
}

#[cfg(test)]
mod file_tests {
    use super::unit_file;

    #[test]
    fn unit_files_are_named_by_their_titles() {
        assert_eq!(
            unit_file(2, Some("1 Introduction")),
            "unit_002-1-introduction.md"
        );
        assert_eq!(
            unit_file(3, Some("Über die Größe — Études!")),
            "unit_003-uber-die-grosse-etudes.md"
        );
        assert_eq!(unit_file(4, None), "unit_004.md");
        assert_eq!(unit_file(5, Some("…")), "unit_005.md");
        let long = unit_file(6, Some(&"word ".repeat(30)));
        assert!(long.len() <= "unit_006-".len() + 40 + ".md".len(), "{long}");
        assert!(!long.contains("-.md"), "{long}");
    }
}
