//! Remembered sha256 of local files, trusted while a file's size and
//! modification time are unchanged (as rsync and rclone trust them), so
//! reruns over unchanged files do not read them again.

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
                    && c.get("mtime_ns").and_then(Value::as_u64) == Some(mtime);
                valid
                    .then(|| c.get("sha256")?.as_str().map(str::to_owned))
                    .flatten()
            });
        if let Some(sha) = hit {
            return Ok((sha, meta.len()));
        }
        let (sha, size) = recto_store::sha256_file(file).await?;
        self.entries
            .lock()
            .expect("not poisoned")
            .insert(key, json!({"size": size, "mtime_ns": mtime, "sha256": sha}));
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
