//! `recto export` on a generated book: text, Markdown (by page, then from
//! segmentation), hOCR and ALTO carrying every word of the page JSON with
//! boxes in the pixels of the page image each page names; the record; a
//! format not built yet is refused.

use recto_test_support::{TestContext, book_pdf};
use serde_json::Value;

use super::toc::{book, upload_and_ocr, write_pdf};
use super::{page_json, recto, stderr, stdout};

/// The text of `file` in the citekey's current export.
pub(crate) fn export_file(ctx: &TestContext, key: &str, file: &str) -> String {
    let p = ctx
        .data_dir()
        .join("analytics/export")
        .join(key)
        .join("current")
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"))
}

#[test]
fn every_format_carries_the_page_json() {
    let ctx = TestContext::new();
    let pages = book("5");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "book2020", &book_pdf(&refs, &[], None));
    upload_and_ocr(&ctx, "book2020");

    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "txt,md,hocr,alto",
            "--citekeys",
            "book2020",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files = out["per_citekey"]["book2020"]["files"].as_object().unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "book2020.alto.xml",
            "book2020.hocr",
            "book2020.md",
            "book2020.txt"
        ]
    );

    // Text: what `recto text` prints.
    let text = stdout(&recto(&ctx, &["text", "book2020"]));
    assert_eq!(
        export_file(&ctx, "book2020", "book2020.txt"),
        text.trim_end_matches('\n')
    );
    // Markdown without segmentation: a section per page.
    let md = export_file(&ctx, "book2020", "book2020.md");
    assert!(md.starts_with("## Page 1\n\nA Book About Things"), "{md}");
    assert!(md.contains("## Page 8\n"), "{md}");

    // hOCR and ALTO: one word element per word of the page JSON, boxes in
    // the page image's pixels.
    let ocr_job = {
        let o = recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]);
        let ids: Vec<String> = serde_json::from_str(&stdout(&o)).unwrap();
        ids.last().unwrap().clone()
    };
    let mut words = 0;
    let mut first_word = None;
    for n in 1..=8 {
        let p = page_json(&ctx, "book2020", &ocr_job, n);
        for b in p["blocks"].as_array().unwrap() {
            for l in b["lines"].as_array().unwrap() {
                for w in l["words"].as_array().unwrap() {
                    words += 1;
                    if first_word.is_none() {
                        first_word = Some((p.clone(), w.clone()));
                    }
                }
            }
        }
    }
    let hocr = export_file(&ctx, "book2020", "book2020.hocr");
    assert_eq!(hocr.matches("class=\"ocrx_word\"").count(), words);
    assert_eq!(hocr.matches("class=\"ocr_page\"").count(), 8);
    let alto = export_file(&ctx, "book2020", "book2020.alto.xml");
    assert_eq!(alto.matches("<String ").count(), words);
    assert!(alto.contains("<MeasurementUnit>pixel</MeasurementUnit>"));
    let (p, w) = first_word.unwrap();
    let s = p["image"]["dpi"].as_f64().unwrap() / p["dpi"].as_f64().unwrap();
    let b: Vec<i64> = w["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() * s).round() as i64)
        .collect();
    let image = p["image"]["file"].as_str().unwrap();
    let (iw, ih) = (
        p["image"]["width"].as_u64().unwrap(),
        p["image"]["height"].as_u64().unwrap(),
    );
    assert!(
        hocr.contains(&format!(
            // The image name's quotes escaped inside the attribute.
            "title=\"image &quot;{image}&quot;; bbox 0 0 {iw} {ih}; ppageno 0\""
        )),
        "{}",
        &hocr[..800]
    );
    assert!(
        hocr.contains(&format!(
            "title=\"bbox {} {} {} {}\">{}</span>",
            b[0],
            b[1],
            b[2],
            b[3],
            w["text"].as_str().unwrap()
        )),
        "{}",
        &hocr[..1500]
    );
    assert!(alto.contains(&format!(
        "CONTENT=\"{}\" HPOS=\"{}\" VPOS=\"{}\" WIDTH=\"{}\" HEIGHT=\"{}\"",
        w["text"].as_str().unwrap(),
        b[0],
        b[1],
        b[2] - b[0],
        b[3] - b[1]
    )));

    // The record.
    let job = out["job_id"].as_str().unwrap();
    let meta = super::step_meta(&ctx, "export", job);
    assert_eq!(meta["status"], "completed");
    assert_eq!(meta["source_job_id"], ocr_job.as_str());
    assert_eq!(
        meta["formats"],
        serde_json::json!(["txt", "md", "hocr", "alto"])
    );

    // With a segmentation, the Markdown is its document.
    assert!(
        recto(&ctx, &["toc", "-q", "--citekeys", "book2020"])
            .status
            .success()
    );
    assert!(
        recto(&ctx, &["segment", "-q", "--citekeys", "book2020"])
            .status
            .success()
    );
    let o = recto(
        &ctx,
        &["export", "-q", "--format", "md", "--citekeys", "book2020"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = export_file(&ctx, "book2020", "book2020.md");
    assert!(md.contains("# 1 Introduction\n"), "{md}");
}

#[test]
fn an_unknown_format_is_refused_before_any_job() {
    let ctx = TestContext::new();
    let o = recto(&ctx, &["export", "--format", "docx", "--citekeys", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not one of pdf, txt, md, hocr, alto"),
        "{}",
        stderr(&o)
    );
}

/// Each format's newest file stays at one stable path: a later export in
/// another format does not hide it (`current/` keeps each file of the job
/// that wrote it last).
#[test]
fn current_keeps_each_format_of_the_job_that_wrote_it_last() {
    let ctx = TestContext::new();
    let pages = book("3");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "book2020", &book_pdf(&refs, &[], None));
    upload_and_ocr(&ctx, "book2020");
    let export = |formats: &str| -> String {
        let args = [
            "export",
            "--format",
            formats,
            "--citekeys",
            "book2020",
            "--json",
        ];
        let v = super::shard::json_of(&recto(&ctx, &args));
        v["job_id"].as_str().unwrap().to_owned()
    };
    let first = export("txt,md");
    let txt = export_file(&ctx, "book2020", "book2020.txt");
    let second = export("hocr");
    let current = ctx.data_dir().join("analytics/export/book2020/current");
    let target = |f: &str| std::fs::read_link(current.join(f)).unwrap();
    let of = |job: &str, f: &str| std::path::Path::new("..").join(job).join(f);
    assert_eq!(target("book2020.txt"), of(&first, "book2020.txt"));
    assert_eq!(target("book2020.hocr"), of(&second, "book2020.hocr"));
    assert_eq!(export_file(&ctx, "book2020", "book2020.txt"), txt);
    assert!(export_file(&ctx, "book2020", "book2020.hocr").contains("ocr_page"));
    // A newer text export moves only the text.
    let third = export("txt");
    assert_eq!(target("book2020.txt"), of(&third, "book2020.txt"));
    assert_eq!(target("book2020.hocr"), of(&second, "book2020.hocr"));
}

/// `--flat DIR`: every exported file as DIR/<citekey>.<ext>, replaced in
/// place by a later export, other files left alone, no temporary left.
#[test]
fn flat_writes_one_folder_to_link_from_zotero() {
    let ctx = TestContext::new();
    let pages = book("3");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "book2020", &book_pdf(&refs, &[], None));
    write_pdf(&ctx, "other2021", &book_pdf(&refs[..1], &[], None));
    upload_and_ocr(&ctx, "book2020,other2021");
    let flat = ctx.root().join("Zotero-linked");
    let dir = flat.to_str().unwrap();
    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "pdf,txt",
            "--citekeys",
            "book2020,other2021",
            "--flat",
            dir,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("4 files written to {dir}")),
        "{}",
        stdout(&o)
    );
    let mut names: Vec<String> = std::fs::read_dir(&flat)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "book2020.pdf",
            "book2020.txt",
            "other2021.pdf",
            "other2021.txt"
        ]
    );
    // The flat file is the export's bytes, a copy (not a link into data/).
    let recorded = export_file(&ctx, "book2020", "book2020.txt");
    assert_eq!(
        std::fs::read_to_string(flat.join("book2020.txt")).unwrap(),
        recorded
    );
    assert!(!flat.join("book2020.txt").is_symlink());
    // A later export of one citekey replaces only its file.
    std::fs::write(flat.join("book2020.txt"), "edited by hand").unwrap();
    let before = std::fs::read(flat.join("other2021.txt")).unwrap();
    let o = recto(
        &ctx,
        &[
            "export",
            "--format",
            "txt",
            "--citekeys",
            "book2020",
            "--flat",
            dir,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(flat.join("book2020.txt")).unwrap(),
        recorded
    );
    assert_eq!(std::fs::read(flat.join("other2021.txt")).unwrap(), before);
    assert_eq!(std::fs::read_dir(&flat).unwrap().count(), 4);
}
