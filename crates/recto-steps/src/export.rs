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
use crate::fetch::{self, SourceError};
use recto_library::{LibraryError, StepResult, ocr_result, step_result};

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

impl ExportStep {
    /// Refuse a new job without a format.
    pub fn check(&self) -> Result<(), StepError> {
        if self.formats.is_empty() {
            return Err(StepError::InvalidSetting {
                name: "format".into(),
                reason: "no format given".into(),
            });
        }
        Ok(())
    }
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
    /// The TOC job the bookmarks came from, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmarks_from: Option<String>,
}

/// What an export job records besides the common header, `output_dir`
/// and `per_citekey`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExportBody {
    pub formats: Vec<Format>,
}

/// One citekey's input: its OCR result, and its source PDF once fetched
/// (only when the job writes a searchable PDF).
#[derive(Debug)]
pub struct ExportInput {
    ocr: StepResult,
    pdf: Result<PathBuf, Arc<SourceError>>,
}

impl CitekeyStep for ExportStep {
    const NAME: &'static str = "export";
    const INPUT: &'static str = "ocr";
    const NOTHING: &'static str = "no citekey has an OCR result without an export";
    type Input = ExportInput;
    type Entry = ExportCitekey;
    type Body = ExportBody;

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
    ) -> Result<ExportInput, LibraryError> {
        Ok(ExportInput {
            ocr: ocr_result(registry, key, job)?,
            pdf: Err(Arc::new(SourceError::NotFetched)),
        })
    }

    fn input_job(input: &ExportInput) -> &JobId {
        &input.ocr.job_id
    }

    /// The searchable PDF starts from the source the OCR read, verified
    /// against its checksum; without it that citekey fails alone.
    async fn prepare(
        &self,
        registry: &Registry,
        body: &ExportBody,
        found: &mut [(Citekey, ExportInput)],
    ) {
        if !body.formats.contains(&Format::Pdf) {
            return;
        }
        let mut stores = BTreeMap::new();
        for (key, input) in found {
            input.pdf = fetch::source_pdf(registry, key, &input.ocr, &mut stores, &self.cache_dir)
                .await
                .map_err(Arc::new);
        }
    }

    fn work(
        &self,
        key: &Citekey,
        input: &ExportInput,
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
    input: &ExportInput,
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
                let (marks, from) = if req.bookmarks {
                    toc_bookmarks(registry, key)
                } else {
                    (Vec::new(), None)
                };
                let name = f.file_name(key);
                let target = dir.join(&name);
                let tmp = dir.join(format!(".{name}.tmp"));
                let opts = recto_ocr::searchable::SearchableOptions {
                    password: req.password.clone(),
                    decrypt: req.decrypt,
                    bookmarks: marks,
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
                if report.bookmarks_added > 0 {
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

/// The citekey's newest table of contents as bookmarks (entries without a
/// page are left out), and the TOC job they came from.
fn toc_bookmarks(
    registry: &Registry,
    key: &Citekey,
) -> (Vec<recto_ocr::searchable::Bookmark>, Option<String>) {
    let Some((toc, parsed)) = step_result(registry, "toc", key, None)
        .ok()
        .and_then(|t| Some((t.job_id.clone(), t.toc()?)))
    else {
        return (Vec::new(), None);
    };
    let marks = parsed
        .entries
        .iter()
        .filter_map(|e| {
            Some(recto_ocr::searchable::Bookmark {
                level: e.level,
                title: e.title.clone(),
                page: e.page?.checked_sub(1)?,
            })
        })
        .collect();
    (marks, Some(toc.to_string()))
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

/// XML/HTML text escaping.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A page's boxes scaled to its page image (which can be written at a
/// lower resolution than the page was read at), so the coordinates fit
/// the image each page names.
fn scale(p: &PageJson) -> f64 {
    match &p.image {
        Some(img) if p.dpi > 0 => f64::from(img.dpi) / f64::from(p.dpi),
        _ => 1.0,
    }
}

fn scaled(b: [i32; 4], s: f64) -> [i64; 4] {
    b.map(|v| (f64::from(v) * s).round() as i64)
}

/// The page's size in the pixels of its image.
fn image_size(p: &PageJson) -> (u32, u32) {
    match &p.image {
        Some(img) => (img.width, img.height),
        None => (p.width_px, p.height_px),
    }
}

/// hOCR 1.2: one HTML document, `ocr_page` / `ocr_carea` / `ocr_par` /
/// `ocr_line` / `ocrx_word` with `bbox` (pixels of the page image each page
/// names) and `x_wconf`.
pub fn hocr(title: &str, pages: &[Option<PageJson>]) -> String {
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n");
    o.push_str(
        "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n<head>\n",
    );
    let _ = writeln!(o, "<title>{}</title>", esc(title));
    o.push_str("<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n");
    let _ = writeln!(
        o,
        "<meta name=\"ocr-system\" content=\"recto {}\"/>",
        env!("CARGO_PKG_VERSION")
    );
    // The languages the document's pages were read with (Tesseract's
    // codes; a page set in Fraktur names the Fraktur model it got).
    let mut langs: Vec<&str> = pages
        .iter()
        .flatten()
        .flat_map(|p| {
            p.languages_used
                .as_deref()
                .unwrap_or(&p.languages)
                .split('+')
        })
        .filter(|l| !l.is_empty())
        .collect();
    langs.sort_unstable();
    langs.dedup();
    if !langs.is_empty() {
        let _ = writeln!(
            o,
            "<meta name=\"ocr-langs\" content=\"{}\"/>",
            esc(&langs.join(" "))
        );
    }
    // Their scripts (ISO 15924), where the language tells it.
    let mut scripts: Vec<&str> = langs
        .iter()
        .filter_map(|l| match *l {
            "frk" | "Fraktur" | "deu_latf" => Some("Latf"),
            "ell" | "grc" => Some("Grek"),
            "rus" | "ukr" | "bul" | "srp" => Some("Cyrl"),
            "heb" => Some("Hebr"),
            "ara" | "fas" => Some("Arab"),
            "eng" | "deu" | "fra" | "ita" | "spa" | "lat" | "nld" | "por" | "pol" | "ces"
            | "swe" | "dan" | "nor" | "fin" | "hun" | "ron" | "cat" | "tur" => Some("Latn"),
            _ => None,
        })
        .collect();
    scripts.sort_unstable();
    scripts.dedup();
    if !scripts.is_empty() {
        let _ = writeln!(
            o,
            "<meta name=\"ocr-scripts\" content=\"{}\"/>",
            scripts.join(" ")
        );
    }
    let _ = writeln!(
        o,
        "<meta name=\"ocr-number-of-pages\" content=\"{}\"/>",
        pages.len()
    );
    o.push_str("<meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf\"/>\n</head>\n<body>\n");
    for (pi, p) in pages.iter().enumerate() {
        let Some(p) = p else {
            let _ = writeln!(
                o,
                "<div class=\"ocr_page\" id=\"page_{}\" title=\"ppageno {pi}\"></div>",
                pi + 1
            );
            continue;
        };
        let s = scale(p);
        let (w, h) = image_size(p);
        let image = p
            .image
            .as_ref()
            .map_or(String::new(), |i| format!("image \"{}\"; ", esc(&i.file)));
        let _ = writeln!(
            o,
            "<div class=\"ocr_page\" id=\"page_{n}\" title='{image}bbox 0 0 {w} {h}; ppageno {pi}'>",
            n = pi + 1
        );
        for (bi, b) in p.blocks.iter().enumerate() {
            let [x0, y0, x1, y1] = scaled(b.bbox, s);
            let id = format!("{}_{}", pi + 1, bi + 1);
            let _ = writeln!(
                o,
                "<div class=\"ocr_carea\" id=\"block_{id}\" title=\"bbox {x0} {y0} {x1} {y1}\">"
            );
            let _ = writeln!(
                o,
                "<p class=\"ocr_par\" id=\"par_{id}\" title=\"bbox {x0} {y0} {x1} {y1}\">"
            );
            for (li, l) in b.lines.iter().enumerate() {
                let [x0, y0, x1, y1] = scaled(l.bbox, s);
                let _ = write!(
                    o,
                    "<span class=\"ocr_line\" id=\"line_{id}_{}\" title=\"bbox {x0} {y0} {x1} {y1}\">",
                    li + 1
                );
                for (wi, wd) in l.words.iter().enumerate() {
                    let [x0, y0, x1, y1] = scaled(wd.bbox, s);
                    let conf = wd
                        .confidence
                        .map_or(String::new(), |c| format!("; x_wconf {}", c.round() as i64));
                    let _ = write!(
                        o,
                        "<span class=\"ocrx_word\" id=\"word_{id}_{}_{}\" title=\"bbox {x0} {y0} {x1} {y1}{conf}\">{}</span>",
                        li + 1,
                        wi + 1,
                        esc(&wd.text)
                    );
                    if wi + 1 < l.words.len() {
                        o.push(' ');
                    }
                }
                o.push_str("</span>\n");
            }
            o.push_str("</p>\n</div>\n");
        }
        o.push_str("</div>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// ALTO 4: one XML document, pixel units (of the page image each page
/// names), `TextBlock` / `TextLine` / `String` with `HPOS` / `VPOS` /
/// `WIDTH` / `HEIGHT` / `WC` (0..1), `SP` between words.
pub fn alto(pages: &[Option<PageJson>]) -> String {
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str("<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-2.xsd\">\n");
    o.push_str("<Description>\n<MeasurementUnit>pixel</MeasurementUnit>\n");
    let _ = writeln!(
        o,
        "<OCRProcessing ID=\"recto\"><ocrProcessingStep><processingSoftware><softwareName>recto</softwareName><softwareVersion>{}</softwareVersion></processingSoftware></ocrProcessingStep></OCRProcessing>",
        env!("CARGO_PKG_VERSION")
    );
    o.push_str("</Description>\n<Layout>\n");
    for (pi, p) in pages.iter().enumerate() {
        let n = pi + 1;
        let Some(p) = p else {
            let _ = writeln!(
                o,
                "<Page ID=\"page_{n}\" PHYSICAL_IMG_NR=\"{n}\" WIDTH=\"0\" HEIGHT=\"0\"/>"
            );
            continue;
        };
        let s = scale(p);
        let (w, h) = image_size(p);
        let image = p
            .image
            .as_ref()
            .map_or(String::new(), |i| format!(" IMAGE=\"{}\"", esc(&i.file)));
        let _ = writeln!(
            o,
            "<Page ID=\"page_{n}\" PHYSICAL_IMG_NR=\"{n}\" WIDTH=\"{w}\" HEIGHT=\"{h}\"{image}>"
        );
        let _ = writeln!(
            o,
            "<PrintSpace HPOS=\"0\" VPOS=\"0\" WIDTH=\"{w}\" HEIGHT=\"{h}\">"
        );
        let pos = |b: [i64; 4]| {
            format!(
                "HPOS=\"{}\" VPOS=\"{}\" WIDTH=\"{}\" HEIGHT=\"{}\"",
                b[0],
                b[1],
                b[2] - b[0],
                b[3] - b[1]
            )
        };
        for (bi, b) in p.blocks.iter().enumerate() {
            let _ = writeln!(
                o,
                "<TextBlock ID=\"block_{n}_{}\" {}>",
                bi + 1,
                pos(scaled(b.bbox, s))
            );
            for (li, l) in b.lines.iter().enumerate() {
                let _ = write!(
                    o,
                    "<TextLine ID=\"line_{n}_{}_{}\" {}>",
                    bi + 1,
                    li + 1,
                    pos(scaled(l.bbox, s))
                );
                for (wi, wd) in l.words.iter().enumerate() {
                    if wi > 0 {
                        o.push_str("<SP/>");
                    }
                    let wc = wd.confidence.map_or(String::new(), |c| {
                        format!(" WC=\"{:.2}\"", (c / 100.0).clamp(0.0, 1.0))
                    });
                    let _ = write!(
                        o,
                        "<String ID=\"string_{n}_{}_{}_{}\" CONTENT=\"{}\" {}{wc}/>",
                        bi + 1,
                        li + 1,
                        wi + 1,
                        esc(&wd.text),
                        pos(scaled(wd.bbox, s))
                    );
                }
                o.push_str("</TextLine>\n");
            }
            o.push_str("</TextBlock>\n");
        }
        o.push_str("</PrintSpace>\n</Page>\n");
    }
    o.push_str("</Layout>\n</alto>\n");
    o
}
