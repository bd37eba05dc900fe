//! `recto export --format hocr,alto`: every word and its box as
//! Tesseract's own hOCR and ALTO renderers give them for the same page,
//! and as the page JSON has them, read back with independent parsers.

use super::export::export_file;
use super::searchable::*;
use super::toc::{upload, write_pdf};
use super::{page_json, recto, stderr, stdout};
use recto_ocr::render::Pdf;
use recto_ocr::tess::GrayImage;
use recto_test_support::TestContext;

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
    // Page JSON boxes are whole pixels.
    let want: Vec<WordBox> = crate::page_words(&page)
        .into_iter()
        .map(|(t, b)| (t, b.map(|v| v as i64)))
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
