//! The export step: a citekey's OCR result as files other tools read: the
//! searchable PDF (the source with an invisible text layer on its OCRed
//! pages), plain text, Markdown, hOCR and ALTO 4. Writes `data/analytics/export/<citekey>/<job>/<citekey>.<ext>` and
//! records the job like every step (`source_job_id` = the OCR job read).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use recto_page::PageJson;
use recto_registry::{Citekey, JobId, Registry};
use serde::{Deserialize, Serialize};

use crate::StepError;
use crate::driver::{CitekeyStep, Target};
use crate::error::CitekeyError;
use crate::fetch::OcrAndSource;
use recto_library::{LibraryError, step_result};

mod flat;
mod xml;

pub use flat::write_flat;
pub use xml::{alto, hocr};

/// A format recto exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Txt,
    Md,
    Hocr,
    Alto,
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self, StepError> {
        match s {
            "txt" => Ok(Format::Txt),
            "md" => Ok(Format::Md),
            "hocr" => Ok(Format::Hocr),
            "alto" => Ok(Format::Alto),
            "pdf" => Ok(Format::Pdf),
            other => Err(StepError::InvalidSetting {
                name: "format".into(),
                reason: format!("{other:?} is not one of pdf, txt, md, hocr, alto"),
            }),
        }
    }

    /// The file name of this format's export of `key`.
    pub fn file_name(self, key: &Citekey) -> String {
        let stem = key.file_stem();
        match self {
            Format::Txt => format!("{stem}.txt"),
            Format::Md => format!("{stem}.md"),
            Format::Hocr => format!("{stem}.hocr"),
            Format::Alto => format!("{stem}.alto.xml"),
            Format::Pdf => format!("{stem}.pdf"),
        }
    }
}

/// The export step: how to write what the job's formats ask for. The
/// formats are the job's (its body), so a shard writes what its job was
/// planned with.
#[derive(Debug, Clone, Default)]
pub struct ExportStep {
    /// The formats of a new job.
    pub formats: Vec<Format>,
    /// Where sources fetched from an S3 store are kept (searchable PDFs).
    pub cache_dir: PathBuf,
    /// The password of encrypted sources.
    pub password: Option<String>,
    /// Write encrypted sources' searchable copies without encryption.
    pub decrypt: bool,
    /// Add the TOC step's entries as bookmarks to PDFs without an outline.
    pub bookmarks: bool,
    /// Show pages recto turned to read them upright in the searchable PDF.
    pub rotate_pages: bool,
    /// Show pages recto levelled to read them level in the searchable PDF.
    pub deskew_pages: bool,
}

/// One citekey's result, in the step metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportCitekey {
    /// The OCR job whose pages were exported.
    pub source_job_id: String,
    pub dir: String,
    pub pages: usize,
    /// `{file name: size in bytes}`.
    pub files: BTreeMap<String, u64>,
    /// The segmentation job the Markdown came from, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown_from: Option<String>,
    /// The searchable PDF: pages given a text layer, words, whether it is
    /// the source plus an incremental update, bookmarks added, warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<recto_ocr::searchable::SearchableReport>,
    /// The TOC job the bookmarks or page labels came from, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmarks_from: Option<String>,
}

/// What an export job records besides the common header, `output_dir`
/// and `per_citekey`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExportBody {
    pub formats: Vec<Format>,
}

impl CitekeyStep for ExportStep {
    const NAME: &'static str = "export";
    const INPUT: &'static str = "ocr";
    const NOTHING: &'static str = "no citekey has an OCR result without an export";
    type Input = OcrAndSource;
    type Entry = ExportCitekey;
    type Body = ExportBody;

    /// A new job without a format is refused.
    fn check(&self) -> Result<(), StepError> {
        if self.formats.is_empty() {
            return Err(StepError::InvalidSetting {
                name: "format".into(),
                reason: "no format given".into(),
            });
        }
        Ok(())
    }

    fn body(&self) -> ExportBody {
        let mut formats = self.formats.clone();
        formats.sort();
        formats.dedup();
        ExportBody { formats }
    }

    fn lookup(
        &self,
        registry: &Registry,
        key: &Citekey,
        job: Option<&JobId>,
    ) -> Result<OcrAndSource, LibraryError> {
        OcrAndSource::lookup(registry, key, job)
    }

    fn input_job(input: &OcrAndSource) -> &JobId {
        &input.ocr.job_id
    }

    /// The searchable PDF starts from the source the OCR read, verified
    /// against its checksum; without it that citekey fails alone.
    async fn prepare(
        &self,
        registry: &Registry,
        body: &ExportBody,
        found: &mut [(Citekey, OcrAndSource)],
    ) {
        if !body.formats.contains(&Format::Pdf) {
            return;
        }
        OcrAndSource::fetch_all(registry, found, &self.cache_dir).await;
    }

    fn current_files(entry: &ExportCitekey) -> Option<Vec<String>> {
        Some(entry.files.keys().cloned().collect())
    }

    fn work(
        &self,
        key: &Citekey,
        input: &OcrAndSource,
        body: &ExportBody,
        target: &Target<'_>,
    ) -> Result<ExportCitekey, CitekeyError> {
        export_one(self, key, input, &body.formats, target)
    }
}

/// Export one citekey in every format; files are written to a temporary
/// name and renamed into place, so no reader sees a partial file.
fn export_one(
    req: &ExportStep,
    key: &Citekey,
    input: &OcrAndSource,
    formats: &[Format],
    target: &Target<'_>,
) -> Result<ExportCitekey, CitekeyError> {
    let ocr = &input.ocr;
    let registry = target.registry();
    let pages = read_pages(&ocr.dir, ocr.recorded_pages())?;
    let dir = target.dir(key)?;
    let mut files = BTreeMap::new();
    let mut markdown_from = None;
    let mut pdf = None;
    let mut bookmarks_from = None;
    for &f in formats {
        let text = match f {
            Format::Pdf => {
                let source = match &input.pdf {
                    Ok(path) => path,
                    Err(why) => return Err(CitekeyError::Source(Arc::clone(why))),
                };
                let toc = newest_toc(registry, key);
                let from = toc.as_ref().map(|(job, _)| job.clone());
                let marks = match &toc {
                    Some((_, toc)) if req.bookmarks => bookmarks(toc),
                    _ => Vec::new(),
                };
                // The printed labels, where the TOC step read them for
                // these very pages (the same count).
                let page_labels = toc
                    .as_ref()
                    .map(|(_, t)| t.page_labels.clone())
                    .filter(|l| l.len() == pages.len())
                    .unwrap_or_default();
                let name = f.file_name(key);
                let target = dir.join(&name);
                let tmp = dir.join(format!(".{name}.tmp"));
                let opts = recto_ocr::searchable::SearchableOptions {
                    password: req.password.clone(),
                    decrypt: req.decrypt,
                    bookmarks: marks,
                    page_labels,
                    rotate_pages: req.rotate_pages,
                    deskew_pages: req.deskew_pages,
                };
                let written = recto_ocr::searchable::write_searchable(source, &tmp, &pages, &opts)
                    .and_then(|r| {
                        std::fs::rename(&tmp, &target).map_err(|e| recto_ocr::OcrError::Io {
                            path: target.clone(),
                            source: e,
                        })?;
                        Ok(r)
                    });
                let report = match written {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(e.into());
                    }
                };
                if report.bookmarks_added > 0 || report.page_labels_added > 0 {
                    bookmarks_from = from;
                }
                let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
                files.insert(name, size);
                pdf = Some(report);
                continue;
            }
            Format::Txt => txt(&pages),
            Format::Hocr => hocr(key.as_str(), &pages),
            Format::Alto => alto(&pages),
            Format::Md => {
                // From segmentation when the citekey has one: units,
                // headings, footnotes; else a section per page.
                match step_result(registry, "segmentation", key, None) {
                    Ok(seg) => match std::fs::read_to_string(seg.dir.join("document.md")) {
                        Ok(md) => {
                            markdown_from = Some(seg.job_id.to_string());
                            md
                        }
                        Err(_) => md_by_page(&pages),
                    },
                    Err(_) => md_by_page(&pages),
                }
            }
        };
        let name = f.file_name(key);
        recto_fs::write_atomic(
            &dir.join(&name),
            text.as_bytes(),
            recto_fs::Durability::Renamed,
        )?;
        files.insert(name, text.len() as u64);
    }
    Ok(ExportCitekey {
        source_job_id: ocr.job_id.to_string(),
        dir: target.recorded(&dir),
        pages: pages.len(),
        files,
        markdown_from,
        pdf,
        bookmarks_from,
    })
}

/// The citekey's newest table of contents, and the TOC job it came from.
fn newest_toc(registry: &Registry, key: &Citekey) -> Option<(String, recto_library::Toc)> {
    let t = step_result(registry, "toc", key, None).ok()?;
    Some((t.job_id.to_string(), t.toc()?))
}

/// The entries of a table of contents as bookmarks (entries without a
/// page are left out).
fn bookmarks(toc: &recto_library::Toc) -> Vec<recto_ocr::searchable::Bookmark> {
    toc.entries
        .iter()
        .filter_map(|e| {
            Some(recto_ocr::searchable::Bookmark {
                level: e.level,
                title: e.title.clone(),
                page: e.page?.checked_sub(1)?,
            })
        })
        .collect()
}

/// Every page JSON of a result, in order (a page without JSON, one that
/// failed, is `None`).
fn read_pages(dir: &Path, recorded: Option<usize>) -> Result<Vec<Option<PageJson>>, LibraryError> {
    let mut pages = Vec::new();
    recto_library::pages::for_each_page(dir, recorded, None, |_, p| pages.push(p))?;
    Ok(pages)
}

/// Plain text: pages separated by form feeds (as `fulltext.txt`).
pub fn txt(pages: &[Option<PageJson>]) -> String {
    pages
        .iter()
        .map(|p| p.as_ref().map_or("", |p| p.text.as_str()))
        .collect::<Vec<_>>()
        .join("\u{c}")
}

/// Markdown without segmentation: a section per page.
pub fn md_by_page(pages: &[Option<PageJson>]) -> String {
    let mut out = String::new();
    for (i, p) in pages.iter().enumerate() {
        let _ = write!(out, "## Page {}\n\n", i + 1);
        if let Some(p) = p {
            out.push_str(p.text.trim());
            out.push_str("\n\n");
        }
    }
    out
}
