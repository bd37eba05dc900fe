//! recto's one atomic file writer, shared by the registry (metadata,
//! registries) and the page engine (page images and JSON).
//!
//! A reader never sees a half-written file: bytes go to a temp file in the
//! target's own folder (named `.tmp-*`, which no reader takes for data) and
//! the temp file is renamed over the target. [`Durability::Synced`] also
//! fsyncs the file and its folder, so the write survives a power cut as soon
//! as it returns (metadata); [`Durability::Renamed`] leaves that to one
//! [`sync_filesystem`] later over many files (pages, synced by their step
//! before it records them complete). [`hold`] holds a run at a named point
//! for the tests that interrupt one.

pub mod hold;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Temp files start with this prefix.
pub const TMP_PREFIX: &str = ".tmp-";

/// How durable a write is when [`write_atomic`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// File and folder fsynced.
    Synced,
    /// Renamed into place; made durable later by [`sync_filesystem`].
    Renamed,
}

/// An I/O error and the path it happened on.
#[derive(Debug)]
pub struct FsError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for FsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> FsError + '_ {
    move |source| FsError {
        path: path.to_owned(),
        source,
    }
}

/// The folder a file lives in.
pub fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A temp file beside `path` holding `bytes`, not yet synced or renamed.
/// Readable by all (subject to the umask), not 0600 as temp files are made.
pub fn write_temp(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, FsError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent(path);
    fs::create_dir_all(dir).map_err(at(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(at(dir))?;
    tmp.write_all(bytes).map_err(|source| FsError {
        path: tmp.path().to_owned(),
        source,
    })?;
    Ok(tmp)
}

/// Write `bytes` to `path` atomically, as durable as asked.
pub fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), FsError> {
    let tmp = write_temp(path, bytes)?;
    if durability == Durability::Synced {
        tmp.as_file().sync_all().map_err(|source| FsError {
            path: tmp.path().to_owned(),
            source,
        })?;
    }
    tmp.persist(path).map_err(|e| FsError {
        path: path.to_owned(),
        source: e.error,
    })?;
    if durability == Durability::Synced {
        sync_dir(parent(path))?;
    }
    Ok(())
}

/// Fsync a folder, so that renames into it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    // Directories can be opened read-only and fsynced on Unix; some
    // filesystems refuse the fsync itself, which is then best effort.
    let f = File::open(dir).map_err(at(dir))?;
    let _ = f.sync_all();
    Ok(())
}

/// Flush everything written to the filesystem holding `dir` (one `syncfs`
/// instead of an fsync per file).
#[cfg(target_os = "linux")]
pub fn sync_filesystem(dir: &Path) -> Result<(), FsError> {
    use std::os::fd::AsRawFd;
    let f = File::open(dir).map_err(at(dir))?;
    // SAFETY: syncfs takes any open descriptor on the filesystem to sync.
    let rc = unsafe { libc::syncfs(f.as_raw_fd()) };
    if rc != 0 {
        return Err(FsError {
            path: dir.to_owned(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

#[cfg(all(unix, not(target_os = "linux")))]
pub fn sync_filesystem(_dir: &Path) -> Result<(), FsError> {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one", Durability::Synced).unwrap();
        write_atomic(&p, b"two", Durability::Renamed).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        sync_filesystem(dir.path()).unwrap();
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        let err = write_atomic(&blocker.join("sub/a.json"), b"x", Durability::Synced).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }
}
