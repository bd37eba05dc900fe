//! One worker's reading of one page: its own MuPDF document and
//! Tesseract engines, reused across pages; the text layer where it is
//! good, OCR elsewhere, turned upright, retried where confidence is low.

use crate::OcrError;
use std::time::Instant;

use super::bands::{is_bilevel, read_empty_bands};
use super::config::{
    MAX_NATIVE_DPI, Mode, OcrConfig, Thresholding, capped_dpi, choose_thresholding,
    thresholding_name,
};
use super::languages::fraktur_languages;
use super::output::{PageSize, Read, RetryWith, ms, resumable, write_page};
use super::task::{DocTask, MIN_ENGINE_SIDE, PageSummary, task_config};
use crate::heuristic::assess;
use crate::image::{downscale, rotate_cw};
use crate::page::{
    Binarisation, Block, Line, Osd, Retry, Skew, TextSource, Timings, Word, blocks_text,
    mean_confidence, page_json_name,
};
use crate::render::Pdf;
use crate::tess::{GrayImage, Tesseract, installed_languages};

#[derive(Default)]
pub(super) struct Worker {
    doc: Option<(usize, Pdf)>,
    /// One engine per language set met so far (usually one).
    ocr: std::collections::HashMap<String, Tesseract>,
    /// `Some(None)`: OSD was tried and is not available.
    osd: Option<Option<Tesseract>>,
    /// The installed Tesseract languages, once looked up.
    installed: Option<Vec<String>>,
}

impl Worker {
    fn pdf(&mut self, doc: usize, task: &DocTask) -> Result<&Pdf, OcrError> {
        if self.doc.as_ref().is_none_or(|(i, _)| *i != doc) {
            self.doc = None;
            let pdf = Pdf::open(&task.pdf, task.password.as_deref())?;
            self.doc = Some((doc, pdf));
        }
        Ok(&self.doc.as_ref().expect("opened").1)
    }

    fn ocr_engine(&mut self, cfg: &OcrConfig) -> Result<&mut Tesseract, OcrError> {
        if !self.ocr.contains_key(&cfg.languages) {
            let engine = Tesseract::new(cfg.tessdata.as_deref(), &cfg.languages)?;
            self.ocr.insert(cfg.languages.clone(), engine);
        }
        Ok(self.ocr.get_mut(&cfg.languages).expect("created"))
    }

    fn osd_engine(&mut self, cfg: &OcrConfig) -> Option<&mut Tesseract> {
        if self.osd.is_none() {
            let engine = Tesseract::new(cfg.tessdata.as_deref(), "osd");
            if let Err(e) = &engine {
                tracing::warn!("rotation detection unavailable: {e}");
            }
            self.osd = Some(engine.ok());
        }
        self.osd.as_mut().expect("set").as_mut()
    }

    /// One page: resume check, resolution, text layer or OCR, then the
    /// image and the JSON (last, so that its presence means "complete").
    pub(super) fn process(
        &mut self,
        doc: usize,
        task: &DocTask,
        page_no: usize,
        page_count: usize,
        cfg: &OcrConfig,
    ) -> Result<PageSummary, OcrError> {
        let cfg = &*task_config(task, cfg);
        let json_path = task.out_dir.join(page_json_name(page_no));
        if let Some(done) = resumable(&json_path, &task.out_dir, page_no, cfg) {
            return Ok(done);
        }
        let start = Instant::now();
        let mut timings = Timings::default();
        let pdf = self.pdf(doc, task)?;
        let page = pdf.page(page_no)?;
        let mut dpi = page_dpi(&page, task, page_no, cfg)?;
        let (width_pt, height_pt) = (page.width_pt, page.height_pt);

        let t = Instant::now();
        let layer = if cfg.mode == Mode::ForceOcr {
            Vec::new()
        } else {
            page.text_layer(dpi)?
        };
        let verdict = assess(&blocks_text(&layer));
        timings.text_layer_ms = ms(t);
        let use_layer = match cfg.mode {
            Mode::Auto => verdict.usable,
            Mode::ForceOcr => false,
            Mode::TextLayerOnly => true,
        };
        let read = if use_layer {
            let image_dpi = cfg.image_dpi.min(dpi);
            let t = Instant::now();
            let image = page.render_gray(image_dpi)?;
            timings.render_ms = ms(t);
            let source = if cfg.mode == Mode::TextLayerOnly && verdict.chars == 0 {
                TextSource::NoText
            } else {
                TextSource::TextLayer
            };
            Read {
                blocks: layer,
                source,
                rotation: 0,
                osd: None,
                skew: None,
                binarisation: None,
                retry: None,
                columns: None,
                languages: None,
                image,
                image_dpi,
            }
        } else {
            // A scan finer than the configured resolution is read at its
            // own (rendering a 600 dpi bilevel scan at 300 loses strokes),
            // up to 1200 dpi and under the megapixel cap.
            if cfg.native_resolution
                && let Some(native) = page.scan_dpi()
                && native > dpi
            {
                let want = native.min(MAX_NATIVE_DPI);
                dpi = capped_dpi(width_pt, height_pt, want, cfg.max_megapixels)
                    .unwrap_or(dpi)
                    .max(dpi);
                tracing::debug!(
                    "{} page {page_no}: a {native} dpi scan, read at {dpi} dpi",
                    task.citekey
                );
            }
            let t = Instant::now();
            let img = page.render_gray(dpi)?;
            drop(page);
            timings.render_ms = ms(t);
            self.read_by_ocr(img, dpi, page_no, cfg, &mut timings)?
        };
        let page_size = PageSize {
            width_pt,
            height_pt,
            dpi,
        };
        write_page(
            task, page_no, page_count, page_size, read, verdict, cfg, timings, start,
        )
    }

    /// Turn the rendered page upright (when OSD is sure) and recognise it.
    fn read_by_ocr(
        &mut self,
        img: GrayImage,
        dpi: u32,
        page_no: usize,
        cfg: &OcrConfig,
        timings: &mut Timings,
    ) -> Result<Read, OcrError> {
        let (turn, osd, candidate) = if cfg.detect_rotation {
            let t = Instant::now();
            let found = self.orientation(&img, dpi, cfg);
            timings.osd_ms = ms(t);
            match found {
                // Applied: the other candidate is the page as it came.
                Some(o) if o.rotate_cw != 0 && o.confidence >= cfg.osd_min_confidence => {
                    (o.rotate_cw, Some(osd_record(&o, true)), Some(0))
                }
                // Not sure enough to turn: the turn is the other candidate.
                Some(o) if o.rotate_cw != 0 => (0, Some(osd_record(&o, false)), Some(o.rotate_cw)),
                Some(o) => (0, Some(osd_record(&o, false)), None),
                None => (0, None, None),
            }
        } else {
            (0, None, None)
        };
        // A page set in Fraktur is read with a Fraktur model added.
        let fraktur = osd
            .as_ref()
            .filter(|_| cfg.detect_fraktur)
            .and_then(|o| Some((o.script.as_deref()?, o.script_confidence?)))
            .and_then(|(script, conf)| {
                let installed = self
                    .installed
                    .get_or_insert_with(|| installed_languages(cfg.tessdata.as_deref()));
                fraktur_languages(script, conf, &cfg.languages, installed)
            })
            .map(|languages| OcrConfig {
                languages,
                ..cfg.clone()
            });
        let cfg = fraktur.as_ref().unwrap_or(cfg);
        // The page as rendered is kept only when a retry may need it: to
        // read it the other way round, or with the other binarisation.
        let other_binarisation = match cfg.thresholding {
            Thresholding::Otsu | Thresholding::LeptonicaOtsu => Some(Thresholding::Sauvola),
            Thresholding::Sauvola => Some(Thresholding::Otsu),
            Thresholding::Auto => None,
        };
        // A bilevel scan (CCITT, JBIG2) binarises the same either way.
        let retry_with = match candidate {
            Some(turn) => Some(RetryWith::Turn(turn)),
            None if is_bilevel(&img) => None,
            None => other_binarisation.map(RetryWith::Binarisation),
        }
        .filter(|_| cfg.retry_low_confidence);
        let original = retry_with.map(|_| img.clone());
        let first = self.read_turned(img, turn, dpi, page_no, cfg, timings)?;
        let first_conf = mean_confidence(&first.blocks).unwrap_or(0.0);
        // A page read with low confidence is read once more: the other
        // way round when its orientation was in doubt, else with the other
        // binarisation; the better reading (by confidence) is kept.
        let (Some(with), Some(original)) = (retry_with, original) else {
            return Ok(Read { osd, ..first });
        };
        if first_conf >= cfg.retry_below || first.blocks.is_empty() {
            return Ok(Read { osd, ..first });
        }
        let (other, retry_cfg, tried) = match with {
            RetryWith::Turn(other) => (other, None, format!("rotation {other}")),
            RetryWith::Binarisation(method) => (
                turn,
                Some(OcrConfig {
                    thresholding: method,
                    ..cfg.clone()
                }),
                format!("binarisation {}", thresholding_name(method)),
            ),
        };
        let t = Instant::now();
        let mut scratch = Timings::default();
        let second = self.read_turned(
            original,
            other,
            dpi,
            page_no,
            retry_cfg.as_ref().unwrap_or(cfg),
            &mut scratch,
        )?;
        let second_conf = mean_confidence(&second.blocks).unwrap_or(0.0);
        let keep_second = second_conf > first_conf;
        let retry = Retry {
            tried,
            confidence_first: first_conf,
            confidence_retry: second_conf,
            kept_retry: keep_second,
            ms: ms(t),
        };
        timings.retry_ms = retry.ms;
        let osd = osd.map(|o| Osd {
            applied: if keep_second { other != 0 } else { o.applied },
            ..o
        });
        let chosen = if keep_second { second } else { first };
        Ok(Read {
            osd,
            retry: Some(retry),
            ..chosen
        })
    }

    /// Turn the page by `turn` degrees, level its skew, binarise and
    /// recognise it.
    fn read_turned(
        &mut self,
        img: GrayImage,
        turn: u16,
        dpi: u32,
        page_no: usize,
        cfg: &OcrConfig,
        timings: &mut Timings,
    ) -> Result<Read, OcrError> {
        let img = if turn == 0 {
            img
        } else {
            rotate_cw(&img, turn)
        };
        let t = Instant::now();
        let (img, skew) = if cfg.deskew {
            match crate::deskew::find_skew(&img, dpi) {
                Some(e) => {
                    let apply = e.confidence >= crate::deskew::MIN_CONFIDENCE
                        && e.degrees.abs() >= crate::deskew::MIN_DEGREES;
                    let img = if apply {
                        crate::deskew::rotate_level(&img, e.degrees)
                    } else {
                        img
                    };
                    (
                        img,
                        Some(Skew {
                            degrees: e.degrees,
                            confidence: e.confidence,
                            applied: apply,
                        }),
                    )
                }
                None => (img, None),
            }
        } else {
            (img, None)
        };
        timings.deskew_ms = ms(t);
        let t = Instant::now();
        let deadline = cfg
            .page_timeout
            .map(|d| d.as_millis().min(u32::MAX as u128) as u32);
        let binarisation = match cfg.thresholding {
            Thresholding::Auto => {
                let (method, ink, paper) = choose_thresholding(&img, dpi);
                Binarisation {
                    method: thresholding_name(method).into(),
                    ink: Some(ink),
                    paper: Some(paper),
                }
            }
            fixed => Binarisation {
                method: thresholding_name(fixed).into(),
                ink: None,
                paper: None,
            },
        };
        let method = match cfg.thresholding {
            Thresholding::Auto if binarisation.method == "sauvola" => Thresholding::Sauvola,
            Thresholding::Auto => Thresholding::Otsu,
            fixed => fixed,
        };
        // Too small to hold text; Tesseract is not given such images.
        let mut found = if img.width < MIN_ENGINE_SIDE || img.height < MIN_ENGINE_SIDE {
            Vec::new()
        } else {
            let engine = self.ocr_engine(cfg)?;
            engine.set_thresholding(method.code());
            let mut found = engine
                .recognize(&img, dpi, deadline)
                .map_err(|e| OcrError::Page {
                    page: page_no,
                    reason: e.to_string(),
                })?;
            read_empty_bands(engine, &img, dpi, &mut found);
            found
        };
        timings.ocr_ms = ms(t);
        if let Some(dicts) = &cfg.dictionaries {
            repair_words(&mut found, dicts, &cfg.languages);
        }
        let blocks = found.into_iter().map(block_from_engine).collect();
        let (blocks, columns) = crate::columns::split_merged_columns(blocks);
        let factor = (dpi / cfg.image_dpi.min(dpi).max(1)).max(1);
        Ok(Read {
            blocks,
            source: TextSource::Ocr,
            rotation: turn,
            osd: None,
            skew,
            binarisation: Some(binarisation),
            retry: None,
            columns,
            languages: Some(cfg.languages.clone()),
            image: downscale(&img, factor),
            image_dpi: dpi / factor,
        })
    }

    /// OSD's answer for the page; orientation needs far less detail than
    /// recognition, so it looks at a copy near 150 dpi.
    fn orientation(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        cfg: &OcrConfig,
    ) -> Option<crate::tess::Orientation> {
        let factor = (dpi / 150).max(1);
        let small = downscale(img, factor);
        if small.width < MIN_ENGINE_SIDE || small.height < MIN_ENGINE_SIDE {
            return None;
        }
        self.osd_engine(cfg)
            .and_then(|e| e.detect_orientation(&small, dpi / factor))
    }
}

/// The page's own resolution: the configured one unless that would make an
/// image too large for the engines (a poster, a map, a huge `dpi`); boxes
/// and images then use this one.
fn page_dpi(
    page: &crate::render::PdfPage,
    task: &DocTask,
    page_no: usize,
    cfg: &OcrConfig,
) -> Result<u32, OcrError> {
    let dpi = capped_dpi(page.width_pt, page.height_pt, cfg.dpi, cfg.max_megapixels).ok_or_else(
        || OcrError::Page {
            page: page_no,
            reason: format!(
                "unusable page size {} x {} pt",
                page.width_pt, page.height_pt
            ),
        },
    )?;
    if dpi != cfg.dpi {
        tracing::info!(
            "{} page {page_no}: {:.0} x {:.0} pt is over {} megapixels at {} dpi; rendered at {dpi} dpi",
            task.citekey,
            page.width_pt,
            page.height_pt,
            cfg.max_megapixels,
            cfg.dpi
        );
    }
    Ok(dpi)
}

fn osd_record(o: &crate::tess::Orientation, applied: bool) -> Osd {
    Osd {
        rotate: o.rotate_cw,
        confidence: o.confidence,
        applied,
        script: (!o.script.is_empty()).then(|| o.script.clone()),
        script_confidence: (!o.script.is_empty()).then_some(o.script_confidence),
    }
}

/// Words Tesseract read with an `i` twice (see
/// [`recto_lexicon::doubled_i`]), mended with the dictionaries of the
/// page's languages.
fn repair_words(
    blocks: &mut [crate::tess::OcrBlock],
    dicts: &recto_lexicon::Dictionaries,
    languages: &str,
) {
    let words = blocks
        .iter_mut()
        .flat_map(|b| &mut b.lines)
        .flat_map(|l| &mut l.words);
    for w in words {
        if let Some(fixed) = recto_lexicon::doubled_i(&w.text, |s| dicts.knows(languages, s)) {
            w.text = fixed;
        }
    }
}

fn block_from_engine(b: crate::tess::OcrBlock) -> Block {
    Block {
        bbox: b.bbox,
        lines: b
            .lines
            .into_iter()
            .map(|l| {
                Line::new(
                    l.bbox,
                    l.words
                        .into_iter()
                        .map(|w| Word {
                            text: w.text,
                            bbox: w.bbox,
                            confidence: Some((w.confidence * 100.0).round() / 100.0),
                        })
                        .collect(),
                )
            })
            .collect(),
    }
}
