//! `export --flat DIR`: each exported file also as `DIR/<citekey>.<ext>`,
//! one flat folder a Zotero linked file (or any other tool) can point at.
//! Each file is copied to a hidden temporary name and renamed over the old
//! one, so a reader sees the old file or the new, never half of one; a
//! copy, not a link, so nothing done to the flat file reaches the record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recto_registry::Registry;

use super::ExportCitekey;
use crate::StepError;
use crate::harness;

/// Copy every file of `per_citekey` (an export job's entries) into `dir`;
/// returns the files written.
pub fn write_flat(
    registry: &Registry,
    per_citekey: &BTreeMap<String, ExportCitekey>,
    dir: &Path,
) -> Result<Vec<PathBuf>, StepError> {
    let io = |path: &Path, e: std::io::Error| StepError::Io {
        path: path.to_owned(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    for entry in per_citekey.values() {
        let from_dir = harness::recorded_path(registry, &entry.dir);
        for name in entry.files.keys() {
            // Names are the step's own (`<citekey stem>.<ext>`); one that
            // is not a plain file name is not followed out of `dir`.
            if Path::new(name)
                .file_name()
                .is_none_or(|n| n != name.as_str())
            {
                continue;
            }
            let to = dir.join(name);
            let tmp = dir.join(format!(".{name}.tmp"));
            let from = from_dir.join(name);
            std::fs::copy(&from, &tmp).map_err(|e| io(&from, e))?;
            if let Err(e) = std::fs::rename(&tmp, &to) {
                let _ = std::fs::remove_file(&tmp);
                return Err(io(&to, e));
            }
            written.push(to);
        }
    }
    Ok(written)
}
