//! `recto run` and `recto watch`: one command takes new PDFs of a .bib all
//! the way to search, each step recorded as if typed.

use std::process::Stdio;

use recto_test_support::{TestContext, text_pdf};
use serde_json::Value;

use crate::{recto, recto_command, stderr, stdout};

/// A .bib entry for `key`, its PDF written beside the .bib.
fn entry(ctx: &TestContext, key: &str, text: &str) -> String {
    let pdf = ctx.root().join(format!("pdfs/{key}.pdf"));
    std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
    std::fs::write(&pdf, text_pdf(&[text])).unwrap();
    format!(
        "@book{{{key}, title = {{{key}}}, file = {{{}}}}}\n",
        pdf.display()
    )
}

fn hits(ctx: &TestContext, word: &str) -> Vec<String> {
    let o = recto(ctx, &["search", word, "--json"]);
    if !o.status.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    v["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["citekey"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn run_takes_new_pdfs_of_a_bib_through_the_whole_pipeline() {
    let ctx = TestContext::new();
    let bib = ctx.root().join("library.bib");
    let mut text = entry(&ctx, "alpha2001", "Gardening tools of the monastery.");
    text.push_str("@book{gone2002, title = {Gone}, file = {/nowhere/gone.pdf}}\n");
    std::fs::write(&bib, &text).unwrap();
    let pipeline = "ocr,sync_ocr,toc,segmentation,export";
    let run = |ctx: &TestContext| {
        recto(
            ctx,
            &[
                "--pipeline",
                pipeline,
                "run",
                "--bib",
                bib.to_str().unwrap(),
                "--lang",
                "eng",
            ],
        )
    };
    let o = run(&ctx);
    // The missing file is a partial upload; everything else went through.
    assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for cmd in [
        "upload --bib",
        "ocr --pending",
        "sync-ocr --job-id",
        "toc --pending",
        "segment --pending",
        "export --pending --format pdf",
        "index",
    ] {
        assert!(out.contains(&format!("==> recto {cmd}")), "{cmd}: {out}");
    }
    let status = recto(&ctx, &["--pipeline", pipeline, "status", "--json"]);
    let states: Value = serde_json::from_slice(&status.stdout).unwrap();
    let alpha = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["citekey"] == "alpha2001")
        .unwrap();
    assert_eq!(alpha["state"], "done", "{alpha}");
    assert_eq!(alpha["steps"].as_array().unwrap().len(), 5);
    assert!(
        ctx.data_dir()
            .join("analytics/export/alpha2001/current/alpha2001.pdf")
            .exists()
    );
    assert_eq!(hits(&ctx, "monastery"), ["alpha2001"]);

    // A new entry: the next run takes only it.
    text.push_str(&entry(&ctx, "beta2003", "Orchards and their keepers."));
    std::fs::write(&bib, &text).unwrap();
    let o = run(&ctx);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let job = stdout(&recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]));
    let jobs: Vec<String> = serde_json::from_str(&job).unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let meta = crate::step_meta(&ctx, "ocr", &jobs[1]);
    assert_eq!(meta["citekeys"]["list"], serde_json::json!(["beta2003"]));
    assert_eq!(hits(&ctx, "orchards"), ["beta2003"]);

    // Nothing new: each step says so, nothing is recorded.
    let o = run(&ctx);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
    let job = stdout(&recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]));
    assert_eq!(serde_json::from_str::<Vec<String>>(&job).unwrap().len(), 2);
}

#[test]
fn watch_makes_a_pdf_added_to_the_bib_searchable() {
    let ctx = TestContext::new();
    let bib = ctx.root().join("library.bib");
    let mut text = entry(&ctx, "first2001", "Beekeeping in the valley.");
    std::fs::write(&bib, &text).unwrap();
    let mut child = recto_command(
        &ctx,
        &[
            "watch",
            "--bib",
            bib.to_str().unwrap(),
            "--lang",
            "eng",
            "--interval",
            "0.2",
        ],
        &[],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let wait_for = |word: &str, key: &str| {
        let t = std::time::Instant::now();
        while hits(&ctx, word) != [key] {
            assert!(t.elapsed().as_secs() < 180, "{word} never found");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    wait_for("beekeeping", "first2001");
    // Zotero adds an item: the PDF first, then the auto-exported .bib.
    text.push_str(&entry(&ctx, "second2002", "Vineyards after the frost."));
    std::fs::write(&bib, &text).unwrap();
    wait_for("vineyards", "second2002");
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    // Stopped while waiting (exit 0), or mid-step (130, recorded): never
    // killed without a word.
    assert!(matches!(status.code(), Some(0 | 130)), "{status:?}: {out}");
    let jobs = stdout(&recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]));
    assert_eq!(serde_json::from_str::<Vec<String>>(&jobs).unwrap().len(), 2);
}

/// recto.toml's `[sources]`: the .bib and its path map, so `recto run`
/// needs no flag on a library exported on another machine.
#[test]
fn run_reads_its_sources_from_recto_toml() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("Zotero/storage/AB12/far2020.pdf");
    std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
    std::fs::write(&pdf, text_pdf(&["Written far away, read here."])).unwrap();
    std::fs::write(
        ctx.root().join("library.bib"),
        "@book{far2020, title = {Far}, file = {/Users/someone/Zotero/storage/AB12/far2020.pdf}}\n",
    )
    .unwrap();
    std::fs::write(
        ctx.root().join("recto.toml"),
        format!(
            "[sources]\nbib = \"library.bib\"\nbib_path_map = [\"/Users/someone/Zotero={}\"]\n",
            ctx.root().join("Zotero").display()
        ),
    )
    .unwrap();
    let o = recto(&ctx, &["run", "--lang", "eng"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(hits(&ctx, "away"), ["far2020"]);
}
