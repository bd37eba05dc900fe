//! Folders named in records, resolved against the data directory.
//!
//! Records written from now on name result folders relative to the data
//! directory (`analytics/ocr/smith2020/2026-01-01_21-45-14`). Older records
//! named them as the process saw them: absolute, or relative to the
//! working directory it ran in (`data/analytics/ocr/...`). Both still read:
//! a path that does not resolve as given is looked for from its
//! `analytics` component on, inside this data directory. Whatever the
//! record says, the folder returned lies inside the data directory (no
//! `..`, and its real path under the data directory's real path), so a
//! record edited by hand, or copied from another machine, cannot make a
//! reader or a writer leave it.

use std::path::{Component, Path, PathBuf};

use recto_registry::{Citekey, JobId};

/// Where a step writes its per-citekey results:
/// `<base>/<citekey>/<job_id>/`, the citekey encoded for paths. `base`
/// defaults to `data/analytics/<step>`.
pub fn output_dir(base: &Path, citekey: &Citekey, job: &JobId) -> PathBuf {
    base.join(citekey.file_stem()).join(job.as_str())
}

/// The name of the link, in each citekey's folder of a step, to the newest
/// completed result: `data/analytics/ocr/<citekey>/current/`.
pub const CURRENT: &str = "current";

/// `dir` as a record stores it: relative to the data directory `root` when
/// it lies inside it, else as given.
pub fn recorded_form(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}

/// The output folder a step's record names (`output_dir`): relative to the
/// data directory `root` (new records); or as given: absolute (an output
/// folder the user chose), or relative to the working directory in records
/// older than that rule, read from their `analytics` component on when
/// the working directory differs.
pub fn output_base(root: &Path, recorded: &str) -> PathBuf {
    let given = Path::new(recorded);
    if given.is_absolute() {
        return given.to_owned();
    }
    resolve_recorded(root, recorded).unwrap_or_else(|| root.join(given))
}

/// The folder `recorded` names, inside the data directory `root`; `None`
/// when it cannot be read as a folder inside it.
pub fn resolve_recorded(root: &Path, recorded: &str) -> Option<PathBuf> {
    let given = Path::new(recorded);
    let candidates = [
        // New records: relative to the data directory.
        (!given.is_absolute()).then(|| root.join(given)),
        // Old records: absolute, or relative to the working directory.
        Some(given.to_owned()),
        // Moved or copied data directories: from `analytics` on.
        from_analytics(given).map(|rest| root.join(rest)),
    ];
    let mut first_inside = None;
    for c in candidates.into_iter().flatten() {
        if !inside(root, &c) {
            continue;
        }
        if c.exists() {
            return Some(c);
        }
        first_inside.get_or_insert(c);
    }
    first_inside
}

/// The part of `p` from its first `analytics` component on.
fn from_analytics(p: &Path) -> Option<PathBuf> {
    let comps: Vec<Component<'_>> = p.components().collect();
    let at = comps
        .iter()
        .position(|c| matches!(c, Component::Normal(s) if *s == "analytics"))?;
    Some(comps[at..].iter().collect())
}

/// True when `p` lies inside `root`: lexically (only plain components after
/// `root`, no `..`), and, when it exists, by its real path (a symlink out of
/// the data directory is outside).
pub fn inside(root: &Path, p: &Path) -> bool {
    let rel = match p.strip_prefix(root) {
        Ok(rel) => rel.to_owned(),
        Err(_) => {
            // `p` may be spelled from the working directory (`data/...` for
            // the root `./data`): compare absolute forms.
            let (Ok(ra), Ok(pa)) = (std::path::absolute(root), std::path::absolute(p)) else {
                return false;
            };
            match pa.strip_prefix(&ra) {
                Ok(rel) => rel.to_owned(),
                Err(_) => return false,
            }
        }
    };
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return false;
    }
    match (root.canonicalize(), p.canonicalize()) {
        (Ok(r), Ok(real)) => real.starts_with(r),
        // Not there (yet): the lexical check is what can be said.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_records_resolve_against_the_data_dir_from_any_working_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        std::fs::create_dir_all(root.join("analytics/ocr/k/J")).unwrap();
        let got = resolve_recorded(&root, "analytics/ocr/k/J").unwrap();
        assert_eq!(got, root.join("analytics/ocr/k/J"));
    }

    #[test]
    fn old_cwd_relative_and_absolute_records_still_read() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        std::fs::create_dir_all(root.join("analytics/ocr/k/J")).unwrap();
        // Written by a process that ran beside `d` (`d/analytics/...`), read
        // from elsewhere: found from `analytics` on.
        let got = resolve_recorded(&root, "d/analytics/ocr/k/J").unwrap();
        assert_eq!(got, root.join("analytics/ocr/k/J"));
        // Absolute, as an older run recorded it.
        let abs = root.join("analytics/ocr/k/J").display().to_string();
        assert_eq!(
            resolve_recorded(&root, &abs).unwrap(),
            root.join("analytics/ocr/k/J")
        );
        // Absolute on another machine: the same folder here.
        let got = resolve_recorded(&root, "/elsewhere/data/analytics/ocr/k/J").unwrap();
        assert_eq!(got, root.join("analytics/ocr/k/J"));
    }

    #[test]
    fn nothing_a_record_names_leaves_the_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        std::fs::create_dir_all(root.join("analytics")).unwrap();
        std::fs::create_dir_all(tmp.path().join("secret")).unwrap();
        assert_eq!(resolve_recorded(&root, "../secret"), None);
        assert_eq!(resolve_recorded(&root, "analytics/../../secret"), None);
        let abs = tmp.path().join("secret").display().to_string();
        assert_eq!(resolve_recorded(&root, &abs), None);
        // A symlink inside the data dir that points out of it.
        std::os::unix::fs::symlink(tmp.path().join("secret"), root.join("analytics/out")).unwrap();
        assert_eq!(resolve_recorded(&root, "analytics/out"), None);
    }
}
