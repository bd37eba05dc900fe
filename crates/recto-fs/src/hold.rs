//! Hold points: where a test that interrupts a run (a kill, Ctrl-C, a
//! server stopped mid-transfer) asks the run to wait, so that what the test
//! sees does not depend on the machine's speed.
//!
//! `RECTO_TEST_HOLD=<point>:<n>:<file>` makes the passes through
//! [`point`]`(<point>)` after the first `n` wait while `<file>` exists; the
//! test removes the file to let the run go on. Unset (always, outside the
//! tests), a pass costs one read of a value parsed once per process.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that sets a hold.
pub const VAR: &str = "RECTO_TEST_HOLD";

struct Hold {
    point: String,
    after: usize,
    file: PathBuf,
    passes: AtomicUsize,
}

fn parse(spec: &str) -> Option<Hold> {
    let mut parts = spec.splitn(3, ':');
    let point = parts.next()?.to_owned();
    let after = parts.next()?.parse().ok()?;
    let file = PathBuf::from(parts.next()?);
    Some(Hold {
        point,
        after,
        file,
        passes: AtomicUsize::new(0),
    })
}

/// Pass hold point `name`: returns at once unless a test holds it.
pub fn point(name: &str) {
    static HOLD: OnceLock<Option<Hold>> = OnceLock::new();
    let hold = HOLD.get_or_init(|| std::env::var(VAR).ok().and_then(|s| parse(&s)));
    let Some(h) = hold.as_ref().filter(|h| h.point == name) else {
        return;
    };
    if h.passes.fetch_add(1, Ordering::SeqCst) < h.after {
        return;
    }
    while h.file.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_names_its_point_its_count_and_its_file() {
        let h = parse("ocr-page:10:/tmp/x:y").unwrap();
        assert_eq!((h.point.as_str(), h.after), ("ocr-page", 10));
        assert_eq!(h.file, PathBuf::from("/tmp/x:y"));
        assert!(parse("ocr-page").is_none());
        assert!(parse("ocr-page:ten:/tmp/x").is_none());
    }
}
