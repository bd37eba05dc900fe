//! The page engine on real PDFs: generated fixtures with known text,
//! broken, encrypted and huge ones.

use std::path::{Path, PathBuf};

use recto_ocr::image::rotate_cw;
use recto_ocr::page::{PageJson, TextSource};
use recto_ocr::render::Pdf;
use recto_ocr::{DocTask, Mode, OcrConfig, PageObserver, run};
use recto_test_support::{
    TestContext, encrypted_pdf, image_pdf, runs_pdf, text_pdf, text_pdf_sized,
};

struct Quiet;
impl PageObserver for Quiet {}

const TEXT: &str = "Recto reads every page\nof the scholarly library\nQuick brown foxes jump\nover seventeen lazy dogs";

fn cfg() -> OcrConfig {
    OcrConfig {
        languages: "eng".into(),
        dpi: 200,
        workers: 2,
        ..OcrConfig::default()
    }
}

/// An image-only PDF showing `img` at `dpi` (rows packed, stride dropped).
fn scan_pdf(img: &recto_ocr::tess::GrayImage, dpi: u32) -> Vec<u8> {
    let packed: Vec<u8> = (0..img.height as usize)
        .flat_map(|y| img.data[y * img.stride..][..img.width as usize].to_vec())
        .collect();
    image_pdf(&packed, img.width, img.height, dpi)
}

/// A scanned-looking PDF of `TEXT`, turned clockwise by `turn` degrees.
fn scan_fixture(dir: &Path, name: &str, turn: u16) -> PathBuf {
    let born = dir.join(format!("{name}-born.pdf"));
    std::fs::write(&born, text_pdf(&[TEXT])).unwrap();
    let pdf = Pdf::open(&born, None).unwrap();
    let img = rotate_cw(&pdf.page(1).unwrap().render_gray(200).unwrap(), turn);
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, scan_pdf(&img, 200)).unwrap();
    path
}

fn task(ctx: &TestContext, key: &str, pdf: PathBuf) -> DocTask {
    DocTask {
        citekey: key.into(),
        pdf,
        password: None,
        out_dir: ctx.root().join("out").join(key),
        languages: None,
        pages: None,
    }
}

fn page_json(t: &DocTask, page: usize) -> PageJson {
    serde_json::from_slice(&std::fs::read(t.out_dir.join(format!("page_{page:04}.json"))).unwrap())
        .unwrap()
}

fn words(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[test]
fn text_layer_pages_skip_ocr() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("born.pdf");
    std::fs::write(
        &pdf,
        text_pdf(&[TEXT, "A second page with enough words to count as text."]),
    )
    .unwrap();
    let t = task(&ctx, "born2020", pdf);
    let reports = run(std::slice::from_ref(&t), &cfg(), &Quiet);
    assert!(reports[0].error.is_none(), "{:?}", reports[0].error);
    assert_eq!(reports[0].page_count, 2);
    let p1 = page_json(&t, 1);
    assert_eq!(p1.source, TextSource::TextLayer);
    assert_eq!(words(&p1.text), words(TEXT));
    assert_eq!(p1.page_count, 2);
    assert_eq!((p1.width_pt, p1.height_pt), (612.0, 792.0));
    assert_eq!((p1.width_px, p1.height_px), (1700, 2200));
    let w = &p1.blocks[0].lines[0].words[0];
    assert_eq!(w.text, "Recto");
    // 72 pt from the left, at 200 dpi: x0 = 200.
    assert!((195..=205).contains(&w.bbox[0]), "{:?}", w.bbox);
    assert!(w.confidence.is_none());
    let img = p1.image.as_ref().unwrap();
    assert!(t.out_dir.join(&img.file).is_file());
    let full = std::fs::read_to_string(t.out_dir.join("fulltext.txt")).unwrap();
    assert_eq!(full.split('\u{c}').count(), 2);
}

#[test]
fn scanned_pages_are_ocred_and_turned_upright() {
    let ctx = TestContext::new();
    let upright = task(&ctx, "scan0", scan_fixture(ctx.root(), "scan0", 0));
    let turned = task(&ctx, "scan90", scan_fixture(ctx.root(), "scan90", 90));
    let reports = run(&[upright.clone(), turned.clone()], &cfg(), &Quiet);
    assert!(
        reports
            .iter()
            .all(|r| r.error.is_none() && r.pages.iter().all(|p| p.result.is_ok())),
        "{reports:?}"
    );
    for (t, rotation) in [(&upright, 0), (&turned, 270)] {
        let p = page_json(t, 1);
        assert_eq!(p.source, TextSource::Ocr, "{}", t.citekey);
        assert_eq!(p.rotation, rotation, "{}: {:?}", t.citekey, p.osd);
        let got = words(&p.text);
        for w in [
            "recto",
            "reads",
            "every",
            "page",
            "library",
            "quick",
            "brown",
            "foxes",
            "seventeen",
            "lazy",
            "dogs",
        ] {
            assert!(got.contains(w), "{}: {w:?} missing from {got:?}", t.citekey);
        }
        assert!(p.mean_confidence.unwrap() > 70.0);
        assert!(p.blocks[0].lines[0].words[0].confidence.is_some());
    }
    // Upright after turning: the page is portrait again.
    let p = page_json(&turned, 1);
    assert!(p.height_px > p.width_px);
}

#[test]
fn force_ocr_and_text_layer_only() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("born.pdf");
    std::fs::write(&pdf, text_pdf(&[TEXT])).unwrap();
    let t = task(&ctx, "forced", pdf.clone());
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            mode: Mode::ForceOcr,
            ..cfg()
        },
        &Quiet,
    );
    assert_eq!(page_json(&t, 1).source, TextSource::Ocr);
    let scan = scan_fixture(ctx.root(), "s", 0);
    let t = task(&ctx, "layeronly", scan);
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            mode: Mode::TextLayerOnly,
            ..cfg()
        },
        &Quiet,
    );
    let p = page_json(&t, 1);
    // Recorded as a page without text, not passed off as an empty text page.
    assert_eq!(p.source, TextSource::NoText);
    assert_eq!(p.text, "");
    assert!(!p.text_layer.usable);
}

#[test]
fn resume_keeps_valid_pages_and_redoes_the_rest() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("three.pdf");
    std::fs::write(
        &pdf,
        text_pdf(&[
            TEXT,
            "Page two has its own words here.",
            "And page three closes the book.",
        ]),
    )
    .unwrap();
    let t = task(&ctx, "resume", pdf);
    run(std::slice::from_ref(&t), &cfg(), &Quiet);
    // Page 2 lost, page 3 truncated as by a crash without atomic writes.
    std::fs::remove_file(t.out_dir.join("page_0002.json")).unwrap();
    let p3 = t.out_dir.join("page_0003.json");
    let bytes = std::fs::read(&p3).unwrap();
    std::fs::write(&p3, &bytes[..bytes.len() / 2]).unwrap();
    let r = run(std::slice::from_ref(&t), &cfg(), &Quiet);
    let resumed: Vec<bool> = r[0]
        .pages
        .iter()
        .map(|p| p.result.as_ref().unwrap().resumed)
        .collect();
    assert_eq!(resumed, [true, false, false]);
    assert_eq!(page_json(&t, 3).page, 3);
    // A different resolution is a different result: nothing is reused.
    let r = run(
        std::slice::from_ref(&t),
        &OcrConfig { dpi: 100, ..cfg() },
        &Quiet,
    );
    assert!(
        r[0].pages
            .iter()
            .all(|p| !p.result.as_ref().unwrap().resumed)
    );
}

#[test]
fn broken_and_encrypted_files_fail_with_reasons() {
    let ctx = TestContext::new();
    let write = |name: &str, bytes: &[u8]| {
        let p = ctx.root().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = write("good.pdf", &text_pdf(&[TEXT]));
    let empty = write("empty.pdf", b"");
    let header_only = write("header_only.pdf", b"%PDF-1.4\n%%EOF\n");
    let four = text_pdf(&[TEXT, "second page", "third page", "fourth page"]);
    let truncated = write("truncated.pdf", &four[..four.len() * 55 / 100]);
    let encrypted = write(
        "encrypted.pdf",
        &encrypted_pdf(&text_pdf(&[TEXT]), "openpassword"),
    );
    let tasks = vec![
        task(&ctx, "header_only", header_only),
        task(&ctx, "truncated", truncated),
        task(&ctx, "encrypted", encrypted.clone()),
        task(&ctx, "empty", empty),
        task(&ctx, "good", good),
    ];
    let reports = run(&tasks, &cfg(), &Quiet);
    let err = |i: usize| {
        reports[i]
            .error
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    assert!(err(0).contains("header_only.pdf"), "{}", err(0));
    // The library says what is wrong and names no command-line flag: its
    // callers (the CLI, Python) add their own hints.
    assert!(
        err(2).contains("encrypted") && err(2).contains("encrypted.pdf"),
        "{}",
        err(2)
    );
    assert!(!err(2).contains("--"), "{}", err(2));
    assert!(err(3).contains("empty.pdf"), "{}", err(3));
    // The truncated file either cannot be opened or loses pages: never silent.
    let truncated = &reports[1];
    assert!(
        truncated.error.is_some() || truncated.pages.iter().any(|p| p.result.is_err()),
        "{truncated:?}"
    );
    assert!(reports[4].error.is_none(), "{:?}", reports[4].error);
    assert!(reports[4].pages.iter().all(|p| p.result.is_ok()));

    let mut enc = task(&ctx, "encrypted_ok", encrypted);
    enc.password = Some("wrong".into());
    let r = run(std::slice::from_ref(&enc), &cfg(), &Quiet);
    assert!(
        matches!(r[0].error, Some(recto_ocr::OcrError::WrongPassword { .. })),
        "{:?}",
        r[0].error
    );
    enc.password = Some("openpassword".into());
    let r = run(std::slice::from_ref(&enc), &cfg(), &Quiet);
    assert!(r[0].error.is_none(), "{:?}", r[0].error);
    assert!(r[0].pages[0].result.is_ok());
    assert!(words(&page_json(&enc, 1).text).contains("scholarly library"));
}

#[test]
fn huge_pages_are_rendered_under_the_megapixel_cap() {
    // 200 x 200 inches: 3.6 gigapixels at 300 dpi, which Leptonica refuses
    // and which used to take the process down. Under the cap it is read at
    // the highest resolution that fits, recorded as used.
    let ctx = TestContext::new();
    let pdf = ctx.root().join("poster.pdf");
    std::fs::write(&pdf, text_pdf_sized(&[TEXT], 14400.0, 14400.0)).unwrap();
    let other = ctx.root().join("other.pdf");
    std::fs::write(&other, text_pdf(&[TEXT])).unwrap();
    let t = task(&ctx, "poster", pdf.clone());
    let cfg = OcrConfig { dpi: 300, ..cfg() };
    // Text layer: the page image alone would be 400 MP at 100 dpi.
    let r = run(&[t.clone(), task(&ctx, "other", other)], &cfg, &Quiet);
    assert!(r[0].pages[0].result.is_ok(), "{:?}", r[0]);
    assert!(r[1].pages[0].result.is_ok(), "the other document goes on");
    let j = page_json(&t, 1);
    let img = j.image.as_ref().unwrap();
    assert!(
        f64::from(img.width) * f64::from(img.height) <= cfg.max_megapixels * 1e6,
        "{img:?}"
    );
    assert_eq!((j.dpi, j.requested_dpi), (50, Some(300)));
    assert!(words(&j.text).contains("scholarly library"));
    // OCR of the same page under a small cap: boxes at the resolution used.
    let t = DocTask {
        out_dir: ctx.root().join("out/poster-ocr"),
        ..task(&ctx, "poster", pdf)
    };
    let small = OcrConfig {
        mode: Mode::ForceOcr,
        max_megapixels: 4.0,
        detect_rotation: false,
        ..cfg
    };
    let r = run(std::slice::from_ref(&t), &small, &Quiet);
    assert!(r[0].pages[0].result.is_ok(), "{:?}", r[0]);
    let j = page_json(&t, 1);
    assert_eq!(
        j.dpi,
        recto_ocr::capped_dpi(14400.0, 14400.0, 300, 4.0).unwrap()
    );
    assert!(f64::from(j.width_px) * f64::from(j.height_px) <= 4e6);
    assert!(
        j.blocks
            .iter()
            .flat_map(|b| &b.lines)
            .all(|l| l.bbox[2] <= j.width_px as i32)
    );
}

#[test]
fn capped_dpi_keeps_pages_under_the_limit() {
    use recto_ocr::capped_dpi;
    assert_eq!(capped_dpi(612.0, 792.0, 300, 100.0), Some(300));
    assert_eq!(capped_dpi(14400.0, 14400.0, 300, 100.0), Some(50));
    let letter_6000 = capped_dpi(612.0, 792.0, 6000, 100.0).unwrap();
    let px = |d: u32| (612.0 * d as f64 / 72.0).ceil() * (792.0 * d as f64 / 72.0).ceil();
    assert!(px(letter_6000) <= 100e6 && px(letter_6000 + 1) > 100e6);
    assert_eq!(capped_dpi(0.0, 792.0, 300, 100.0), None);
    assert_eq!(capped_dpi(f32::NAN, 792.0, 300, 100.0), None);
    assert_eq!(capped_dpi(f32::INFINITY, 792.0, 300, 100.0), None);
}

#[test]
fn unknown_language_is_refused_before_work() {
    let err = recto_ocr::validate_languages(&OcrConfig {
        languages: "eng+xxx".into(),
        ..cfg()
    })
    .unwrap_err();
    assert!(err.to_string().contains("xxx"), "{err}");
    recto_ocr::validate_languages(&OcrConfig {
        languages: "eng+deu+fra".into(),
        ..cfg()
    })
    .unwrap();
}

#[test]
fn a_page_over_its_time_limit_fails_alone() {
    let ctx = TestContext::new();
    let slow = task(&ctx, "slow", scan_fixture(ctx.root(), "slow", 0));
    let born_pdf = ctx.root().join("born.pdf");
    std::fs::write(&born_pdf, text_pdf(&[TEXT])).unwrap();
    let fine = task(&ctx, "fine", born_pdf);
    let cfg = OcrConfig {
        page_timeout: Some(std::time::Duration::from_millis(1)),
        detect_rotation: false,
        ..cfg()
    };
    let r = run(&[slow.clone(), fine], &cfg, &Quiet);
    let why = r[0].pages[0].result.as_ref().unwrap_err();
    assert!(why.to_string().contains("time limit"), "{why}");
    assert!(
        !slow.out_dir.join("page_0001.json").exists(),
        "a failed page leaves no JSON"
    );
    assert!(r[1].pages[0].result.is_ok());
}

#[test]
fn text_layer_words_are_not_fused_across_gaps_or_interleaved_runs() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("thesis.pdf");
    // A body line in two runs with a margin note drawn between them on the
    // same baseline, then a table row whose cells touch no space character.
    std::fs::write(
        &pdf,
        runs_pdf(&[
            (72.0, 700.0, "Der Unterschied zwischen den Matrikelnum"),
            (480.0, 700.0, "headline"),
            (300.29, 700.0, "mern ist klein."),
            // 1.6 pt apart (Helvetica 12: "unterschied" is 62.03 pt wide,
            // "brit" 16.67 pt): pdftotext reads these apart, and so must we.
            (72.0, 650.0, "unterschied"),
            (72.0 + 62.03 + 1.6, 650.0, "10bp"),
            (200.0, 650.0, "brit"),
            (200.0 + 16.67 + 1.6, 650.0, "american"),
        ]),
    )
    .unwrap();
    let t = task(&ctx, "thesis", pdf);
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            mode: Mode::TextLayerOnly,
            ..cfg()
        },
        &Quiet,
    );
    let p = page_json(&t, 1);
    let words: Vec<&str> = p
        .blocks
        .iter()
        .flat_map(|b| &b.lines)
        .flat_map(|l| &l.words)
        .map(|w| w.text.as_str())
        .collect();
    for fused in [
        "unterschied10bp",
        "britamerican",
        "Matrikelnumheadline",
        "headlinemern",
    ] {
        assert!(
            !words.iter().any(|w| w.contains(fused)),
            "{fused} in {words:?}"
        );
    }
    for w in ["unterschied", "10bp", "brit", "american", "headline"] {
        assert!(words.contains(&w), "{w} missing from {words:?}");
    }
}

#[test]
fn a_finer_scan_is_read_at_its_own_resolution() {
    let ctx = TestContext::new();
    // The text page as a 600 dpi grayscale scan.
    let born = ctx.root().join("born.pdf");
    std::fs::write(&born, text_pdf(&[TEXT])).unwrap();
    let img = Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(600)
        .unwrap();
    let scan = ctx.root().join("scan600.pdf");
    std::fs::write(&scan, scan_pdf(&img, 600)).unwrap();
    assert_eq!(
        Pdf::open(&scan, None).unwrap().page(1).unwrap().scan_dpi(),
        Some(600)
    );
    let t = task(&ctx, "fine", scan.clone());
    let cfg = OcrConfig {
        dpi: 200,
        detect_rotation: false,
        ..cfg()
    };
    run(std::slice::from_ref(&t), &cfg, &Quiet);
    let p = page_json(&t, 1);
    assert_eq!((p.dpi, p.requested_dpi), (600, Some(200)));
    assert_eq!(p.width_px, 5100);
    assert!(words(&p.text).contains("scholarly library"), "{}", p.text);
    // Turned off, the configured resolution is used.
    let t = DocTask {
        out_dir: ctx.root().join("out/coarse"),
        ..task(&ctx, "coarse", scan)
    };
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            native_resolution: false,
            ..cfg
        },
        &Quiet,
    );
    assert_eq!(page_json(&t, 1).dpi, 200);
}

#[test]
fn a_skewed_scan_is_levelled_and_read() {
    let ctx = TestContext::new();
    let born = ctx.root().join("born.pdf");
    // A full page of full-width lines, as a scanned book page is.
    let line = "Recto reads every page of the scholarly library, quick brown foxes jump over dogs";
    let long_text = vec![line; 36].join("\n");
    std::fs::write(&born, text_pdf(&[&long_text])).unwrap();
    let page = Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(200)
        .unwrap();
    for angle in [1.5f32, -2.0] {
        // Lines descending by `angle` degrees, as a scanner feeds a page.
        let img = recto_ocr::deskew::rotate_level(&page, -angle);
        let name = format!("skew{angle}");
        let scan = ctx.root().join(format!("{name}.pdf"));
        std::fs::write(&scan, scan_pdf(&img, 200)).unwrap();
        let t = task(&ctx, &name, scan);
        run(
            std::slice::from_ref(&t),
            &OcrConfig {
                detect_rotation: false,
                ..cfg()
            },
            &Quiet,
        );
        let p = page_json(&t, 1);
        let skew = p.skew.as_ref().expect("skew recorded");
        assert!((skew.degrees - angle).abs() <= 0.2, "{angle}: {skew:?}");
        assert!(skew.applied, "{skew:?}");
        assert!(
            words(&p.text).contains("quick brown foxes jump"),
            "{}",
            p.text
        );
    }
    // Turned off: nothing measured, nothing applied.
    let t = DocTask {
        out_dir: ctx.root().join("out/plain"),
        ..task(&ctx, "plain", scan_fixture(ctx.root(), "plain", 0))
    };
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            deskew: false,
            ..cfg()
        },
        &Quiet,
    );
    assert_eq!(page_json(&t, 1).skew, None);
}

#[test]
fn a_low_confidence_page_is_read_again_the_other_way() {
    let ctx = TestContext::new();
    // A page upside down, with the orientation detector's answer not
    // trusted (threshold out of reach): the first reading is upside down
    // and poor (Tesseract reads sideways lines by itself, not inverted
    // ones); the retry with the detector's candidate reads it upright.
    let t = task(&ctx, "turned", scan_fixture(ctx.root(), "turned", 180));
    let cfg = OcrConfig {
        osd_min_confidence: 1000.0,
        ..cfg()
    };
    let r = run(std::slice::from_ref(&t), &cfg, &Quiet);
    let summary = r[0].pages[0].result.as_ref().unwrap();
    assert!(summary.retried);
    let p = page_json(&t, 1);
    let retry = p.retry.as_ref().expect("retry recorded");
    assert!(retry.kept_retry, "{retry:?}");
    assert!(retry.confidence_retry > retry.confidence_first, "{retry:?}");
    assert_eq!(p.rotation, 180);
    assert!(p.osd.as_ref().unwrap().applied);
    assert!(
        words(&p.text).contains("quick brown foxes jump"),
        "{}",
        p.text
    );
    // Without the retry, the sideways reading stays.
    let t = DocTask {
        out_dir: ctx.root().join("out/noretry"),
        ..task(&ctx, "noretry", scan_fixture(ctx.root(), "noretry", 180))
    };
    run(
        std::slice::from_ref(&t),
        &OcrConfig {
            retry_low_confidence: false,
            ..cfg
        },
        &Quiet,
    );
    let p = page_json(&t, 1);
    assert_eq!((p.rotation, p.retry.is_none()), (0, true));
}

#[test]
fn a_low_confidence_page_is_read_again_with_the_other_binarisation() {
    let ctx = TestContext::new();
    // Faint grey ink on grey paper: a page whose orientation is not in
    // doubt (detection off), read again with Sauvola when its confidence
    // is under the bar (set out of reach here, so every page is).
    let born = ctx.root().join("faint-born.pdf");
    std::fs::write(&born, text_pdf(&[TEXT])).unwrap();
    let mut img = Pdf::open(&born, None)
        .unwrap()
        .page(1)
        .unwrap()
        .render_gray(200)
        .unwrap();
    for v in img.data.iter_mut() {
        *v = 150 + (u16::from(*v) * 70 / 255) as u8;
    }
    let path = ctx.root().join("faint.pdf");
    std::fs::write(&path, scan_pdf(&img, 200)).unwrap();
    let t = task(&ctx, "faint", path);
    let cfg = OcrConfig {
        detect_rotation: false,
        retry_below: 101.0,
        ..cfg()
    };
    run(std::slice::from_ref(&t), &cfg, &Quiet);
    let p = page_json(&t, 1);
    let retry = p.retry.as_ref().expect("retry recorded");
    assert_eq!(retry.tried, "binarisation sauvola");
    // The better reading by confidence is the one kept, and it says so.
    assert_eq!(
        retry.kept_retry,
        retry.confidence_retry > retry.confidence_first,
        "{retry:?}"
    );
    let kept = if retry.kept_retry {
        retry.confidence_retry
    } else {
        retry.confidence_first
    };
    assert_eq!(p.mean_confidence, Some(kept));
    let method = p.binarisation.as_ref().unwrap().method.as_str();
    assert_eq!(method, if retry.kept_retry { "sauvola" } else { "otsu" });
    assert!(words(&p.text).contains("quick brown"), "{}", p.text);

    // A bilevel scan binarises the same either way: no retry is spent on it.
    let mut bw = img.clone();
    for v in bw.data.iter_mut() {
        *v = if *v < 185 { 0 } else { 255 };
    }
    let path = ctx.root().join("bilevel.pdf");
    std::fs::write(&path, scan_pdf(&bw, 200)).unwrap();
    let t = task(&ctx, "bilevel", path);
    run(std::slice::from_ref(&t), &cfg, &Quiet);
    assert_eq!(page_json(&t, 1).retry, None);
}

/// The Hunspell dictionaries setup installs answer for their languages.
#[test]
fn installed_dictionaries_know_their_words() {
    use recto_lexicon::{Dictionaries, default_dir};
    let dicts = Dictionaries::new(&default_dir());
    if dicts.get("fr_FR").is_none() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED: no fr_FR Hunspell dictionary (scripts/setup.sh installs hunspell-fr)"
            );
        }
        return;
    }
    assert!(dicts.knows("fra", "haleine"));
    assert!(!dicts.knows("fra", "haleïine"));
    assert!(dicts.knows("eng+fra", "Besoin"));
    assert!(!dicts.knows("eng", "haleine"));
}
