//! The segmentation step: each citekey cut into units, each line given its
//! role, clean Markdown per unit, from its table of contents (the TOC step)
//! and the page JSON of the OCR result that TOC was read from.
//!
//! Writes `data/analytics/segmentation/<citekey>/<job>/segments.json`,
//! `unit_NNN.md` and `document.md` (docs/segmentation.md); `source_job_id`
//! is the TOC job read (the newest, when citekeys come from several).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recto_ocr::lexicon::{Dictionaries, Hunspell};
use recto_registry::{Citekey, JobId, Registry};
use recto_segment::{Lexicon, NoLexicon, SegInput, segment};
use recto_toc::{PageView, Toc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::StepError;
use crate::harness::{self, Citekeys, Step};
use crate::per_citekey::{self, Sharding, StepSpec};
use crate::progress::Progress;
use recto_library::{StepResult, ocr_result, step_result};

/// The segmentation step.
#[derive(Debug)]
pub struct SegmentStep;

impl Step for SegmentStep {
    const NAME: &'static str = "segmentation";
    const INPUT: Option<&'static str> = Some("toc");
}

/// Which citekeys a job takes (the harness's selection).
pub use crate::harness::Selection as SegmentSelection;

#[derive(Debug, Clone)]
pub struct SegmentRequest {
    pub selection: SegmentSelection,
    /// A TOC job id or `latest`; by default each citekey's newest.
    pub toc_job: Option<String>,
    /// Where the Hunspell dictionaries are (`/usr/share/hunspell`).
    pub dictionaries: PathBuf,
    /// Whole, or one job in shards (docs/scale.md).
    pub sharding: Sharding,
}

/// One citekey's result, in the step metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentCitekey {
    /// The TOC job read, and the OCR job whose pages it read.
    pub source_job_id: String,
    pub ocr_job_id: String,
    pub dir: String,
    pub pages: usize,
    pub units: usize,
    /// Lines per role.
    pub lines: BTreeMap<String, usize>,
    pub footnotes: usize,
    pub dehyphenated: usize,
    pub hyphens_kept: usize,
    /// The dictionary that decided line-end hyphens (`fr_FR`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<String>,
}

/// What a segmentation job records besides the common header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SegmentBody {
    pub output_dir: String,
    #[serde(default)]
    pub per_citekey: BTreeMap<String, SegmentCitekey>,
    #[serde(default)]
    pub pages_per_second: f64,
}

/// What a run did.
pub type SegmentOutcome = harness::StepOutcome;

/// Run the segmentation step.
pub async fn run_segment(
    registry: &Registry,
    req: SegmentRequest,
    progress: &dyn Progress,
) -> Result<SegmentOutcome, StepError> {
    let output = harness::default_output_base::<SegmentStep>(registry);
    let running = SegmentBody {
        output_dir: output.display().to_string(),
        ..SegmentBody::default()
    };
    per_citekey::run(
        registry,
        StepSpec {
            step: SegmentStep::NAME,
            input: "toc",
            selection: &req.selection,
            input_job: req.toc_job.as_deref(),
            nothing: "no citekey has a table of contents without a segmentation",
        },
        &req.sharding,
        running,
        // Each citekey's table of contents, and the OCR result it was read from.
        |key, job| {
            let toc = step_result(registry, "toc", key, job)?;
            let ocr_job = toc
                .entry
                .as_ref()
                .and_then(|e| e.get("source_job_id"))
                .and_then(Value::as_str)
                .map(JobId::parse)
                .transpose()?;
            let ocr = ocr_result(registry, key, ocr_job.as_ref())?;
            Ok((toc, ocr))
        },
        |(toc, _): &(StepResult, StepResult)| &toc.job_id,
        |body: &SegmentBody| PathBuf::from(&body.output_dir),
        async |found: Vec<(Citekey, (StepResult, StepResult))>, body: &SegmentBody, job: &JobId| {
            let output = PathBuf::from(&body.output_dir);
            let work: Vec<(Citekey, StepResult, StepResult)> =
                found.into_iter().map(|(k, (t, o))| (k, t, o)).collect();
            let dictionaries = Dictionaries::new(&req.dictionaries);
            harness::map_citekeys(
                progress,
                "segmentation",
                &work,
                |(key, _, _)| key,
                |(key, toc, ocr)| segment_one(key, toc, ocr, &output, job, &dictionaries),
            )
        },
        |body: &mut SegmentBody, results, failures, list, seconds| {
            let done = harness::collect_results(results, &mut body.per_citekey, failures);
            let pages = body.per_citekey.values().map(|c| c.pages).sum();
            body.pages_per_second = harness::per_second(pages, seconds);
            let citekeys = Citekeys::new(list.to_vec())
                .count("successful", list.len() - failures.len())
                .count("failed", failures.len());
            (citekeys, done)
        },
    )
    .await
}

/// A Hunspell dictionary as the segmenter's lexicon.
struct Dict<'a>(&'a Hunspell);

impl Lexicon for Dict<'_> {
    fn is_word(&self, word: &str) -> bool {
        self.0.check(word)
    }
}

/// Segment one citekey and write its files.
fn segment_one(
    key: &Citekey,
    toc_result: &StepResult,
    ocr: &StepResult,
    output: &Path,
    job: &JobId,
    dictionaries: &Dictionaries,
) -> Result<SegmentCitekey, String> {
    let toc_path = toc_result.dir.join("toc.json");
    let toc: Toc = serde_json::from_slice(
        &std::fs::read(&toc_path).map_err(|e| format!("{}: {e}", toc_path.display()))?,
    )
    .map_err(|e| format!("{}: not a toc.json: {e}", toc_path.display()))?;
    let (pages, languages) = read_pages(&ocr.dir, toc.page_count)?;
    let sample: Vec<String> = pages
        .iter()
        .flat_map(|p| &p.rows)
        .flat_map(|r| &r.words)
        .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .take(400)
        .map(|w| w.to_lowercase())
        .collect();
    let dictionary = dictionaries.choose(&languages, &sample);
    let lexicon = dictionary.map(|(_, d)| Dict(d));
    let input = SegInput {
        citekey: key.as_str().to_owned(),
        pages,
        toc: Some(&toc),
        lexicon: lexicon
            .as_ref()
            .map(|d| d as &dyn Lexicon)
            .unwrap_or(&NoLexicon),
    };
    let out = segment(&input);
    let dir = harness::output_dir(output, key, job);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        recto_fs::write_atomic(&dir.join(name), bytes, recto_fs::Durability::Renamed)
            .map_err(|e| e.to_string())
    };
    for (unit, md) in out.segments.units.iter().zip(&out.units_markdown) {
        write(&unit.file, md.as_bytes())?;
    }
    write("document.md", out.document_markdown.as_bytes())?;
    write(
        "segments.json",
        &serde_json::to_vec_pretty(&out.segments).expect("segments serialise"),
    )?;
    let c = &out.segments.counts;
    Ok(SegmentCitekey {
        source_job_id: toc_result.job_id.to_string(),
        ocr_job_id: ocr.job_id.to_string(),
        dir: dir.display().to_string(),
        pages: out.segments.page_count,
        units: out.segments.units.len(),
        lines: c.lines.clone(),
        footnotes: out.segments.footnotes.len(),
        dehyphenated: c.dehyphenated,
        hyphens_kept: c.hyphens_kept,
        dictionary: dictionary.map(|(n, _)| n.to_owned()),
    })
}

/// Every page as segmentation reads it (rows in reading order; a page
/// without JSON is an empty page), and the OCR languages.
fn read_pages(dir: &Path, page_count: usize) -> Result<(Vec<PageView>, String), String> {
    let mut pages = Vec::with_capacity(page_count);
    let mut languages = String::new();
    recto_library::pages::for_each_page(dir, None, Some(page_count), |n, p| match p {
        Some(p) => {
            if languages.is_empty() {
                languages = p.languages.clone();
            }
            pages.push(PageView::from_page_in_reading_order(&p));
        }
        None => pages.push(PageView::empty(n)),
    })
    .map_err(|e| e.to_string())?;
    Ok((pages, languages))
}
