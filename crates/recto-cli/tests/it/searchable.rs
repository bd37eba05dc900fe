//! `recto export --format pdf`: the searchable PDF, checked with tools that
//! are not recto's: qpdf (structure), Poppler's pdftotext (text and word
//! boxes), MuPDF (opens it, reads the layer). The expected word positions
//! come from Poppler reading the born-digital pages the scans were made
//! from, so the check does not share recto's geometry code.

use std::path::{Path, PathBuf};
use std::process::Command;

use recto_ocr::image::rotate_cw;
use recto_ocr::render::Pdf;
use recto_ocr::tess::GrayImage;
use recto_test_support::{
    MixedPage, TestContext, book_pdf, mixed_pdf, pdf_from_objects, text_pdf_sized,
};
use serde_json::Value;

use super::export::export_file;
use super::toc::{book, upload, write_pdf};
use super::{page_json, recto, stderr, stdout, stored_object};

const W: f32 = 300.0;
const H: f32 = 400.0;
const DPI: u32 = 200;

/// Every line has an ascender and a descender, so the ink of each line
/// spans the font's box (the layer's font is sized to the line).
const PAGES: [&str; 5] = [
    "A born-digital preface\nkept its own text layer\nwhich nobody reads again.",
    "Scanned chapter typeset\nplainly by the Gutenberg\npress and kept upright.",
    "The second scan was put\nupside down into the\nscanner, by mistake.",
    "A third scan lying flat\non its side, typed by\nthe great-grandfather.",
    "The last page is shown\nupright by the Rotate key\nof the page dictionary.",
];

fn tool(name: &str) -> Command {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{name} is not installed: scripts/setup.sh installs qpdf and poppler-utils"
    );
    Command::new(name)
}

pub(crate) fn render(dir: &Path, text: &str) -> GrayImage {
    let born = dir.join("born.pdf");
    std::fs::write(&born, text_pdf_sized(&[text], W, H)).unwrap();
    Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(DPI)
        .unwrap()
}

pub(crate) fn packed(img: &GrayImage) -> Vec<u8> {
    (0..img.height as usize)
        .flat_map(|y| img.data[y * img.stride..][..img.width as usize].to_vec())
        .collect()
}

/// A one-page scan of `img` at `DPI`.
fn one_scan(img: &GrayImage) -> Vec<u8> {
    let data = packed(img);
    let page = MixedPage::Scan {
        gray: &data,
        width: img.width,
        height: img.height,
        dpi: DPI,
        rotate: 0,
    };
    mixed_pdf(&[page], W, H)
}

/// The five pages: a text layer, an upright scan, a scan upside down, a
/// scan on its side, a sideways image shown upright by /Rotate 90.
pub(crate) fn fixture(dir: &Path) -> Vec<u8> {
    let upright = render(dir, PAGES[1]);
    let flipped = rotate_cw(&render(dir, PAGES[2]), 180);
    let side = rotate_cw(&render(dir, PAGES[3]), 90);
    let shown = rotate_cw(&render(dir, PAGES[4]), 270);
    let imgs = [upright, flipped, side, shown];
    let data: Vec<Vec<u8>> = imgs.iter().map(packed).collect();
    let mut pages = vec![MixedPage::Text(PAGES[0])];
    for (i, img) in imgs.iter().enumerate() {
        pages.push(MixedPage::Scan {
            gray: &data[i],
            width: img.width,
            height: img.height,
            dpi: DPI,
            rotate: if i == 3 { 90 } else { 0 },
        });
    }
    mixed_pdf(&pages, W, H)
}

/// A one-page scan of Helvetica set tight: letters 0.6 pt closer, word
/// spaces 1.6 pt narrower (about 2.3 pt between words at 14 pt), so that
/// Tesseract still sees most spaces but some are under Poppler's 0.15
/// font sizes.
fn tight_scan(dir: &Path, lines: &[&str]) -> Vec<u8> {
    let mut stream = format!("BT /F1 14 Tf -0.6 Tc -1.6 Tw 24 {} Td 20 TL\n", H - 60.0);
    for line in lines {
        stream.push_str(&format!("({line}) Tj T*\n"));
    }
    stream.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W} {H}] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>"
        ),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
    ];
    let born = dir.join("tight.pdf");
    std::fs::write(&born, pdf_from_objects(&objects)).unwrap();
    let img = Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(300)
        .unwrap();
    let data = packed(&img);
    let page = MixedPage::Scan {
        gray: &data,
        width: img.width,
        height: img.height,
        dpi: 300,
        rotate: 0,
    };
    mixed_pdf(&[page], W, H)
}

/// Poppler's words with boxes (xMin, yMin, xMax, yMax) of one page.
fn poppler_words(pdf: &Path, page: usize) -> Vec<(String, [f64; 4])> {
    let o = tool("pdftotext")
        .args(["-bbox", "-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = String::from_utf8(o.stdout).unwrap();
    html.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("<word ")?;
            let num = |key: &str| -> f64 {
                let at = rest.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
                rest[at..].split('"').next().unwrap().parse().unwrap()
            };
            let text = rest.split_once('>')?.1.strip_suffix("</word>")?;
            Some((
                text.replace("&amp;", "&"),
                [num("xMin"), num("yMin"), num("xMax"), num("yMax")],
            ))
        })
        .collect()
}

fn pdftotext(pdf: &Path, page: usize) -> String {
    pdftotext_with(pdf, page, &[])
}

fn pdftotext_with(pdf: &Path, page: usize, flags: &[&str]) -> String {
    let o = tool("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .args(flags)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

/// Character error rate of `got` against `want`, whitespace ignored.
fn cer(got: &str, want: &str) -> f64 {
    let a: Vec<char> = got.chars().filter(|c| !c.is_whitespace()).collect();
    let b: Vec<char> = want.chars().filter(|c| !c.is_whitespace()).collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()] as f64 / b.len().max(1) as f64
}

fn exported(ctx: &TestContext, key: &str) -> PathBuf {
    ctx.data_dir()
        .join("analytics/export")
        .join(key)
        .join("current")
        .join(format!("{key}.pdf"))
}

/// `recto export --format pdf --citekeys KEYS EXTRA.. --quiet`, which must
/// succeed.
fn export_pdf(ctx: &TestContext, keys: &str, extra: &[&str]) {
    let mut args = vec!["export", "--format", "pdf", "--citekeys", keys];
    args.extend(extra);
    args.push("--quiet");
    let o = recto(ctx, &args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn export_meta(ctx: &TestContext) -> Value {
    let job = stdout(&recto(ctx, &["jobs", "latest"])).trim().to_owned();
    super::step_meta(ctx, "export", &job)
}

#[test]
fn the_searchable_pdf_puts_the_words_on_the_ink() {
    let ctx = TestContext::new();
    let source = fixture(ctx.root());
    write_pdf(&ctx, "scan1920", &source);
    upload(&ctx);
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--citekeys",
            "scan1920",
            "--lang",
            "eng",
            "--dpi",
            "200",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ocr_job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    export_pdf(&ctx, "scan1920", &[]);
    let out = exported(&ctx, "scan1920");
    let m = export_meta(&ctx);
    let rec = &m["per_citekey"]["scan1920"];
    assert_eq!(rec["pdf"]["pages_with_layer"], 4, "{rec}");
    assert_eq!(rec["pdf"]["incremental"], true);
    assert_eq!(
        rec["files"]["scan1920.pdf"].as_u64().unwrap(),
        std::fs::metadata(&out).unwrap().len()
    );

    // qpdf finds nothing wrong; the size stays within the bound.
    let q = tool("qpdf").arg("--check").arg(&out).output().unwrap();
    assert_eq!(
        q.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&q.stdout)
    );
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() as f64 <= source.len() as f64 * 1.05 + 100_000.0);

    // The source is kept byte for byte (page images never re-encoded);
    // the text-layer page (objects 4 and 5) is not in the update.
    assert!(bytes.starts_with(&source), "the source is not a prefix");
    let update = String::from_utf8_lossy(&bytes[source.len()..]);
    assert!(!update.contains("\n4 0 obj") && !update.contains("\n5 0 obj"));
    assert!(update.contains("/GlyphLessFont"));

    // The recorded OCR says which pages were read how.
    let sources: Vec<String> = (1..=5)
        .map(|n| {
            page_json(&ctx, "scan1920", &ocr_job, n)["source"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(sources, ["text_layer", "ocr", "ocr", "ocr", "ocr"]);
    let turns: Vec<u64> = (2..=5)
        .map(|n| {
            page_json(&ctx, "scan1920", &ocr_job, n)["rotation"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(turns, [0, 180, 270, 0], "the fixture's pages turn as meant");

    // Poppler's text of each OCRed page is recto's page text.
    for n in 2..=5 {
        let text = page_json(&ctx, "scan1920", &ocr_job, n)["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let c = cer(&pdftotext(&out, n), &text);
        assert!(c <= 0.01, "page {n}: CER {c}");
        // Every word space survives in Poppler's raw order, which puts a
        // space only between words more than 0.15 font sizes apart.
        let raw = pdftotext_with(&out, n, &["-raw"]);
        assert_eq!(
            raw.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>(),
            "page {n}"
        );
        assert!(cer(&text, PAGES[n - 1]) <= 0.02, "page {n}: {text}");
    }

    // Poppler's word boxes lie where the born-digital words were: the
    // pages recto turned are shown upright now.
    assert_eq!(rec["pdf"]["pages_turned"], 2);
    words_on_the_ink(&ctx, &out, false);

    // MuPDF opens it and reads the layer of a scanned page.
    let pdf = Pdf::open(&out, None).unwrap();
    assert_eq!(pdf.page_count(), 5);
    let layer = pdf.page(2).unwrap().text_layer(72).unwrap();
    let words: Vec<String> = layer
        .iter()
        .flat_map(|b| &b.lines)
        .flat_map(|l| &l.words)
        .map(|w| w.text.clone())
        .collect();
    assert!(words.contains(&"Gutenberg".to_owned()), "{words:?}");

    // --no-rotate-pages: the pages are shown as scanned, the words still
    // on the ink.
    export_pdf(&ctx, "scan1920", &["--no-rotate-pages"]);
    assert_eq!(
        export_meta(&ctx)["per_citekey"]["scan1920"]["pdf"]["pages_turned"],
        0
    );
    words_on_the_ink(&ctx, &out, true);
}

/// Poppler's words of the OCRed pages 2-5 of `out` against the born-digital
/// words, for >= 98% within 2 pt; `as_scanned`: pages shown as the source
/// shows them (upside down, on the side) rather than upright.
fn words_on_the_ink(ctx: &TestContext, out: &Path, as_scanned: bool) {
    let (mut total, mut good) = (0, 0);
    let mut misses = Vec::new();
    for n in 2..=5 {
        let born = ctx.root().join(format!("born{n}.pdf"));
        std::fs::write(&born, text_pdf_sized(&[PAGES[n - 1]], W, H)).unwrap();
        let want = poppler_words(&born, 1);
        let got = poppler_words(out, n);
        let (w, h) = (f64::from(W), f64::from(H));
        for (text, b) in &want {
            let e = match n {
                3 if as_scanned => [w - b[2], h - b[3], w - b[0], h - b[1]],
                4 if as_scanned => [h - b[3], b[0], h - b[1], b[2]],
                _ => *b,
            };
            total += 1;
            let near = got
                .iter()
                .any(|(t, g)| t == text && g.iter().zip(&e).all(|(a, b)| (a - b).abs() <= 2.0));
            if near {
                good += 1;
            } else {
                misses.push(format!("page {n}: {text} expected near {e:?}"));
            }
        }
    }
    assert!(total > 40);
    assert!(
        good as f64 >= 0.98 * total as f64,
        "{good} of {total} words within 2 pt: {misses:?}"
    );
}

#[test]
fn bookmarks_come_from_the_toc_step_unless_the_pdf_has_its_own() {
    let ctx = TestContext::new();
    let pages = book("5");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "book2020", &book_pdf(&refs, &[], None));
    let own = [recto_test_support::Bookmark {
        level: 1,
        title: "Its own outline",
        page: 2,
    }];
    write_pdf(&ctx, "own2020", &book_pdf(&refs, &own, None));
    super::toc::upload_and_ocr(&ctx, "book2020,own2020");
    let o = recto(&ctx, &["toc", "--quiet", "--citekeys", "book2020,own2020"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let toc_job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    export_pdf(&ctx, "book2020,own2020", &[]);
    let m = export_meta(&ctx);
    let toc: Value = serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join("analytics/toc/book2020/current/toc.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let entries: Vec<(usize, String, Option<usize>)> = toc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["page"].is_u64())
        .map(|e| {
            (
                e["level"].as_u64().unwrap() as usize,
                e["title"].as_str().unwrap().to_owned(),
                e["page"].as_u64().map(|p| p as usize),
            )
        })
        .collect();
    assert!(entries.len() >= 3, "{toc}");
    let outline = Pdf::open(&exported(&ctx, "book2020"), None)
        .unwrap()
        .outline()
        .unwrap();
    let got: Vec<(usize, String, Option<usize>)> = outline
        .iter()
        .map(|o| (o.level, o.title.clone(), o.page))
        .collect();
    assert_eq!(got, entries);
    let rec = &m["per_citekey"]["book2020"];
    assert_eq!(rec["pdf"]["bookmarks_added"], entries.len());
    assert_eq!(rec["bookmarks_from"], toc_job.as_str());
    // Nothing was OCRed: the copy is the source plus the outline.
    assert_eq!(rec["pdf"]["pages_with_layer"], 0);

    let own_outline = Pdf::open(&exported(&ctx, "own2020"), None)
        .unwrap()
        .outline()
        .unwrap();
    assert_eq!(own_outline.len(), 1);
    assert_eq!(own_outline[0].title, "Its own outline");
    assert_eq!(m["per_citekey"]["own2020"]["pdf"]["bookmarks_added"], 0);

    // --no-bookmarks: none added.
    export_pdf(&ctx, "book2020", &["--no-bookmarks"]);
    let none = Pdf::open(&exported(&ctx, "book2020"), None)
        .unwrap()
        .outline()
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn bad_sources_fail_alone_and_leave_no_partial_file() {
    let ctx = TestContext::new();
    let scan = fixture(ctx.root());
    write_pdf(&ctx, "good1900", &scan);
    // No cross-reference table, no trailer: MuPDF repairs it on open.
    let text = String::from_utf8_lossy(&scan).into_owned();
    let damaged = scan[..text.rfind("xref\n0 ").unwrap()].to_vec();
    write_pdf(&ctx, "damaged1900", &damaged);
    write_pdf(
        &ctx,
        "changed1900",
        &book_pdf(&["Changed after upload."], &[], None),
    );
    write_pdf(
        &ctx,
        "locked1900",
        &recto_test_support::encrypted_pdf(&book_pdf(&[PAGES[0]], &[], None), "pw"),
    );
    upload(&ctx);
    let src = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--all",
            "--lang",
            "eng",
            "--dpi",
            "200",
            "--password",
            "pw",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The stored copy changes behind recto's back.
    std::fs::write(
        stored_object(&ctx, &src, "changed1900"),
        b"%PDF-1.4 not the same",
    )
    .unwrap();

    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "pdf",
            "--all",
            "--password",
            "pw",
            "--json",
        ],
    );
    assert!(!o.status.success());
    let m = export_meta(&ctx);
    let failures = m["failures"].to_string();
    assert!(
        failures.contains("changed1900") && failures.contains("checksum"),
        "{failures}"
    );
    // The record says why in the library's words; the CLI adds its flag.
    assert!(
        failures.contains("locked1900") && failures.contains("without encryption"),
        "{failures}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("locked1900") && stderr.contains("--decrypt"),
        "{stderr}"
    );
    assert!(exported(&ctx, "good1900").is_file());
    // The damaged source is written whole, with a warning recorded.
    let damaged = &m["per_citekey"]["damaged1900"]["pdf"];
    assert_eq!(damaged["incremental"], false, "{damaged}");
    assert!(
        damaged["warnings"].to_string().contains("repaired"),
        "{damaged}"
    );
    let q = tool("qpdf")
        .arg("--check")
        .arg(exported(&ctx, "damaged1900"))
        .output()
        .unwrap();
    assert_eq!(q.status.code(), Some(0));
    for key in ["changed1900", "locked1900"] {
        let job_dir = ctx
            .data_dir()
            .join("analytics/export")
            .join(key)
            .join(m["job_id"].as_str().unwrap());
        let left: Vec<_> = std::fs::read_dir(&job_dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{key}: {left:?}");
    }
    // The password is never recorded.
    assert!(!m.to_string().contains("\"pw\""));

    // --decrypt: written, without encryption.
    export_pdf(&ctx, "locked1900", &["--password", "pw", "--decrypt"]);
    let info = tool("pdfinfo")
        .arg(exported(&ctx, "locked1900"))
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Encrypted:") && l.split_whitespace().nth(1) == Some("no")),
        "{info}"
    );
    assert!(pdftotext(&exported(&ctx, "locked1900"), 1).contains("A born-digital preface"));
}

/// A word and its box as hOCR (corners) or ALTO (corner, size) give it.
type WordBox = (String, [i64; 4]);

/// `(text, [x0, y0, x1, y1])` of every `ocrx_word` of a hOCR file, in order.
fn hocr_words(html: &str) -> Vec<WordBox> {
    html.replace("class=\"ocrx_word\"", "class='ocrx_word'")
        .split("class='ocrx_word'")
        .skip(1)
        .filter_map(|part| {
            let bbox = part.split("bbox ").nth(1)?;
            let nums: Vec<i64> = bbox
                .split(|c: char| !c.is_ascii_digit())
                .take(4)
                .map(|n| n.parse().unwrap())
                .collect();
            // The word's text: after the span's `>`, to its `</span>`
            // (Tesseract nests no tags in words of plain text).
            let text = part.split_once("'>").or_else(|| part.split_once("\">"))?.1;
            let text = text.split("</span>").next()?;
            Some((unescape(text), [nums[0], nums[1], nums[2], nums[3]]))
        })
        .collect()
}

/// `(CONTENT, [HPOS, VPOS, WIDTH, HEIGHT])` of every ALTO `String`.
fn alto_words(xml: &str) -> Vec<WordBox> {
    xml.split("<String ")
        .skip(1)
        .map(|el| {
            let el = el.split("/>").next().unwrap();
            let attr = |k: &str| -> String {
                let at = el
                    .find(&format!(" {k}=\""))
                    .or_else(|| el.find(&format!("{k}=\"")))
                    .unwrap();
                el[at..].split('"').nth(1).unwrap().to_owned()
            };
            let n = |k: &str| attr(k).parse::<i64>().unwrap();
            (
                unescape(&attr("CONTENT")),
                [n("HPOS"), n("VPOS"), n("WIDTH"), n("HEIGHT")],
            )
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The words of `img` through the tesseract command's own hOCR and ALTO
/// renderers, at `dpi` with `thresholding_method` `method`, one thread.
fn tesseract_words(
    ctx: &TestContext,
    img: &GrayImage,
    dpi: u32,
    method: &str,
) -> (Vec<WordBox>, Vec<WordBox>) {
    let pgm = ctx.root().join("page.pgm");
    let mut bytes = format!("P5\n{} {}\n255\n", img.width, img.height).into_bytes();
    bytes.extend_from_slice(&packed(img));
    std::fs::write(&pgm, bytes).unwrap();
    let base = ctx.root().join("tess");
    let o = tool("tesseract")
        .arg(&pgm)
        .arg(&base)
        .args(["--dpi", &dpi.to_string(), "--psm", "3", "-l", "eng", "-c"])
        .arg(format!("thresholding_method={method}"))
        .args(["hocr", "alto"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |ext: &str| std::fs::read_to_string(base.with_extension(ext)).unwrap();
    (hocr_words(&read("hocr")), alto_words(&read("xml")))
}

fn same_words(ours: &[WordBox], theirs: &[WordBox], what: &str) {
    let texts = |w: &[WordBox]| w.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    assert_eq!(texts(ours), texts(theirs), "{what}: the words differ");
    for ((t, a), (_, b)) in ours.iter().zip(theirs) {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1),
            "{what}: {t}: recto {a:?}, Tesseract {b:?}"
        );
    }
}

#[test]
fn hocr_and_alto_match_tesseracts_own_renderers_on_the_same_page() {
    let ctx = TestContext::new();
    let img = render(ctx.root(), PAGES[1]);
    write_pdf(&ctx, "page1900", &one_scan(&img));
    upload(&ctx);
    // Boxes and page images at the resolution read, so both sides count
    // the same pixels.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--citekeys",
            "page1900",
            "--lang",
            "eng",
            "--dpi",
            "200",
            "--image-dpi",
            "200",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ocr_job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let page = page_json(&ctx, "page1900", &ocr_job, 1);
    assert_eq!(page["source"], "ocr");
    let method = match page["binarisation"]["method"].as_str().unwrap() {
        "otsu" => "0",
        "leptonica-otsu" => "1",
        _ => "2",
    };
    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "hocr,alto",
            "--citekeys",
            "page1900",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |name: &str| export_file(&ctx, "page1900", name);

    // The same rendered page through the tesseract command and its own
    // hOCR and ALTO renderers, with recto's settings.
    let (theirs_hocr, theirs_alto) = tesseract_words(&ctx, &img, DPI, method);
    assert!(theirs_hocr.len() >= 10, "{theirs_hocr:?}");
    same_words(&hocr_words(&read("page1900.hocr")), &theirs_hocr, "hOCR");
    same_words(
        &alto_words(&read("page1900.alto.xml")),
        &theirs_alto,
        "ALTO",
    );
}

/// On a corpus scan (the linn brochure page: 300 dpi, upright, not
/// levelled), hOCR and ALTO against Tesseract's own renderers on the same
/// rendered page, and txt and md against the page JSON. recto's reading
/// mends what bare Tesseract gets wrong (specks read as marks, words fused
/// across a stop), so the share of Tesseract's words found in recto's
/// output at the same box (within 1 px) is asserted, not equality; every
/// word recto wrote is checked against its page JSON exactly.
#[test]
fn corpus_scan_exports_match_tesseract_and_the_page_json() {
    let pdf = recto_test_support::require_corpus!("scan_ccitt_en_2col_brochure_linn.pdf");
    let ctx = TestContext::new();
    write_pdf(&ctx, "linn1985", &std::fs::read(&pdf).unwrap());
    upload(&ctx);
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--citekeys",
            "linn1985",
            "--lang",
            "eng",
            "--dpi",
            "300",
            "--image-dpi",
            "300",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ocr_job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let page = page_json(&ctx, "linn1985", &ocr_job, 1);
    assert_eq!(page["source"], "ocr");
    assert_eq!(page["skew"]["applied"], false, "{}", page["skew"]);
    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "hocr,alto,txt,md",
            "--citekeys",
            "linn1985",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |name: &str| export_file(&ctx, "linn1985", name);

    // Every word of the page JSON, in order, with its box, in both formats.
    let want: Vec<WordBox> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .flat_map(|l| l["words"].as_array().unwrap())
        .map(|w| {
            let b: Vec<i64> = w["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            (
                w["text"].as_str().unwrap().to_owned(),
                [b[0], b[1], b[2], b[3]],
            )
        })
        .collect();
    assert!(want.len() > 500, "{}", want.len());
    let as_alto = |w: &[WordBox]| -> Vec<WordBox> {
        w.iter()
            .map(|(t, b)| (t.clone(), [b[0], b[1], b[2] - b[0], b[3] - b[1]]))
            .collect()
    };
    let ours_hocr = hocr_words(&read("linn1985.hocr"));
    let ours_alto = alto_words(&read("linn1985.alto.xml"));
    same_words(&ours_hocr, &want, "hOCR against the page JSON");
    same_words(&ours_alto, &as_alto(&want), "ALTO against the page JSON");

    // Tesseract's renderers on the page rendered as recto rendered it.
    let img = Pdf::open(&pdf, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(300)
        .unwrap();
    let (theirs_hocr, theirs_alto) = tesseract_words(&ctx, &img, 300, "0");
    let found = |ours: &[WordBox], theirs: &[WordBox]| {
        let hit = theirs
            .iter()
            .filter(|(t, b)| {
                ours.iter()
                    .any(|(u, a)| u == t && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1))
            })
            .count();
        hit as f64 / theirs.len().max(1) as f64
    };
    assert!(theirs_hocr.len() > 500, "{}", theirs_hocr.len());
    let (h, a) = (
        found(&ours_hocr, &theirs_hocr),
        found(&ours_alto, &theirs_alto),
    );
    assert!(
        h >= 0.99,
        "hOCR: {h:.4} of Tesseract's words at recto's boxes"
    );
    assert!(
        a >= 0.99,
        "ALTO: {a:.4} of Tesseract's words at recto's boxes"
    );

    // txt is the page text; md one section with it (no segmentation here).
    let text = page["text"].as_str().unwrap();
    assert_eq!(read("linn1985.txt").trim_end(), text.trim_end());
    let md = read("linn1985.md");
    assert!(md.starts_with("## Page 1\n"), "{md}");
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(md.trim_start_matches("## Page 1")), words(text));
}

/// A scan's tight word spaces (narrower than Poppler's 0.15 font sizes)
/// survive in Poppler's raw order: recto moves such words a little apart
/// in the layer, each end within a fraction of a point of its ink.
#[test]
fn tight_word_spaces_survive_in_poppler_raw_order() {
    let ctx = TestContext::new();
    let lines = [
        "the first of the tight lines is here",
        "and we will hear what they say of it",
        "when words sit close on the scanned page",
    ];
    write_pdf(&ctx, "tight2020", &tight_scan(ctx.root(), &lines));
    upload(&ctx);
    let o = recto(
        &ctx,
        &["ocr", "--quiet", "--citekeys", "tight2020", "--lang", "eng"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ocr_job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let page = page_json(&ctx, "tight2020", &ocr_job, 1);
    let text = page["text"].as_str().unwrap().to_owned();
    let want: Vec<&str> = text.split_whitespace().collect();
    // Tesseract read the page (it joins a few of the tightest words).
    assert!(want.len() >= 15, "{text}");
    export_pdf(&ctx, "tight2020", &[]);
    let out = exported(&ctx, "tight2020");
    let raw = pdftotext_with(&out, 1, &["-raw"]);
    assert_eq!(raw.split_whitespace().collect::<Vec<_>>(), want, "{raw}");
    // Each word's box moved no more than a fraction of a point from
    // recto's OCR box (the layer is 0.24 pt a pixel at 300 dpi).
    let scale = 72.0 / page["dpi"].as_f64().unwrap();
    let ocr: Vec<(String, [f64; 4])> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .flat_map(|l| l["words"].as_array().unwrap())
        .map(|w| {
            let b: Vec<f64> = w["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() * scale)
                .collect();
            (
                w["text"].as_str().unwrap().to_owned(),
                [b[0], b[1], b[2], b[3]],
            )
        })
        .collect();
    let got = poppler_words(&out, 1);
    assert_eq!(got.len(), ocr.len());
    let mut moved: f64 = 0.0;
    for ((w, o), (gw, g)) in ocr.iter().zip(&got) {
        assert_eq!(w, gw);
        moved = moved.max((o[0] - g[0]).abs()).max((o[2] - g[2]).abs());
    }
    assert!(moved <= 1.0, "a word end moved {moved} pt");
}

/// Four corpus scans through upload, OCR and export, then
/// `bench/pdf_check.py`: qpdf --check, the size bound, `pdftotext -raw` of
/// every OCRed page against recto's text (CER <= 0.01) and >= 98% of
/// Poppler's word boxes within 2 pt of recto's. Pages turned 0/90/180/270
/// degrees (bilevel JBIG2); a CCITT Antiqua book in German; a typescript
/// in French (JPX) and an illustrated book page (JPEG), whose uneven
/// baselines and short lines put the usual font box more than 2 pt off
/// the ink (0.94 and 0.96 of the words within 2 pt without line fonts).
#[test]
fn corpus_scans_pass_the_searchable_pdf_checks() {
    let scans = [
        ("linn1985", "eng", "scan_jbig2_en_rot0-90-180-270_linn.pdf"),
        (
            "bebel1879",
            "deu",
            "scan_ccitt_de_antiqua_1879_bebel_4p.pdf",
        ),
        ("prose1950", "fra", "scan_jpx_fr_typewritten_prose_4p.pdf"),
        (
            "twain1884",
            "eng",
            "scan_jpeg_en_book_illustrated_huckfinn.pdf",
        ),
    ];
    let mut found = Vec::new();
    for (key, lang, name) in scans {
        found.push((key, lang, recto_test_support::require_corpus!(name)));
    }
    let ctx = TestContext::new();
    for (key, _, src) in &found {
        write_pdf(&ctx, key, &std::fs::read(src).unwrap());
    }
    upload(&ctx);
    for (key, lang, _) in &found {
        let o = recto(&ctx, &["ocr", "--quiet", "--citekeys", key, "--lang", lang]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = recto(&ctx, &["export", "--format", "pdf", "--all", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (key, _, src) in &found {
        let result = ctx
            .data_dir()
            .join("analytics/ocr")
            .join(key)
            .join("current");
        let o = Command::new("python3")
            .arg(recto_test_support::repo_root().join("bench/pdf_check.py"))
            .arg(src)
            .arg(exported(&ctx, key))
            .arg(&result)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{key}:\n{report}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(report.contains("qpdf --check: exit 0"), "{report}");
    }
}

/// The corpus's two-column brochure page, scanned 2.8 degrees askew and
/// stored turned by the Rotate key: shown level, its layer reads column by
/// column in Poppler's default mode, the way a viewer copies it. Its
/// paragraphs end level across the columns, and one OCR block starting a
/// pixel left of its column's first made Poppler read the lower half as a
/// table, row by row across the columns (CER 0.27 against the ground
/// truth; OCRmyPDF's output 0.0065).
#[test]
fn a_skewed_two_column_page_reads_column_by_column() {
    let pdf = recto_test_support::require_corpus!("scan_jbig2_en_rotate90_skewed_linn.pdf");
    let truth = pdf
        .parent()
        .unwrap()
        .join("gt/scan_jbig2_en_rotate90_skewed_linn.txt");
    let truth = std::fs::read_to_string(truth).unwrap();
    let ctx = TestContext::new();
    write_pdf(&ctx, "linn1985", &std::fs::read(&pdf).unwrap());
    upload(&ctx);
    let o = recto(
        &ctx,
        &["ocr", "--quiet", "--citekeys", "linn1985", "--lang", "eng"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    export_pdf(&ctx, "linn1985", &[]);
    let text = pdftotext(&exported(&ctx, "linn1985"), 1);
    let c = cer(&text, &truth);
    assert!(c <= 0.02, "CER {c:.4} against the ground truth:\n{text}");
}

/// A scan fed in 1.5 degrees askew: recto levels it to read it. By
/// default the searchable PDF shows the page level (its content drawn
/// turned back, the image untouched) with the words where the born-digital
/// page has them; with --no-deskew-pages the page stays askew and the words
/// lie on the slanted ink (Poppler's boxes against the born-digital words
/// turned by the angle about the page's centre), each written level so
/// that Poppler keeps it whole.
#[test]
fn a_deskewed_scan_gets_its_words_on_the_ink_shown_level_or_askew() {
    let ctx = TestContext::new();
    let angle = 1.5f64;
    // A letter page of full lines: enough text for a confident skew.
    let line = "The great-grandfather typed every letter he got from Paris, plainly.";
    let text = vec![line; 24].join("\n");
    let (pw, ph) = (612.0f32, 792.0f32);
    let born = ctx.root().join("born-askew.pdf");
    std::fs::write(&born, text_pdf_sized(&[&text], pw, ph)).unwrap();
    let level = Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(DPI)
        .unwrap();
    let skewed = recto_ocr::deskew::rotate_level(&level, -angle as f32);
    write_pdf(&ctx, "askew1900", &one_scan(&skewed));
    upload(&ctx);
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--citekeys",
            "askew1900",
            "--lang",
            "eng",
            "--dpi",
            "200",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let skew = page_json(&ctx, "askew1900", &job, 1)["skew"].clone();
    assert_eq!(skew["applied"], true, "{skew}");
    let uploads: Vec<String> = serde_json::from_slice(
        &recto(&ctx, &["jobs", "list", "--step", "source", "--json"]).stdout,
    )
    .unwrap();
    let source = super::stored_object(&ctx, &uploads[0], "askew1900");
    // Objects of the one-page scan: 4 the page, 5 its content, 6 the image.
    let image_stream = |pdf: &Path| {
        let o = Command::new("qpdf")
            .args(["--show-object=6", "--raw-stream-data"])
            .arg(pdf)
            .output()
            .unwrap();
        o.stdout
    };
    for (flag, shown_angle) in [(None, 0.0), (Some("--no-deskew-pages"), angle)] {
        let mut args = vec![
            "export",
            "--format",
            "pdf",
            "--citekeys",
            "askew1900",
            "--quiet",
        ];
        args.extend(flag);
        let o = recto(&ctx, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = exported(&ctx, "askew1900");
        let pdf = &export_meta(&ctx)["per_citekey"]["askew1900"]["pdf"];
        assert_eq!(pdf["pages_levelled"], u64::from(flag.is_none()), "{pdf}");
        // The scan's image is the source's, byte for byte, either way.
        let image = image_stream(&source);
        assert!(image.len() > 10_000, "object 6 is not the scan");
        assert_eq!(image_stream(&out), image, "{flag:?}");

        let (c, s) = (
            shown_angle.to_radians().cos(),
            shown_angle.to_radians().sin(),
        );
        let (cx, cy) = (f64::from(pw) / 2.0, f64::from(ph) / 2.0);
        let turn = |x: f64, y: f64| {
            (
                cx + c * (x - cx) - s * (y - cy),
                cy + s * (x - cx) + c * (y - cy),
            )
        };
        let got = poppler_words(&out, 1);
        let want = poppler_words(&born, 1);
        let mut good = 0;
        let mut misses = Vec::new();
        for (t, b) in &want {
            // Where the word's box went, as the smallest upright box around it.
            let corners = [
                turn(b[0], b[1]),
                turn(b[2], b[1]),
                turn(b[0], b[3]),
                turn(b[2], b[3]),
            ];
            let e = [
                corners.iter().map(|p| p.0).fold(f64::MAX, f64::min),
                corners.iter().map(|p| p.1).fold(f64::MAX, f64::min),
                corners.iter().map(|p| p.0).fold(f64::MIN, f64::max),
                corners.iter().map(|p| p.1).fold(f64::MIN, f64::max),
            ];
            if got
                .iter()
                .any(|(g, gb)| g == t && gb.iter().zip(&e).all(|(a, b)| (a - b).abs() <= 2.0))
            {
                good += 1;
            } else {
                misses.push(format!(
                    "{t}: expected near {e:?}, got {:?}",
                    got.iter().find(|(g, _)| g == t)
                ));
            }
        }
        assert!(want.len() >= 200);
        assert!(
            good as f64 >= 0.98 * want.len() as f64,
            "{flag:?}: {good} of {}: {misses:?}",
            want.len()
        );
        // Whole words in Poppler's layout mode, in order.
        let text_out = pdftotext(&out, 1);
        assert!(text_out.contains("great-grandfather"), "{text_out}");
        // Every word whole (a slanted text layer comes out of Poppler's layout
        // mode a character per line).
        let words = text_out.split_whitespace().collect::<Vec<_>>();
        let whole = words.iter().filter(|w| **w == "great-grandfather").count();
        assert!(whole >= 23, "{flag:?}: {whole} of 24:\n{text_out}");
        assert!(
            words.iter().filter(|w| **w == "Paris,").count() >= 23,
            "{text_out}"
        );
        if flag.is_none() {
            // Shown level, each line comes out of the layout mode whole.
            let lines = text_out.lines().filter(|l| l.trim() == line).count();
            assert!(lines >= 23, "{lines} of 24 lines whole:\n{text_out}");
        }
    }
}
