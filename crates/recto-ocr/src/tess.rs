//! A small safe wrapper over Tesseract's C API: one engine, reused across
//! pages, fed with a grayscale buffer we rendered ourselves.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::ptr::NonNull;

use tesseract_sys as ts;

use crate::OcrError;

/// One Tesseract engine (not thread-safe: one per worker thread).
#[derive(Debug)]
pub struct Tesseract {
    api: NonNull<ts::TessBaseAPI>,
}

/// A grayscale image: one byte per pixel, `stride` bytes per row.
#[derive(Debug, Clone)]
pub struct GrayImage {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub data: Vec<u8>,
}

/// A recognised word, in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrWord {
    pub text: String,
    pub bbox: [i32; 4],
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub bbox: [i32; 4],
    pub words: Vec<OcrWord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OcrBlock {
    pub bbox: [i32; 4],
    pub lines: Vec<OcrLine>,
}

/// Orientation found by OSD: degrees to turn the image clockwise to make it
/// upright, and the detector's confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Orientation {
    pub rotate_cw: u16,
    pub confidence: f32,
    /// The script OSD found (`Latin`, `Fraktur`, `Cyrillic`, ...), and its
    /// confidence.
    pub script: String,
    pub script_confidence: f32,
}

/// Tesseract's version string.
pub fn version() -> String {
    // SAFETY: TessVersion returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(ts::TessVersion()) }
        .to_string_lossy()
        .into_owned()
}

impl Tesseract {
    /// An engine for `languages` (`eng+deu`); `datapath` is the tessdata
    /// folder, or `None` for the library's default.
    pub fn new(datapath: Option<&str>, languages: &str) -> Result<Self, OcrError> {
        // Leptonica (under Tesseract) prints its own diagnostics to stderr,
        // which `debug_file` does not catch; recto reports problems itself.
        static QUIET: std::sync::Once = std::sync::Once::new();
        // SAFETY: sets a process-wide severity level; no other effect.
        QUIET.call_once(|| unsafe {
            leptonica_sys::setMsgSeverity(leptonica_sys::L_SEVERITY_NONE as _);
        });
        // SAFETY: Create has no preconditions; a null result is handled.
        let api =
            NonNull::new(unsafe { ts::TessBaseAPICreate() }).ok_or_else(|| OcrError::Engine {
                what: "TessBaseAPICreate returned null".into(),
            })?;
        let engine = Tesseract { api };
        let lang = CString::new(languages).map_err(|_| OcrError::Language {
            languages: languages.to_owned(),
            reason: "contains NUL".into(),
        })?;
        let path = datapath
            .map(CString::new)
            .transpose()
            .map_err(|_| OcrError::Engine {
                what: "tessdata path contains NUL".into(),
            })?;
        // SAFETY: the handle is valid; the strings outlive the call.
        let rc = unsafe {
            ts::TessBaseAPIInit3(
                engine.api.as_ptr(),
                path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                lang.as_ptr(),
            )
        };
        // Tesseract's diagnostics (tprintf) go to stderr unless redirected;
        // recto reports problems itself, so they are dropped.
        // SAFETY: valid handle and NUL-terminated strings.
        unsafe {
            ts::TessBaseAPISetVariable(
                engine.api.as_ptr(),
                c"debug_file".as_ptr(),
                c"/dev/null".as_ptr(),
            );
        }
        if rc != 0 {
            return Err(OcrError::Language {
                languages: languages.to_owned(),
                reason:
                    "Tesseract could not load the traineddata (is the language pack installed?)"
                        .into(),
            });
        }
        Ok(engine)
    }

    /// Tesseract 5's binarisation: `0` Otsu, `1` Leptonica's Otsu, `2`
    /// Sauvola (the `thresholding_method` variable).
    pub fn set_thresholding(&mut self, method: u8) {
        let value = CString::new(method.to_string()).expect("digits");
        // SAFETY: valid handle and NUL-terminated strings.
        unsafe {
            ts::TessBaseAPISetVariable(
                self.api.as_ptr(),
                c"thresholding_method".as_ptr(),
                value.as_ptr(),
            );
        }
    }

    fn set_image(&mut self, img: &GrayImage, dpi: u32) {
        // Tesseract reads the resolution from this variable before it looks
        // at the image; without it, it warns and guesses 70 dpi.
        let dpi_text = CString::new(dpi.to_string()).expect("digits");
        // SAFETY: valid handle and NUL-terminated strings.
        unsafe {
            ts::TessBaseAPISetVariable(
                self.api.as_ptr(),
                c"user_defined_dpi".as_ptr(),
                dpi_text.as_ptr(),
            );
        }
        // SAFETY: the buffer holds height rows of stride bytes and outlives
        // the recognition that uses it (the caller keeps `img` borrowed).
        unsafe {
            ts::TessBaseAPISetImage(
                self.api.as_ptr(),
                img.data.as_ptr(),
                img.width as c_int,
                img.height as c_int,
                1,
                img.stride as c_int,
            );
            ts::TessBaseAPISetSourceResolution(self.api.as_ptr(), dpi as c_int);
        }
    }

    /// Orientation and script detection. Needs an engine made with the
    /// `osd` language. `None` when the page has too little text to tell.
    pub fn detect_orientation(&mut self, img: &GrayImage, dpi: u32) -> Option<Orientation> {
        self.set_image(img, dpi);
        let mut deg: c_int = 0;
        let mut conf: f32 = 0.0;
        let mut script: *const std::os::raw::c_char = std::ptr::null();
        let mut script_conf: f32 = 0.0;
        // SAFETY: out-pointers are valid; the script name is owned by
        // Tesseract's static tables (not freed here, as the header's
        // delete-text advice applies to older versions only).
        let ok = unsafe {
            ts::TessBaseAPIDetectOrientationScript(
                self.api.as_ptr(),
                &mut deg,
                &mut conf,
                &mut script,
                &mut script_conf,
            )
        };
        // SAFETY: valid handle.
        unsafe { ts::TessBaseAPIClear(self.api.as_ptr()) };
        if ok == 0 {
            return None;
        }
        // Tesseract reports the text's orientation counter-clockwise;
        // turning the image clockwise by the same angle makes it upright.
        let rotate_cw = ((360 - deg.rem_euclid(360)) % 360) as u16;
        // SAFETY: a NUL-terminated name from Tesseract's tables, or null.
        let script = if script.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(script) }
                .to_string_lossy()
                .into_owned()
        };
        Some(Orientation {
            rotate_cw,
            confidence: conf,
            script,
            script_confidence: script_conf,
        })
    }

    /// Recognise the image with automatic page segmentation (set explicitly:
    /// the API's default would treat the page as one column), giving up
    /// after `deadline_ms`.
    pub fn recognize(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        deadline_ms: Option<u32>,
    ) -> Result<Vec<OcrBlock>, OcrError> {
        self.recognize_as(img, dpi, deadline_ms, ts::TessPageSegMode_PSM_AUTO)
    }

    /// Recognise the image as one block of text: for a strip of a page
    /// (its head or foot) where the page's layout analysis found nothing,
    /// since it drops a lone page number as noise.
    pub fn recognize_block(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        deadline_ms: Option<u32>,
    ) -> Result<Vec<OcrBlock>, OcrError> {
        self.recognize_as(img, dpi, deadline_ms, ts::TessPageSegMode_PSM_SINGLE_BLOCK)
    }

    /// Recognise scattered words anywhere in the image (sparse text): the
    /// second try on a page's head or foot.
    pub fn recognize_sparse(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        deadline_ms: Option<u32>,
    ) -> Result<Vec<OcrBlock>, OcrError> {
        self.recognize_as(img, dpi, deadline_ms, ts::TessPageSegMode_PSM_SPARSE_TEXT)
    }

    fn recognize_as(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        deadline_ms: Option<u32>,
        psm: ts::TessPageSegMode,
    ) -> Result<Vec<OcrBlock>, OcrError> {
        self.set_image(img, dpi);
        // SAFETY: valid handle; the monitor lives until after Recognize.
        let rc = unsafe {
            ts::TessBaseAPISetPageSegMode(self.api.as_ptr(), psm);
            let monitor = ts::TessMonitorCreate();
            if let Some(ms) = deadline_ms {
                ts::TessMonitorSetDeadlineMSecs(monitor, ms as c_int);
            }
            let rc = ts::TessBaseAPIRecognize(self.api.as_ptr(), monitor);
            ts::TessMonitorDelete(monitor);
            rc
        };
        if rc != 0 {
            // SAFETY: valid handle.
            unsafe { ts::TessBaseAPIClear(self.api.as_ptr()) };
            return Err(OcrError::Recognition {
                reason: match deadline_ms {
                    Some(ms) => format!(
                        "Tesseract gave up (time limit {ms} ms, or the image could not be read)"
                    ),
                    None => "Tesseract could not recognise the page".into(),
                },
            });
        }
        let blocks = self.collect();
        // SAFETY: valid handle.
        unsafe { ts::TessBaseAPIClear(self.api.as_ptr()) };
        Ok(blocks)
    }

    /// Walk the result iterator word by word, opening a new block or line
    /// where Tesseract says one begins.
    fn collect(&mut self) -> Vec<OcrBlock> {
        use ts::{
            TessPageIteratorLevel_RIL_BLOCK as BLOCK, TessPageIteratorLevel_RIL_TEXTLINE as LINE,
            TessPageIteratorLevel_RIL_WORD as WORD,
        };
        let mut blocks: Vec<OcrBlock> = Vec::new();
        // SAFETY: the iterator belongs to the last recognition of this
        // handle and is deleted before we return; text pointers are freed
        // with TessDeleteText.
        unsafe {
            let it = ts::TessBaseAPIGetIterator(self.api.as_ptr());
            if it.is_null() {
                return blocks;
            }
            let pit = ts::TessResultIteratorGetPageIterator(it);
            let bbox = |level| {
                let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
                ts::TessPageIteratorBoundingBox(pit, level, &mut l, &mut t, &mut r, &mut b);
                [l, t, r, b]
            };
            loop {
                let text_ptr = ts::TessResultIteratorGetUTF8Text(it, WORD);
                if !text_ptr.is_null() {
                    let text = CStr::from_ptr(text_ptr).to_string_lossy().trim().to_owned();
                    ts::TessDeleteText(text_ptr);
                    if ts::TessPageIteratorIsAtBeginningOf(pit, BLOCK) != 0 || blocks.is_empty() {
                        blocks.push(OcrBlock {
                            bbox: bbox(BLOCK),
                            lines: Vec::new(),
                        });
                    }
                    let block = blocks.last_mut().expect("pushed");
                    if ts::TessPageIteratorIsAtBeginningOf(pit, LINE) != 0 || block.lines.is_empty()
                    {
                        block.lines.push(OcrLine {
                            bbox: bbox(LINE),
                            words: Vec::new(),
                        });
                    }
                    let confidence = ts::TessResultIteratorConfidence(it, WORD);
                    if !text.is_empty() && !is_speck(&text, confidence) {
                        let word = OcrWord {
                            text,
                            bbox: bbox(WORD),
                            confidence,
                        };
                        let words = &mut block.lines.last_mut().expect("pushed").words;
                        if has_inner_stop(&word.text) {
                            words.extend(split_at_wide_stops(word, &symbols(it)));
                        } else {
                            words.push(word);
                        }
                    }
                }
                if ts::TessResultIteratorNext(it, WORD) == 0 {
                    break;
                }
            }
            ts::TessResultIteratorDelete(it);
        }
        for b in &mut blocks {
            b.lines.retain(|l| !l.words.is_empty());
        }
        blocks.retain(|b| !b.lines.is_empty());
        blocks
    }
}

/// The symbols (text and box) of the word the iterator is on, read with a
/// copy of it so the caller's walk goes on from the word.
///
/// # Safety
/// `it` must be a live result iterator positioned on a word.
unsafe fn symbols(it: *const ts::TessResultIterator) -> Vec<(String, [i32; 4])> {
    use ts::{TessPageIteratorLevel_RIL_SYMBOL as SYMBOL, TessPageIteratorLevel_RIL_WORD as WORD};
    let mut out = Vec::new();
    // SAFETY: the copy is deleted below; text pointers are freed with
    // TessDeleteText.
    unsafe {
        let copy = ts::TessResultIteratorCopy(it);
        if copy.is_null() {
            return out;
        }
        let pit = ts::TessResultIteratorGetPageIterator(copy);
        loop {
            let ptr = ts::TessResultIteratorGetUTF8Text(copy, SYMBOL);
            if !ptr.is_null() {
                let text = CStr::from_ptr(ptr).to_string_lossy().into_owned();
                ts::TessDeleteText(ptr);
                let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
                ts::TessPageIteratorBoundingBox(pit, SYMBOL, &mut l, &mut t, &mut r, &mut b);
                out.push((text, [l, t, r, b]));
            }
            if ts::TessPageIteratorIsAtFinalElement(pit, WORD, SYMBOL) != 0
                || ts::TessResultIteratorNext(copy, SYMBOL) == 0
            {
                break;
            }
        }
        ts::TessResultIteratorDelete(copy);
    }
    out
}

/// Whether a word has a stop (`.,:;!?`) with a letter or digit on each side:
/// the only words [`split_at_wide_stops`] may cut.
fn has_inner_stop(text: &str) -> bool {
    // Most words have none: no allocation for them (every word of every page).
    if !text.contains(is_stop) {
        return false;
    }
    let c: Vec<char> = text.chars().collect();
    (1..c.len().saturating_sub(1)).any(|i| {
        is_stop(c[i])
            && c[i - 1].is_alphanumeric()
            && c[i + 1..].iter().any(|c| c.is_alphanumeric())
    })
}

/// A lone mark (one character, no letter or digit) Tesseract gives no
/// confidence at all (0) is a speck read as `:`, `,` or `=`, not text: on
/// the corpus scans dropping them lowered the typescript's CER 0.0334 ->
/// 0.0324 and raised word F1 on five files, at the cost of a few real
/// symbols in math read at confidence 0 (geotopo F1 0.4883 -> 0.4869; see
/// docs/benchmarks.md).
fn is_speck(text: &str, confidence: f32) -> bool {
    let mut chars = text.chars();
    confidence < 0.5
        && matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_alphanumeric())
}

fn is_stop(c: char) -> bool {
    matches!(c, '.' | ',' | ':' | ';' | '!' | '?')
}

impl Drop for Tesseract {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is dropped once.
        unsafe {
            ts::TessBaseAPIEnd(self.api.as_ptr());
            ts::TessBaseAPIDelete(self.api.as_ptr());
        }
    }
}

/// The languages installed in Tesseract's data folder (`eng`, `deu`, ...).
pub fn installed_languages(datapath: Option<&str>) -> Vec<String> {
    let dirs: Vec<String> = match datapath {
        Some(p) => vec![p.to_owned()],
        None => {
            let mut v = Vec::new();
            if let Ok(p) = std::env::var("TESSDATA_PREFIX") {
                v.push(p);
            }
            for d in [
                "/usr/share/tesseract-ocr/5/tessdata",
                "/usr/share/tesseract-ocr/4.00/tessdata",
                "/usr/share/tessdata",
            ] {
                v.push(d.to_owned());
            }
            v
        }
    };
    let mut langs: Vec<String> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".traineddata")
                .map(str::to_owned)
        })
        .collect();
    langs.sort();
    langs.dedup();
    langs
}

/// Cut a word after a stop where two words meet across a space.
///
/// Tesseract joins two words into one when a speck or a stop sits in the
/// space between them (`Freiheit.heißen`, `aber.von` on a 1784 Fraktur
/// page). A cut needs letters, at least two, on both sides of the stop,
/// and the letters either side of it `SPACE_SHARE` of the median symbol
/// height or more apart: on the corpus the fused words of print measure
/// 0.42-0.78 there. Typewriting is judged by its pitch instead (see
/// [`type_pitch`]): a typist's `claquant,pour` or `un,deux,` has no space
/// after the comma, the comma standing in a cell of its own, which the
/// height rule reads as a space (1.4-1.6 heights); it is cut only where a
/// further cell parts the letters. Stops inside a word's own letters
/// (`z.B.`, `F.M.`, `3.14`, `110,000`) are kept whole by the letter rule,
/// as is anything with `/`, `@` or `www` (addresses). The symbols' boxes
/// give the parts' boxes; the parts keep the word's confidence.
pub fn split_at_wide_stops(word: OcrWord, symbols: &[(String, [i32; 4])]) -> Vec<OcrWord> {
    let joined: String = symbols.iter().map(|(t, _)| t.as_str()).collect();
    if symbols.len() < 3 || joined != word.text {
        return vec![word];
    }
    let mut heights: Vec<i32> = symbols.iter().map(|(_, b)| b[3] - b[1]).collect();
    heights.sort_unstable();
    let height = heights[heights.len() / 2].max(1) as f32;
    if word.text.contains(['/', '@']) || word.text.contains("www") {
        return vec![word];
    }
    let alpha = |i: usize| symbols[i].0.chars().all(char::is_alphabetic);
    let pitch = type_pitch(symbols);
    let mut cuts: Vec<usize> = Vec::new();
    let mut start = 0;
    for i in 2..symbols.len().saturating_sub(2) {
        let stop = symbols[i].0.chars().count() == 1 && symbols[i].0.chars().all(is_stop);
        // Letters, at least two, on both sides: `z.B.`, `F.M.`, `3.14`,
        // `110,000` stay whole.
        let words_around = (start..i).all(alpha) && i - start >= 2 && alpha(i + 1) && alpha(i + 2);
        if !stop || !words_around {
            continue;
        }
        let wide = match pitch {
            // Typewriting: the stop has a cell of its own, so only a
            // further cell (a space) parts two words.
            Some(p) => centre(&symbols[i + 1].1) - centre(&symbols[i - 1].1) >= 2.5 * p,
            None => (symbols[i + 1].1[0] - symbols[i - 1].1[2]) as f32 >= SPACE_SHARE * height,
        };
        if wide {
            cuts.push(i + 1);
            start = i + 1;
        }
    }
    if cuts.is_empty() {
        return vec![word];
    }
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.into_iter().chain([symbols.len()]) {
        let part = &symbols[start..end];
        let bbox = part
            .iter()
            .fold([i32::MAX, i32::MAX, i32::MIN, i32::MIN], |a, (_, b)| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            });
        out.push(OcrWord {
            text: part.iter().map(|(t, _)| t.as_str()).collect(),
            bbox,
            confidence: word.confidence,
        });
        start = end;
    }
    out
}

const SPACE_SHARE: f32 = 0.4;

fn centre(b: &[i32; 4]) -> f32 {
    (b[0] + b[2]) as f32 / 2.0
}

/// The pitch of a typewritten word: its letters' centres (leaving out
/// those next to a stop) a constant distance apart, within 8% (their
/// coefficient of variation; 0.03-0.06 on the corpus's typescripts, 0.10
/// and more on print, Fraktur included), over four steps or more. `None`
/// for print.
fn type_pitch(symbols: &[(String, [i32; 4])]) -> Option<f32> {
    let stop = |k: usize| symbols[k].0.chars().all(is_stop);
    let steps: Vec<f32> = (1..symbols.len())
        .filter(|&k| !stop(k) && !stop(k - 1))
        .map(|k| centre(&symbols[k].1) - centre(&symbols[k - 1].1))
        .collect();
    if steps.len() < 4 {
        return None;
    }
    let n = steps.len() as f32;
    let mean = steps.iter().sum::<f32>() / n;
    let var = steps.iter().map(|s| (s - mean).powi(2)).sum::<f32>() / n;
    (mean > 0.0 && var.sqrt() / mean < 0.08).then_some(mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Print: symbols laid out left to right, `gaps[i]` pixels after
    /// symbol `i`, 30 px high and as wide as their letter (5-16 px; a stop
    /// 4 px wide, 4 px high).
    fn laid_out(text: &str, gaps: &[i32]) -> (OcrWord, Vec<(String, [i32; 4])>) {
        let mut x = 100;
        let mut symbols = Vec::new();
        for (i, c) in text.chars().enumerate() {
            let (w, top) = match c {
                c if is_stop(c) => (4, 126),
                'f' | 'i' | 'l' | 'r' | 't' => (5, 100),
                'm' | 'w' => (16, 100),
                'b' | 'd' | 'h' | 'n' | 'o' | 'u' => (11, 100),
                _ => (9, 100),
            };
            symbols.push((c.to_string(), [x, top, x + w, 130]));
            x += w + gaps.get(i).copied().unwrap_or(2);
        }
        let word = OcrWord {
            text: text.into(),
            bbox: [100, 100, x, 130],
            confidence: 71.0,
        };
        (word, symbols)
    }

    #[test]
    fn words_fused_across_a_stop_in_a_space_are_cut() {
        // "aber.von": 6 px before the stop, 6 after: letters 16 px apart
        // (0.53 of the 30 px height).
        let (word, symbols) = laid_out("aber.von", &[2, 2, 2, 6, 6]);
        let parts = split_at_wide_stops(word, &symbols);
        let texts: Vec<&str> = parts.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["aber.", "von"]);
        assert_eq!(parts[0].bbox[0], 100);
        assert_eq!(parts[1].bbox[0], symbols[5].1[0]);
        assert_eq!(parts[1].bbox[2], symbols[7].1[2]);
        assert!(parts.iter().all(|w| w.confidence == 71.0));
        // Two cuts in one word.
        let (word, symbols) = laid_out("Here.in.der", &[2, 2, 2, 6, 6, 2, 6, 6]);
        let texts: Vec<String> = split_at_wide_stops(word, &symbols)
            .into_iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(texts, ["Here.", "in.", "der"]);
    }

    #[test]
    fn stops_inside_words_numbers_and_addresses_stay() {
        for (text, gaps) in [
            // Letter spacing around the stop: 8 px of 30.
            ("example.org", vec![2, 2, 2, 2, 2, 2, 2, 2, 2, 2]),
            // Wide, but single letters or digits either side.
            ("z.B.", vec![8, 8, 8]),
            ("110,000", vec![2, 2, 8, 8, 2, 2]),
            // Wide, but an address.
            ("www.recto.org", vec![2, 2, 8, 8, 2, 2, 2, 2, 8, 8, 2, 2]),
            ("doi.org/10.1", vec![2, 2, 8, 8, 2, 2, 2, 2, 2, 2, 2]),
        ] {
            let (word, symbols) = laid_out(text, &gaps);
            let parts = split_at_wide_stops(word.clone(), &symbols);
            assert_eq!(parts, vec![word], "{text}");
        }
    }

    /// Typewriting: every symbol centred in a 20 px cell, letters 10 px
    /// wide, stops 4; `blank` cells left empty after symbol `i`.
    fn typed(text: &str, blank: &[usize]) -> (OcrWord, Vec<(String, [i32; 4])>) {
        let mut x = 100;
        let mut symbols = Vec::new();
        for (i, c) in text.chars().enumerate() {
            let (w, top) = if is_stop(c) { (4, 126) } else { (10, 100) };
            symbols.push((
                c.to_string(),
                [x + (20 - w) / 2, top, x + (20 + w) / 2, 130],
            ));
            x += if blank.contains(&i) { 40 } else { 20 };
        }
        let word = OcrWord {
            text: text.into(),
            bbox: [100, 100, x, 130],
            confidence: 80.0,
        };
        (word, symbols)
    }

    #[test]
    fn typewritten_stops_part_words_only_across_a_blank_cell() {
        // The comma's own cell puts the letters 16 px apart (0.53 of the
        // height, wide by the rule for print): still one word as typed.
        let (word, symbols) = typed("claquant,pour", &[]);
        assert!(type_pitch(&symbols).is_some());
        assert_eq!(split_at_wide_stops(word.clone(), &symbols), vec![word]);
        // A blank cell after the comma: two words fused by Tesseract.
        let (word, symbols) = typed("claquant,pour", &[8]);
        let texts: Vec<String> = split_at_wide_stops(word, &symbols)
            .into_iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(texts, ["claquant,", "pour"]);
        // Print has no constant pitch: the height rule decides.
        let (_, symbols) = laid_out("aber.von", &[2, 2, 2, 6, 6]);
        assert_eq!(type_pitch(&symbols), None);
    }

    #[test]
    fn lone_marks_without_confidence_are_specks() {
        assert!(is_speck(":", 0.0));
        assert!(is_speck("=", 0.3));
        // Some confidence, more than one character, or a letter: text.
        assert!(!is_speck(":", 13.0));
        assert!(!is_speck("::", 0.0));
        assert!(!is_speck("a", 0.0));
        assert!(!is_speck("7", 0.0));
    }

    #[test]
    fn symbols_that_do_not_spell_the_word_leave_it_whole() {
        let (word, mut symbols) = laid_out("aber.von", &[2, 2, 2, 6, 6]);
        symbols.pop();
        assert_eq!(split_at_wide_stops(word.clone(), &symbols), vec![word]);
    }
}
