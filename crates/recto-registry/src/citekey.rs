//! Citekeys: validation, and their reversible mapping to file names and object keys.
//!
//! BibTeX keys may hold characters such as `:` or `+` that are awkward in file
//! names and object keys. We keep the key as the user wrote it in metadata and
//! map it to a safe name only where it becomes a path component: bytes outside
//! `[A-Za-z0-9_-]` and a leading `.` are percent-encoded, so the mapping is
//! reversible and common keys (`smith2020`, `test_v04`) stay unchanged.

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
    pub fn file_stem(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for (i, b) in self.0.bytes().enumerate() {
            let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
            if keep {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// Inverse of [`Citekey::file_stem`].
    pub fn from_file_stem(stem: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidCitekey {
            key: stem.to_owned(),
            reason: "not an encoded citekey file name".into(),
        };
        let bytes = stem.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = stem.get(i + 1..i + 3).ok_or_else(bad)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        let s = String::from_utf8(out).map_err(|_| bad())?;
        Self::parse(&s)
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
    fn dangerous_keys_are_rejected() {
        for k in [
            "", "a/b", "..", "a..b", "a\\b", "a\0b", "a\nb", "a b", "../etc",
        ] {
            assert!(Citekey::parse(k).is_err(), "{k:?} accepted");
        }
        assert!(Citekey::parse(&"k".repeat(81)).is_err());
    }
}
