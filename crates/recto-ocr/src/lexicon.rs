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
pub const DICTIONARIES: &[(&str, &str)] = &[
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
            if let Some((_, name)) = DICTIONARIES.iter().find(|(c, _)| *c == code)
                && !names.contains(name)
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

/// `RECTO_HUNSPELL_DIR`, or Debian's `/usr/share/hunspell`.
pub fn default_dir() -> PathBuf {
    std::env::var_os("RECTO_HUNSPELL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/hunspell"))
}

impl Dictionaries {
    /// Whether a dictionary of one of `languages` (Tesseract codes joined
    /// by `+`) knows `word`, as written or in lower case.
    pub fn knows(&self, languages: &str, word: &str) -> bool {
        let lower = word.to_lowercase();
        languages
            .split('+')
            .filter_map(|code| DICTIONARIES.iter().find(|(c, _)| *c == code))
            .filter_map(|(_, name)| self.get(name))
            .any(|d| d.check(word) || d.check(&lower))
    }
}

/// The marks Tesseract puts on a doubled `i`.
const MARKED_I: [char; 4] = ['ï', 'î', 'í', 'ì'];

/// Whether `word` has an `i` next to a marked one (`ïi`, `iî`, ...).
pub fn has_doubled_i(word: &str) -> bool {
    let c: Vec<char> = word.chars().collect();
    c.windows(2).any(|p| {
        (MARKED_I.contains(&p[0]) && p[1] == 'i') || (p[0] == 'i' && MARKED_I.contains(&p[1]))
    })
}

/// A word in which Tesseract's recogniser read one `i` twice, once with a
/// mark and once without (`haleïine`, `besoîin`, `Salagoïity`), mended:
/// the pair becomes one letter, the plain `i` when `known` (a dictionary)
/// knows that reading and not the marked one (`haleine`), else the marked
/// one (`Salagoïty`, a name no dictionary has: the mark was seen). `None`
/// when the word has no such pair. On the corpus scans the pair came up 5
/// times, each a doubled letter; French or German spelling has no `ïi`.
pub fn doubled_i(word: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    let c: Vec<char> = word.chars().collect();
    let at = c.windows(2).position(|p| {
        (MARKED_I.contains(&p[0]) && p[1] == 'i') || (p[0] == 'i' && MARKED_I.contains(&p[1]))
    })?;
    let marked = if c[at] == 'i' { c[at + 1] } else { c[at] };
    let with = |letter: char| -> String {
        c[..at]
            .iter()
            .chain(std::iter::once(&letter))
            .chain(&c[at + 2..])
            .collect()
    };
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
        assert!(!has_doubled_i("naïve"));
        assert_eq!(doubled_i("naïve", french), None);
        assert_eq!(doubled_i("Homöomorphismus", french), None);
    }
}
