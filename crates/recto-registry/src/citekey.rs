//! Citekeys: validation, and their reversible mapping to file names and object keys.
//!
//! BibTeX keys may hold characters such as `:` or `+` that are awkward in file
//! names and object keys. We keep the key as the user wrote it in metadata and
//! map it to a safe name only where it becomes a path component: bytes outside
//! `[A-Za-z0-9_-]` and a leading `.` are percent-encoded, so the mapping is
//! reversible and common keys (`smith2020`, `test_v04`) stay unchanged.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::fmt;

use crate::Error;

/// Longest citekey accepted, in bytes; its encoded form must stay below the
/// 255-byte file-name limit of common filesystems.
pub const MAX_CITEKEY_LEN: usize = 80;

/// A validated citekey.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Citekey(String);

impl Citekey {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidCitekey {
            key: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("empty".into()));
        }
        if s.len() > MAX_CITEKEY_LEN {
            return Err(invalid(format!("longer than {MAX_CITEKEY_LEN} bytes")));
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\'))
        {
            return Err(invalid(format!(
                "contains {c:?}; citekeys may not contain '/', '\\', whitespace or control characters"
            )));
        }
        if s.contains("..") {
            return Err(invalid("contains '..'".into()));
        }
        Ok(Citekey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name used for this citekey in paths and object keys.
    /// ASCII letters, digits, `_`, `-` and `.` are kept, every other byte
    /// is `%XX`; a leading `.` is encoded too, so no citekey names a hidden
    /// file. The form is fixed: it names the folders of existing data.
    pub fn file_stem(&self) -> String {
        const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.');
        match self.0.strip_prefix('.') {
            Some(rest) => format!("%2E{}", utf8_percent_encode(rest, KEEP)),
            None => utf8_percent_encode(&self.0, KEEP).to_string(),
        }
    }

    /// Inverse of [`Citekey::file_stem`]: only the form it writes is taken.
    pub fn from_file_stem(stem: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidCitekey {
            key: stem.to_owned(),
            reason: "not an encoded citekey file name".into(),
        };
        let decoded = percent_decode_str(stem).decode_utf8().map_err(|_| bad())?;
        let key = Self::parse(&decoded)?;
        if key.file_stem() != stem {
            return Err(bad());
        }
        Ok(key)
    }
}

impl fmt::Display for Citekey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_map_to_themselves() {
        for k in ["smith2020", "test_v04", "van-dyke1999", "a.b"] {
            let c = Citekey::parse(k).unwrap();
            assert_eq!(c.file_stem(), k);
        }
    }

    #[test]
    fn awkward_keys_round_trip() {
        for k in [
            "smith:2020",
            "Müller2019",
            "a+b=c",
            ".hidden",
            "50%off",
            "x?y*z",
        ] {
            let c = Citekey::parse(k).unwrap();
            let stem = c.file_stem();
            assert!(
                stem.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.%".contains(&b)),
                "{stem}"
            );
            assert!(!stem.starts_with('.'));
            assert_eq!(Citekey::from_file_stem(&stem).unwrap(), c);
        }
    }

    #[test]
    fn the_encoded_form_is_the_one_existing_data_dirs_use() {
        for (k, stem) in [
            ("smith:2020", "smith%3A2020"),
            ("Müller2019", "M%C3%BCller2019"),
            (".hidden", "%2Ehidden"),
            ("a.b", "a.b"),
            ("50%off", "50%25off"),
        ] {
            assert_eq!(Citekey::parse(k).unwrap().file_stem(), stem);
        }
        // Only that form is read back: another spelling of the same key
        // would name a second folder for it.
        for stem in ["smith%3a2020", ".hidden", "smith%3", "%FF"] {
            assert!(Citekey::from_file_stem(stem).is_err(), "{stem}");
        }
    }

    #[test]
    fn dangerous_keys_are_rejected() {
        for k in [
            "", "a/b", "..", "a..b", "a\\b", "a\0b", "a\nb", "a b", "../etc",
        ] {
            assert!(Citekey::parse(k).is_err(), "{k:?} accepted");
        }
        assert!(Citekey::parse(&"k".repeat(81)).is_err());
    }
}
