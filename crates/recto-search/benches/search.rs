//! Search benchmark: a 100,000-page index made by replicating the corpus's
//! ground-truth pages (../shared/corpus/gt, real OCR'd page texts in three
//! languages) under new citekeys; indexing throughput, index size per
//! 1,000 pages, and query latency (p50/p95/max over words, phrases,
//! prefixes, booleans and a citekey filter, 20 hits with snippets), side
//! by side with SQLite FTS5 (the engine of Zotero-style word indexes) on
//! the same pages and queries.
//!
//!   cargo bench -p recto-search --bench search          (PAGES=100000)

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use recto_search::{Lang, PageDoc, SearchIndex, SearchRequest};

fn corpus_pages() -> Option<Vec<(Lang, String)>> {
    let dir = std::env::var("CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    let mut pages = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("gt"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let lang = if name.contains("_de_") {
            Lang::De
        } else if name.contains("_fr_") {
            Lang::Fr
        } else {
            Lang::En
        };
        let text = std::fs::read_to_string(&f).unwrap();
        pages.extend(
            text.split('\u{c}')
                .filter(|p| p.trim().len() > 50)
                .map(|p| (lang, p.to_owned())),
        );
    }
    Some(pages)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize)
        .saturating_sub(1)
        .min(sorted.len() - 1)]
}

fn main() {
    // `cargo test` runs this too (without `--bench`): a small smoke run.
    let benching = std::env::args().any(|a| a == "--bench");
    let default = if benching { 100_000 } else { 2_000 };
    let n: usize = std::env::var("PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let Some(pages) = corpus_pages().filter(|p| !p.is_empty()) else {
        println!("search bench skipped: no corpus ground truth (../shared/corpus/gt or CORPUS)");
        return;
    };
    let per_key = pages.len();
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(&dir.path().join("idx")).unwrap();
    let docs: Vec<PageDoc> = (0..n)
        .map(|i| {
            let (lang, text) = &pages[i % per_key];
            PageDoc {
                citekey: format!("rep{:06}", i / per_key),
                job: "2026-01-01_00-00-00".into(),
                page: (i % per_key + 1) as u64,
                label: Some(format!("{}", i % per_key + 1)),
                lang: *lang,
                text: text.clone(),
                json: String::new(),
                author: None,
                title: None,
                year: None,
            }
        })
        .collect();
    let chars: usize = docs.iter().map(|d| d.text.len()).sum();

    let t = Instant::now();
    let mut w = index.writer().unwrap();
    for chunk in docs.chunks(per_key) {
        w.replace(&chunk[0].citekey, chunk).unwrap();
    }
    w.commit().unwrap();
    index.reload().unwrap();
    let t_index = t.elapsed().as_secs_f64();
    let size: u64 = walk_size(&dir.path().join("idx"));

    // SQLite FTS5 on the same pages (unicode61 tokenizer with diacritics
    // removed, Porter stemming: its closest analysis).
    let db = rusqlite::Connection::open(dir.path().join("fts.sqlite")).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
         CREATE VIRTUAL TABLE pages USING fts5(citekey UNINDEXED, page UNINDEXED, text,
           tokenize = 'porter unicode61 remove_diacritics 2');",
    )
    .unwrap();
    let t = Instant::now();
    {
        let tx = db.unchecked_transaction().unwrap();
        {
            let mut ins = tx.prepare("INSERT INTO pages VALUES (?1, ?2, ?3)").unwrap();
            for d in &docs {
                ins.execute(rusqlite::params![d.citekey, d.page, d.text])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let t_fts = t.elapsed().as_secs_f64();
    let fts_size = std::fs::metadata(dir.path().join("fts.sqlite"))
        .unwrap()
        .len();

    // Queries: (recto, FTS5) pairs.
    let queries: Vec<(String, String)> = vec![
        ("Sequencer", "Sequencer"),
        ("Zariski", "Zariski"),
        ("Topologie", "Topologie"),
        ("raison", "raison"),
        ("Vernunft", "Vernunft"),
        ("the", "the"),
        ("timing correction", "timing correction"),
        ("\"timing correction\"", "\"timing correction\""),
        ("\"la guerre\"", "\"la guerre\""),
        ("sequenc*", "sequenc*"),
        ("hausdorff*", "hausdorff*"),
        ("Raft OR river", "Raft OR river"),
        ("river NOT Raft", "river NOT Raft"),
        ("Huckleberry Finn", "Huckleberry Finn"),
        ("Paris", "Paris"),
        ("Menschen", "Menschen"),
        ("\"der Mensch\"", "\"der Mensch\""),
        ("Maschine", "Maschine"),
        ("typewriter OR machine", "typewriter OR machine"),
        ("xyzzyplugh", "xyzzyplugh"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let rounds = 5;
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut filtered = Vec::new();
    let mut stmt = db
        .prepare("SELECT citekey, page, snippet(pages, 2, '[', ']', '…', 20) FROM pages WHERE pages MATCH ?1 ORDER BY rank LIMIT 20")
        .unwrap();
    for round in 0..rounds {
        for (q, fq) in &queries {
            let t = Instant::now();
            let res = index.search(&SearchRequest::new(q)).unwrap();
            ours.push(t.elapsed().as_secs_f64() * 1000.0);
            if round == 0 {
                println!("  {q:<26} {:>7} pages", res.total);
            }
            let t = Instant::now();
            let rows: Vec<(String, i64, String)> = stmt
                .query_map([fq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            theirs.push(t.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(rows);
            let mut req = SearchRequest::new(q);
            req.citekey = Some(format!("rep{:06}", round * 7));
            let t = Instant::now();
            std::hint::black_box(index.search(&req).unwrap());
            filtered.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    for v in [&mut ours, &mut theirs, &mut filtered] {
        v.sort_by(f64::total_cmp);
    }
    println!();
    println!(
        "{n} pages ({} distinct corpus pages x {} citekeys), {:.1} MB of text",
        per_key,
        n.div_ceil(per_key),
        chars as f64 / 1e6
    );
    println!();
    println!(
        "| engine | indexing s | pages/s | size per 1,000 pages | query p50 ms | p95 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| recto (tantivy) | {t_index:.1} | {:.0} | {:.2} MB | {:.2} | {:.2} | {:.2} |",
        n as f64 / t_index,
        size as f64 / 1e6 / (n as f64 / 1000.0),
        percentile(&ours, 0.5),
        percentile(&ours, 0.95),
        ours[ours.len() - 1]
    );
    println!(
        "| recto, one citekey | | | | {:.2} | {:.2} | {:.2} |",
        percentile(&filtered, 0.5),
        percentile(&filtered, 0.95),
        filtered[filtered.len() - 1]
    );
    println!(
        "| SQLite FTS5 | {t_fts:.1} | {:.0} | {:.2} MB | {:.2} | {:.2} | {:.2} |",
        n as f64 / t_fts,
        fts_size as f64 / 1e6 / (n as f64 / 1000.0),
        percentile(&theirs, 0.5),
        percentile(&theirs, 0.95),
        theirs[theirs.len() - 1]
    );
    println!(
        "\nratios recto / FTS5: indexing time {:.2}x, query p95 {:.2}x",
        t_index / t_fts,
        percentile(&ours, 0.95) / percentile(&theirs, 0.95)
    );
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        walk_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
