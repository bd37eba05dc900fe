//! Where source PDFs come from: a folder (`<citekey>.pdf`), a list of
//! citekeys in a folder, or a BibTeX/BibLaTeX file as Zotero + Better BibTeX
//! export it (citekey and `file` field).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use biblatex::{Bibliography, ChunksExt, RawBibliography};
use recto_registry::Citekey;

use crate::StepError;

/// One source to upload: the citekey as given and the PDF it names, or why
/// no PDF could be found for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInput {
    pub citekey: String,
    pub file: Result<PathBuf, String>,
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
                SourceInput {
                    citekey: k.clone(),
                    file,
                }
            })
            .collect(),
    )
}

/// Every `*.pdf` in `dir` (not recursive); the citekey is the file stem.
pub fn from_dir(dir: &Path) -> Result<Vec<SourceInput>, StepError> {
    let entries = std::fs::read_dir(dir).map_err(|e| StepError::Input {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let is_pdf = path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("pdf"));
        if !is_pdf || !path.is_file() {
            continue;
        }
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
        out.push(SourceInput {
            citekey,
            file: Ok(path),
        });
    }
    out.sort_by(|a, b| a.citekey.cmp(&b.citekey));
    Ok(dedup(out))
}

/// The entries of a BibTeX/BibLaTeX file with their PDF from the `file`
/// field; relative paths are relative to the .bib file's folder. A key
/// that appears twice fails its later entries (named as duplicates), the
/// others go on.
pub fn from_bib(bib: &Path) -> Result<Vec<SourceInput>, StepError> {
    let err = |reason: String| StepError::Input {
        path: bib.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(bib).map_err(|e| err(e.to_string()))?;
    let raw =
        RawBibliography::parse(&text).map_err(|e| err(format!("not a valid BibTeX file: {e}")))?;
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
    .map_err(|e| err(format!("not a valid BibTeX file: {e}")))?;
    let base = bib.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for entry in parsed.iter() {
        let file = match entry.get("file") {
            None => Err("the BibTeX entry has no file field".to_owned()),
            Some(chunks) => pdf_from_file_field(&chunks.format_verbatim())
                .map(|p| if p.is_absolute() { p } else { base.join(p) })
                .ok_or_else(|| "the file field names no PDF".to_owned()),
        };
        out.push(SourceInput {
            citekey: entry.key.clone(),
            file,
        });
    }
    for key in duplicates {
        out.push(SourceInput {
            citekey: key.clone(),
            file: Err(format!(
                "duplicate key {key:?} in {}: only its first entry is used",
                bib.display()
            )),
        });
    }
    Ok(out)
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
    let mut seen = BTreeSet::new();
    inputs
        .into_iter()
        .map(|mut i| {
            if !seen.insert(i.citekey.clone()) {
                i.file = Err("duplicate citekey: only its first PDF is uploaded".to_owned());
            }
            i
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
@book{doe:2019, title = {B}, file = {/abs/doe.pdf}}
@misc{nofile, title = {C}}
"#,
        )
        .unwrap();
        let got = from_bib(&bib).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].citekey, "smith2020");
        assert_eq!(got[0].file, Ok(dir.path().join("pdfs/smith2020.pdf")));
        assert_eq!(got[1].citekey, "doe:2019");
        assert_eq!(got[1].file, Ok(PathBuf::from("/abs/doe.pdf")));
        assert!(got[2].file.as_ref().unwrap_err().contains("no file field"));
        // A duplicate key fails its later entry only, naming the key.
        std::fs::write(
            &bib,
            "@article{a1, file={x.pdf}}\n@article{b2, file={z.pdf}}\n@article{a1, file={y.pdf}}\n",
        )
        .unwrap();
        let got = from_bib(&bib).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].file, Ok(dir.path().join("x.pdf")));
        assert_eq!(got[1].file, Ok(dir.path().join("z.pdf")));
        assert_eq!(got[2].citekey, "a1");
        let why = got[2].file.as_ref().unwrap_err();
        assert!(why.contains("duplicate key \"a1\""), "{why}");
    }

    #[test]
    fn only_canonical_encodings_decode() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["A.pdf", "%41.pdf", "smith%3A2020.pdf"] {
            std::fs::write(dir.path().join(name), b"%PDF-1.4").unwrap();
        }
        let keys: Vec<String> = from_dir(dir.path())
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
    fn broken_bib_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("bad.bib");
        std::fs::write(&bib, "@article{x, title = {unclosed").unwrap();
        let err = from_bib(&bib).unwrap_err().to_string();
        assert!(err.contains("bad.bib"), "{err}");
    }
}
