//! Printed contents pages: found, and parsed into entries.
//!
//! A contents page has many rows that end in a page number after some
//! title text (leader dots or not), those numbers mostly ascend, and it
//! often has a heading naming it. An index also has rows ending in numbers,
//! but its numbers jump about; a list of figures or tables has its own
//! heading and is left out.

use crate::text::{PageNumber, is_leader, normalize, parse_page_number};
use crate::view::{PageView, Row};

/// Headings of a table of contents, normalised.
const CONTENTS: &[&str] = &[
    "contents",
    "table of contents",
    "inhalt",
    "inhaltsverzeichnis",
    "table des matières",
    "table des matieres",
    "sommaire",
    "indice",
    "índice",
    "indice generale",
    "sommario",
    "contenido",
    "inhoud",
    "inhoudsopgave",
    "spis treści",
    "obsah",
];

/// Headings of lists that look like contents but are not.
const NOT_CONTENTS: &[&str] = &[
    "list of figures",
    "list of tables",
    "list of illustrations",
    "abbildungsverzeichnis",
    "tabellenverzeichnis",
    "liste des figures",
    "liste des tableaux",
    "table des figures",
    "table des illustrations",
    "index",
    "register",
    "stichwortverzeichnis",
    "sachregister",
    "personenregister",
];

/// One entry as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedEntry {
    pub title: String,
    /// The authors printed with the entry (an edited volume's contents),
    /// and where: `above` the title, before a `colon`, or `below`.
    pub authors: Option<String>,
    pub authors_at: Option<&'static str>,
    pub number: PageNumber,
    /// The label as printed (`xii`, `37`).
    pub label: String,
    /// Left edge of the entry's first row, for its level.
    pub indent: f32,
    /// Depth of a leading section number (`1.2` -> 2), if any.
    pub numbering_depth: Option<usize>,
    /// Physical page of the contents page it is printed on.
    pub on_page: usize,
    pub level: usize,
    /// Top of the entry's first row, and its column on the contents page
    /// (0 = leftmost), for reading order.
    pub y: f32,
    pub column: usize,
}

/// The contents pages found and their entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrintedToc {
    pub pages: Vec<usize>,
    pub entries: Vec<PrintedEntry>,
}

/// A row read as a contents entry: the title words and the number.
fn entry_row(row: &Row) -> Option<(Vec<String>, PageNumber, String)> {
    let mut words = row.words.clone();
    let mut conf = row.conf.clone();
    // `94.` or `12,`: punctuation after the number.
    let last = words
        .pop()?
        .trim_end_matches(['.', ',', ':', ';'])
        .to_owned();
    conf.pop();
    if last.is_empty() {
        return None;
    }
    // `Räume.....12` or `.....12`: the number glued to its leaders, and
    // maybe the title's last word glued to them too.
    let leader_char = |c: char| is_leader(&c.to_string());
    let (head, last_clean) = match last.rfind(leader_char) {
        Some(i) => {
            let cut = i + last[i..].chars().next().map_or(1, char::len_utf8);
            let head = last[..cut].trim_end_matches(leader_char);
            // `1.2` is a number, not a title `1` and page 2: only a run of
            // leaders (or leaders alone) separates a glued number.
            let run = last[head.len()..cut].chars().count();
            if !head.is_empty() && run < 2 {
                return None;
            }
            (head, &last[cut..])
        }
        None => ("", last.as_str()),
    };
    let after_leaders =
        head.len() < last.len() - last_clean.len() || words.last().is_some_and(|w| is_dotted(w));
    let number = parse_page_number(last_clean).or_else(|| {
        after_leaders
            .then(|| misread_after_leaders(last_clean))
            .flatten()
    })?;
    if !head.is_empty() {
        words.push(head.to_owned());
        conf.push(100.0);
    }
    let words = clean_title(words, &conf);
    let letters = words
        .iter()
        .flat_map(|w| w.chars())
        .filter(|c| c.is_alphabetic())
        .count();
    (letters >= 2).then(|| {
        let label = number.label();
        (words, number, label)
    })
}

/// A word with a run of dots in it: OCR's reading of leader dots.
fn is_dotted(w: &str) -> bool {
    w.contains("..") || w.contains(". .") || w.contains('…') || is_leader(w)
}

/// After leader dots, the number OCR misread: a lone `l`, `I` or `|` is
/// a 1, and in a token with a digit `A7` is 47, `S` 5, `B` 8, `G` 6, `Z` 2.
fn misread_after_leaders(t: &str) -> Option<PageNumber> {
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    // A `1` read as strokes: `l`, `I`, `|`, `Il`.
    if !t.is_empty() && t.len() <= 2 && t.chars().all(|c| matches!(c, 'l' | 'I' | '|')) {
        return Some(PageNumber {
            value: 1,
            kind: crate::text::NumberKind::Arabic,
        });
    }
    let lone_one = matches!(t, "l" | "I" | "|");
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    if t.is_empty()
        || t.len() > 4
        || !(lone_one || has_digit)
        || !t.chars().all(|c| "lI|OoASBGZ0123456789".contains(c))
    {
        return None;
    }
    let fixed: String = t
        .chars()
        .map(|c| match c {
            'l' | 'I' | '|' => '1',
            'O' | 'o' => '0',
            'A' => '4',
            'S' => '5',
            'B' => '8',
            'G' => '6',
            'Z' => '2',
            c => c,
        })
        .collect();
    let value: u32 = fixed.parse().ok()?;
    (value >= 1).then_some(PageNumber {
        value,
        kind: crate::text::NumberKind::Arabic,
    })
}

/// OCR reads leader dots as dots, but also as strings of short
/// low-confidence "words" (`à ss savons onu`): the title ends at the first
/// leaders, punctuation, repeated or uncertain short word, and uncertain
/// short words at its end are dropped. (Long words are kept even when
/// uncertain: a misread title word is still the title; what noise is left
/// is replaced by the heading found on the page, see `link_printed`.)
fn clean_title(words: Vec<String>, conf: &[f32]) -> Vec<String> {
    let mut end = words.len();
    for (i, w) in words.iter().enumerate().skip(1) {
        // Tesseract gives the word before the leaders the leaders' low
        // confidence: it is judged by the leaders that follow it.
        let before_leaders = words.get(i + 1).is_some_and(|n| is_dotted(n));
        let c = if before_leaders {
            100.0
        } else {
            conf.get(i).copied().unwrap_or(100.0)
        };
        let punct = !w.chars().any(char::is_alphanumeric);
        let short = w.chars().count() <= 3;
        let repeated = short && words[i - 1] == *w;
        if is_dotted(w) && !w.chars().any(char::is_alphabetic)
            || punct
            || repeated
            || short && c < 50.0
        {
            end = i;
            break;
        }
    }
    let mut words: Vec<String> = words.into_iter().take(end).collect();
    while let Some(w) = words.last() {
        let c = conf.get(words.len() - 1).copied().unwrap_or(100.0);
        let short_unsure = c < 60.0 && w.chars().count() <= 3;
        if words.len() > 1 && (short_unsure || !w.chars().any(char::is_alphanumeric)) {
            words.pop();
        } else {
            break;
        }
    }
    if let Some(w) = words.last_mut() {
        let trimmed = w.trim_end_matches(|c: char| is_leader(&c.to_string()) || c == ':');
        *w = trimmed.to_owned();
        if w.is_empty() {
            words.pop();
        }
    }
    words
}

/// Whether row `i` of `page` is a contents heading (`Some(true)`), the
/// heading of a list that is not contents (`Some(false)`), or neither.
fn heading_kind(page: &PageView, i: usize) -> Option<bool> {
    let row = &page.rows[i];
    let exact = keyword_kind(&normalize(&row.text()));
    if exact.is_some() || !page.is_edge(i) {
        return exact;
    }
    // A running head on a later contents page (`2 Inhaltsverzeichnis`,
    // `Contents 3`); only for contents: `Stichwortverzeichnis 111` at the
    // top of the last contents page is an entry, not the index's heading.
    let mut words: &[String] = &row.words;
    if words.len() > 1 && parse_page_number(&words[0]).is_some() {
        words = &words[1..];
    }
    if words.len() > 1 && parse_page_number(&words[words.len() - 1]).is_some() {
        words = &words[..words.len() - 1];
    }
    keyword_kind(&normalize(&words.join(" "))).filter(|k| *k)
}

fn keyword_kind(n: &str) -> Option<bool> {
    if CONTENTS.contains(&n) {
        Some(true)
    } else if NOT_CONTENTS.contains(&n) {
        Some(false)
    } else {
        None
    }
}

/// How a page looks as a contents page.
struct PageScore {
    entries: usize,
    rows: usize,
    ascending: f64,
    heading: Option<bool>,
}

/// The rows of a page that can be contents: after a contents heading when
/// there is one (a title page can carry the contents below it), up to the
/// heading of a list that is not contents (a list of tables after them).
pub fn region(page: &PageView) -> std::ops::Range<usize> {
    let kinds: Vec<Option<bool>> = (0..page.rows.len())
        .map(|i| heading_kind(page, i))
        .collect();
    let start = kinds
        .iter()
        .position(|k| *k == Some(true))
        .map_or(0, |i| i + 1);
    let end = kinds[start..]
        .iter()
        .position(|k| *k == Some(false))
        .map_or(page.rows.len(), |i| start + i);
    start..end
}

fn score(page: &PageView) -> PageScore {
    let kinds: Vec<Option<bool>> = (0..page.rows.len())
        .map(|i| heading_kind(page, i))
        .collect();
    let heading = if kinds.contains(&Some(true)) {
        Some(true)
    } else {
        kinds.iter().take(4).find_map(|k| *k)
    };
    let mut values = Vec::new();
    let mut rows = 0;
    for i in region(page) {
        let row = &page.rows[i];
        let entry = entry_row(row);
        // Running heads and page numbers are not counted either way.
        if entry.is_none() && page.is_edge(i) && row.words.len() <= 3 {
            continue;
        }
        rows += 1;
        if let Some((_, n, _)) = entry {
            values.push(n);
        }
    }
    let pairs = values.windows(2).count();
    let up = values
        .windows(2)
        .filter(|w| w[0].kind != w[1].kind || w[1].value >= w[0].value)
        .count();
    PageScore {
        entries: values.len(),
        rows,
        ascending: if pairs == 0 {
            1.0
        } else {
            up as f64 / pairs as f64
        },
        heading,
    }
}

/// Find the printed contents of a document and parse its entries.
pub fn find_printed_toc(pages: &[PageView]) -> PrintedToc {
    let mut found: Vec<usize> = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let s = score(page);
        let share = s.entries as f64 / s.rows.max(1) as f64;
        let continuing = found.last().is_some_and(|&last| last + 1 == i);
        let is_toc = match s.heading {
            Some(false) => false,
            // The last page of contents can hold a single entry under its
            // running head.
            Some(true) if continuing => s.entries >= 1 && share >= 0.3,
            Some(true) => s.entries >= 3 && share >= 0.3,
            None if continuing => s.entries >= 3 && share >= 0.4 && s.ascending >= 0.8,
            None => s.entries >= 8 && share >= 0.6 && s.ascending >= 0.85,
        };
        if is_toc && (found.is_empty() || continuing) {
            found.push(i);
        } else if !found.is_empty() {
            break;
        }
    }
    let mut toc = PrintedToc {
        pages: found.iter().map(|&i| pages[i].number).collect(),
        entries: Vec::new(),
    };
    for &i in &found {
        parse_page(&pages[i], &mut toc.entries);
    }
    keep_authors_if_consistent(&mut toc.entries);
    assign_levels(&mut toc.entries, pages.first().map_or(1.0, |p| p.width));
    // Reading order: page by page, column by column, top to bottom.
    toc.entries.sort_by(|a, b| {
        (a.on_page, a.column)
            .cmp(&(b.on_page, b.column))
            .then(a.y.total_cmp(&b.y))
    });
    toc
}

/// Title words of rows read together: a word broken at a line end
/// (`biblio-` + `graphiques`) is joined again.
fn join_words(parts: impl IntoIterator<Item = String>) -> String {
    let mut out = String::new();
    for w in parts {
        if out.ends_with('-')
            && out.len() > 1
            && w.chars().next().is_some_and(char::is_lowercase)
            && !out.ends_with(" -")
        {
            out.pop();
            out.push_str(&w);
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&w);
        }
    }
    out
}

/// The entries of one contents page; a title broken over rows is joined to
/// the row that carries its number: rows just above it in its column.
fn parse_page(page: &PageView, out: &mut Vec<PrintedEntry>) {
    let mut pending: Vec<&Row> = Vec::new();
    // The bottom of the last entry's row, while the next row may be its
    // author line.
    let mut last_entry_row: Option<f32> = None;
    for i in region(page) {
        let row = &page.rows[i];
        if heading_kind(page, i).is_some() {
            pending.clear();
            continue;
        }
        match entry_row(row) {
            Some((words, number, label)) => {
                // The rows of this title: the chain of pending rows in this
                // column, each at most two line heights above the next.
                let mut prefix: Vec<&Row> = Vec::new();
                let mut top = row.bbox[1];
                // A numbered entry starts its own title; rows read with
                // little confidence are noise, not a title's first line.
                let numbered = numbering_depth(&row.text()).is_some();
                for p in pending.iter().rev().filter(|_| !numbered) {
                    let mean = p.conf.iter().sum::<f32>() / p.conf.len().max(1) as f32;
                    if mean < 50.0 {
                        break;
                    }
                    let same_column = p.bbox[0] < row.bbox[2] && row.bbox[0] < p.bbox[2];
                    let close = top - p.bbox[3] <= 2.0 * row.height().max(p.height());
                    if same_column && close && prefix.len() < 2 {
                        prefix.insert(0, p);
                        top = p.bbox[1];
                    }
                }
                pending.retain(|p| !prefix.iter().any(|q| std::ptr::eq(*p, *q)));
                let indent = prefix.first().map_or(row.x0, |r| r.x0);
                // An author line over the title (`Jane Doe and John Roe`).
                let mut authors = None;
                let mut authors_at = None;
                if !prefix.is_empty() && names_line(&prefix[0].words) {
                    authors = Some(prefix.remove(0).text());
                    authors_at = Some("above");
                }
                let title = join_words(prefix.iter().flat_map(|r| r.words.clone()).chain(words));
                // `Jane Doe: The Title`.
                let (title, authors) = match (authors, title.split_once(": ")) {
                    (None, Some((who, what)))
                        if names_line(
                            &who.split_whitespace()
                                .map(str::to_owned)
                                .collect::<Vec<_>>(),
                        ) =>
                    {
                        authors_at = Some("colon");
                        (what.to_owned(), Some(who.to_owned()))
                    }
                    (a, _) => (title, a),
                };
                last_entry_row = Some(row.bbox[3]);
                out.push(PrintedEntry {
                    numbering_depth: numbering_depth(&title),
                    authors,
                    authors_at,
                    title,
                    number,
                    label,
                    indent,
                    on_page: page.number,
                    level: 1,
                    y: top,
                    column: 0,
                });
            }
            None if page.is_edge(i) && row.words.len() <= 3 => {}
            // An author line under the entry it belongs to.
            None if last_entry_row.is_some_and(|b| row.bbox[1] - b <= 1.5 * row.height())
                && names_line(&row.words)
                && out.last().is_some_and(|e| e.authors.is_none()) =>
            {
                if let Some(e) = out.last_mut() {
                    e.authors = Some(row.text());
                    e.authors_at = Some("below");
                }
                last_entry_row = None;
            }
            None => {
                last_entry_row = None;
                pending.push(row);
                // Rows far above the current one can no longer start a title.
                let y = row.bbox[1];
                pending.retain(|p| y - p.bbox[3] <= 6.0 * row.height().max(1.0));
            }
        }
    }
}

/// An edited volume's contents name authors for most entries; a few
/// entries that only look so (`Metrische Räume` is two capitalised words)
/// are titles: below a third of the entries, the names go back into them.
fn keep_authors_if_consistent(entries: &mut [PrintedEntry]) {
    let with = entries.iter().filter(|e| e.authors.is_some()).count();
    if with >= 2 && with * 3 >= entries.len() {
        return;
    }
    for e in entries.iter_mut() {
        let Some(a) = e.authors.take() else { continue };
        match e.authors_at.take() {
            Some("above") => e.title = format!("{a} {}", e.title),
            Some("colon") => e.title = format!("{a}: {}", e.title),
            _ => {}
        }
        e.numbering_depth = numbering_depth(&e.title);
    }
}

/// Whether a row is a list of person names: two to eight words, each a
/// capitalised name, an initial (`J.`), a particle (`von`, `de`) or a
/// connector (`and`, `und`, `et`, `&`, commas), with at least two names and
/// no digits.
pub fn names_line(words: &[String]) -> bool {
    const PARTICLES: &[&str] = &[
        "von", "van", "de", "der", "den", "di", "da", "du", "la", "le", "zu", "y", "and", "und",
        "et", "e", "&", "u.", "ed.", "eds.", "hg.", "hrsg.", "(ed.)", "(eds.)", "(hg.)",
    ];
    if !(2..=8).contains(&words.len()) {
        return false;
    }
    let mut names = 0;
    for w in words {
        let bare = w.trim_end_matches([',', ';']);
        if bare.chars().any(|c| c.is_ascii_digit()) {
            return false;
        }
        if PARTICLES.contains(&bare.to_lowercase().as_str()) {
            continue;
        }
        let mut chars = bare.chars();
        let first_upper = chars.next().is_some_and(char::is_uppercase);
        let rest: String = chars.collect();
        let initial = first_upper && (rest == "." || rest.is_empty());
        let name = first_upper
            && rest
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
            && rest.chars().any(char::is_lowercase);
        if !(initial || name) {
            return false;
        }
        if name {
            names += 1;
        }
    }
    names >= 2
}

/// `1.2.3` -> 3 for a title that starts with a section number.
fn numbering_depth(title: &str) -> Option<usize> {
    let first = title.split_whitespace().next()?;
    let t = first.trim_end_matches('.');
    let parts: Vec<&str> = t.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
    (numeric && first.len() <= 12).then_some(parts.len())
}

/// Levels from indentation (each distinct indent a level, deeper to the
/// right), or from section numbers where every entry sits at one indent.
fn assign_levels(entries: &mut [PrintedEntry], page_width: f32) {
    let tolerance = 0.015 * page_width;
    // Contents in two columns: indentation counts from its column's edge.
    // Columns are groups of left edges more than a fifth of the page apart.
    let mut edges: Vec<f32> = entries.iter().map(|e| e.indent).collect();
    edges.sort_by(f32::total_cmp);
    let mut column_starts: Vec<f32> = Vec::new();
    let mut prev: Option<f32> = None;
    for x in edges {
        if prev.is_none_or(|p| x - p > 0.2 * page_width) {
            column_starts.push(x);
        }
        prev = Some(x);
    }
    for e in entries.iter_mut() {
        let column = column_starts
            .iter()
            .rposition(|&c| c <= e.indent)
            .unwrap_or(0);
        e.column = column;
        e.indent -= column_starts.get(column).copied().unwrap_or(0.0);
    }
    let mut indents: Vec<f32> = entries.iter().map(|e| e.indent).collect();
    indents.sort_by(f32::total_cmp);
    let mut clusters: Vec<f32> = Vec::new();
    for x in indents {
        match clusters.last() {
            Some(&c) if x - c <= tolerance => {}
            _ => clusters.push(x),
        }
    }
    for e in entries.iter_mut() {
        let by_indent = clusters
            .iter()
            .rposition(|&c| e.indent + tolerance >= c)
            .map_or(1, |i| i + 1);
        e.level = if clusters.len() >= 2 {
            by_indent
        } else {
            e.numbering_depth.unwrap_or(1)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, x: f32, y: f32) -> Row {
        Row::from_text(text, [x, y, 900.0, y + 20.0])
    }

    fn page(number: usize, rows: Vec<Row>) -> PageView {
        PageView::from_rows(number, 1000.0, 1400.0, rows)
    }

    #[test]
    fn a_contents_page_is_found_and_parsed() {
        let prose = |n| {
            page(
                n,
                (0..20)
                    .map(|i| {
                        row(
                            "Some prose line with words and 12 things",
                            100.0,
                            100.0 + 50.0 * i as f32,
                        )
                    })
                    .collect(),
            )
        };
        let toc = page(
            2,
            vec![
                row("Table des matières", 100.0, 100.0),
                row("1 Premier chapitre . . . . . . . 1", 100.0, 200.0),
                row("1.1 Une section . . . . . . 3", 140.0, 250.0),
                row("1.2 Une section dont le titre est", 140.0, 300.0),
                row("long et continue ici . . . . . . 5", 140.0, 330.0),
                row("2 Deuxième chapitre.........12", 100.0, 400.0),
                row("Index 20", 100.0, 450.0),
                row("ii", 500.0, 1350.0),
            ],
        );
        let pages = vec![prose(1), toc, prose(3)];
        let got = find_printed_toc(&pages);
        assert_eq!(got.pages, vec![2]);
        let titles: Vec<(&str, &str, usize)> = got
            .entries
            .iter()
            .map(|e| (e.title.as_str(), e.label.as_str(), e.level))
            .collect();
        assert_eq!(
            titles,
            vec![
                ("1 Premier chapitre", "1", 1),
                ("1.1 Une section", "3", 2),
                (
                    "1.2 Une section dont le titre est long et continue ici",
                    "5",
                    2
                ),
                ("2 Deuxième chapitre", "12", 1),
                ("Index", "20", 1),
            ]
        );
    }

    #[test]
    fn an_index_is_not_contents() {
        let index = page(
            9,
            (0..20)
                .map(|i| {
                    let v = [40, 3, 77, 12, 5][i % 5];
                    row(
                        &format!("Term number {i}, {v}"),
                        100.0,
                        100.0 + 50.0 * i as f32,
                    )
                })
                .collect(),
        );
        assert!(find_printed_toc(&[index]).pages.is_empty());
    }
}

#[cfg(test)]
mod author_tests {
    use super::*;

    fn row(text: &str, y: f32) -> Row {
        Row::from_text(text, [100.0, y, 900.0, y + 20.0])
    }

    #[test]
    fn an_edited_volume_names_its_authors() {
        let rows = vec![
            row("Contents", 100.0),
            row("Jane Doe and John Roe", 200.0),
            row("On the Reading of Old Books . . . . . . . 1", 225.0),
            row("Mary Major: Marginalia in Print . . . . . . 19", 280.0),
            row("A Third Essay Without Names Above It . . . 37", 340.0),
            row("Pierre de la Fontaine", 365.0),
        ];
        let toc = find_printed_toc(&[PageView::from_rows(1, 1000.0, 1400.0, rows)]);
        let got: Vec<(&str, Option<&str>)> = toc
            .entries
            .iter()
            .map(|e| (e.title.as_str(), e.authors.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("On the Reading of Old Books", Some("Jane Doe and John Roe")),
                ("Marginalia in Print", Some("Mary Major")),
                (
                    "A Third Essay Without Names Above It",
                    Some("Pierre de la Fontaine")
                ),
            ]
        );
        assert!(!names_line(&[
            "Metrische".into(),
            "Räume,".into(),
            "1914".into()
        ]));
    }

    #[test]
    fn a_lone_name_like_line_stays_in_its_title() {
        let rows = vec![
            row("Skript zur Vorlesung im Wintersemester", 40.0),
            row("Contents", 100.0),
            row("Topologische Grundbegriffe", 200.0),
            row("und ihre Anwendungen . . . . . . 1", 225.0),
            row("Metrische Räume . . . . . . . . . 6", 280.0),
            row("Stetigkeit . . . . . . . . . . . 9", 320.0),
            row("Zusammenhang . . . . . . . . . . 11", 360.0),
            row("ii", 1300.0),
        ];
        let toc = find_printed_toc(&[PageView::from_rows(1, 1000.0, 1400.0, rows)]);
        assert_eq!(
            toc.entries[0].title, "Topologische Grundbegriffe und ihre Anwendungen",
            "{:?}",
            toc.entries
        );
        assert!(toc.entries.iter().all(|e| e.authors.is_none()));
    }
}
