//! Each unit's clean text as Markdown: headings as `#`, paragraphs whole
//! (across line and page breaks, furniture left out), words broken at line
//! ends joined again where the break was not a real hyphen, footnote marks
//! taken out of the text as `[^n]` with the notes defined at the unit's end.

use std::collections::{BTreeMap, BTreeSet};

use recto_toc::PageView;

use crate::roles::{Labelled, Role, is_mark};
use crate::{Counts, Footnote, Lexicon, Unit};

/// Superscript digits and their digits.
const SUPERSCRIPTS: [(char, char); 10] = [
    ('⁰', '0'),
    ('¹', '1'),
    ('²', '2'),
    ('³', '3'),
    ('⁴', '4'),
    ('⁵', '5'),
    ('⁶', '6'),
    ('⁷', '7'),
    ('⁸', '8'),
    ('⁹', '9'),
];

fn is_superscript(c: char) -> bool {
    SUPERSCRIPTS.iter().any(|(s, _)| *s == c)
}

/// A footnote mark as a plain label: `¹` -> `1`; OCR's `!` and `'` for a
/// superscript one -> `1`.
fn mark_label(mark: &str) -> String {
    let m: String = mark
        .trim_end_matches(['.', ')'])
        .chars()
        .map(|c| {
            SUPERSCRIPTS
                .iter()
                .find(|(s, _)| *s == c)
                .map_or(c, |(_, d)| *d)
        })
        .collect();
    match m.as_str() {
        "!" | "'" | "’" => "1".into(),
        _ => m,
    }
}

/// Render every unit; returns the Markdown per unit, the footnotes and the
/// counts of what was done.
pub fn render(
    pages: &[PageView],
    labelled: &Labelled,
    units: &[Unit],
    lexicon: &dyn Lexicon,
) -> (Vec<String>, Vec<Footnote>, Counts) {
    let vocab = vocabulary(pages, labelled);
    let starts: Vec<(usize, usize)> = units
        .iter()
        .map(|u| {
            u.first_line
                .as_deref()
                .and_then(parse_line_id)
                .map_or((u.first_page - 1, 0), |(p, i)| (p - 1, i))
        })
        .collect();
    let unit_of =
        |pi: usize, i: usize| -> usize { starts.iter().rposition(|s| *s <= (pi, i)).unwrap_or(0) };
    let mut counts = Counts::default();
    let mut writers: Vec<Writer<'_>> = units
        .iter()
        .map(|_| Writer::new(lexicon, &vocab, labelled.line_height))
        .collect();
    let mut footnotes = Vec::new();
    for (pi, page) in pages.iter().enumerate() {
        let roles = &labelled.roles[pi];
        let left = left_margin(page, roles);
        // This page's notes first, so that marks in the text find them.
        let notes = page_notes(page, roles, lexicon, &vocab, &mut counts);
        let marks: BTreeSet<String> = notes.iter().map(|n| n.1.clone()).collect();
        for (i, row) in page.rows.iter().enumerate() {
            let u = unit_of(pi, i);
            let w = &mut writers[u];
            match roles[i] {
                Role::Heading => {
                    w.heading(row.text(), labelled.levels.get(&(pi, i)).copied(), pi, i)
                }
                Role::Title | Role::Toc | Role::Caption | Role::Other => w.block(row.text()),
                Role::Body => w.body(page.number, row, left, &marks, &mut counts),
                Role::Footnote | Role::RunningHeader | Role::RunningFooter | Role::PageNumber => {}
            }
        }
        for (row_index, mark, text) in notes {
            let u = unit_of(pi, row_index);
            writers[u].define(page.number, &mark, &text);
            footnotes.push(Footnote {
                page: page.number,
                mark,
                text,
                unit: u + 1,
            });
        }
    }
    let markdown = writers
        .into_iter()
        .map(|w| {
            let (md, c) = w.finish();
            counts.dehyphenated += c.dehyphenated;
            counts.hyphens_kept += c.hyphens_kept;
            md
        })
        .collect();
    (markdown, footnotes, counts)
}

/// `p3-l12` -> (3, 12).
fn parse_line_id(id: &str) -> Option<(usize, usize)> {
    let (p, l) = id.strip_prefix('p')?.split_once("-l")?;
    Some((p.parse().ok()?, l.parse().ok()?))
}

/// Every word of the body text, lowercased, as the document spells it
/// (words broken at line ends left out): the document's own vocabulary.
fn vocabulary(pages: &[PageView], labelled: &Labelled) -> BTreeSet<String> {
    let mut v = BTreeSet::new();
    for (pi, page) in pages.iter().enumerate() {
        for (i, row) in page.rows.iter().enumerate() {
            if !matches!(
                labelled.roles[pi][i],
                Role::Body | Role::Heading | Role::Footnote
            ) {
                continue;
            }
            let n = row.words.len();
            for (j, w) in row.words.iter().enumerate() {
                if j + 1 == n && w.ends_with('-') || j == 0 {
                    continue;
                }
                let core = core(w);
                if core.chars().count() >= 2 {
                    v.insert(core.to_lowercase());
                }
            }
        }
    }
    v
}

/// A word without the punctuation around it (inner hyphens and
/// apostrophes kept).
fn core(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'' && c != '’')
        .trim_matches(['-', '\'', '’'])
}

/// The left edge of the page's body text.
fn left_margin(page: &PageView, roles: &[Role]) -> f32 {
    let mut xs: Vec<f32> = page
        .rows
        .iter()
        .zip(roles)
        .filter(|(r, role)| **role == Role::Body && r.words.len() >= 4)
        .map(|(r, _)| r.x0)
        .collect();
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f32::total_cmp);
    // The common edge: the lower quartile (indented first lines sit right).
    xs[xs.len() / 4]
}

/// The footnotes of a page: `(first row, mark, text)`; a row opening with a
/// mark starts a note, the rows after it continue it.
fn page_notes(
    page: &PageView,
    roles: &[Role],
    lexicon: &dyn Lexicon,
    vocab: &BTreeSet<String>,
    counts: &mut Counts,
) -> Vec<(usize, String, String)> {
    let mut notes: Vec<(usize, String, String)> = Vec::new();
    for (i, row) in page.rows.iter().enumerate() {
        if roles[i] != Role::Footnote {
            continue;
        }
        let first = row.words.first().map(String::as_str).unwrap_or("");
        if is_mark(first) || notes.is_empty() {
            let (mark, rest) = if is_mark(first) {
                (mark_label(first), row.words[1..].join(" "))
            } else {
                (String::new(), row.text())
            };
            notes.push((i, mark, rest));
        } else if let Some(last) = notes.last_mut() {
            let joined = join_lines(&last.2, &row.text(), lexicon, vocab, counts);
            last.2 = joined;
        }
    }
    notes
}

/// Two lines of one paragraph joined: a word broken at the end of the
/// first is joined again unless the hyphen is a real one.
fn join_lines(
    a: &str,
    b: &str,
    lexicon: &dyn Lexicon,
    vocab: &BTreeSet<String>,
    counts: &mut Counts,
) -> String {
    let a = a.trim_end();
    let b = b.trim_start();
    if a.is_empty() {
        return b.to_owned();
    }
    if let Some(stem) = a.strip_suffix('-') {
        let left_word = stem.rsplit(' ').next().unwrap_or("");
        let right_word = b.split(' ').next().unwrap_or("");
        if !left_word.is_empty() && !stem.ends_with(' ') {
            return if is_break(left_word, right_word, lexicon, vocab) {
                counts.dehyphenated += 1;
                format!("{stem}{b}")
            } else {
                counts.hyphens_kept += 1;
                format!("{a}{b}")
            };
        }
    }
    format!("{a} {b}")
}

/// Whether `left-` at a line end followed by `right` is a word broken by
/// the line end (join) rather than a real hyphen (keep): the joined word is
/// in the dictionary or used elsewhere in the document, or, failing that,
/// the hyphenated form is not.
fn is_break(left: &str, right: &str, lexicon: &dyn Lexicon, vocab: &BTreeSet<String>) -> bool {
    let l = core(left);
    let r = core(right);
    // `Marx-` `Engels`: a capital after the hyphen is a compound's.
    if l.is_empty() || r.is_empty() || r.chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    if !r.chars().next().is_some_and(char::is_alphabetic) {
        return false;
    }
    let joined = format!("{l}{r}");
    let hyphenated = format!("{l}-{r}");
    let known = |w: &str| {
        let lower = w.to_lowercase();
        vocab.contains(&lower) || lexicon.is_word(w) || lexicon.is_word(&lower) || {
            // French and Italian elision: `d'éventuels` is `éventuels`.
            let bare = lower
                .split_once(['\'', '’'])
                .map_or(lower.as_str(), |(_, rest)| rest);
            bare != lower && (lexicon.is_word(bare) || vocab.contains(bare))
        }
    };
    if known(&joined) {
        return true;
    }
    if known(&hyphenated) {
        return false;
    }
    // Two words a hyphen compounds (`state-of-the-` `art`), neither
    // joined form known: keep it.
    let word = |w: &str| w.chars().count() >= 2 && known(w);
    let l_last = l.rsplit('-').next().unwrap_or(l);
    !(word(l_last) && word(r) || l.contains('-'))
}

/// The Markdown of one unit, built row by row.
struct Writer<'a> {
    lexicon: &'a dyn Lexicon,
    vocab: &'a BTreeSet<String>,
    body_height: f32,
    blocks: Vec<String>,
    /// The paragraph being built, and where its last row was.
    para: String,
    last: Option<(usize, [f32; 4])>,
    /// The heading being built (consecutive heading rows are one heading),
    /// its level and its last row.
    heading: Option<(String, usize, (usize, usize))>,
    /// Footnote numbers by (page, mark), and the definitions.
    refs: BTreeMap<(usize, String), usize>,
    defs: Vec<(usize, String)>,
    counts: Counts,
    /// The paragraph being built is a list item: its continuation lines
    /// (often hanging-indented) join it rather than start a paragraph.
    in_item: bool,
}

/// The Markdown marker of a list item a row opens with: `-` for a bullet
/// or dash, the enumerator itself (`1.`, `a)`, `(3)`) for a numbered one.
fn list_marker(word: &str) -> Option<String> {
    if ["•", "◦", "▪", "·", "–", "—", "-", "*"].contains(&word) {
        return Some("-".into());
    }
    let inner = word.strip_prefix('(').and_then(|w| w.strip_suffix(')'));
    let body = inner.or_else(|| word.strip_suffix(['.', ')']))?;
    let numbered = (1..=3).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit());
    let lettered = body.len() == 1 && body.bytes().all(|b| b.is_ascii_lowercase());
    (numbered || lettered).then(|| word.to_owned())
}

impl<'a> Writer<'a> {
    fn new(lexicon: &'a dyn Lexicon, vocab: &'a BTreeSet<String>, body_height: f32) -> Self {
        Writer {
            lexicon,
            vocab,
            body_height,
            blocks: Vec::new(),
            para: String::new(),
            last: None,
            heading: None,
            refs: BTreeMap::new(),
            defs: Vec::new(),
            counts: Counts::default(),
            in_item: false,
        }
    }

    fn flush_para(&mut self) {
        if !self.para.trim().is_empty() {
            self.blocks.push(std::mem::take(&mut self.para));
        }
        self.para.clear();
        self.last = None;
        self.in_item = false;
    }

    fn flush_heading(&mut self) {
        if let Some((text, level, _)) = self.heading.take() {
            self.blocks
                .push(format!("{} {}", "#".repeat(level.clamp(1, 6)), text));
        }
    }

    fn heading(&mut self, text: String, level: Option<usize>, pi: usize, i: usize) {
        self.flush_para();
        if let Some((h, lvl, at)) = &mut self.heading
            && at.0 == pi
            && at.1 + 1 == i
        {
            h.push(' ');
            h.push_str(&text);
            *lvl = (*lvl).min(level.unwrap_or(*lvl));
            *at = (pi, i);
            return;
        }
        self.flush_heading();
        self.heading = Some((text, level.unwrap_or(2), (pi, i)));
    }

    fn block(&mut self, text: String) {
        self.flush_heading();
        self.flush_para();
        self.blocks.push(text);
    }

    fn body(
        &mut self,
        page: usize,
        row: &recto_toc::view::Row,
        left: f32,
        marks: &BTreeSet<String>,
        counts: &mut Counts,
    ) {
        self.flush_heading();
        let h = self.body_height;
        let indented = row.x0 - left >= 0.4 * h && row.x0 - left <= 6.0 * h;
        let marker = (row.words.len() > 1)
            .then(|| row.words.first().and_then(|w| list_marker(w)))
            .flatten();
        let new_para = match self.last {
            None => true,
            _ if marker.is_some() => true,
            // An item's next lines continue it, hanging indent or not.
            Some((p, b)) if p == page => {
                row.bbox[1] - b[3] > 0.9 * h || (indented && !self.in_item)
            }
            Some(_) => indented && !self.in_item,
        };
        if new_para {
            self.flush_para();
        }
        let row_words: &[String] = match &marker {
            Some(_) => &row.words[1..],
            None => &row.words,
        };
        // Footnote marks out of the text, as references.
        let mut words = Vec::with_capacity(row_words.len());
        for w in row_words {
            let (text, mark) = split_mark(w, marks);
            match mark {
                Some(m) => {
                    counts.footnote_marks += 1;
                    let n = self.reference(page, &m);
                    words.push(format!("{text}[^{n}]"));
                }
                None => words.push(text),
            }
        }
        let line = words.join(" ");
        if let Some(m) = marker {
            // A new item: its marker, then its text.
            self.para = format!("{m} {line}");
            self.in_item = true;
        } else {
            self.para = join_lines(
                &self.para,
                &line,
                self.lexicon,
                self.vocab,
                &mut self.counts,
            );
        }
        self.last = Some((page, row.bbox));
    }

    /// The number of the note `mark` on `page` in this unit.
    fn reference(&mut self, page: usize, mark: &str) -> usize {
        let next = self.refs.len() + 1;
        *self.refs.entry((page, mark.to_owned())).or_insert(next)
    }

    fn define(&mut self, page: usize, mark: &str, text: &str) {
        let n = self.reference(page, mark);
        self.defs.push((n, text.to_owned()));
    }

    fn finish(mut self) -> (String, Counts) {
        self.flush_heading();
        self.flush_para();
        let mut out = self.blocks.join("\n\n");
        if !self.defs.is_empty() {
            self.defs.sort_by_key(|d| d.0);
            out.push_str("\n\n");
            let defs: Vec<String> = self
                .defs
                .iter()
                .map(|(n, t)| format!("[^{n}]: {t}"))
                .collect();
            out.push_str(&defs.join("\n"));
        }
        out.push('\n');
        (out, self.counts)
    }
}

/// A word with a footnote mark glued to its end (`nos¹`, or OCR's `nos!`
/// when the page's notes use `!`): the word and the mark's label.
fn split_mark(word: &str, marks: &BTreeSet<String>) -> (String, Option<String>) {
    let trimmed = word.trim_end_matches(is_superscript);
    if trimmed.len() < word.len() && trimmed.chars().any(char::is_alphanumeric) {
        let mark: String = word[trimmed.len()..].to_owned();
        return (trimmed.to_owned(), Some(mark_label(&mark)));
    }
    // OCR's superscript one, only where the page has a note so marked and
    // the word is otherwise plain letters.
    if marks.contains("1")
        && let Some(stem) = word.strip_suffix(['!', '\''])
        && stem.chars().count() >= 2
        && stem.chars().all(char::is_alphabetic)
    {
        return (stem.to_owned(), Some("1".into()));
    }
    (word.to_owned(), None)
}
