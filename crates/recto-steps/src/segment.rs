//! The segmentation step: each citekey cut into units, each line given its
//! role, clean Markdown per unit, from its table of contents (the TOC step)
//! and the page JSON of the OCR result that TOC was read from.
//!
//! Writes `data/analytics/segmentation/<citekey>/<job>/segments.json`,
//! `unit_NNN.md` and `document.md` (docs/segmentation.md); `source_job_id`
//! is the TOC job read (the newest, when citekeys come from several).

use std::collections::BTreeMap;
use std::path::Path;

use recto_lexicon::{Dictionaries, Hunspell};
use recto_registry::{Citekey, JobId, Registry};
use recto_segment::{Lexicon, NoLexicon, SegInput, segment};
use recto_toc::{PageView, Toc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::driver::{CitekeyStep, Target};
use crate::error::CitekeyError;
use crate::harness;
use recto_library::{LibraryError, StepResult, ocr_result, step_result};

/// The segmentation step, with the dictionaries that decide line-end
/// hyphens.
#[derive(Debug)]
pub struct SegmentStep {
    dictionaries: Dictionaries,
}

impl SegmentStep {
    /// With the Hunspell dictionaries of `dir` (`/usr/share/hunspell`).
    pub fn new(dictionaries: &Path) -> Self {
        SegmentStep {
            dictionaries: Dictionaries::new(dictionaries),
        }
    }
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

/// What a segmentation job records besides the common header,
/// `output_dir` and `per_citekey`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SegmentBody {
    #[serde(default)]
    pub pages_per_second: f64,
}

/// One citekey's input: its table of contents and the OCR result it was
/// read from.
#[derive(Debug)]
pub struct SegmentInput {
    toc: StepResult,
    ocr: StepResult,
}

impl CitekeyStep for SegmentStep {
    const NAME: &'static str = "segmentation";
    const INPUT: &'static str = "toc";
    const NOTHING: &'static str = "no citekey has a table of contents without a segmentation";
    type Input = SegmentInput;
    type Entry = SegmentCitekey;
    type Body = SegmentBody;

    fn body(&self) -> SegmentBody {
        SegmentBody::default()
    }

    fn lookup(
        &self,
        registry: &Registry,
        key: &Citekey,
        job: Option<&JobId>,
    ) -> Result<SegmentInput, LibraryError> {
        let toc = step_result(registry, "toc", key, job)?;
        let ocr_job = toc
            .entry
            .as_ref()
            .and_then(|e| e.get("source_job_id"))
            .and_then(Value::as_str)
            .map(JobId::parse)
            .transpose()?;
        let ocr = ocr_result(registry, key, ocr_job.as_ref())?;
        Ok(SegmentInput { toc, ocr })
    }

    fn input_job(input: &SegmentInput) -> &JobId {
        &input.toc.job_id
    }

    fn work(
        &self,
        key: &Citekey,
        input: &SegmentInput,
        _: &SegmentBody,
        target: &Target<'_>,
    ) -> Result<SegmentCitekey, CitekeyError> {
        segment_one(key, input, target, &self.dictionaries)
    }

    fn summarise(
        body: &mut SegmentBody,
        entries: &BTreeMap<String, SegmentCitekey>,
        seconds: f64,
    ) -> Vec<(&'static str, usize)> {
        let pages = entries.values().map(|c| c.pages).sum();
        body.pages_per_second = harness::per_second(pages, seconds);
        Vec::new()
    }
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
    input: &SegmentInput,
    target: &Target<'_>,
    dictionaries: &Dictionaries,
) -> Result<SegmentCitekey, CitekeyError> {
    let (toc_result, ocr) = (&input.toc, &input.ocr);
    let toc_path = toc_result.dir.join("toc.json");
    let bytes = std::fs::read(&toc_path).map_err(|source| CitekeyError::Io {
        path: toc_path.clone(),
        source,
    })?;
    let toc: Toc = serde_json::from_slice(&bytes).map_err(|e| CitekeyError::BadFile {
        path: toc_path.clone(),
        reason: format!("not a toc.json: {e}"),
    })?;
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
    let dir = target.dir(key)?;
    let write = |name: &str, bytes: &[u8]| {
        recto_fs::write_atomic(&dir.join(name), bytes, recto_fs::Durability::Renamed)
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
        dir: target.recorded(&dir),
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
fn read_pages(dir: &Path, page_count: usize) -> Result<(Vec<PageView>, String), LibraryError> {
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
    })?;
    Ok((pages, languages))
}
