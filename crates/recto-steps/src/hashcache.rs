//! Remembered sha256 of local files, trusted while a file's size,
//! modification time, inode and status-change time are all unchanged (the
//! stat fields git's index compares), so reruns over unchanged files do not
//! read them again. A file replaced by another of the same size and mtime
//! (`cp -p`, `touch -r`) has a new inode or ctime, and is hashed again.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

use crate::StepError;

#[derive(Debug)]
pub struct HashCache {
    path: PathBuf,
    entries: Mutex<Map<String, Value>>,
    changed: AtomicBool,
}

impl HashCache {
    /// Load the cache file (a missing or damaged one is an empty cache).
    pub fn load(path: PathBuf) -> Self {
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        HashCache {
            path,
            entries: Mutex::new(entries),
            changed: AtomicBool::new(false),
        }
    }

    /// The sha256 and size of `file`, from the cache when still valid.
    pub async fn sha256(&self, file: &Path) -> Result<(String, u64), StepError> {
        let meta = std::fs::metadata(file).map_err(|e| StepError::Input {
            path: file.to_owned(),
            reason: e.to_string(),
        })?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let (ino, ctime) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ino(),
                (meta.ctime() as u64).wrapping_mul(1_000_000_000) + meta.ctime_nsec() as u64,
            )
        };
        let key = std::fs::canonicalize(file)
            .unwrap_or_else(|_| file.to_owned())
            .display()
            .to_string();
        let hit = self
            .entries
            .lock()
            .expect("not poisoned")
            .get(&key)
            .and_then(|c| {
                let valid = c.get("size").and_then(Value::as_u64) == Some(meta.len())
                    && c.get("mtime_ns").and_then(Value::as_u64) == Some(mtime)
                    && c.get("ino").and_then(Value::as_u64) == Some(ino)
                    && c.get("ctime_ns").and_then(Value::as_u64) == Some(ctime);
                valid
                    .then(|| c.get("sha256")?.as_str().map(str::to_owned))
                    .flatten()
            });
        if let Some(sha) = hit {
            return Ok((sha, meta.len()));
        }
        let (sha, size) = recto_store::sha256_file(file).await?;
        self.entries.lock().expect("not poisoned").insert(
            key,
            json!({"size": size, "mtime_ns": mtime, "ino": ino, "ctime_ns": ctime, "sha256": sha}),
        );
        self.changed.store(true, Ordering::Relaxed);
        Ok((sha, size))
    }

    /// Write the cache back if it changed; best effort (a lost cache only
    /// costs a rehash).
    pub fn save(&self) {
        if self.changed.load(Ordering::Relaxed) {
            let bytes = serde_json::to_vec(&*self.entries.lock().expect("not poisoned"))
                .expect("serialises");
            let _ = recto_registry::atomic_write(&self.path, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_size_and_mtime_but_new_file_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::load(dir.path().join("cache.json"));
        let f = dir.path().join("a.pdf");
        std::fs::write(&f, b"aaaa").unwrap();
        let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
        let (first, _) = cache.sha256(&f).await.unwrap();
        // Same size, same mtime, other content: a new file put in its place.
        let tmp = dir.path().join("b.pdf");
        std::fs::write(&tmp, b"bbbb").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&tmp)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().modified().unwrap(), mtime);
        let (second, _) = cache.sha256(&f).await.unwrap();
        assert_ne!(first, second);
        // Unchanged: served from the cache (same answer, no error).
        assert_eq!(cache.sha256(&f).await.unwrap().0, second);
    }
}
