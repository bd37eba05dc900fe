//! `recto index` and `recto search` on generated text-layer PDFs: hits with
//! pages and word boxes, incremental indexing, the rebuild, the errors.

use recto_test_support::{TestContext, text_pdf};
use serde_json::Value;

use super::toc::{upload_and_ocr, write_pdf};
use super::{recto, stderr, stdout};

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn hits(ctx: &TestContext, q: &[&str]) -> Vec<(String, u64)> {
    let mut args = vec!["search", "--json"];
    args.extend_from_slice(q);
    json(&recto(ctx, &args))["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["citekey"].as_str().unwrap().to_owned(),
                h["page"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn library(ctx: &TestContext) {
    write_pdf(
        ctx,
        "hartshorne1977",
        &text_pdf(&[
            "Algebraic geometry begins with varieties\nover an algebraically closed field.",
            "The Zariski topology on affine space\nis coarse, and Zariski knew it.",
        ]),
    );
    write_pdf(
        ctx,
        "boehm2020",
        &text_pdf(&[
            "Die Zariski-Topologie ist nicht hausdorffsch,\nsagt man in Zuerich und Muenchen.",
        ]),
    );
    upload_and_ocr(ctx, "hartshorne1977,boehm2020");
}

#[test]
fn search_finds_pages_with_their_words_boxes() {
    let ctx = TestContext::new();
    library(&ctx);
    // No index yet: said so.
    let o = recto(&ctx, &["search", "zariski"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("run `recto index`"), "{}", stderr(&o));

    let out = json(&recto(&ctx, &["index", "--json"]));
    assert_eq!(out["pages"], 3);
    assert_eq!(out["pages_in_index"], 3);
    assert_eq!(out["unchanged"], 0);

    let mut both = hits(&ctx, &["Zariski"]);
    both.sort();
    assert_eq!(
        both,
        [
            ("boehm2020".to_owned(), 1),
            ("hartshorne1977".to_owned(), 2)
        ]
    );
    let res = json(&recto(
        &ctx,
        &["search", "--json", "Zariski", "--citekey", "hartshorne1977"],
    ));
    let hit = &res["hits"][0];
    assert_eq!(res["total"], 1);
    assert_eq!(
        (hit["citekey"].as_str(), hit["page"].as_u64()),
        (Some("hartshorne1977"), Some(2))
    );
    let words: Vec<&str> = hit["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["Zariski", "Zariski"]);
    // The first "Zariski" is the line's second word, 72 pt + "The " from
    // the left at 300 dpi: its box starts past x = 300.
    let b: Vec<i64> = hit["words"][0]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(b[0] > 300 && b[2] > b[0] && b[3] > b[1], "{b:?}");
    assert!(hit["marked"].as_str().unwrap().contains("[[Zariski]]"));
    // The query language: phrases, prefixes, NOT, stems, folded accents.
    assert_eq!(
        hits(&ctx, &["\"affine space\""]),
        [("hartshorne1977".to_owned(), 2)]
    );
    assert!(hits(&ctx, &["\"space affine\""]).is_empty());
    assert_eq!(hits(&ctx, &["hausdorff*"]), [("boehm2020".to_owned(), 1)]);
    assert_eq!(
        hits(&ctx, &["Zariski", "NOT", "coarse"]),
        [("boehm2020".to_owned(), 1)]
    );
    assert_eq!(hits(&ctx, &["variety"]), [("hartshorne1977".to_owned(), 1)]);
    // The plain output: the item, a line per page, the snippet marked.
    let o = recto(&ctx, &["search", "coarse"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("hartshorne1977\n  page 2"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("[[coarse]]"), "{}", stdout(&o));
    // A query recto cannot read: exit 2, the query named.
    let o = recto(&ctx, &["search", "publisher:foo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("publisher:foo"));
}

#[test]
fn indexing_is_incremental_and_rebuilt_with_the_registry() {
    let ctx = TestContext::new();
    library(&ctx);
    json(&recto(&ctx, &["index", "--json"]));
    let again = json(&recto(&ctx, &["index", "--json"]));
    assert_eq!(again["indexed"].as_array().unwrap().len(), 0);
    assert_eq!(again["unchanged"], 2);
    // A new OCR result for one citekey: only it is indexed again.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--quiet",
            "--citekeys",
            "boehm2020",
            "--lang",
            "deu",
            "--mode",
            "force-ocr",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = json(&recto(&ctx, &["index", "--json"]));
    assert_eq!(after["indexed"], serde_json::json!(["boehm2020"]));
    assert_eq!(after["pages_in_index"], 3);
    // Derived data: deleted, then rebuilt by `recto registry rebuild`.
    let dir = ctx.data_dir().join(".recto/search");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let o = recto(&ctx, &["registry", "rebuild"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("rebuilt the search index: 3 pages"),
        "{}",
        stdout(&o)
    );
    assert_eq!(hits(&ctx, &["coarse"]), [("hartshorne1977".to_owned(), 2)]);
    // --rebuild from nothing.
    let r = json(&recto(&ctx, &["index", "--rebuild", "--json"]));
    assert_eq!(r["pages"], 3);
}

/// Words broken at a line end, or at a page's foot, are found whole, and
/// both halves on the page are marked; a real hyphen before a capital is
/// kept.
#[test]
fn words_broken_at_line_ends_are_found_whole() {
    let ctx = TestContext::new();
    write_pdf(
        &ctx,
        "garden1900",
        &text_pdf(&[
            "Die Hilfs-\nwerkzeuge der Gaertner-\narbeit sind Marx-\nEngels fremd. Sie ent-",
            "falten sich im Fruehjahr.",
        ]),
    );
    upload_and_ocr(&ctx, "garden1900");
    json(&recto(&ctx, &["index", "--json"]));
    for (word, page) in [
        ("hilfswerkzeuge", 1),
        ("gaertnerarbeit", 1),
        ("entfalten", 1),
    ] {
        assert_eq!(
            hits(&ctx, &[word]),
            [("garden1900".to_owned(), page)],
            "{word}"
        );
    }
    let v = json(&recto(&ctx, &["search", "--json", "hilfswerkzeuge"]));
    let words: Vec<&str> = v["hits"][0]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["Hilfs-", "werkzeuge"]);
    // `Marx-` / `Engels`: not a broken word.
    assert!(hits(&ctx, &["marxengels"]).is_empty());
    assert_eq!(hits(&ctx, &["engels"]).len(), 1);
}

/// The .bib's author, title and year: searchable as fields, shown with
/// hits (grouped by item), in `status` and `show`; an edited entry is
/// indexed again.
#[test]
fn bibliographic_fields_come_from_the_bib_and_are_everywhere() {
    let ctx = TestContext::new();
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bebel.pdf"),
        text_pdf(&["Die Frau war von jeher abhaengig.", "Die Arbeit der Frau."]),
    )
    .unwrap();
    std::fs::write(dir.join("kant.pdf"), text_pdf(&["Die Frau bei Kant."])).unwrap();
    let bib = ctx.root().join("library.bib");
    let write_bib = |title: &str| {
        std::fs::write(
            &bib,
            format!(
                "@book{{bebel1879, author = {{Bebel, August}}, title = {{{title}}}, year = {{1879}}, file = {{{}}}}}\n\
                 @book{{kant1798, author = {{Immanuel Kant}}, title = {{Anthropologie}}, date = {{1798-01}}, file = {{{}}}}}\n",
                dir.join("bebel.pdf").display(),
                dir.join("kant.pdf").display()
            ),
        )
        .unwrap();
    };
    write_bib("Die {Frau} und der Sozialismus");
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = recto(&ctx, &["ocr", "--pending", "--lang", "deu", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    json(&recto(&ctx, &["index", "--json"]));
    assert_eq!(hits(&ctx, &["author:bebel", "frau"]).len(), 2);
    assert_eq!(hits(&ctx, &["author:kant"]), [("kant1798".to_owned(), 1)]);
    assert_eq!(hits(&ctx, &["year:1798"]), [("kant1798".to_owned(), 1)]);
    assert_eq!(hits(&ctx, &["title:sozialismus"]).len(), 2);
    // Grouped by item, with who and what.
    let out = stdout(&recto(&ctx, &["search", "frau"]));
    assert!(
        out.contains("bebel1879 — Bebel 1879, Die Frau und der Sozialismus\n  page "),
        "{out}"
    );
    assert!(
        out.contains("kant1798 — Kant 1798, Anthropologie\n  page 1"),
        "{out}"
    );
    assert_eq!(out.matches("bebel1879").count(), 1, "{out}");
    let v = json(&recto(&ctx, &["search", "--json", "anthropologie OR kant"]));
    assert_eq!(v["hits"][0]["bib"]["author"], "Immanuel Kant", "{v}");
    // status and show.
    let out = stdout(&recto(&ctx, &["status"]));
    assert!(
        out.contains("[Bebel 1879, Die Frau und der Sozialismus]"),
        "{out}"
    );
    let s = json(&recto(&ctx, &["status", "kant1798", "--json"]));
    assert_eq!(s[0]["bib"]["year"], "1798");
    let out = stdout(&recto(&ctx, &["show", "bebel1879"]));
    assert!(
        out.contains(
            "  author: Bebel, August\n  title: Die Frau und der Sozialismus\n  year: 1879"
        ),
        "{out}"
    );
    // An edited title: the next upload records it, the index takes it.
    write_bib("Die Frau in der Vergangenheit");
    let o = recto(&ctx, &["upload", "--bib", bib.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = json(&recto(&ctx, &["index", "--json"]));
    assert_eq!(
        again["indexed"],
        serde_json::json!(["bebel1879"]),
        "{again}"
    );
    assert_eq!(hits(&ctx, &["title:vergangenheit"]).len(), 2);
    // One citekey's fields come from its newest upload.
    let out = stdout(&recto(&ctx, &["show", "bebel1879"]));
    assert!(
        out.contains("  title: Die Frau in der Vergangenheit\n"),
        "{out}"
    );
    let s = json(&recto(&ctx, &["status", "bebel1879", "--json"]));
    assert_eq!(s[0]["bib"]["title"], "Die Frau in der Vergangenheit");
    assert!(hits(&ctx, &["title:sozialismus"]).is_empty());
}
