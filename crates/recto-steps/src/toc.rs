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
use recto_store::Store;
use recto_toc::{OutlineItem, PageView, Toc, TocInput, build_toc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::StepError;
use crate::harness::{self, Citekeys, Step};
use crate::per_citekey::{self, Sharding, StepSpec};
use crate::progress::Progress;
use recto_library::{StepResult, ocr_result};

/// The TOC step.
#[derive(Debug)]
pub struct TocStep;

impl Step for TocStep {
    const NAME: &'static str = "toc";
    const INPUT: Option<&'static str> = Some("ocr");
}

/// Which citekeys a TOC job takes (the harness's selection).
pub use crate::harness::Selection as TocSelection;

#[derive(Debug, Clone)]
pub struct TocRequest {
    pub selection: TocSelection,
    /// An OCR job id or `latest`; by default each citekey's newest OCR
    /// result.
    pub ocr_job: Option<String>,
    /// Where fetched source PDFs are kept (content-addressed).
    pub cache_dir: PathBuf,
    /// Whole, or one job in shards (docs/scale.md).
    pub sharding: Sharding,
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

/// What a TOC job records besides the common header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TocBody {
    pub output_dir: String,
    #[serde(default)]
    pub per_citekey: BTreeMap<String, TocCitekey>,
    #[serde(default)]
    pub pages_per_second: f64,
}

/// What a run did.
pub type TocOutcome = harness::StepOutcome;

/// One citekey's input, found before the work.
struct Planned {
    key: Citekey,
    ocr: StepResult,
    pdf: Result<PathBuf, String>,
}

/// Run the TOC step.
pub async fn run_toc(
    registry: &Registry,
    req: TocRequest,
    progress: &dyn Progress,
) -> Result<TocOutcome, StepError> {
    let output = harness::default_output_base::<TocStep>(registry);
    let running = TocBody {
        output_dir: output.display().to_string(),
        ..TocBody::default()
    };
    per_citekey::run(
        registry,
        StepSpec {
            step: TocStep::NAME,
            input: "ocr",
            selection: &req.selection,
            input_job: req.ocr_job.as_deref(),
            nothing: "no citekey has an OCR result without a table of contents",
        },
        &req.sharding,
        running,
        |key, job| Ok(ocr_result(registry, key, job)?),
        |o: &StepResult| &o.job_id,
        |body: &TocBody| PathBuf::from(&body.output_dir),
        async |found: Vec<(Citekey, StepResult)>, body: &TocBody, job: &JobId| {
            // Source PDFs, for their outline and labels; a PDF that cannot
            // be had leaves the pages to speak alone (a warning, not a
            // failure).
            let output = PathBuf::from(&body.output_dir);
            let mut stores: BTreeMap<String, Store> = BTreeMap::new();
            let mut work = Vec::new();
            for (key, ocr) in found {
                let pdf =
                    crate::ocr::source_pdf(registry, &key, &ocr, &mut stores, &req.cache_dir).await;
                work.push(Planned { key, ocr, pdf });
            }
            harness::map_citekeys(
                progress,
                "toc",
                &work,
                |w| &w.key,
                |w| toc_one(w, &output, job),
            )
        },
        |body: &mut TocBody, results, failures, list, seconds| {
            let done = harness::collect_results(results, &mut body.per_citekey, failures);
            let pages = body.per_citekey.values().map(|c| c.pages).sum();
            body.pages_per_second = harness::per_second(pages, seconds);
            let with_entries = body.per_citekey.values().filter(|c| c.entries > 0).count();
            let citekeys = Citekeys::new(list.to_vec())
                .count("successful", list.len() - failures.len())
                .count("with_entries", with_entries)
                .count("failed", failures.len());
            (citekeys, done)
        },
    )
    .await
}

/// Read one citekey's pages and PDF, build and write its table of contents.
fn toc_one(w: &Planned, output: &Path, job: &JobId) -> Result<TocCitekey, String> {
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
    let input = TocInput {
        citekey: w.key.as_str().to_owned(),
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
    let dir = harness::output_dir(output, &w.key, job);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bytes = serde_json::to_vec_pretty(&toc).expect("toc serialises");
    recto_fs::write_atomic(&dir.join("toc.json"), &bytes, recto_fs::Durability::Renamed)
        .map_err(|e| e.to_string())?;
    for warning in &toc.warnings {
        tracing::info!("{}: {warning}", w.key);
    }
    Ok(TocCitekey {
        source_job_id: w.ocr.job_id.to_string(),
        dir: dir.display().to_string(),
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
fn read_pages(dir: &Path, recorded: Option<usize>) -> Result<(Vec<PageView>, usize), String> {
    let mut pages = Vec::new();
    let count = recto_library::pages::for_each_page(dir, recorded, None, |n, p| {
        pages.push(p.map_or_else(|| PageView::empty(n), |p| PageView::from_page(&p)));
    })
    .map_err(|e| e.to_string())?;
    Ok((pages, count))
}
