//! Hunspell dictionaries (Debian's `hunspell-*` packages), by Tesseract
//! language code: the OCR step asks them which of two readings of a word is
//! a word, the segmentation step whether a line-end hyphen splits a word.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Hunspell dictionaries, loaded once each when first needed.
#[derive(Debug)]
pub struct Dictionaries {
    dir: PathBuf,
    loaded: BTreeMap<&'static str, OnceLock<Option<Hunspell>>>,
}

/// Tesseract language codes and the Hunspell dictionary of each.
const DICTIONARIES: &[(&str, &str)] = &[
    ("eng", "en_US"),
    ("deu", "de_DE"),
    ("frk", "de_DE"),
    ("fra", "fr_FR"),
    ("ita", "it_IT"),
    ("spa", "es_ES"),
    ("nld", "nl_NL"),
    ("por", "pt_PT"),
];

pub struct Hunspell(spellbook::Dictionary);

impl Hunspell {
    /// Whether the dictionary knows `word` (its affixes applied).
    pub fn check(&self, word: &str) -> bool {
        self.0.check(word)
    }
}

impl std::fmt::Debug for Hunspell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hunspell")
    }
}

impl Dictionaries {
    pub fn new(dir: &Path) -> Self {
        Dictionaries {
            dir: dir.to_owned(),
            loaded: DICTIONARIES
                .iter()
                .map(|(_, d)| (*d, OnceLock::new()))
                .collect(),
        }
    }

    /// The dictionary `name`, if it is installed and parses.
    pub fn get(&self, name: &'static str) -> Option<&Hunspell> {
        self.loaded
            .get(name)?
            .get_or_init(|| {
                let read =
                    |ext: &str| read_dictionary_file(&self.dir.join(format!("{name}.{ext}")));
                let (aff, dic) = (read("aff")?, read("dic")?);
                match spellbook::Dictionary::new(&aff, &dic) {
                    Ok(d) => Some(Hunspell(d)),
                    Err(e) => {
                        tracing::warn!("the {name} dictionary cannot be read: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The dictionary for a document read with `languages` (Tesseract
    /// codes joined by `+`): of those languages' dictionaries (and English,
    /// German and French, since OCR runs often keep the default `eng`), the
    /// one that knows most of the document's `sample` words.
    pub fn choose(&self, languages: &str, sample: &[String]) -> Option<(&'static str, &Hunspell)> {
        let mut names: Vec<&'static str> = Vec::new();
        for code in languages.split('+').chain(["eng", "deu", "fra"]) {
            if let Some(name) = dictionary_of(code)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
        names
            .into_iter()
            .filter_map(|n| self.get(n).map(|d| (n, d)))
            .map(|(n, d)| {
                let hits = sample.iter().filter(|w| d.check(w)).count();
                (hits, n, d)
            })
            .max_by_key(|(hits, _, _)| *hits)
            .filter(|(hits, _, _)| *hits > 0)
            .map(|(_, n, d)| (n, d))
    }

    /// Whether a dictionary of one of `languages` (Tesseract codes joined
    /// by `+`) knows `word`, as written or in lower case.
    pub fn knows(&self, languages: &str, word: &str) -> bool {
        let lower = word.to_lowercase();
        languages
            .split('+')
            .filter_map(dictionary_of)
            .filter_map(|name| self.get(name))
            .any(|d| d.check(word) || d.check(&lower))
    }
}

/// A dictionary file as text: UTF-8, or ISO 8859-1 (older Debian German
/// dictionaries), decoded byte for byte.
fn read_dictionary_file(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    })
}

/// The Hunspell dictionary of a Tesseract language code.
fn dictionary_of(code: &str) -> Option<&'static str> {
    DICTIONARIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Where Debian's `hunspell-*` packages put their dictionaries.
pub const DEFAULT_DIR: &str = "/usr/share/hunspell";

/// `RECTO_HUNSPELL_DIR`, or [`DEFAULT_DIR`].
pub fn default_dir() -> PathBuf {
    std::env::var_os("RECTO_HUNSPELL_DIR").map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from)
}

/// Each Tesseract language recto has a dictionary for, the dictionary's
/// name, and whether its files are in `dir` (for `recto doctor`).
pub fn installed(dir: &Path) -> Vec<(&'static str, &'static str, bool)> {
    DICTIONARIES
        .iter()
        .map(|(lang, name)| {
            let there = ["aff", "dic"]
                .iter()
                .all(|ext| dir.join(format!("{name}.{ext}")).is_file());
            (*lang, *name, there)
        })
        .collect()
}

/// The marks Tesseract puts on a doubled `i`.
const MARKED_I: [char; 4] = ['ï', 'î', 'í', 'ì'];

/// Where in `word` (bytes) an `i` stands next to a marked one, and the
/// marked letter. Most words have no marked `i`: for them this is one
/// search, no allocation (it runs on every OCRed word).
fn doubled_pair(word: &str) -> Option<(std::ops::Range<usize>, char)> {
    if !word.contains(MARKED_I) {
        return None;
    }
    let mut chars = word.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let &(next_at, next) = chars.peek()?;
        let marked = match (c, next) {
            ('i', m) | (m, 'i') if MARKED_I.contains(&m) => m,
            _ => continue,
        };
        return Some((at..next_at + next.len_utf8(), marked));
    }
    None
}

/// A word in which Tesseract's recogniser read one `i` twice, once with a
/// mark and once without (`haleïine`, `besoîin`, `Salagoïity`), mended:
/// the pair becomes one letter, the plain `i` when `known` (a dictionary)
/// knows that reading and not the marked one (`haleine`), else the marked
/// one (`Salagoïty`, a name no dictionary has: the mark was seen). `None`
/// when the word has no such pair. On the corpus scans the pair came up 5
/// times, each a doubled letter; no word of Debian's fr_FR, de_DE, en_US,
/// it_IT, es_ES or nl_NL Hunspell lists has one.
pub fn doubled_i(word: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    let (pair, marked) = doubled_pair(word)?;
    let with = |letter: char| format!("{}{letter}{}", &word[..pair.start], &word[pair.end..]);
    let (plain, kept) = (with('i'), with(marked));
    let core = |s: &str| s.trim_matches(|ch: char| !ch.is_alphanumeric()).to_owned();
    if known(&core(&plain)) && !known(&core(&kept)) {
        Some(plain)
    } else {
        Some(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doubled_i_becomes_the_reading_the_dictionary_knows() {
        let french = |w: &str| ["haleine", "besoin", "baissés"].contains(&w);
        assert_eq!(doubled_i("haleïine,", french).as_deref(), Some("haleine,"));
        assert_eq!(doubled_i("besoîin", french).as_deref(), Some("besoin"));
        assert_eq!(doubled_i("baiïssés", french).as_deref(), Some("baissés"));
        // A name no dictionary knows keeps the mark it was read with.
        assert_eq!(
            doubled_i("Salagoïity", french).as_deref(),
            Some("Salagoïty")
        );
        // Nothing doubled: nothing to mend.
        assert!(doubled_pair("naïve").is_none());
        assert_eq!(doubled_i("naïve", french), None);
        assert_eq!(doubled_i("Homöomorphismus", french), None);
    }
}
