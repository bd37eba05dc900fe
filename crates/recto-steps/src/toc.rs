//! The TOC step: each citekey's table of contents, linked to physical pages
//! and printed page labels, from its OCR result (page JSON) and its source
//! PDF's outline and /PageLabels. It does not OCR again.
//!
//! Writes `data/analytics/toc/<citekey>/<job>/toc.json` (see docs/toc.md)
//! and records the job like every step: `source_job_id` is the OCR job read
//! (when citekeys come from several OCR jobs, the newest of them; each
//! citekey's own is in `per_citekey`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recto_registry::{Citekey, JobId, Registry};
use recto_toc::{OutlineItem, PageView, Toc, build_toc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::driver::{CitekeyStep, Target};
use crate::error::CitekeyError;
use crate::fetch::OcrAndSource;
use crate::harness;
use recto_library::LibraryError;

/// The TOC step: where cached source PDFs are kept.
#[derive(Debug)]
pub struct TocStep {
    /// Where fetched source PDFs are kept (content-addressed).
    pub cache_dir: PathBuf,
}

/// One citekey's result, in the step metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TocCitekey {
    /// The OCR job whose pages were read.
    pub source_job_id: String,
    pub dir: String,
    pub pages: usize,
    pub entries: usize,
    /// `outline`, `printed_toc`, `headings` or `none`.
    pub source: String,
    pub toc_pages: Vec<usize>,
    pub label_source: String,
    pub label_coverage: f64,
    pub verified: usize,
    pub corrected: usize,
    pub disagreements: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why there are no entries, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The checksum of the PDF the OCR read, carried on so the library
    /// view can tell a result built from an older upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What a TOC job records besides the common header, `output_dir` and
/// `per_citekey`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TocBody {
    #[serde(default)]
    pub pages_per_second: f64,
}

impl CitekeyStep for TocStep {
    const NAME: &'static str = "toc";
    const INPUT: &'static str = "ocr";
    const NOTHING: &'static str = "no citekey has an OCR result without a table of contents";
    type Input = OcrAndSource;
    type Entry = TocCitekey;
    type Body = TocBody;

    fn body(&self) -> TocBody {
        TocBody::default()
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

    async fn prepare(
        &self,
        registry: &Registry,
        _: &TocBody,
        found: &mut [(Citekey, OcrAndSource)],
    ) {
        OcrAndSource::fetch_all(registry, found, &self.cache_dir).await;
    }

    fn work(
        &self,
        key: &Citekey,
        input: &OcrAndSource,
        _: &TocBody,
        target: &Target<'_>,
    ) -> Result<TocCitekey, CitekeyError> {
        toc_one(key, input, target)
    }

    fn summarise(
        body: &mut TocBody,
        entries: &BTreeMap<String, TocCitekey>,
        seconds: f64,
    ) -> Vec<(&'static str, usize)> {
        let pages = entries.values().map(|c| c.pages).sum();
        body.pages_per_second = harness::per_second(pages, seconds);
        vec![(
            "with_entries",
            entries.values().filter(|c| c.entries > 0).count(),
        )]
    }
}

/// Read one citekey's pages and PDF, build and write its table of contents.
fn toc_one(
    key: &Citekey,
    w: &OcrAndSource,
    target: &Target<'_>,
) -> Result<TocCitekey, CitekeyError> {
    let (pages, page_count) = read_pages(&w.ocr.dir, w.ocr.recorded_pages())?;
    let mut warnings = Vec::new();
    let (outline, pdf_labels) = match &w.pdf {
        Ok(path) => match recto_ocr::render::Pdf::open(path, None) {
            Ok(pdf) => {
                let outline = match pdf.outline() {
                    Ok(o) => o,
                    Err(e) => {
                        warnings.push(format!("the PDF's outline cannot be read: {e}"));
                        Vec::new()
                    }
                };
                let labels = pdf.page_labels();
                if pdf.page_count() != page_count {
                    warnings.push(format!(
                        "the PDF has {} pages, its OCR result {page_count}; the PDF's outline and labels are not used",
                        pdf.page_count()
                    ));
                    (Vec::new(), None)
                } else {
                    (outline, labels)
                }
            }
            Err(e) => {
                warnings.push(format!("the source PDF cannot be opened: {e}"));
                (Vec::new(), None)
            }
        },
        Err(why) => {
            warnings.push(format!(
                "the source PDF is not available ({why}); outline and PDF page labels are not used"
            ));
            (Vec::new(), None)
        }
    };
    let input = recto_toc::TocInput {
        citekey: key.as_str().to_owned(),
        pages,
        outline: outline
            .into_iter()
            .map(|o| OutlineItem {
                level: o.level,
                title: o.title,
                page: o.page,
            })
            .collect(),
        pdf_labels,
    };
    let mut toc: Toc = build_toc(&input);
    toc.warnings.splice(0..0, warnings);
    let dir = target.dir(key)?;
    let bytes = serde_json::to_vec_pretty(&toc).expect("toc serialises");
    recto_fs::write_atomic(&dir.join("toc.json"), &bytes, recto_fs::Durability::Renamed)?;
    for warning in &toc.warnings {
        tracing::info!("{key}: {warning}");
    }
    Ok(TocCitekey {
        source_job_id: w.ocr.job_id.to_string(),
        dir: target.recorded(&dir),
        pages: page_count,
        entries: toc.entries.len(),
        source: toc.source.clone(),
        toc_pages: toc.toc_pages.clone(),
        label_source: toc.label_source.clone(),
        label_coverage: toc.label_coverage,
        verified: toc.checks.verified,
        corrected: toc.checks.corrected,
        disagreements: toc.checks.disagreements.len(),
        warnings: toc.warnings.clone(),
        reason: toc.reason.clone(),
        sha256: w
            .ocr
            .entry
            .as_ref()
            .and_then(|e| e.get("sha256"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Every page of an OCR result as the TOC reads it (a page without JSON
/// is an empty page).
fn read_pages(dir: &Path, recorded: Option<usize>) -> Result<(Vec<PageView>, usize), LibraryError> {
    let mut pages = Vec::new();
    let count = recto_library::pages::for_each_page(dir, recorded, None, |n, p| {
        pages.push(p.map_or_else(|| PageView::empty(n), |p| PageView::from_page(&p)));
    })?;
    Ok((pages, count))
}
