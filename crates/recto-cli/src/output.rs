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
