//! hOCR 1.2 and ALTO 4 from page JSON, written with quick-xml: every text
//! and attribute value is escaped by the writer, never by hand, and the
//! control characters XML 1.0 forbids are left out of the text.
//!
//! Coordinates are pixels of the page image each page names, which can be
//! written at a lower resolution than the page was read at.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use recto_page::PageJson;

/// An XML document being written into memory (which cannot fail).
struct Doc(Writer<Vec<u8>>);

impl Doc {
    fn new() -> Self {
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("writing to memory");
        Doc(w)
    }

    fn event(&mut self, e: Event<'_>) {
        self.0.write_event(e).expect("writing to memory");
    }

    fn raw(&mut self, s: &str) {
        self.event(Event::Text(BytesText::from_escaped(s)));
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.event(Event::Start(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.event(Event::Empty(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
    }

    fn end(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    fn text(&mut self, s: &str) {
        self.event(Event::Text(BytesText::new(&clean(s))));
    }

    /// `<name attrs>text</name>`.
    fn element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.start(name, attrs);
        self.text(text);
        self.end(name);
    }

    fn finish(self) -> String {
        String::from_utf8(self.0.into_inner()).expect("written from str")
    }
}

/// `s` without the control characters XML 1.0 cannot hold.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// A page's boxes scaled to its page image.
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

/// The Tesseract languages the document's pages were read with (a page set
/// in Fraktur names the Fraktur model it got), and their scripts (ISO
/// 15924) where the language tells it.
fn languages_and_scripts(pages: &[Option<PageJson>]) -> (Vec<&str>, Vec<&'static str>) {
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
    (langs, scripts)
}

/// hOCR 1.2: one XHTML document, `ocr_page` / `ocr_carea` / `ocr_par` /
/// `ocr_line` / `ocrx_word` with `bbox` and `x_wconf`.
pub fn hocr(title: &str, pages: &[Option<PageJson>]) -> String {
    let mut d = Doc::new();
    d.raw("\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n");
    d.start(
        "html",
        &[
            ("xmlns", "http://www.w3.org/1999/xhtml"),
            ("xml:lang", "en"),
            ("lang", "en"),
        ],
    );
    d.raw("\n");
    hocr_head(&mut d, title, pages);
    d.start("body", &[]);
    d.raw("\n");
    for (pi, p) in pages.iter().enumerate() {
        hocr_page(&mut d, pi, p.as_ref());
    }
    d.end("body");
    d.raw("\n");
    d.end("html");
    d.raw("\n");
    d.finish()
}

/// hOCR's head: title, encoding, the OCR system, languages, scripts, page
/// count and capabilities.
fn hocr_head(d: &mut Doc, title: &str, pages: &[Option<PageJson>]) {
    d.start("head", &[]);
    d.raw("\n");
    d.element("title", &[], title);
    d.raw("\n");
    let meta = |d: &mut Doc, name: &str, content: &str| {
        d.empty("meta", &[("name", name), ("content", content)]);
        d.raw("\n");
    };
    d.empty(
        "meta",
        &[
            ("http-equiv", "Content-Type"),
            ("content", "text/html;charset=utf-8"),
        ],
    );
    d.raw("\n");
    meta(
        d,
        "ocr-system",
        &format!("recto {}", env!("CARGO_PKG_VERSION")),
    );
    let (langs, scripts) = languages_and_scripts(pages);
    if !langs.is_empty() {
        meta(d, "ocr-langs", &langs.join(" "));
    }
    if !scripts.is_empty() {
        meta(d, "ocr-scripts", &scripts.join(" "));
    }
    meta(d, "ocr-number-of-pages", &pages.len().to_string());
    meta(
        d,
        "ocr-capabilities",
        "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf",
    );
    d.end("head");
    d.raw("\n");
}

/// One page of hOCR: an empty `ocr_page` for a page without JSON.
fn hocr_page(d: &mut Doc, pi: usize, p: Option<&PageJson>) {
    let id = format!("page_{}", pi + 1);
    let Some(p) = p else {
        d.start(
            "div",
            &[
                ("class", "ocr_page"),
                ("id", &id),
                ("title", &format!("ppageno {pi}")),
            ],
        );
        d.end("div");
        d.raw("\n");
        return;
    };
    let s = scale(p);
    let (w, h) = image_size(p);
    // The image name is quoted inside the title; the writer escapes
    // the quotes for the attribute.
    let image = p
        .image
        .as_ref()
        .map_or(String::new(), |i| format!("image \"{}\"; ", clean(&i.file)));
    let title = format!("{image}bbox 0 0 {w} {h}; ppageno {pi}");
    d.start(
        "div",
        &[("class", "ocr_page"), ("id", &id), ("title", &title)],
    );
    d.raw("\n");
    for (bi, b) in p.blocks.iter().enumerate() {
        let [x0, y0, x1, y1] = scaled(b.bbox, s);
        let n = format!("{}_{}", pi + 1, bi + 1);
        let bbox = format!("bbox {x0} {y0} {x1} {y1}");
        d.start(
            "div",
            &[
                ("class", "ocr_carea"),
                ("id", &format!("block_{n}")),
                ("title", &bbox),
            ],
        );
        d.raw("\n");
        d.start(
            "p",
            &[
                ("class", "ocr_par"),
                ("id", &format!("par_{n}")),
                ("title", &bbox),
            ],
        );
        d.raw("\n");
        for (li, l) in b.lines.iter().enumerate() {
            let [x0, y0, x1, y1] = scaled(l.bbox, s);
            d.start(
                "span",
                &[
                    ("class", "ocr_line"),
                    ("id", &format!("line_{n}_{}", li + 1)),
                    ("title", &format!("bbox {x0} {y0} {x1} {y1}")),
                ],
            );
            for (wi, wd) in l.words.iter().enumerate() {
                let [x0, y0, x1, y1] = scaled(wd.bbox, s);
                let conf = wd
                    .confidence
                    .map_or(String::new(), |c| format!("; x_wconf {}", c.round() as i64));
                d.element(
                    "span",
                    &[
                        ("class", "ocrx_word"),
                        ("id", &format!("word_{n}_{}_{}", li + 1, wi + 1)),
                        ("title", &format!("bbox {x0} {y0} {x1} {y1}{conf}")),
                    ],
                    &wd.text,
                );
                if wi + 1 < l.words.len() {
                    d.raw(" ");
                }
            }
            d.end("span");
            d.raw("\n");
        }
        d.end("p");
        d.raw("\n");
        d.end("div");
        d.raw("\n");
    }
    d.end("div");
    d.raw("\n");
}

/// ALTO 4: one XML document, pixel units, `TextBlock` / `TextLine` /
/// `String` with `HPOS` / `VPOS` / `WIDTH` / `HEIGHT` / `WC` (0..1), `SP`
/// between words.
pub fn alto(pages: &[Option<PageJson>]) -> String {
    let mut d = Doc::new();
    d.raw("\n");
    d.start(
        "alto",
        &[
            ("xmlns", "http://www.loc.gov/standards/alto/ns-v4#"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-2.xsd",
            ),
        ],
    );
    d.raw("\n");
    d.start("Description", &[]);
    d.raw("\n");
    d.element("MeasurementUnit", &[], "pixel");
    d.raw("\n");
    d.start("OCRProcessing", &[("ID", "recto")]);
    d.start("ocrProcessingStep", &[]);
    d.start("processingSoftware", &[]);
    d.element("softwareName", &[], "recto");
    d.element("softwareVersion", &[], env!("CARGO_PKG_VERSION"));
    d.end("processingSoftware");
    d.end("ocrProcessingStep");
    d.end("OCRProcessing");
    d.raw("\n");
    d.end("Description");
    d.raw("\n");
    d.start("Layout", &[]);
    d.raw("\n");
    for (pi, p) in pages.iter().enumerate() {
        let n = pi + 1;
        let (id, nr) = (format!("page_{n}"), n.to_string());
        let Some(p) = p else {
            d.empty(
                "Page",
                &[
                    ("ID", &id),
                    ("PHYSICAL_IMG_NR", &nr),
                    ("WIDTH", "0"),
                    ("HEIGHT", "0"),
                ],
            );
            d.raw("\n");
            continue;
        };
        let s = scale(p);
        let (w, h) = (image_size(p).0.to_string(), image_size(p).1.to_string());
        let mut page = vec![
            ("ID", id.as_str()),
            ("PHYSICAL_IMG_NR", nr.as_str()),
            ("WIDTH", w.as_str()),
            ("HEIGHT", h.as_str()),
        ];
        let image = p.image.as_ref().map(|i| clean(&i.file));
        if let Some(file) = &image {
            page.push(("IMAGE", file));
        }
        d.start("Page", &page);
        d.raw("\n");
        d.start(
            "PrintSpace",
            &[("HPOS", "0"), ("VPOS", "0"), ("WIDTH", &w), ("HEIGHT", &h)],
        );
        d.raw("\n");
        for (bi, b) in p.blocks.iter().enumerate() {
            let id = format!("block_{n}_{}", bi + 1);
            let pos = Pos::of(scaled(b.bbox, s));
            d.start("TextBlock", &pos.with(&[("ID", &id)]));
            d.raw("\n");
            for (li, l) in b.lines.iter().enumerate() {
                let id = format!("line_{n}_{}_{}", bi + 1, li + 1);
                let pos = Pos::of(scaled(l.bbox, s));
                d.start("TextLine", &pos.with(&[("ID", &id)]));
                for (wi, wd) in l.words.iter().enumerate() {
                    if wi > 0 {
                        d.empty("SP", &[]);
                    }
                    let id = format!("string_{n}_{}_{}_{}", bi + 1, li + 1, wi + 1);
                    let text = clean(&wd.text);
                    let wc = wd
                        .confidence
                        .map(|c| format!("{:.2}", (c / 100.0).clamp(0.0, 1.0)));
                    let pos = Pos::of(scaled(wd.bbox, s));
                    let mut attrs = pos.with(&[("ID", &id), ("CONTENT", &text)]);
                    if let Some(wc) = &wc {
                        attrs.push(("WC", wc));
                    }
                    d.empty("String", &attrs);
                }
                d.end("TextLine");
                d.raw("\n");
            }
            d.end("TextBlock");
            d.raw("\n");
        }
        d.end("PrintSpace");
        d.raw("\n");
        d.end("Page");
        d.raw("\n");
    }
    d.end("Layout");
    d.raw("\n");
    d.end("alto");
    d.raw("\n");
    d.finish()
}

/// ALTO's position attributes of a box.
struct Pos([String; 4]);

impl Pos {
    fn of(b: [i64; 4]) -> Self {
        Pos([
            b[0].to_string(),
            b[1].to_string(),
            (b[2] - b[0]).to_string(),
            (b[3] - b[1]).to_string(),
        ])
    }

    /// `first`, then HPOS, VPOS, WIDTH, HEIGHT.
    fn with<'a>(&'a self, first: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = first.to_vec();
        v.extend(
            ["HPOS", "VPOS", "WIDTH", "HEIGHT"]
                .into_iter()
                .zip(self.0.iter().map(String::as_str)),
        );
        v
    }
}
