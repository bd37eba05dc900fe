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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    pub rotate_cw: u16,
    pub confidence: f32,
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
        Some(Orientation {
            rotate_cw,
            confidence: conf,
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
                    if !text.is_empty() {
                        let confidence = ts::TessResultIteratorConfidence(it, WORD);
                        block.lines.last_mut().expect("pushed").words.push(OcrWord {
                            text,
                            bbox: bbox(WORD),
                            confidence,
                        });
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
