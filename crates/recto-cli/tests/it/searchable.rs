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

use super::toc::{book, upload, write_pdf};
use super::{page_json, recto, stderr, stdout, stored_object};

pub(crate) const W: f32 = 300.0;
pub(crate) const H: f32 = 400.0;
pub(crate) const DPI: u32 = 200;

/// Every line has an ascender and a descender, so the ink of each line
/// spans the font's box (the layer's font is sized to the line).
pub(crate) const PAGES: [&str; 5] = [
    "A born-digital preface\nkept its own text layer\nwhich nobody reads again.",
    "Scanned chapter typeset\nplainly by the Gutenberg\npress and kept upright.",
    "The second scan was put\nupside down into the\nscanner, by mistake.",
    "A third scan lying flat\non its side, typed by\nthe great-grandfather.",
    "The last page is shown\nupright by the Rotate key\nof the page dictionary.",
];

pub(crate) fn tool(name: &str) -> Command {
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
pub(crate) fn one_scan(img: &GrayImage) -> Vec<u8> {
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
pub(crate) fn tight_scan(dir: &Path, lines: &[&str]) -> Vec<u8> {
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
pub(crate) fn poppler_words(pdf: &Path, page: usize) -> Vec<(String, [f64; 4])> {
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

pub(crate) fn pdftotext(pdf: &Path, page: usize) -> String {
    pdftotext_with(pdf, page, &[])
}

pub(crate) fn pdftotext_with(pdf: &Path, page: usize, flags: &[&str]) -> String {
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
pub(crate) fn cer(got: &str, want: &str) -> f64 {
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

pub(crate) fn exported(ctx: &TestContext, key: &str) -> PathBuf {
    ctx.data_dir()
        .join("analytics/export")
        .join(key)
        .join("current")
        .join(format!("{key}.pdf"))
}

/// `recto export --format pdf --citekeys KEYS EXTRA.. --quiet`, which must
/// succeed.
pub(crate) fn export_pdf(ctx: &TestContext, keys: &str, extra: &[&str]) {
    let mut args = vec!["export", "--format", "pdf", "--citekeys", keys];
    args.extend(extra);
    args.push("--quiet");
    let o = recto(ctx, &args);
    assert!(o.status.success(), "{}", stderr(&o));
}

pub(crate) fn export_meta(ctx: &TestContext) -> Value {
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
pub(crate) fn words_on_the_ink(ctx: &TestContext, out: &Path, as_scanned: bool) {
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
    write_pdf(
        &ctx,
        "own2020",
        &book_pdf(&refs, &own, Some("[0 << /S /A >>]")),
    );
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
    // ... and the printed labels the TOC step read, as /PageLabels (the
    // source had none): a reader's `p. 3` is the page printed 3.
    let labels: Vec<Option<String>> = serde_json::from_value(toc["page_labels"].clone()).unwrap();
    assert!(labels.iter().filter(|l| l.is_some()).count() >= 3, "{toc}");
    let written = Pdf::open(&exported(&ctx, "book2020"), None)
        .unwrap()
        .page_labels()
        .expect("the copy has /PageLabels");
    let want: Vec<String> = labels
        .iter()
        .map(|l| l.clone().unwrap_or_default())
        .collect();
    assert_eq!(written, want);
    assert_eq!(
        rec["pdf"]["page_labels_added"],
        labels.iter().filter(|l| l.is_some()).count()
    );

    let own_outline = Pdf::open(&exported(&ctx, "own2020"), None)
        .unwrap()
        .outline()
        .unwrap();
    assert_eq!(own_outline.len(), 1);
    assert_eq!(own_outline[0].title, "Its own outline");
    assert_eq!(m["per_citekey"]["own2020"]["pdf"]["bookmarks_added"], 0);
    // The source's own labels are never overwritten.
    let kept = Pdf::open(&exported(&ctx, "own2020"), None)
        .unwrap()
        .page_labels()
        .unwrap();
    assert_eq!(&kept[..3], ["A", "B", "C"]);
    assert_eq!(m["per_citekey"]["own2020"]["pdf"]["page_labels_added"], 0);

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
    let ocr: Vec<(String, [f64; 4])> = crate::page_words(&page)
        .into_iter()
        .map(|(t, b)| (t, b.map(|v| v * scale)))
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
