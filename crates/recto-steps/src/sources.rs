//! Where source PDFs come from: a folder (`<citekey>.pdf`), a list of
//! citekeys in a folder, or a BibTeX/BibLaTeX file as Zotero + Better BibTeX
//! export it (citekey and `file` field).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use biblatex::{Bibliography, ChunksExt, RawBibliography};
use recto_registry::Citekey;

use crate::StepError;

/// Why an input names no PDF to upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoSource {
    #[error("the BibTeX entry has no file field")]
    NoFileField,
    #[error("the file field names no PDF")]
    NoPdfInField,
    #[error("duplicate key {key:?} in {}: only its first entry is used", .bib.display())]
    DuplicateKey { key: String, bib: PathBuf },
    #[error("duplicate citekey: only its first PDF ({}) is uploaded", .kept.display())]
    DuplicateCitekey { kept: PathBuf },
}

/// One source to upload: the citekey as given and the PDF it names, or why
/// no PDF could be found for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInput {
    pub citekey: String,
    pub file: Result<PathBuf, NoSource>,
    /// The entry has no PDF at all (a BibTeX entry without a `file` field,
    /// or whose files are not PDFs): skipped with the reason in `file`, not
    /// a failure, so a real library export can complete.
    pub no_pdf: bool,
    /// The Tesseract code of the entry's `langid` / `language` field, when
    /// it names a known language (BibTeX input only).
    pub language: Option<String>,
    /// Author, title and year of the entry (BibTeX input only).
    pub bib: Option<recto_library::Bib>,
}

impl SourceInput {
    fn new(citekey: String, file: Result<PathBuf, NoSource>) -> Self {
        SourceInput {
            citekey,
            file,
            no_pdf: false,
            language: None,
            bib: None,
        }
    }
}

/// How the `file` paths of a .bib file are read.
#[derive(Debug, Clone, Default)]
pub struct BibPaths {
    /// Relative paths are relative to this folder (default: the .bib's).
    pub base_dir: Option<PathBuf>,
    /// Prefix rewrites `(from, to)` for a .bib exported on another machine.
    pub rewrites: Vec<(String, String)>,
}

/// `DIR/<citekey>.pdf` for each citekey (or the file named by the key's
/// encoded form, for keys such as `smith:2020`).
pub fn from_citekeys(dir: &Path, citekeys: &[String]) -> Vec<SourceInput> {
    dedup(
        citekeys
            .iter()
            .map(|k| {
                let plain = dir.join(format!("{k}.pdf"));
                let file = match Citekey::parse(k) {
                    Ok(c) => {
                        let encoded = dir.join(format!("{}.pdf", c.file_stem()));
                        if !plain.exists() && encoded.exists() {
                            Ok(encoded)
                        } else {
                            Ok(plain)
                        }
                    }
                    Err(_) => Ok(plain),
                };
                SourceInput::new(k.clone(), file)
            })
            .collect(),
    )
}

/// Every `*.pdf` in `dir` and, with `recursive`, in its subfolders (hidden
/// ones left out, and the folders of `skip`: recto's data directory, whose
/// stored copies must not come back as new sources); the citekey is the
/// file stem.
pub fn from_dir(
    dir: &Path,
    recursive: bool,
    skip: &[&Path],
) -> Result<Vec<SourceInput>, StepError> {
    let mut files = Vec::new();
    let mut nested = 0;
    let left_out = walk(dir, recursive, skip, &mut files, &mut nested)?;
    for d in left_out {
        tracing::warn!("{}: left out (recto's data directory)", d.display());
    }
    if files.is_empty() {
        let reason = if nested > 0 {
            format!(
                "no PDFs directly in this folder; {nested} are in its subfolders (not read: subfolders were left out)"
            )
        } else {
            "no PDF files here (looked for *.pdf, subfolders included)".to_owned()
        };
        return Err(StepError::Input {
            path: dir.to_owned(),
            reason,
        });
    }
    let mut out = Vec::new();
    for path in files {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        // A stem that is a citekey's own encoding (`smith%3A2020`) stands
        // for the key. Only the encoding recto itself writes counts:
        // `%41.pdf` is the key `%41`, not `A`, so it cannot collide with `A.pdf`.
        let citekey = match Citekey::from_file_stem(stem) {
            Ok(c) if stem.contains('%') && c.file_stem() == stem => c.as_str().to_owned(),
            _ => stem.to_owned(),
        };
        out.push(SourceInput::new(citekey, Ok(path)));
    }
    out.sort_by(|a, b| a.citekey.cmp(&b.citekey));
    Ok(dedup(out))
}

/// Every `*.pdf` under `dir`, as [`from_dir`] would take them (subfolders
/// included, hidden ones and those of `skip` left out), without a word
/// about what was left out: for `recto watch`, which looks every few
/// seconds.
pub fn pdf_files(dir: &Path, skip: &[&Path]) -> Result<Vec<PathBuf>, StepError> {
    let mut files = Vec::new();
    walk(dir, true, skip, &mut files, &mut 0)?;
    Ok(files)
}

/// The PDFs under `dir` into `out` (and how many lie in subfolders when not
/// `recursive`); returns the folders of `skip` it met and left out.
fn walk(
    dir: &Path,
    recursive: bool,
    skip: &[&Path],
    out: &mut Vec<PathBuf>,
    nested: &mut usize,
) -> Result<Vec<PathBuf>, StepError> {
    // The folder itself must be readable: that is the user's error.
    std::fs::read_dir(dir).map_err(|e| StepError::Input {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    let hidden = |e: &walkdir::DirEntry| {
        e.depth() > 0 && e.file_name().to_str().is_none_or(|n| n.starts_with('.'))
    };
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let left_out = std::cell::RefCell::new(Vec::new());
    let skipped = |e: &walkdir::DirEntry| {
        let out = e.depth() > 0
            && e.file_type().is_dir()
            && e.path()
                .canonicalize()
                .is_ok_and(|real| skip.contains(&real));
        if out {
            left_out.borrow_mut().push(e.path().to_owned());
        }
        out
    };
    // Symlinked folders are followed (a library may be spread over disks);
    // walkdir reports a link back to an ancestor as an error instead of
    // walking it forever.
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !hidden(e) && !skipped(e));
    for entry in entries {
        let e = match entry {
            Ok(e) => e,
            Err(err) => {
                tracing::warn!("{err}: skipped");
                continue;
            }
        };
        let is_pdf = e
            .path()
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("pdf"));
        if !is_pdf || !e.file_type().is_file() {
            continue;
        }
        if recursive || e.depth() == 1 {
            out.push(e.into_path());
        } else {
            *nested += 1;
        }
    }
    Ok(left_out.into_inner())
}

/// The entries of a BibTeX/BibLaTeX file with their PDF from the `file`
/// field; relative paths are relative to the .bib file's folder (or
/// `paths.base_dir`), after `paths.rewrites`. A key that appears twice
/// fails its later entries (named as duplicates); an entry without a PDF is
/// skipped with the reason; the others go on.
pub fn from_bib(bib: &Path, paths: &BibPaths) -> Result<Vec<SourceInput>, StepError> {
    let err = |reason: String| StepError::Input {
        path: bib.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(bib).map_err(|e| err(e.to_string()))?;
    let at = |e: &biblatex::ParseError| {
        let (line, col) = line_col(&text, e.span.start);
        format!(
            "not a valid BibTeX file: line {line}, column {col}: {}",
            e.kind
        )
    };
    let raw = RawBibliography::parse(&text).map_err(|e| err(at(&e)))?;
    let mut seen = BTreeSet::new();
    let mut duplicates = Vec::new();
    let mut unique = Vec::new();
    for entry in raw.entries {
        if seen.insert(entry.v.key.v) {
            unique.push(entry);
        } else {
            duplicates.push(entry.v.key.v.to_owned());
        }
    }
    let parsed = Bibliography::from_raw(RawBibliography {
        preamble: raw.preamble,
        entries: unique,
        abbreviations: raw.abbreviations,
    })
    .map_err(|e| err(at(&e)))?;
    let base = paths
        .base_dir
        .clone()
        .unwrap_or_else(|| bib.parent().unwrap_or(Path::new(".")).to_owned());
    let mut out = Vec::new();
    for entry in parsed.iter() {
        let mut input = match entry.get("file") {
            None => SourceInput::new(entry.key.clone(), Err(NoSource::NoFileField)),
            Some(chunks) => match pdf_from_file_field(&chunks.format_verbatim()) {
                Some(p) => {
                    let p = rewrite(&p, &paths.rewrites);
                    let p = if p.is_absolute() { p } else { base.join(p) };
                    SourceInput::new(entry.key.clone(), Ok(p))
                }
                None => SourceInput::new(entry.key.clone(), Err(NoSource::NoPdfInField)),
            },
        };
        input.no_pdf = input.file.is_err();
        input.language = ["langid", "language"]
            .iter()
            .filter_map(|f| entry.get(f))
            .find_map(|chunks| recto_ocr::language_code(&chunks.format_verbatim()))
            .map(str::to_owned);
        input.bib = Some(bib_fields(entry)).filter(|b| !b.is_empty());
        out.push(input);
    }
    for key in duplicates {
        out.push(SourceInput::new(
            key.clone(),
            Err(NoSource::DuplicateKey {
                key: key.clone(),
                bib: bib.to_owned(),
            }),
        ));
    }
    Ok(out)
}

/// Author, title and year of `entry`, TeX braces and commands read as text.
fn bib_fields(entry: &biblatex::Entry) -> recto_library::Bib {
    let field = |names: &[&str]| {
        names
            .iter()
            .filter_map(|f| entry.get(f))
            .map(|c| c.format_verbatim())
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .find(|s| !s.is_empty())
    };
    // Better BibTeX writes `date` (biblatex) or `year` (BibTeX).
    let year = field(&["year", "date"]).and_then(|d| {
        let digits: String = d.chars().filter(char::is_ascii_digit).take(4).collect();
        (digits.len() == 4).then_some(digits)
    });
    recto_library::Bib {
        author: field(&["author", "editor"]),
        title: field(&["title"]),
        year,
    }
}

/// The first of `rewrites` whose prefix `path` starts with, applied.
fn rewrite(path: &Path, rewrites: &[(String, String)]) -> PathBuf {
    let s = path.to_string_lossy();
    for (from, to) in rewrites {
        if let Some(rest) = s.strip_prefix(from.as_str()) {
            return PathBuf::from(format!("{to}{rest}"));
        }
    }
    path.to_owned()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The PDF in a Zotero / Better BibTeX `file` field:
/// `Description:path:mime;...` or a bare path; `\:` escapes a colon.
pub fn pdf_from_file_field(field: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    for part in split_unescaped(field, ';') {
        let pieces = split_unescaped(&part, ':');
        let (path, mime) = match pieces.len() {
            0 => continue,
            1 | 2 => (pieces.join(":"), String::new()),
            n => (pieces[1..n - 1].join(":"), pieces[n - 1].clone()),
        };
        let path = path.trim().to_owned();
        if path.is_empty() {
            continue;
        }
        let is_pdf = mime.eq_ignore_ascii_case("application/pdf")
            || path.to_ascii_lowercase().ends_with(".pdf");
        candidates.push((is_pdf, PathBuf::from(path)));
    }
    candidates
        .into_iter()
        .find(|(is_pdf, _)| *is_pdf)
        .map(|(_, p)| p)
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| *n == sep || *n == '\\') {
            out.last_mut()
                .expect("non-empty")
                .push(chars.next().expect("peeked"));
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().expect("non-empty").push(c);
        }
    }
    out
}

/// Keep the first input of each citekey; later ones fail with a reason.
fn dedup(inputs: Vec<SourceInput>) -> Vec<SourceInput> {
    let mut first: std::collections::BTreeMap<String, PathBuf> = Default::default();
    inputs
        .into_iter()
        .map(|mut i| {
            if let Some(kept) = first.get(&i.citekey) {
                i.file = Err(NoSource::DuplicateCitekey { kept: kept.clone() });
            } else if let Ok(p) = &i.file {
                first.insert(i.citekey.clone(), p.clone());
            }
            i
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_directory_inside_the_folder_is_left_out() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a2020.pdf"), b"%PDF").unwrap();
        let stored = root.path().join("data/store/sources/a2020");
        std::fs::create_dir_all(&stored).unwrap();
        std::fs::write(stored.join("0123abcd.pdf"), b"%PDF").unwrap();
        let data = root.path().join("data");
        let keys: Vec<String> = from_dir(root.path(), true, &[&data])
            .unwrap()
            .into_iter()
            .map(|s| s.citekey)
            .collect();
        assert_eq!(keys, ["a2020"]);
        // Without it, the stored copy would come back as a new citekey.
        assert_eq!(from_dir(root.path(), true, &[]).unwrap().len(), 2);
        // What `recto watch` looks at: the same files.
        assert_eq!(
            pdf_files(root.path(), &[&data]).unwrap(),
            [root.path().join("a2020.pdf")]
        );
        // The walk names the folder it left out (for `from_dir` to say so).
        let (mut found, mut nested) = (Vec::new(), 0);
        let left = walk(root.path(), true, &[&data], &mut found, &mut nested).unwrap();
        assert_eq!(left, std::slice::from_ref(&data));
    }

    #[test]
    fn a_symlink_back_to_an_ancestor_is_not_walked_forever() {
        let root = tempfile::tempdir().unwrap();
        let sub = root.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(root.path().join("a2020.pdf"), b"%PDF").unwrap();
        std::fs::write(sub.join("b2021.pdf"), b"%PDF").unwrap();
        std::fs::write(sub.join(".hidden.pdf"), b"%PDF").unwrap();
        std::os::unix::fs::symlink(root.path(), sub.join("loop")).unwrap();
        let mut found = Vec::new();
        let mut nested = 0;
        walk(root.path(), true, &[], &mut found, &mut nested).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a2020.pdf", "b2021.pdf"]);
        // Not recursive: the subfolder's PDF is counted, not taken.
        let (mut found, mut nested) = (Vec::new(), 0);
        walk(root.path(), false, &[], &mut found, &mut nested).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(nested, 1);
    }

    #[test]
    fn zotero_file_fields() {
        let cases = [
            ("/home/u/smith.pdf", Some("/home/u/smith.pdf")),
            (
                "Full Text PDF:/home/u/Zotero/storage/AB12/smith.pdf:application/pdf",
                Some("/home/u/Zotero/storage/AB12/smith.pdf"),
            ),
            (
                "Snapshot:/s/page.html:text/html;Full Text:/s/paper.pdf:application/pdf",
                Some("/s/paper.pdf"),
            ),
            (
                r"Full Text:C\:\\Users\\me\\a.pdf:application/pdf",
                Some(r"C:\Users\me\a.pdf"),
            ),
            ("Snapshot:/s/page.html:text/html", None),
            ("", None),
        ];
        for (field, want) in cases {
            assert_eq!(
                pdf_from_file_field(field),
                want.map(PathBuf::from),
                "{field}"
            );
        }
    }

    #[test]
    fn bib_entries_with_and_without_files() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("lib.bib");
        std::fs::write(
            &bib,
            r#"@article{smith2020, title = {A}, file = {Full Text:pdfs/smith2020.pdf:application/pdf}}
@book{doe:2019, title = {B}, file = {/abs/doe.pdf}, langid = {ngerman}}
@misc{nofile, title = {C}}
"#,
        )
        .unwrap();
        let got = from_bib(&bib, &BibPaths::default()).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].citekey, "smith2020");
        assert_eq!(got[0].file, Ok(dir.path().join("pdfs/smith2020.pdf")));
        assert_eq!(got[1].citekey, "doe:2019");
        assert_eq!(got[1].file, Ok(PathBuf::from("/abs/doe.pdf")));
        assert_eq!(got[2].file, Err(NoSource::NoFileField));
        assert!(got[2].no_pdf && !got[0].no_pdf);
        assert_eq!(got[1].language.as_deref(), Some("deu"));
        assert_eq!(got[0].language, None);
        // Another machine's paths, remapped; relative ones from another base.
        let paths = BibPaths {
            base_dir: Some(PathBuf::from("/library")),
            rewrites: vec![("/abs".into(), "/mnt/zotero".into())],
        };
        let got = from_bib(&bib, &paths).unwrap();
        assert_eq!(
            got[0].file,
            Ok(PathBuf::from("/library/pdfs/smith2020.pdf"))
        );
        assert_eq!(got[1].file, Ok(PathBuf::from("/mnt/zotero/doe.pdf")));
        // A duplicate key fails its later entry only, naming the key.
        std::fs::write(
            &bib,
            "@article{a1, file={x.pdf}}\n@article{b2, file={z.pdf}}\n@article{a1, file={y.pdf}}\n",
        )
        .unwrap();
        let got = from_bib(&bib, &BibPaths::default()).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].file, Ok(dir.path().join("x.pdf")));
        assert_eq!(got[1].file, Ok(dir.path().join("z.pdf")));
        assert_eq!(got[2].citekey, "a1");
        let why = got[2].file.as_ref().unwrap_err();
        assert!(
            matches!(why, NoSource::DuplicateKey { key, .. } if key == "a1"),
            "{why}"
        );
        assert!(why.to_string().contains("duplicate key \"a1\""), "{why}");
    }

    #[test]
    fn only_canonical_encodings_decode() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["A.pdf", "%41.pdf", "smith%3A2020.pdf"] {
            std::fs::write(dir.path().join(name), b"%PDF-1.4").unwrap();
        }
        let keys: Vec<String> = from_dir(dir.path(), true, &[])
            .unwrap()
            .into_iter()
            .map(|i| {
                assert!(i.file.is_ok(), "{i:?}");
                i.citekey
            })
            .collect();
        assert_eq!(keys, ["%41", "A", "smith:2020"]);
    }

    #[test]
    fn folders_are_walked_and_explained() {
        let dir = tempfile::tempdir().unwrap();
        let item = dir.path().join("storage/AB12CD34");
        std::fs::create_dir_all(&item).unwrap();
        std::fs::create_dir_all(dir.path().join(".hidden")).unwrap();
        std::fs::write(item.join("smith2020.pdf"), b"%PDF-1.4").unwrap();
        std::fs::write(dir.path().join(".hidden/x.pdf"), b"%PDF-1.4").unwrap();
        let got = from_dir(dir.path(), true, &[]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].citekey, "smith2020");
        let err = from_dir(dir.path(), false, &[]).unwrap_err().to_string();
        assert!(err.contains("1 are in its subfolders"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = from_dir(empty.path(), true, &[]).unwrap_err().to_string();
        assert!(err.contains("no PDF files here"), "{err}");
    }

    #[test]
    fn broken_bib_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("bad.bib");
        std::fs::write(
            &bib,
            "@article{ok, title = {fine}}\n\n@article{x, title = {unclosed",
        )
        .unwrap();
        let err = from_bib(&bib, &BibPaths::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.bib"), "{err}");
        assert!(err.contains("line 3, column"), "{err}");
    }
}
