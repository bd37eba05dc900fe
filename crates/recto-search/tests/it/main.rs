//! The index on real tantivy folders: language analysis, the query
//! language, the citekey filter, replacement, snippets and word boxes.

use recto_page::{Block, Line, PageJson, Word};
use recto_search::{Lang, PageDoc, SearchIndex, SearchRequest};

fn doc(citekey: &str, page: u64, lang: Lang, text: &str) -> PageDoc {
    PageDoc {
        citekey: citekey.into(),
        job: "2026-01-01_00-00-00".into(),
        page,
        label: Some(format!("{}", page + 10)),
        lang,
        text: text.into(),
        json: format!("analytics/ocr/{citekey}/2026-01-01_00-00-00/page_{page:04}.json"),
        author: None,
        title: None,
        year: None,
    }
}

/// An index in `dir` holding `key`'s `pages`, committed and readable.
fn index_of(dir: &std::path::Path, key: &str, pages: &[PageDoc]) -> SearchIndex {
    let idx = SearchIndex::open(dir).unwrap();
    let mut w = idx.writer().unwrap();
    w.replace(key, pages).unwrap();
    w.commit().unwrap();
    idx.reload().unwrap();
    idx
}

fn library(dir: &std::path::Path) -> SearchIndex {
    let idx = SearchIndex::open(dir).unwrap();
    let mut w = idx.writer().unwrap();
    w.replace(
        "hartshorne1977",
        &[
            doc(
                "hartshorne1977",
                1,
                Lang::En,
                "Algebraic geometry begins with varieties.",
            ),
            doc(
                "hartshorne1977",
                2,
                Lang::En,
                "The Zariski topology on affine space is coarse.",
            ),
        ],
    )
    .unwrap();
    w.replace(
        "boehm2020",
        &[
            doc(
                "boehm2020",
                1,
                Lang::De,
                "Die Zariski-Topologie ist nicht hausdorffsch.",
            ),
            doc(
                "boehm2020",
                2,
                Lang::De,
                "Über die Hüllen abgeschlossener Mengen in Zürich.",
            ),
        ],
    )
    .unwrap();
    w.replace(
        "dupont1999",
        &[doc(
            "dupont1999",
            1,
            Lang::Fr,
            "Les topologies des espaces économiques.",
        )],
    )
    .unwrap();
    w.commit().unwrap();
    idx.reload().unwrap();
    idx
}

fn found(idx: &SearchIndex, q: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = idx
        .search(&SearchRequest::new(q))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| (h.citekey, h.page))
        .collect();
    v.sort();
    v
}

fn k(c: &str, p: u64) -> (String, u64) {
    (c.to_owned(), p)
}

#[test]
fn words_stems_accents_phrases_prefixes_and_booleans() {
    let dir = tempfile::tempdir().unwrap();
    let idx = library(dir.path());
    assert_eq!(idx.num_pages(), 5);
    // A word in two languages; the hyphenated German compound is found by
    // its parts.
    assert_eq!(
        found(&idx, "Zariski"),
        [k("boehm2020", 1), k("hartshorne1977", 2)]
    );
    assert_eq!(found(&idx, "Zariski-Topologie"), [k("boehm2020", 1)]);
    // Stemming: plural and singular meet, in English, French and German
    // (a query is analysed as each language would).
    assert_eq!(
        found(&idx, "topologies"),
        [
            k("boehm2020", 1),
            k("dupont1999", 1),
            k("hartshorne1977", 2)
        ]
    );
    assert_eq!(found(&idx, "variety"), [k("hartshorne1977", 1)]);
    // Accents folded: Zurich finds Zürich, economiques finds économiques.
    assert_eq!(found(&idx, "Zurich"), [k("boehm2020", 2)]);
    assert_eq!(found(&idx, "economiques"), [k("dupont1999", 1)]);
    // Phrases keep word order.
    assert_eq!(found(&idx, "\"affine space\""), [k("hartshorne1977", 2)]);
    assert!(found(&idx, "\"space affine\"").is_empty());
    // Prefixes.
    assert_eq!(found(&idx, "hausdorff*"), [k("boehm2020", 1)]);
    // AND by default, OR and NOT when asked.
    assert_eq!(found(&idx, "Zariski coarse"), [k("hartshorne1977", 2)]);
    assert_eq!(
        found(&idx, "coarse OR hausdorffsch"),
        [k("boehm2020", 1), k("hartshorne1977", 2)]
    );
    assert_eq!(found(&idx, "Zariski NOT coarse"), [k("boehm2020", 1)]);
    assert_eq!(found(&idx, "Zariski -coarse"), [k("boehm2020", 1)]);
}

#[test]
fn hits_have_labels_snippets_and_the_citekey_filter() {
    let dir = tempfile::tempdir().unwrap();
    let idx = library(dir.path());
    let mut req = SearchRequest::new("zariski");
    req.citekey = Some("hartshorne1977".into());
    let res = idx.search(&req).unwrap();
    assert_eq!(res.total, 1);
    let hit = &res.hits[0];
    assert_eq!((hit.citekey.as_str(), hit.page), ("hartshorne1977", 2));
    assert_eq!(hit.label.as_deref(), Some("12"));
    assert_eq!(hit.lang, Lang::En);
    assert!(hit.score > 0.0);
    assert!(
        hit.marked("[", "]")
            .starts_with("The [Zariski] topology on affine space"),
        "{}",
        hit.marked("[", "]")
    );
    assert!(hit.json.ends_with("page_0002.json"));
}

#[test]
fn replacing_a_citekey_drops_its_old_pages() {
    let dir = tempfile::tempdir().unwrap();
    let idx = library(dir.path());
    let mut w = idx.writer().unwrap();
    w.replace(
        "hartshorne1977",
        &[doc(
            "hartshorne1977",
            1,
            Lang::En,
            "A second edition about schemes.",
        )],
    )
    .unwrap();
    w.commit().unwrap();
    idx.reload().unwrap();
    assert_eq!(idx.num_pages(), 4);
    assert_eq!(found(&idx, "Zariski"), [k("boehm2020", 1)]);
    assert_eq!(found(&idx, "scheme"), [k("hartshorne1977", 1)]);
    // Reopened from disk: the same.
    drop(idx);
    let idx = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(idx.num_pages(), 4);
}

#[test]
fn matching_words_come_with_their_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let idx = library(dir.path());
    let res = idx
        .search(&SearchRequest::new("coarse hausd*"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(res.hits.is_empty(), "no page has both");
    let res = idx
        .search(&SearchRequest::new("topology OR hausd*"))
        .unwrap();
    let w = |t: &str, x: i32| Word {
        text: t.into(),
        bbox: [x, 10, x + 50, 30],
        confidence: Some(90.0),
    };
    let page = PageJson {
        blocks: vec![Block {
            bbox: [0, 0, 500, 40],
            lines: vec![Line::new(
                [0, 10, 500, 30],
                vec![
                    w("The", 0),
                    w("Topology,", 60),
                    w("Hausdorff", 120),
                    w("other", 180),
                ],
            )],
        }],
        ..serde_json::from_str(EMPTY_PAGE).unwrap()
    };
    let got = res.matcher.words(Lang::En, &page);
    let texts: Vec<&str> = got.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, ["Topology,", "Hausdorff"]);
    assert_eq!(got[0].bbox, [60, 10, 110, 30]);
}

#[test]
fn a_bad_query_and_an_index_of_another_version_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let idx = library(dir.path());
    let e = idx
        .search(&SearchRequest::new("publisher:foo"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("publisher:foo"), "{e}");
    drop(idx);
    std::fs::write(dir.path().join("recto-index-version"), "0").unwrap();
    let e = SearchIndex::open(dir.path()).unwrap_err().to_string();
    // It says the index must be built again (the CLI adds how: its hint).
    assert!(e.contains("must be built again"), "{e}");
}

const EMPTY_PAGE: &str = r#"{"schema_version":1,"citekey":"x","page":1,"page_count":1,"source":"ocr",
"width_pt":612,"height_pt":792,"width_px":2550,"height_px":3300,"dpi":300,"rotation":0,"text":"",
"mean_confidence":null,"blocks":[],"image":null,
"text_layer":{"chars":0,"garbage":0,"alnum_ratio":0.0,"usable":false,"reason":"x"},
"languages":"eng","engine":"tesseract","timings":{"text_layer_ms":0,"render_ms":0,"osd_ms":0,"ocr_ms":0,"image_ms":0,"total_ms":0}}"#;

/// Singular and plural find each other in French, as in English and
/// German (`baiser` / `baisers`, `cheval` / `chevaux`, `genou` / `genoux`).
#[test]
fn french_singular_and_plural_find_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let idx = index_of(
        dir.path(),
        "proust1913",
        &[
            doc(
                "proust1913",
                1,
                Lang::Fr,
                "Les baisers de ma mère et les chevaux du parc.",
            ),
            doc(
                "proust1913",
                2,
                Lang::Fr,
                "Un baiser, un genou, un journal.",
            ),
        ],
    );
    let pages = |q: &str| -> Vec<u64> {
        let mut v: Vec<u64> = found(&idx, q).into_iter().map(|(_, p)| p).collect();
        v.sort();
        v
    };
    assert_eq!(pages("baiser"), [1, 2]);
    assert_eq!(pages("baisers"), [1, 2]);
    assert_eq!(pages("cheval"), [1]);
    assert_eq!(pages("genoux"), [2]);
    assert_eq!(pages("journaux"), [2]);
}

/// `fuzzy`: a word one edit from the query's matches (an OCR error on the
/// page, or in the query), and its box is marked; without it, no hit.
#[test]
fn fuzzy_matching_finds_words_one_edit_away() {
    let dir = tempfile::tempdir().unwrap();
    let idx = index_of(
        dir.path(),
        "bebel1879",
        &[doc(
            "bebel1879",
            1,
            Lang::De,
            "Das ist selbstverständlich und klar.",
        )],
    );
    assert!(found(&idx, "selbstverstindlich").is_empty());
    let mut req = SearchRequest::new("selbstverstindlich");
    req.fuzzy = true;
    let res = idx.search(&req).unwrap();
    assert_eq!(res.hits.len(), 1);
    // The snippet shows the word the fuzzy query found, marked.
    assert!(
        res.hits[0]
            .marked("[", "]")
            .contains("[selbstverständlich]"),
        "{:?}",
        res.hits[0]
    );
    let w_at = |t: &str, x: i32| Word {
        text: t.into(),
        bbox: [x, 10, x + 50, 30],
        confidence: Some(90.0),
    };
    let page = PageJson {
        blocks: vec![Block {
            bbox: [0, 0, 500, 40],
            lines: vec![Line::new(
                [0, 10, 500, 30],
                vec![w_at("selbstverständlich", 10), w_at("klar", 60)],
            )],
        }],
        ..serde_json::from_str(EMPTY_PAGE).unwrap()
    };
    let words: Vec<String> = res
        .matcher
        .words(Lang::De, &page)
        .into_iter()
        .map(|w| w.text)
        .collect();
    assert_eq!(words, ["selbstverständlich"]);
    // Two edits away: still nothing.
    let mut req = SearchRequest::new("selbstverstundlech");
    req.fuzzy = true;
    assert!(idx.search(&req).unwrap().hits.is_empty());
}
