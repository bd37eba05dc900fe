//! The searchable PDF of real and skewed scans: the corpus's scans pass
//! the checks, a skewed two-column page reads column by column, a levelled
//! scan keeps its words on the ink whether it is shown level or askew.

use super::searchable::*;
use super::toc::{upload, write_pdf};
use super::{page_json, recto, stderr, stdout};
use recto_ocr::render::Pdf;
use recto_test_support::{TestContext, text_pdf_sized};
use std::path::Path;
use std::process::Command;

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
