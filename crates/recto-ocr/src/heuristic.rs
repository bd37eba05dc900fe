//! Is a page's own text layer good enough to skip OCR?
//!
//! A page's text layer is used when it has at least [`MIN_CHARS`] visible
//! characters, at most 5% of them are garbage (U+FFFD, `(cid:N)` leftovers,
//! private-use or control characters) and at least half are letters or
//! digits. Scanned pages without a layer, and layers that a broken font
//! mapping turned into garbage, get OCR instead.

/// Fewer visible characters than this: treat the page as having no text.
pub const MIN_CHARS: usize = 20;
const MAX_GARBAGE_RATIO: f64 = 0.05;
const MIN_ALNUM_RATIO: f64 = 0.5;

pub use recto_page::TextLayerVerdict;

pub fn assess(text: &str) -> TextLayerVerdict {
    // Leader dots are not text one way or the other: a contents page is
    // half dots (measured: 44-50% letters and digits with them on the
    // corpus's contents pages, which were then OCRed instead of read).
    let visible: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '·' | '…'))
        .collect();
    let chars = visible.len();
    let cid = text.matches("(cid:").count();
    let garbage = cid * 6
        + visible
            .iter()
            .filter(|&&c| {
                c == '\u{FFFD}' || c.is_control() || ('\u{E000}'..='\u{F8FF}').contains(&c)
            })
            .count();
    let alnum = visible.iter().filter(|c| c.is_alphanumeric()).count();
    let alnum_ratio = if chars == 0 {
        0.0
    } else {
        alnum as f64 / chars as f64
    };
    let garbage_ratio = if chars == 0 {
        0.0
    } else {
        garbage as f64 / chars as f64
    };
    let (usable, reason) = if chars < MIN_CHARS {
        (false, format!("{chars} visible characters (< {MIN_CHARS})"))
    } else if garbage_ratio > MAX_GARBAGE_RATIO {
        (
            false,
            format!("{:.0}% garbage characters (> 5%)", garbage_ratio * 100.0),
        )
    } else if alnum_ratio < MIN_ALNUM_RATIO {
        (
            false,
            format!("{:.0}% letters and digits (< 50%)", alnum_ratio * 100.0),
        )
    } else {
        (true, "usable".to_owned())
    };
    TextLayerVerdict {
        chars,
        garbage,
        alnum_ratio: (alnum_ratio * 1000.0).round() / 1000.0,
        usable,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_text_is_usable() {
        let v = assess("The quick brown fox jumps over the lazy dog. Der schnelle Fuchs.");
        assert!(v.usable, "{v:?}");
    }

    #[test]
    fn empty_or_short_is_not() {
        assert!(!assess("").usable);
        assert!(!assess("  12  ").usable);
        assert!(assess("  12  ").reason.contains("visible characters"));
    }

    #[test]
    fn a_contents_page_full_of_leader_dots_is_usable() {
        let line = "1.2 Metrische Räume . . . . . . . . . . . . . . . . . . . . . . . . 6\n";
        let v = assess(&line.repeat(20));
        assert!(v.usable, "{v:?}");
    }

    #[test]
    fn garbage_layers_are_rejected() {
        let fffd =
            "The quick \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD} brown fox jumps over \u{FFFD}\u{FFFD}";
        assert!(
            assess(fffd).reason.contains("garbage"),
            "{:?}",
            assess(fffd)
        );
        let cid = "(cid:12)(cid:34)(cid:56) words here and there to pass the minimum";
        assert!(!assess(cid).usable);
        let symbols = "#$%&*@!#$%&*@!#$%&*@!#$%&*@! ab";
        assert!(assess(symbols).reason.contains("letters and digits"));
        let private = "\u{E001}\u{E002}\u{E003}\u{E004}\u{E005} some text that is otherwise fine";
        assert!(!assess(private).usable);
    }
}
