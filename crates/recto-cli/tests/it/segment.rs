//! `recto segment` on a generated book: units from its table of contents,
//! page numbers out of the text, Markdown per unit, the record; and the
//! error a user meets without a table of contents.

use recto_test_support::{TestContext, book_pdf};
use serde_json::Value;

use super::toc::{book, upload_and_ocr, write_pdf};
use super::{recto, stderr, stdout};

#[test]
fn a_book_is_cut_into_its_chapters_with_clean_text() {
    let ctx = TestContext::new();
    let pages = book("5");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    write_pdf(&ctx, "book2020", &book_pdf(&refs, &[], None));
    upload_and_ocr(&ctx, "book2020");
    let o = recto(&ctx, &["toc", "--quiet", "--citekeys", "book2020"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = recto(&ctx, &["segment", "--citekeys", "book2020"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("book2020: 4 units"), "{}", stdout(&o));
    let dir = ctx
        .data_dir()
        .join("analytics/segmentation/book2020/current");
    let seg: Value =
        serde_json::from_slice(&std::fs::read(dir.join("segments.json")).unwrap()).unwrap();
    let units: Vec<(String, Option<String>, u64, u64)> = seg["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["kind"].as_str().unwrap().to_owned(),
                u["title"].as_str().map(str::to_owned),
                u["first_page"].as_u64().unwrap(),
                u["last_page"].as_u64().unwrap(),
            )
        })
        .collect();
    let chapter = |t: &str, a, b| ("chapter".to_owned(), Some(t.to_owned()), a, b);
    assert_eq!(
        units,
        vec![
            ("front_matter".to_owned(), None, 1, 2),
            chapter("1 Introduction", 3, 4),
            chapter("2 Methods of Work", 5, 6),
            chapter("3 Results and Discussion", 7, 8),
        ]
    );
    // Every line has a role; the printed numbers are page numbers, the
    // contents page is contents.
    let roles = |p: usize| -> Vec<String> {
        seg["pages"][p - 1]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["role"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(roles(4).last().unwrap(), "page_number");
    assert_eq!(roles(2).iter().filter(|r| *r == "toc").count(), 4);
    assert_eq!(roles(3)[0], "heading");
    // Markdown per unit, with no page numbers in the text.
    // Named by its title, in order.
    let md = std::fs::read_to_string(dir.join("unit_002-1-introduction.md")).unwrap();
    assert!(md.starts_with("# 1 Introduction\n\n"), "{md}");
    assert!(md.contains("Ordinary prose line 11 of this page"), "{md}");
    assert!(
        !md.lines().any(|l| l.trim() == "1" || l.trim() == "2"),
        "{md}"
    );
    let doc = std::fs::read_to_string(dir.join("document.md")).unwrap();
    assert!(doc.contains("# 3 Results and Discussion"));

    // The record: from the TOC job, per citekey.
    let o = recto(&ctx, &["jobs", "list", "--step", "segmentation", "--json"]);
    let ids: Vec<String> = serde_json::from_str(&stdout(&o)).unwrap();
    let meta = super::step_meta(&ctx, "segmentation", ids.last().unwrap());
    assert_eq!(meta["status"], "completed");
    let per = &meta["per_citekey"]["book2020"];
    assert_eq!(per["units"], 4);
    assert!(per["lines"]["page_number"].as_u64().unwrap() >= 6, "{per}");
}

#[test]
fn without_a_table_of_contents_the_error_names_the_step_to_run() {
    let ctx = TestContext::new();
    write_pdf(
        &ctx,
        "lonely",
        &book_pdf(&["Some text on a page"], &[], None),
    );
    upload_and_ocr(&ctx, "lonely");
    let o = recto(&ctx, &["segment", "--citekeys", "lonely"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("lonely has no toc result yet"), "{err}");
    assert!(err.contains("recto toc --citekeys lonely"), "{err}");
}
