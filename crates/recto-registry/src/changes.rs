//! The change log: `.recto/changes.log` in the data directory, one line per
//! metadata save (`<step>\t<job_id>`), and `*` when the records were
//! rescanned. Appended under the registry lock, read by anyone.
//!
//! It is what lets the derived index live off the shared filesystem: on a
//! cluster each node keeps its own SQLite index (`RECTO_INDEX_DIR`, on
//! local disk, where SQLite's locking works) and brings it up to date by
//! replaying the lines it has not seen, read from the metadata files they
//! name. The metadata file is written (atomically) before its line, so a
//! line always names a file that exists. Only complete lines are read.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::layout::Layout;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The record of `kind` (its key: `source` or the step) in `job` was saved.
    Saved { kind: String, job: JobId },
    /// Every record was rescanned (a rebuild): an index must rescan too.
    Rescan,
}

/// Append one change and make it durable before the lock is released (on
/// NFS the fsync is what puts it on the server for the other nodes).
/// Returns the log's length after it.
pub(crate) fn append(layout: &Layout, change: &Change) -> Result<u64> {
    let path = layout.changes_path();
    let line = match change {
        Change::Saved { kind, job } => format!("{kind}\t{job}\n"),
        Change::Rescan => "*\n".to_owned(),
    };
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    f.write_all(line.as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| Error::io(&path, e))?;
    let len = f.metadata().map_err(|e| Error::io(&path, e))?.len();
    Ok(len)
}

/// The log's length (0 when there is none yet).
pub(crate) fn len(layout: &Layout) -> u64 {
    std::fs::metadata(layout.changes_path()).map_or(0, |m| m.len())
}

/// The complete lines after `offset`, and the offset after the last of
/// them. A log shorter than `offset` (replaced) asks for a rescan.
pub(crate) fn read_from(layout: &Layout, offset: u64) -> Result<(Vec<Change>, u64)> {
    let path = layout.changes_path();
    let mut f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((
                if offset > 0 {
                    vec![Change::Rescan]
                } else {
                    Vec::new()
                },
                0,
            ));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let len = f.metadata().map_err(|e| Error::io(&path, e))?.len();
    if len < offset {
        return Ok((vec![Change::Rescan], 0));
    }
    if len == offset {
        return Ok((Vec::new(), offset));
    }
    let mut buf = Vec::with_capacity((len - offset) as usize);
    f.seek(SeekFrom::Start(offset))
        .and_then(|_| f.take(len - offset).read_to_end(&mut buf))
        .map_err(|e| Error::io(&path, e))?;
    let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for line in String::from_utf8_lossy(&buf[..complete]).lines() {
        if line == "*" {
            out.push(Change::Rescan);
        } else if let Some((kind, job)) = line.split_once('\t')
            && let Ok(job) = JobId::parse(job)
        {
            out.push(Change::Saved {
                kind: kind.to_owned(),
                job,
            });
        } else {
            tracing::warn!(
                "{}: skipped a line it cannot read: {line:?}",
                path.display()
            );
        }
    }
    Ok((out, offset + complete as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_back_from_an_offset_and_partial_lines_wait() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.internal_dir()).unwrap();
        assert_eq!(read_from(&layout, 0).unwrap(), (vec![], 0));
        let job = JobId::parse("2026-01-01_21-45-14").unwrap();
        let saved = Change::Saved {
            kind: "ocr".into(),
            job: job.clone(),
        };
        let first = append(&layout, &saved).unwrap();
        let second = append(&layout, &Change::Rescan).unwrap();
        assert_eq!(len(&layout), second);
        let (all, end) = read_from(&layout, 0).unwrap();
        assert_eq!(all, vec![saved.clone(), Change::Rescan]);
        assert_eq!(end, second);
        assert_eq!(
            read_from(&layout, first).unwrap(),
            (vec![Change::Rescan], second)
        );
        // A line being written is not read until it is complete.
        let mut f = OpenOptions::new()
            .append(true)
            .open(layout.changes_path())
            .unwrap();
        f.write_all(b"ocr\t2026-01").unwrap();
        assert_eq!(read_from(&layout, second).unwrap(), (vec![], second));
        // A log replaced by a shorter one: rescan.
        assert_eq!(
            read_from(&layout, second + 100).unwrap().0,
            vec![Change::Rescan]
        );
    }
}
