//! Text comparisons the TOC works with: titles normalised as the scoring
//! rules say (NFKC, lowercase, punctuation and leader dots dropped,
//! whitespace collapsed), their similarity, and printed page numbers
//! (arabic or roman, with the OCR misreads that are common in them).

use unicode_normalization::UnicodeNormalization;

/// A title as compared: NFKC, lowercase, no punctuation, single spaces.
pub fn normalize(s: &str) -> String {
    let folded: String = s
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    // Dropped punctuation inside a number ("1.2") must not leave a space
    // that the other side of the comparison lacks: join digit groups.
    let words: Vec<&str> = folded.split_whitespace().collect();
    let mut out = String::with_capacity(folded.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            let prev_digit = words[i - 1].chars().all(|c| c.is_ascii_digit());
            let this_digit = w.chars().all(|c| c.is_ascii_digit());
            let joined_in_source = prev_digit && this_digit;
            if !joined_in_source {
                out.push(' ');
            }
        }
        out.push_str(w);
    }
    out
}

/// [`normalize`] with diacritics dropped as well, for finding a title on a
/// page: OCR loses accents in display type (`Etre uilises`).
pub fn normalize_loose(s: &str) -> String {
    normalize(s)
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Levenshtein ratio of two normalised titles, 0..1.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    strsim::normalized_levenshtein(a, b)
}

/// How a printed page number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NumberKind {
    Arabic,
    RomanLower,
    RomanUpper,
}

/// A printed page number: its value and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    pub value: u32,
    pub kind: NumberKind,
}

impl PageNumber {
    /// The label as printed.
    pub fn label(&self) -> String {
        format_label(self.value, self.kind)
    }
}

/// `value` written the `kind` way.
pub fn format_label(value: u32, kind: NumberKind) -> String {
    match kind {
        NumberKind::Arabic => value.to_string(),
        NumberKind::RomanLower => to_roman(value).to_lowercase(),
        NumberKind::RomanUpper => to_roman(value),
    }
}

/// The largest roman page number believed.
const MAX_ROMAN: u32 = 200;

/// A token read as a page number, if it is one: `37`, `xii`, `- 4 -`,
/// `[12]`, and OCR's `l2` / `I2` / `1O` for `12` / `10`.
pub fn parse_page_number(token: &str) -> Option<PageNumber> {
    let t = token.trim_matches(|c: char| !c.is_alphanumeric());
    if t.is_empty() || t.chars().count() > 6 {
        return None;
    }
    if let Some(v) = roman_value(t) {
        let kind = if t.chars().all(|c| c.is_lowercase()) {
            NumberKind::RomanLower
        } else if t.chars().all(|c| c.is_uppercase()) {
            NumberKind::RomanUpper
        } else {
            return None;
        };
        // A lone `l`, `I` or `C` reads as a roman numeral but is far more
        // often a misread `1` or a letter: only small front-matter values.
        if t.len() == 1 && !matches!(t, "i" | "v" | "x" | "I" | "V" | "X") {
            return misread_arabic(t);
        }
        // Front matter is numbered in small roman numerals; a "roman"
        // token worth more is a word (`mix`, `civil`).
        return (v <= MAX_ROMAN).then_some(PageNumber { value: v, kind });
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        let v: u32 = t.parse().ok()?;
        return (1..=9999).contains(&v).then_some(PageNumber {
            value: v,
            kind: NumberKind::Arabic,
        });
    }
    misread_arabic(t)
}

/// Digits OCR commonly misreads as letters, when at least one real digit
/// is there to say it is a number.
fn misread_arabic(t: &str) -> Option<PageNumber> {
    if !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let fixed: String = t
        .chars()
        .map(|c| match c {
            'l' | 'I' | '|' | 'i' => '1',
            'O' | 'o' => '0',
            'S' => '5',
            c => c,
        })
        .collect();
    if !fixed.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u32 = fixed.parse().ok()?;
    (1..=9999).contains(&v).then_some(PageNumber {
        value: v,
        kind: NumberKind::Arabic,
    })
}

pub use recto_page::roman::{roman_value, to_roman};

/// A token made of leader dots or rules (`.....`, `. . .`, `…`, `___`).
pub fn is_leader(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| matches!(c, '.' | '·' | '…' | '_' | '-' | '–' | '—' | '•' | '⋅'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_normalise_as_the_scoring_rules_say() {
        assert_eq!(normalize("1.2. Metrische  Räume"), "12 metrische räume");
        assert_eq!(
            normalize("1.2 Metrische Räume . . . . ."),
            "12 metrische räume"
        );
        assert_eq!(normalize("ﬁn du Chapitre"), "fin du chapitre");
        assert!(similarity(&normalize("Stetigkeit"), &normalize("STETIGKEIT")) > 0.99);
    }

    #[test]
    fn page_numbers_are_read_with_misreads() {
        let n = |s: &str| parse_page_number(s).map(|p| (p.value, p.kind));
        assert_eq!(n("37"), Some((37, NumberKind::Arabic)));
        assert_eq!(n("- 4 -"), Some((4, NumberKind::Arabic)));
        assert_eq!(n("xii"), Some((12, NumberKind::RomanLower)));
        assert_eq!(n("XIV"), Some((14, NumberKind::RomanUpper)));
        assert_eq!(n("l2"), Some((12, NumberKind::Arabic)));
        assert_eq!(n("1O"), Some((10, NumberKind::Arabic)));
        assert_eq!(n("l"), None);
        assert_eq!(n("IIII"), None);
        assert_eq!(n("mix"), None);
        assert_eq!(n("Kapitel"), None);
        assert_eq!(n("0"), None);
        assert_eq!(to_roman(1984), "MCMLXXXIV");
        assert_eq!(roman_value("mcmlxxxiv"), Some(1984));
    }
}
