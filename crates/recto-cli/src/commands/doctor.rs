//! `recto doctor`: what this machine has for recto, checked one line at a
//! time: Tesseract and its languages, the Hunspell dictionaries, the data
//! directory (there, writable, disk free), the store (it answers). Reads
//! only; exit 1 when something recto needs is missing.

use std::path::Path;

use super::Outcome;
use crate::cli::{DoctorArgs, StoreArgs};
use crate::config::Config;
use crate::output;

/// One finding.
enum Check {
    Ok(String),
    Warn(String),
    Fail(String),
}

pub fn run(args: &DoctorArgs, config: &Config) -> anyhow::Result<Outcome> {
    let mut checks = vec![tesseract()];
    checks.extend(dictionaries(&recto_lexicon::default_dir()));
    checks.extend(data_dir(&config.data_dir, args.min_free_gb));
    checks.push(store(config, &args.store));
    let mut failed = 0;
    for c in &checks {
        let (tag, text) = match c {
            Check::Ok(t) => ("ok  ", t),
            Check::Warn(t) => ("warn", t),
            Check::Fail(t) => {
                failed += 1;
                ("FAIL", t)
            }
        };
        output::line(format!("{tag}  {text}"))?;
    }
    if failed > 0 {
        anyhow::bail!("{} failed (see above)", output::count(failed, "check"));
    }
    Ok(Outcome::Success)
}

fn tesseract() -> Check {
    let langs = recto_ocr::tess::installed_languages(None);
    let version = recto_ocr::tess::version();
    if langs.is_empty() {
        return Check::Fail(format!(
            "tesseract {version}: no languages installed (apt-get install tesseract-ocr-eng)"
        ));
    }
    let missing: Vec<&str> = ["eng", "osd"]
        .into_iter()
        .filter(|l| !langs.iter().any(|x| x == l))
        .collect();
    let text = format!(
        "tesseract {version}: {} ({})",
        output::count(langs.len(), "language"),
        langs.join(", ")
    );
    if missing.is_empty() {
        Check::Ok(text)
    } else {
        Check::Warn(format!(
            "{text}; missing {} (apt-get install {})",
            missing.join(", "),
            missing
                .iter()
                .map(|l| format!("tesseract-ocr-{l}"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
    }
}

fn dictionaries(dir: &Path) -> Vec<Check> {
    let all = recto_lexicon::installed(dir);
    let mut have: Vec<&str> = all.iter().filter(|d| d.2).map(|d| d.1).collect();
    have.dedup();
    let mut missing: Vec<&str> = all.iter().filter(|d| !d.2).map(|d| d.1).collect();
    missing.dedup();
    let text = format!(
        "hunspell dictionaries in {}: {}",
        dir.display(),
        have.join(", ")
    );
    vec![match (have.is_empty(), missing.is_empty()) {
        (true, _) => Check::Warn(format!(
            "no hunspell dictionaries in {} (segmentation keeps every hyphen at a line end; apt-get install hunspell-en-us hunspell-de-de hunspell-fr)",
            dir.display()
        )),
        (false, true) => Check::Ok(text),
        (false, false) => Check::Ok(format!("{text} (not installed: {})", missing.join(", "))),
    }]
}

fn data_dir(dir: &Path, min_free_gb: f64) -> Vec<Check> {
    if !dir.is_dir() {
        return vec![Check::Warn(format!(
            "data directory {}: not there yet (the first `recto upload` makes it)",
            dir.display()
        ))];
    }
    let mut out = Vec::new();
    out.push(if writable(dir) {
        Check::Ok(format!("data directory {}: writable", dir.display()))
    } else {
        Check::Fail(format!(
            "data directory {}: not writable (steps cannot record their jobs)",
            dir.display()
        ))
    });
    if let Some(free) = free_bytes(dir) {
        let gb = free as f64 / 1e9;
        let text = format!("disk free under {}: {gb:.1} GB", dir.display());
        out.push(if gb < min_free_gb {
            Check::Warn(format!(
                "{text} (less than {min_free_gb} GB: OCR writes a page image per page)"
            ))
        } else {
            Check::Ok(text)
        });
    }
    out
}

fn store(config: &Config, args: &StoreArgs) -> Check {
    let cfg = config.store_or_default(args);
    let url = cfg.url.clone();
    let Ok(cwd) = std::env::current_dir() else {
        return Check::Fail("the current directory is gone".into());
    };
    let local = !url.contains("://") || url.starts_with("file://");
    if local && !Path::new(url.trim_start_matches("file://")).exists() {
        return Check::Warn(format!(
            "store {url}: not there yet (the first upload makes it)"
        ));
    }
    let checked = match (recto_store::Store::open(&cfg, &cwd), super::runtime()) {
        (Ok(s), Ok(rt)) => rt
            .block_on(s.check())
            .map_err(|e| recto_store::error_chain(&e)),
        (Err(e), _) => Err(recto_store::error_chain(&e)),
        (_, Err(e)) => Err(e.to_string()),
    };
    match checked {
        Ok(()) => Check::Ok(format!("store {url}: answers")),
        Err(e) => Check::Fail(format!("store {url}: {e}")),
    }
}

fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path and a zeroed statvfs for the call to fill.
    (unsafe { libc::statvfs(c.as_ptr(), &mut s) } == 0)
        .then(|| s.f_bavail as u64 * s.f_frsize as u64)
}
