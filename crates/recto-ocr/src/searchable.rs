//! The searchable PDF: the source PDF with an invisible text layer (text
//! render mode 3) laid word by word over the pages recto OCRed, written
//! through MuPDF. Pages that kept their own text layer are not touched,
//! page images are never re-encoded: when MuPDF can, the copy is the source
//! byte for byte plus an incremental update holding only the new objects.
//!
//! Geometry: a word's box is in the pixels of the page as recto read it,
//! that is MuPDF's rendering of the page (its /Rotate and crop box
//! applied) at `dpi`, turned by `rotation` and levelled by `skew`. One
//! matrix per page undoes those steps and MuPDF's page transform, so the
//! words land on the ink whatever the page's rotation, skew or crop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mupdf::pdf::{PdfDocument, PdfObject, PdfWriteOptions};
use mupdf::{Buffer, Matrix};
use recto_page::{PageJson, TextSource};

use crate::OcrError;

mod labels;
mod layer;

use layer::{CHAR_WIDTH, METRIC_STEP, Metrics, cm, font_name, layer_stream};

/// Tesseract's GlyphLessFont: every glyph empty (see assets/README.md).
const GLYPHLESS_TTF: &[u8] = include_bytes!("../assets/glyphless.ttf");

/// A bookmark to add: 1-based level, title, 0-based page.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    pub level: usize,
    pub title: String,
    pub page: usize,
}

/// How to write the copy.
#[derive(Debug, Clone, Default)]
pub struct SearchableOptions {
    /// The password of an encrypted source.
    pub password: Option<String>,
    /// Write an encrypted source's copy without encryption; without it an
    /// encrypted source is refused (recto does not re-encrypt).
    pub decrypt: bool,
    /// Added as the outline when the source has none.
    pub bookmarks: Vec<Bookmark>,
    /// One per page, the printed label (the TOC step's); written as the
    /// document's /PageLabels when the source has none of its own.
    pub page_labels: Vec<Option<String>>,
    /// Show the pages recto turned to read them (sideways or upside-down
    /// scans) upright, by adding recto's turn to the page's /Rotate.
    pub rotate_pages: bool,
    /// Show the pages recto levelled to read them (a scan a degree or two
    /// askew) level: the page's own content is drawn turned by the skew
    /// (its images are not touched, let alone re-encoded) and the text
    /// layer is written level on it, line by line.
    pub deskew_pages: bool,
}

/// What the copy holds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchableReport {
    /// Pages that got a text layer.
    pub pages_with_layer: usize,
    pub words: usize,
    /// True when the copy is the source plus an incremental update.
    pub incremental: bool,
    /// Bookmarks added (0 when the source had an outline of its own).
    pub bookmarks_added: usize,
    /// Pages given a printed label in the copy's /PageLabels (0 when the
    /// source had labels of its own, which are kept).
    #[serde(default)]
    pub page_labels_added: usize,
    /// Pages now shown upright (their /Rotate changed by recto's turn).
    #[serde(default)]
    pub pages_turned: usize,
    /// Pages now shown level (their content drawn turned by the skew).
    #[serde(default)]
    pub pages_levelled: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Write `source` with a text layer on its OCRed `pages` to `target` (a
/// temporary path: the caller renames it into place). `pages[i]` is page
/// `i + 1`'s JSON, `None` for a page without a result.
pub fn write_searchable(
    source: &Path,
    target: &Path,
    pages: &[Option<PageJson>],
    opts: &SearchableOptions,
) -> Result<SearchableReport, OcrError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OcrError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let src = utf8(source)?;
    let mut doc = PdfDocument::open(src).map_err(|e| OcrError::Open {
        path: source.to_owned(),
        reason: crate::render::mupdf_reason(&e),
    })?;
    let encrypted = doc.needs_password().map_err(|e| fail(source, &e))?;
    if encrypted {
        let Some(pw) = opts.password.as_deref() else {
            return Err(OcrError::Encrypted {
                path: source.to_owned(),
            });
        };
        if !doc.authenticate(pw).map_err(|e| fail(source, &e))? {
            return Err(OcrError::WrongPassword {
                path: source.to_owned(),
            });
        }
        if !opts.decrypt {
            return Err(OcrError::EncryptedCopy {
                path: source.to_owned(),
            });
        }
    }
    let count = doc.page_count().map_err(|e| fail(source, &e))? as usize;
    if count != pages.len() {
        return Err(OcrError::Write {
            path: source.to_owned(),
            reason: format!("the PDF has {count} pages, its OCR result {}", pages.len()),
        });
    }
    let mut report = SearchableReport::default();
    // A repaired (damaged) source cannot take an incremental update: its
    // copy is written whole, streams still copied as they are.
    let incremental = !encrypted && doc.can_be_saved_incrementally();
    if incremental {
        drop(doc);
        std::fs::copy(source, target).map_err(|e| OcrError::Io {
            path: target.to_owned(),
            source: e,
        })?;
        doc = PdfDocument::open(utf8(target)?).map_err(|e| fail(target, &e))?;
    } else if !encrypted {
        report.warnings.push(
            "the source is damaged and was repaired by MuPDF; the copy is written whole".into(),
        );
    }
    report.incremental = incremental;

    let mut layer = Layer {
        source,
        fonts: None,
        known: BTreeSet::new(),
    };
    for (i, page) in pages.iter().enumerate() {
        if let Some(page) = page.as_ref().filter(|p| p.source == TextSource::Ocr) {
            layer.add(&mut doc, i, page, opts, &mut report)?;
        }
    }

    let has_outline = !doc.outlines().map_err(|e| fail(source, &e))?.is_empty();
    if !has_outline && !opts.bookmarks.is_empty() {
        report.bookmarks_added =
            add_outline(&mut doc, &opts.bookmarks, count).map_err(|e| fail(source, &e))?;
    }

    report.page_labels_added =
        add_page_labels(&mut doc, &opts.page_labels, count).map_err(|e| fail(source, &e))?;

    let mut wo = PdfWriteOptions::default();
    if incremental {
        wo.set_incremental(true);
    } else {
        wo.set_encryption(mupdf::pdf::Encryption::None);
    }
    doc.save_with_options(utf8(target)?, wo)
        .map_err(|e| fail(target, &e))?;
    Ok(report)
}

/// The text layer being added, page by page, to one document.
struct Layer<'a> {
    source: &'a Path,
    /// The document's invisible fonts, made at the first page that needs
    /// them.
    fonts: Option<Fonts>,
    /// The fonts the layer has used so far, which later lines reuse where
    /// one fits.
    known: BTreeSet<Metrics>,
}

impl Layer<'_> {
    /// Page `i`'s OCR words as invisible text over its scan (levelled and
    /// turned upright as `opts` ask); a page without words is left alone.
    fn add(
        &mut self,
        doc: &mut PdfDocument,
        i: usize,
        page: &PageJson,
        opts: &SearchableOptions,
        report: &mut SearchableReport,
    ) -> Result<(), OcrError> {
        let fail = |e: &dyn std::fmt::Display| OcrError::Write {
            path: self.source.to_owned(),
            reason: format!("page {}: {e}", i + 1),
        };
        let words = page
            .blocks
            .iter()
            .flat_map(|b| &b.lines)
            .flat_map(|l| &l.words)
            .filter(|w| !w.text.trim().is_empty())
            .count();
        if words == 0 {
            return Ok(());
        }
        let m = page_matrix(doc, i, page).map_err(|e| fail(&e))?;
        let lv = unlevel(page);
        // The turned (unlevelled) image's pixels -> user space: where the
        // page's own content puts them.
        let t = lv.invert().map_or(m, |inv| inv.then(m));
        let level = opts.deskew_pages && lv != Affine::IDENTITY;
        let ((stream, metrics), shown) = if level {
            // The content drawn so that each point of the scan lands where
            // its levelled pixel maps: T^-1, the levelling, T.
            let shown = t
                .invert()
                .zip(lv.invert())
                .map(|(ti, li)| ti.then(li).then(t));
            (
                layer_stream(page, t, Affine::IDENTITY, &mut self.known),
                shown,
            )
        } else {
            (layer_stream(page, t, lv, &mut self.known), None)
        };
        if self.fonts.is_none() {
            self.fonts = Some(Fonts::new(doc).map_err(|e| fail(&e))?);
        }
        let family = self.fonts.as_mut().expect("just made");
        let used = metrics
            .into_iter()
            .map(|m| Ok((font_name(m), family.variant(doc, m)?)))
            .collect::<Result<Vec<_>, mupdf::Error>>()
            .map_err(|e| fail(&e))?;
        add_layer(doc, i, &stream, &used, shown).map_err(|e| fail(&e))?;
        report.pages_levelled += usize::from(shown.is_some());
        if opts.rotate_pages && !page.rotation.is_multiple_of(360) {
            turn_page(doc, i, page.rotation).map_err(|e| fail(&e))?;
            report.pages_turned += 1;
        }
        report.pages_with_layer += 1;
        report.words += words;
        Ok(())
    }
}

fn utf8(path: &Path) -> Result<&str, OcrError> {
    path.to_str().ok_or_else(|| OcrError::Open {
        path: path.to_owned(),
        reason: "the path is not UTF-8".into(),
    })
}

/// An affine map in PDF's convention: `(x, y) -> (a x + c y + e, b x + d y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    pub const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self`, then `next`.
    pub fn then(self, next: Affine) -> Affine {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = next.0;
        Affine([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    pub fn apply(self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    pub fn invert(self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * d - b * c;
        if det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([
            ia,
            ib,
            ic,
            id,
            -(e * ia + f * ic),
            -(e * ib + f * id),
        ]))
    }
}

/// From a page's OCR pixels to MuPDF's page space (points, origin at the
/// top left of the page as displayed): undo the levelling, the turn and
/// the rendering scale. `origin` is the page bounds' top left.
pub fn pixels_to_page(page: &PageJson, origin: (f64, f64)) -> Affine {
    let (w, h) = (f64::from(page.width_px), f64::from(page.height_px));
    let turn = match page.rotation % 360 {
        90 => Affine([0.0, -1.0, 1.0, 0.0, 0.0, w]),
        180 => Affine([-1.0, 0.0, 0.0, -1.0, w, h]),
        270 => Affine([0.0, 1.0, -1.0, 0.0, h, 0.0]),
        _ => Affine::IDENTITY,
    };
    let s = 72.0 / f64::from(page.dpi.max(1));
    unlevel(page)
        .then(turn)
        .then(Affine([s, 0.0, 0.0, s, origin.0, origin.1]))
}

/// Levelled image -> turned image: `rotate_level` sampled the turned image
/// at centre + R(theta) (p - centre). The identity when no skew was
/// applied.
pub fn unlevel(page: &PageJson) -> Affine {
    let (w, h) = (f64::from(page.width_px), f64::from(page.height_px));
    match &page.skew {
        Some(s) if s.applied => {
            let (sn, cs) = f64::from(s.degrees).to_radians().sin_cos();
            let (cx, cy) = (w / 2.0, h / 2.0);
            Affine([
                cs,
                sn,
                -sn,
                cs,
                cx - cs * cx + sn * cy,
                cy - sn * cx - cs * cy,
            ])
        }
        _ => Affine::IDENTITY,
    }
}

/// The matrix from OCR pixels to the PDF page's own user space.
fn page_matrix(
    doc: &PdfDocument,
    index: usize,
    page: &PageJson,
) -> Result<Affine, crate::OcrError> {
    let mupdf = |e: mupdf::Error| crate::OcrError::Mupdf {
        reason: crate::render::mupdf_reason(&e),
    };
    let p = doc.load_pdf_page(index as i32).map_err(mupdf)?;
    let bounds = p.bounds().map_err(mupdf)?;
    let ctm: Matrix = p.ctm().map_err(mupdf)?;
    let ctm = Affine([ctm.a, ctm.b, ctm.c, ctm.d, ctm.e, ctm.f].map(f64::from));
    let to_user = ctm.invert().ok_or_else(|| crate::OcrError::Mupdf {
        reason: "the page's transform cannot be inverted".into(),
    })?;
    Ok(pixels_to_page(page, (f64::from(bounds.x0), f64::from(bounds.y0))).then(to_user))
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).expect("writing to memory");
    z.finish().expect("writing to memory")
}

fn flate_stream(
    doc: &mut PdfDocument,
    bytes: &[u8],
    dict: &str,
) -> Result<PdfObject, mupdf::Error> {
    let mut d = doc.new_object_from_str(dict)?;
    d.dict_put("Filter", PdfObject::new_name("FlateDecode")?)?;
    let buf = Buffer::from_bytes(&deflate(bytes))?;
    doc.add_stream(&buf, Some(&d), true)
}

/// The glyphless Type 0 font: the font file, its CIDToGIDMap and ToUnicode
/// CMap once per document, and a small font (Type 0, CIDFont, descriptor)
/// for each ascent and descent the lines need. Character codes are UTF-16
/// code units, mapped to themselves by the ToUnicode CMap and to the one
/// empty glyph by the CIDToGIDMap (as Tesseract's PDF renderer).
struct Fonts {
    file: PdfObject,
    gid_map: PdfObject,
    to_unicode: PdfObject,
    system_info: PdfObject,
    variants: BTreeMap<Metrics, PdfObject>,
}

impl Fonts {
    fn new(doc: &mut PdfDocument) -> Result<Fonts, mupdf::Error> {
        let file = flate_stream(
            doc,
            GLYPHLESS_TTF,
            &format!("<< /Length1 {} >>", GLYPHLESS_TTF.len()),
        )?;
        let gid_map: Vec<u8> = (0..65536).flat_map(|_| [0u8, 1u8]).collect();
        let gid_map = flate_stream(doc, &gid_map, "<< >>")?;
        let cmap = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
            /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
            1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
            1 beginbfrange\n<0000> <FFFF> <0000>\nendbfrange\n\
            endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
        let to_unicode = flate_stream(doc, cmap.as_bytes(), "<< >>")?;
        let system_info =
            doc.new_object_from_str("<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>")?;
        let system_info = doc.add_object(&system_info)?;
        Ok(Fonts {
            file,
            gid_map,
            to_unicode,
            system_info,
            variants: BTreeMap::new(),
        })
    }

    /// The font whose box spans `m` around the baseline, added once.
    fn variant(&mut self, doc: &mut PdfDocument, m: Metrics) -> Result<PdfObject, mupdf::Error> {
        if let Some(f) = self.variants.get(&m) {
            return Ok(f.clone());
        }
        let ascent = f64::from(m.0) * METRIC_STEP * 1000.0;
        // Poppler ignores a descent of 0: a thousandth stands for it.
        let descent = -(f64::from(m.1) * METRIC_STEP * 1000.0).max(1.0);
        let mut desc = doc.new_object_from_str(&format!(
            "<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 \
             /FontBBox [0 {descent} {CHAR_WIDTH} {ascent}] /ItalicAngle 0 \
             /Ascent {ascent} /Descent {descent} /CapHeight {ascent} /StemV 80 >>"
        ))?;
        desc.dict_put("FontFile2", self.file.clone())?;
        let desc = doc.add_object(&desc)?;
        let mut cid = doc.new_object_from_str(&format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont /DW {CHAR_WIDTH} >>"
        ))?;
        cid.dict_put("CIDSystemInfo", self.system_info.clone())?;
        cid.dict_put("FontDescriptor", desc)?;
        cid.dict_put("CIDToGIDMap", self.gid_map.clone())?;
        let cid = doc.add_object(&cid)?;
        let mut font = doc.new_object_from_str(
            "<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H >>",
        )?;
        let mut descendants = doc.new_array()?;
        descendants.array_push(cid)?;
        font.dict_put("DescendantFonts", descendants)?;
        font.dict_put("ToUnicode", self.to_unicode.clone())?;
        let font = doc.add_object(&font)?;
        self.variants.insert(m, font.clone());
        Ok(font)
    }
}

/// Put `content` first in page `index`'s contents (balanced in q/Q, so the
/// page's own content runs in the state it always did) and the font in
/// its resources. With `shown`, the page's own content is drawn under that
/// matrix (`q shown cm ... Q` around it).
fn add_layer(
    doc: &mut PdfDocument,
    index: usize,
    content: &str,
    used: &[(String, PdfObject)],
    shown: Option<Affine>,
) -> Result<(), mupdf::Error> {
    let mut page = doc.find_page(index as i32)?;
    let mut contents = doc.new_array()?;
    contents.array_push(flate_stream(doc, content.as_bytes(), "<< >>")?)?;
    if let Some(d) = shown {
        let before = format!("q\n{}\n", cm(d));
        contents.array_push(flate_stream(doc, before.as_bytes(), "<< >>")?)?;
    }
    match page.get_dict("Contents")? {
        Some(old) if old.is_array()? => {
            for item in old.array_iter()? {
                contents.array_push(item?)?;
            }
        }
        Some(old) if !old.is_null()? => contents.array_push(old)?,
        _ => {}
    }
    if shown.is_some() {
        contents.array_push(flate_stream(doc, b"Q\n", "<< >>")?)?;
    }
    page.dict_put("Contents", contents)?;

    // Resources inherited from the page tree are copied onto the page
    // (shallowly), so the font is added for this page alone.
    let mut resources = match page.get_dict("Resources")? {
        Some(r) if r.is_dict()? => r,
        _ => {
            let inherited = page.get_dict_inheritable("Resources")?;
            let r = match inherited {
                Some(r) if r.is_dict()? => r.copy_dict()?,
                _ => doc.new_dict()?,
            };
            page.dict_put("Resources", r)?;
            page.get_dict("Resources")?.expect("just put")
        }
    };
    let mut fonts = match resources.get_dict("Font")? {
        Some(f) if f.is_dict()? => f,
        _ => {
            resources.dict_put("Font", doc.new_dict()?)?;
            resources.get_dict("Font")?.expect("just put")
        }
    };
    for (name, font) in used {
        fonts.dict_put(name.as_str(), font.clone())?;
    }
    Ok(())
}

/// Add `turn` (clockwise degrees) to page `index`'s /Rotate. The text
/// layer lives in the page's own space, which /Rotate does not change.
fn turn_page(doc: &PdfDocument, index: usize, turn: u16) -> Result<(), mupdf::Error> {
    let mut page = doc.find_page(index as i32)?;
    let old = match page.get_dict_inheritable("Rotate")? {
        Some(r) if r.is_int()? => r.as_int()?,
        _ => 0,
    };
    let new = (old + i32::from(turn)).rem_euclid(360);
    page.dict_put("Rotate", PdfObject::new_int(new)?)
}

/// A UTF-16BE text string with its byte-order mark, as PDF wants for
/// titles beyond Latin-1.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        out.push_str(&format!("{u:04X}"));
    }
    out.push('>');
    out
}

/// Write `labels` as the document's /PageLabels, unless it has its own
/// (never overwritten) or the labels do not fit its pages; returns how many
/// pages got a label.
fn add_page_labels(
    doc: &mut PdfDocument,
    labels: &[Option<String>],
    page_count: usize,
) -> Result<usize, mupdf::Error> {
    if labels.len() != page_count {
        return Ok(0);
    }
    let mut catalog = doc.catalog()?;
    if catalog.get_dict("PageLabels")?.is_some() {
        return Ok(0);
    }
    let Some(dict) = labels::page_labels_dict(labels) else {
        return Ok(0);
    };
    let obj = doc.new_object_from_str(&dict)?;
    let obj = doc.add_object(&obj)?;
    catalog.dict_put("PageLabels", obj)?;
    Ok(labels.iter().filter(|l| l.is_some()).count())
}

/// Add `marks` as the document outline; returns how many were added.
fn add_outline(
    doc: &mut PdfDocument,
    marks: &[Bookmark],
    page_count: usize,
) -> Result<usize, mupdf::Error> {
    // Nest by level: each mark goes under the nearest earlier mark of a
    // lower level.
    let marks: Vec<&Bookmark> = marks.iter().filter(|m| m.page < page_count).collect();
    if marks.is_empty() {
        return Ok(0);
    }
    let mut parent: Vec<Option<usize>> = Vec::with_capacity(marks.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if marks[top].level >= m.level {
                stack.pop();
            } else {
                break;
            }
        }
        parent.push(stack.last().copied());
        stack.push(i);
    }
    let root = doc.new_object_from_str("<< /Type /Outlines >>")?;
    let root = doc.add_object(&root)?;
    let mut refs = Vec::with_capacity(marks.len());
    for m in &marks {
        let mut item =
            doc.new_object_from_str(&format!("<< /Title {} >>", text_string(&m.title)))?;
        let mut dest = doc.new_array()?;
        dest.array_push(doc.find_page(m.page as i32)?)?;
        dest.array_push(PdfObject::new_name("XYZ")?)?;
        for _ in 0..3 {
            dest.array_push(PdfObject::new_null())?;
        }
        item.dict_put("Dest", dest)?;
        refs.push(doc.add_object(&item)?);
    }
    let children =
        |p: Option<usize>| -> Vec<usize> { (0..marks.len()).filter(|&i| parent[i] == p).collect() };
    let link = |list: &[usize],
                parent_ref: &PdfObject,
                refs: &mut Vec<PdfObject>|
     -> Result<(), mupdf::Error> {
        for (k, &i) in list.iter().enumerate() {
            refs[i].dict_put("Parent", parent_ref.clone())?;
            if k > 0 {
                let prev = refs[list[k - 1]].clone();
                refs[i].dict_put("Prev", prev)?;
            }
            if let Some(&next) = list.get(k + 1) {
                let next = refs[next].clone();
                refs[i].dict_put("Next", next)?;
            }
        }
        Ok(())
    };
    let mut root = root;
    let top = children(None);
    link(&top, &root, &mut refs)?;
    root.dict_put("First", refs[top[0]].clone())?;
    root.dict_put("Last", refs[*top.last().expect("not empty")].clone())?;
    root.dict_put("Count", PdfObject::new_int(marks.len() as i32)?)?;
    for i in 0..marks.len() {
        let kids = children(Some(i));
        if kids.is_empty() {
            continue;
        }
        let me = refs[i].clone();
        link(&kids, &me, &mut refs)?;
        let (first, last) = (
            refs[kids[0]].clone(),
            refs[*kids.last().expect("not empty")].clone(),
        );
        refs[i].dict_put("First", first)?;
        refs[i].dict_put("Last", last)?;
        // Negative: closed; a reader opens the levels it wants.
        refs[i].dict_put("Count", PdfObject::new_int(-(kids.len() as i32))?)?;
    }
    doc.catalog()?.dict_put("Outlines", root)?;
    Ok(marks.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_inverse_and_composition_agree() {
        let m = Affine([0.0, -1.0, 1.0, 0.0, 3.0, 700.0])
            .then(Affine([0.24, 0.0, 0.0, 0.24, 5.0, 7.0]));
        let inv = m.invert().unwrap();
        let (x, y) = m.apply(120.0, 45.0);
        let (bx, by) = inv.apply(x, y);
        assert!((bx - 120.0).abs() < 1e-9 && (by - 45.0).abs() < 1e-9);
    }

    #[test]
    fn titles_are_utf16_with_a_byte_order_mark() {
        assert_eq!(text_string("Ä"), "<FEFF00C4>");
    }
}
