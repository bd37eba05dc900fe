//! Crash-safe file writes and the registry's inter-process lock.
//!
//! A reader must never see a half-written JSON file, even after `kill -9` or
//! a power cut: every file is written to a temp file in its own folder,
//! fsynced, renamed over the target, and the folder is fsynced.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(crate) use recto_fs::TMP_PREFIX;

impl From<recto_fs::FsError> for Error {
    fn from(e: recto_fs::FsError) -> Self {
        Error::io(e.path, e.source)
    }
}

pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

fn parent(path: &Path) -> &Path {
    recto_fs::parent(path)
}

fn sync_dir(dir: &Path) -> Result<()> {
    Ok(recto_fs::sync_dir(dir)?)
}

fn write_temp(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    Ok(recto_fs::write_temp(path, bytes)?)
}

/// Write `bytes` to `path` atomically and durably.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(recto_fs::write_atomic(
        path,
        bytes,
        recto_fs::Durability::Synced,
    )?)
}

/// Write many files atomically with one filesystem sync instead of one per
/// file: all temp files are written first, then synced together, then renamed.
/// Each file is still either old or new, never partial. Files are created
/// one after the other: creations in one folder serialise on its lock, and
/// measured here, two threads took twice as long as one.
pub fn atomic_write_many(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let temps: Vec<(tempfile::TempPath, &PathBuf)> = files
        .iter()
        .map(|(path, bytes)| Ok((write_temp(path, bytes)?.into_temp_path(), path)))
        .collect::<Result<_>>()?;
    let dirs: std::collections::BTreeSet<&Path> = files.iter().map(|(p, _)| parent(p)).collect();
    for dir in &dirs {
        sync_filesystem(dir)?;
    }
    for (tmp, path) in temps {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    }
    for dir in dirs {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Flush everything written to the filesystem holding `dir` (one `syncfs`
/// instead of an fsync per file), e.g. all pages of a step before the step
/// is recorded as completed.
pub fn sync_filesystem(dir: &Path) -> Result<()> {
    Ok(recto_fs::sync_filesystem(dir)?)
}

/// Point `link` at `target` (a file name in the same folder), atomically.
/// Where the filesystem refuses symlinks, write a small pointer file instead.
pub fn atomic_symlink_or_pointer(link: &Path, target: &str, pointer_json: &[u8]) -> Result<()> {
    let dir = parent(link);
    create_dir_all(dir)?;
    let tmp = dir.join(format!("{TMP_PREFIX}{}-link.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    if std::os::unix::fs::symlink(target, &tmp).is_ok() {
        fs::rename(&tmp, link).map_err(|e| Error::io(link, e))?;
        return sync_dir(dir);
    }
    atomic_write(link, pointer_json)
}

/// An exclusive lock on a file, held until dropped; it protects the
/// read-modify-write of registries and the index across processes.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl FileLock {
    pub fn exclusive(path: &Path) -> Result<Self> {
        let file = open_lock_file(path)?;
        file.lock().map_err(|e| Error::io(path, e))?;
        Ok(FileLock { file })
    }

    /// `None` when another process holds the lock.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
        }
    }
}

/// What asking for a lock without waiting gives.
#[derive(Debug)]
pub enum Attempt {
    Taken(FileLock),
    /// Another process holds it; its note (`pid N on host`), if it wrote one.
    HeldBy(String),
}

impl FileLock {
    /// Like [`FileLock::try_exclusive`], writing `note` (who holds it) into
    /// the lock file; when the lock is held, the holder's note.
    pub fn try_exclusive_noted(path: &Path, note: &str) -> Result<Attempt> {
        use std::io::{Read, Seek};
        let mut file = open_lock_file(path)?;
        // A reader's probe (`peek_holder`) holds a shared lock for an
        // instant: a few short retries tell it from a real holder.
        let mut tries = 0;
        let locked = loop {
            match file.try_lock() {
                Err(fs::TryLockError::WouldBlock) if tries < 5 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other,
            }
        };
        match locked {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = file.write_all(note.as_bytes());
                Ok(Attempt::Taken(FileLock { file }))
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.rewind();
                let _ = file.read_to_string(&mut holder);
                Ok(Attempt::HeldBy(holder.trim().to_owned()))
            }
            Err(fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
        }
    }

    /// Who holds the lock at `path` (its note), without creating or
    /// writing anything: `None` when the file is missing or nobody holds
    /// it. The probe takes a shared lock for an instant; a process that
    /// asks for the lock in that instant retries (see `try_exclusive_noted`).
    pub fn peek_holder(path: &Path) -> Result<Option<String>> {
        use std::io::Read;
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(None)
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                Ok(Some(if holder.is_empty() {
                    "another process".to_owned()
                } else {
                    holder.to_owned()
                }))
            }
            Err(fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    create_dir_all(parent(path))?;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Read a file to a string; `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_writes_land() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<_> = (0..50)
            .map(|i| {
                (
                    dir.path().join(format!("sub/{i}.json")),
                    format!("{i}").into_bytes(),
                )
            })
            .collect();
        atomic_write_many(&files).unwrap();
        for (p, b) in &files {
            assert_eq!(&fs::read(p).unwrap(), b);
        }
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 50);
    }

    #[test]
    fn symlink_points_at_target() {
        let dir = tempfile::tempdir().unwrap();
        atomic_write(&dir.path().join("x.json"), b"{}").unwrap();
        let link = dir.path().join("latest.json");
        atomic_symlink_or_pointer(&link, "x.json", b"{}").unwrap();
        atomic_symlink_or_pointer(&link, "x.json", b"{}").unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from("x.json"));
    }

    #[test]
    fn try_lock_sees_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = FileLock::exclusive(&p).unwrap();
        assert!(FileLock::try_exclusive(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_exclusive(&p).unwrap().is_some());
    }
}
