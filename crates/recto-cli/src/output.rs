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

/// Print text as given.
pub fn text(s: &str) -> anyhow::Result<()> {
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
