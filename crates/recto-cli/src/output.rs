//! Writing to stdout. Only the CLI prints; a closed pipe (`recto jobs list |
//! head`) ends the output quietly instead of panicking.

#![allow(clippy::print_stdout)]

use std::io::{self, Write};

use serde::Serialize;

/// Print `value` as pretty JSON, the exact form `--json` promises.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    text(&s)
}

thread_local! {
    /// When set, what this thread would print goes here instead (the
    /// Python module runs the CLI in-process and wants its JSON back).
    static CAPTURE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with this thread's stdout output captured; returns `f`'s result
/// and the text.
pub fn captured<T>(f: impl FnOnce() -> T) -> (T, String) {
    CAPTURE.with(|c| *c.borrow_mut() = Some(String::new()));
    let r = f();
    let text = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (r, text)
}

/// Print text as given.
pub fn text(s: &str) -> anyhow::Result<()> {
    let taken = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(buf) => {
            buf.push_str(s);
            true
        }
        None => false,
    });
    if taken {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Print one line.
pub fn line(s: impl AsRef<str>) -> anyhow::Result<()> {
    text(&format!("{}\n", s.as_ref()))
}

/// `1 page`, `3 pages`, `0 entries`: a count with its noun agreeing.
pub fn count(n: impl TryInto<u64> + Copy + std::fmt::Display, noun: &str) -> String {
    let one = n.try_into().ok() == Some(1);
    if one {
        format!("{n} {noun}")
    } else if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// [`count`] of a JSON number (a record's field); `?` when it is missing.
pub fn count_of(v: &serde_json::Value, noun: &str) -> String {
    match v.as_u64() {
        Some(n) => count(n, noun),
        None => format!("? {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1u64, "page"), "1 page");
        assert_eq!(count(0usize, "entry"), "0 entries");
        assert_eq!(count(2usize, "citekey"), "2 citekeys");
        assert_eq!(count(2usize, "key"), "2 keys");
        assert_eq!(count_of(&serde_json::json!(1), "citekey"), "1 citekey");
    }
}
