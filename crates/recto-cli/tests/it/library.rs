//! The library view through the binary: `recto status`, `recto text`,
//! `recto show`, `--json` outcomes, and `jobs status` naming citekeys that
//! are not done.

use recto_test_support::{TestContext, text_pdf};
use serde_json::Value;

use crate::{recto, stderr, stdout};

fn write_pdfs(ctx: &TestContext, dir: &str, files: &[(&str, &str)]) -> String {
    let d = ctx.root().join(dir);
    std::fs::create_dir_all(&d).unwrap();
    for (k, text) in files {
        std::fs::write(d.join(format!("{k}.pdf")), text_pdf(&[text])).unwrap();
    }
    d.to_str().unwrap().to_owned()
}

fn json(o: &std::process::Output) -> Value {
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 3),
        "{}",
        stderr(o)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn status_text_and_show_answer_per_citekey() {
    let ctx = TestContext::new();
    // No data directory yet: said so, not an empty answer.
    let o = recto(&ctx, &["status"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("no data directory"), "{}", stderr(&o));
    let o = recto(&ctx, &["jobs", "list"]);
    assert_eq!(o.status.code(), Some(4));

    let dir = write_pdfs(
        &ctx,
        "a",
        &[
            ("linn1985", "The LinnSequencer, a composition tool."),
            ("smith2020", "Smith's paper on the library view."),
            ("doe2019", "Doe's paper, never processed here."),
        ],
    );
    let up = json(&recto(&ctx, &["upload", "--from", &dir, "--json"]));
    assert_eq!(up["uploaded"], 3);
    assert_eq!(up["status"], "completed");
    let src = up["job_id"].as_str().unwrap().to_owned();
    let ocr = json(&recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "linn1985,smith2020",
            "--lang",
            "eng",
            "--json",
        ],
    ));
    assert_eq!(ocr["status"], "completed");
    assert_eq!(ocr["citekeys"]["successful"], 2);
    let job = ocr["job_id"].as_str().unwrap().to_owned();
    assert!(
        ocr["per_citekey"]["linn1985"]["dir"]
            .as_str()
            .unwrap()
            .ends_with(&format!("linn1985/{job}"))
    );

    // The upload job's status names the citekey that was never OCRed.
    let st = json(&recto(&ctx, &["jobs", "status", &src, "--json"]));
    assert_eq!(st["steps_completed"], serde_json::json!(["ocr"]));
    assert_eq!(
        st["citekeys_missing"]["ocr"],
        serde_json::json!([["doe2019", "pending"]])
    );
    let human = stdout(&recto(&ctx, &["jobs", "status", &src]));
    assert!(
        human.contains("not done:  ocr: doe2019 (pending)"),
        "{human}"
    );

    // Per citekey, with a summary line.
    let o = recto(&ctx, &["status", "--step", "ocr"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(&format!("ocr done ({job}, 1 page)")), "{out}");
    assert!(
        out.contains("doe2019") && out.contains("ocr pending"),
        "{out}"
    );
    assert!(out.ends_with("3 citekeys: 2 done, 1 pending\n"), "{out}");
    // The library in figures.
    let out = stdout(&recto(&ctx, &["status", "--summary"]));
    assert!(out.starts_with("3 citekeys: "), "{out}");
    assert!(out.contains("2 pages read; "), "{out}");
    assert!(out.contains("OCR CPU hours over 1 OCR job\n"), "{out}");
    let ocr_line = out
        .lines()
        .find(|l| l.ends_with("  analytics/ocr"))
        .unwrap();
    assert!(!ocr_line.trim().starts_with("0 B"), "{out}");
    assert!(out.lines().any(|l| l.ends_with("  store")), "{out}");

    // A changed PDF makes the OCR result outdated.
    let dir2 = write_pdfs(
        &ctx,
        "b",
        &[("smith2020", "Smith's paper, second edition.")],
    );
    json(&recto(&ctx, &["upload", "--from", &dir2, "--json"]));
    let s = json(&recto(
        &ctx,
        &["status", "smith2020", "--step", "ocr", "--json"],
    ));
    assert_eq!(s[0]["state"], "outdated");
    assert!(
        s[0]["steps"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("newer version"),
        "{s}"
    );

    // A typo: not found, with the nearest known citekey.
    let o = recto(&ctx, &["status", "linn1958"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).contains("unknown citekey \"linn1958\" (did you mean linn1985?)"),
        "{}",
        stderr(&o)
    );

    // The text at hand, and where everything is.
    let o = recto(&ctx, &["text", "linn1985"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("LinnSequencer"), "{}", stdout(&o));
    let md = stdout(&recto(
        &ctx,
        &["text", "linn1985", "--markdown", "--pages", "1"],
    ));
    assert!(md.starts_with("## Page 1\n\n"), "{md}");
    let o = recto(&ctx, &["text", "doe2019"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("no ocr result yet"), "{}", stderr(&o));
    assert_eq!(
        recto(&ctx, &["text", "linn1985", "--pages", "2-1"])
            .status
            .code(),
        Some(2)
    );
    let current = ctx.data_dir().join("analytics/ocr/linn1985/current");
    assert_eq!(
        std::fs::read_link(&current).unwrap().to_str(),
        Some(job.as_str())
    );
    let show = json(&recto(&ctx, &["show", "linn1985", "--json"]));
    assert_eq!(show["current"]["ocr"]["job_id"], job.as_str());
    let records = show["records"].as_array().unwrap();
    assert!(records.iter().any(|r| {
        r["original_file"]
            .as_str()
            .is_some_and(|f| f.ends_with("a/linn1985.pdf"))
    }));
    assert!(
        records
            .iter()
            .any(|r| r["dir"].as_str().is_some_and(|d| d.ends_with(&job)))
    );
}

#[test]
fn ctrl_c_records_interrupted_and_says_how_to_resume() {
    let ctx = TestContext::new();
    let long = crate::ocr::long_pdf(&ctx, 400);
    let dir = ctx.root().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&long, dir.join("long.pdf")).unwrap();
    json(&recto(
        &ctx,
        &["upload", "--from", dir.to_str().unwrap(), "--json"],
    ));
    // Held after 10 pages: interrupted mid-run on any machine.
    let hold = recto_test_support::Hold::new(&ctx, "ocr-page", 10);
    let child = crate::spawn_slow_ocr(&ctx, "long", &[hold.env()]);
    crate::wait_for_pages(&ctx, "long", 10);
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    assert!(
        stderr(&o).contains(&format!("to finish it: recto ocr --resume {job}")),
        "{}",
        stderr(&o)
    );
    let m: Value = crate::step_meta(&ctx, "ocr", &job);
    assert_eq!(
        (m["status"].as_str(), m["interrupted"].as_bool()),
        (Some("failed"), Some(true))
    );
    let list = stdout(&recto(&ctx, &["jobs", "list"]));
    assert!(list.contains(&format!("{job}  ocr: interrupted")), "{list}");
    let s = json(&recto(&ctx, &["status", "long", "--step", "ocr", "--json"]));
    assert_eq!(s[0]["state"], "interrupted");
    // And it resumes to completion.
    let o = recto(&ctx, &["ocr", "--resume", &job, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&recto(&ctx, &["status", "long", "--step", "ocr", "--json"]));
    assert_eq!(s[0]["state"], "done");
}

#[test]
fn upload_walks_folders_and_explains_what_it_cannot_take() {
    let ctx = TestContext::new();
    // Zotero's storage: one folder per item.
    let storage = ctx.root().join("Zotero/storage");
    for (item, name) in [("AB12CD34", "smith2020"), ("EF56GH78", "Dupont 1962")] {
        std::fs::create_dir_all(storage.join(item)).unwrap();
        std::fs::write(
            storage.join(item).join(format!("{name}.pdf")),
            text_pdf(&[&format!("The paper {name}, long enough.")]),
        )
        .unwrap();
    }
    let o = recto(&ctx, &["upload"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--from") && stderr(&o).contains("--bib"),
        "{}",
        stderr(&o)
    );
    let from = storage.to_str().unwrap();
    let o = recto(&ctx, &["upload", "--from", from, "--no-recursive"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("2 are in its subfolders"),
        "{}",
        stderr(&o)
    );
    let o = recto(&ctx, &["upload", "--from", from, "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let up: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(up["uploaded"], 1);
    let why = up["failures"]["Dupont 1962"].as_str().unwrap();
    assert!(why.contains("rename it (e.g. Dupont_1962.pdf)"), "{why}");

    // Language names get their code; a malformed list is a usage error.
    let o = recto(
        &ctx,
        &["ocr", "--citekeys", "smith2020", "--lang", "french"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown language \"french\": use fra"),
        "{}",
        stderr(&o)
    );
    let o = recto(&ctx, &["ocr", "--citekeys", "smith2020", "--lang", "fra+"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn whole_library_runs_across_upload_batches() {
    let ctx = TestContext::new();
    let a = write_pdfs(
        &ctx,
        "batch1",
        &[
            ("alpha2001", "Alpha's paper, in the first batch."),
            ("twin2002", "A paper filed under two citekeys."),
        ],
    );
    let b = write_pdfs(
        &ctx,
        "batch2",
        &[
            ("beta2003", "Beta's paper, in the second batch."),
            ("twin2004", "A paper filed under two citekeys."),
        ],
    );
    let first = json(&recto(&ctx, &["upload", "--from", &a, "--json"]))["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = json(&recto(&ctx, &["upload", "--from", &b, "--json"]))["job_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A dry run says what would be done and records nothing.
    let dry = json(&recto(&ctx, &["ocr", "--pending", "--dry-run", "--json"]));
    assert_eq!(dry["citekeys"].as_array().unwrap().len(), 4);
    // No OCR job here yet: the estimate's rate is the default.
    assert_eq!(dry["calibrated_from"], "default");
    assert_eq!(
        (dry["pages"].as_u64(), dry["pages_text_layer"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(!ctx.data_dir().join("analytics/ocr").exists());

    // Citekeys from a file, across both batches, each from its own upload.
    std::fs::write(
        ctx.root().join("keys.txt"),
        "alpha2001\n# a comment\n\nbeta2003\n",
    )
    .unwrap();
    let o = json(&recto(
        &ctx,
        &[
            "ocr",
            "--citekeys-from",
            ctx.root().join("keys.txt").to_str().unwrap(),
            "--lang",
            "eng",
            "--json",
        ],
    ));
    let job = o["job_id"].as_str().unwrap().to_owned();
    let m: Value = crate::step_meta(&ctx, "ocr", &job);
    assert_eq!(m["sources"]["alpha2001"], first.as_str());
    assert_eq!(m["sources"]["beta2003"], second.as_str());
    assert_eq!(m["source_job_id"], second.as_str(), "the newest upload");
    assert_eq!(m["source_job_ids"], serde_json::json!([first, second]));

    // --pending takes the rest; the identical PDFs are read once.
    let o = json(&recto(
        &ctx,
        &["ocr", "--pending", "--lang", "eng", "--json"],
    ));
    assert_eq!(o["citekeys"]["total"], 2);
    let twin_job = o["job_id"].as_str().unwrap().to_owned();
    let per = &o["per_citekey"];
    let (t1, t2) = (&per["twin2002"], &per["twin2004"]);
    assert_eq!(t2["same_as"], "twin2002", "{per}");
    assert_eq!(t1["pages"], t2["pages"]);
    let link = ctx
        .data_dir()
        .join(format!("analytics/ocr/twin2004/{twin_job}"));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(stdout(&recto(&ctx, &["text", "twin2004"])).contains("two citekeys"));
    // The same PDF under two citekeys is flagged in the library view.
    let out = stdout(&recto(&ctx, &["status"]));
    let line = out.lines().find(|l| l.starts_with("twin2004")).unwrap();
    assert!(line.ends_with("(same PDF as twin2002)"), "{out}");
    let s = json(&recto(&ctx, &["status", "twin2002", "twin2004", "--json"]));
    assert_eq!(s[0]["same_pdf_as"], serde_json::json!(["twin2004"]));
    // A citekey with a PDF of its own is not flagged.
    let all = json(&recto(&ctx, &["status", "--json"]));
    let alpha = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["citekey"] == "alpha2001")
        .unwrap();
    assert!(alpha.get("same_pdf_as").is_none(), "{alpha}");
    // Nothing is pending any more: not an error.
    let o = recto(&ctx, &["ocr", "--pending"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("nothing to do"), "{}", stdout(&o));

    // A BibTeX list skips entries never uploaded; --all redoes everything.
    let bib = ctx.root().join("lib.bib");
    std::fs::write(
        &bib,
        "@article{alpha2001, title={A}}\n@book{ghost1999, title={G}}\n",
    )
    .unwrap();
    let o = json(&recto(
        &ctx,
        &[
            "ocr",
            "--bib",
            bib.to_str().unwrap(),
            "--lang",
            "eng",
            "--json",
        ],
    ));
    assert_eq!(o["citekeys"]["list"], serde_json::json!(["alpha2001"]));
    let o = json(&recto(&ctx, &["ocr", "--all", "--lang", "eng", "--json"]));
    assert_eq!(o["citekeys"]["total"], 4);
}

#[test]
fn a_bibtex_language_picks_the_ocr_language() {
    let ctx = TestContext::new();
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.pdf"),
        text_pdf(&["Ein deutscher Aufsatz, lang genug."]),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.pdf"),
        text_pdf(&["An English paper, long enough."]),
    )
    .unwrap();
    let bib = ctx.root().join("lib.bib");
    std::fs::write(
        &bib,
        "@article{mueller2001, langid={ngerman}, file={Full Text:pdfs/a.pdf:application/pdf}}\n\
         @article{smith2002, file={pdfs/b.pdf}}\n",
    )
    .unwrap();
    let up = json(&recto(
        &ctx,
        &["upload", "--bib", bib.to_str().unwrap(), "--json"],
    ));
    let src: Value = serde_json::from_slice(
        &std::fs::read(ctx.data_dir().join(format!(
            "sources/job_metadata/{}.json",
            up["job_id"].as_str().unwrap()
        )))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(src["languages"], serde_json::json!({"mueller2001": "deu"}));
    // No --lang: the entry's language is used for its citekey.
    let o = json(&recto(
        &ctx,
        &[
            "ocr",
            "--bib",
            bib.to_str().unwrap(),
            "--mode",
            "force-ocr",
            "--json",
        ],
    ));
    let job = o["job_id"].as_str().unwrap();
    let page = |k: &str| -> Value { crate::page_json(&ctx, k, job, 1) };
    assert_eq!(page("mueller2001")["languages"], "deu+eng");
    assert_eq!(page("smith2002")["languages"], "eng+deu+fra");
    // With --lang, that is used for all.
    let o = json(&recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "mueller2001",
            "--lang",
            "eng",
            "--mode",
            "force-ocr",
            "--json",
        ],
    ));
    let job = o["job_id"].as_str().unwrap();
    let p: Value = crate::page_json(&ctx, "mueller2001", job, 1);
    assert_eq!(p["languages"], "eng");
}

#[test]
fn text_layer_only_marks_pages_without_text() {
    let ctx = TestContext::new();
    let dir = ctx.root().join("pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    // A "scan": an image and no text layer.
    let gray: Vec<u8> = (0..200 * 100)
        .map(|i| if i % 7 == 0 { 0 } else { 255 })
        .collect();
    std::fs::write(
        dir.join("scan2001.pdf"),
        recto_test_support::image_pdf(&gray, 200, 100, 100),
    )
    .unwrap();
    json(&recto(
        &ctx,
        &["upload", "--from", dir.to_str().unwrap(), "--json"],
    ));
    let o = recto(
        &ctx,
        &["ocr", "--citekeys", "scan2001", "--mode", "text-layer-only"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 pages have no text layer"),
        "{}",
        stdout(&o)
    );
    let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let m: Value = crate::step_meta(&ctx, "ocr", &job);
    assert_eq!(m["pages"]["no_text"], 1);
    assert_eq!(m["pages"]["text_layer"], 0);
    let p: Value = crate::page_json(&ctx, "scan2001", &job, 1);
    assert_eq!(p["source"], "no_text");
}

#[test]
fn a_user_config_file_is_read_below_the_projects() {
    let ctx = TestContext::new();
    let xdg = ctx.root().join("xdg");
    std::fs::create_dir_all(xdg.join("recto")).unwrap();
    let user_data = ctx.root().join("user-data");
    std::fs::write(
        xdg.join("recto/config.toml"),
        format!(
            "data_dir = {:?}\npipeline = [\"ocr\"]\n",
            user_data.display().to_string()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        crate::recto_command(
            &ctx,
            args,
            &[("XDG_CONFIG_HOME", xdg.display().to_string())],
        )
        .env_remove("RECTO_DATA_DIR")
        .output()
        .unwrap()
    };
    let o = run(&["jobs", "new-id"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        user_data.join(".recto/job-ids").is_dir(),
        "the user's data_dir was used"
    );
    // The project's recto.toml wins where it sets a key.
    std::fs::write(
        ctx.root().join("recto.toml"),
        "data_dir = \"project-data\"\n",
    )
    .unwrap();
    let o = run(&["jobs", "new-id"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(ctx.root().join("project-data/.recto/job-ids").is_dir());
}

#[test]
fn progress_lines_name_the_item_not_bytes() {
    let ctx = TestContext::new();
    let dir = write_pdfs(
        &ctx,
        "p",
        &[("a2020", "A paper with some text, long enough.")],
    );
    json(&recto(&ctx, &["upload", "--from", &dir, "--json"]));
    let o = crate::recto_env(
        &ctx,
        &["ocr", "--citekeys", "a2020", "--lang", "eng"],
        &[("RECTO_PROGRESS_INTERVAL", "0".into())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("ocr: 1/1 pages (last: a2020 p1)"), "{err}");
    assert!(!err.contains("MB"), "{err}");
}

#[test]
fn languages_per_citekey_and_missing_ones_fail_alone() {
    let ctx = TestContext::new();
    let dir = write_pdfs(
        &ctx,
        "p",
        &[
            ("dutch2001", "Een Nederlandse typoscript, lang genoeg."),
            ("thai2002", "A paper someone marked as Thai."),
            ("plain2003", "An ordinary English paper, long enough."),
        ],
    );
    json(&recto(&ctx, &["upload", "--from", &dir, "--json"]));
    // A language that is not installed, for one citekey: that one fails,
    // naming the package; the others are read.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "dutch2001,thai2002,plain2003",
            "--lang",
            "eng",
            "--lang",
            "dutch2001=nld+eng",
            "--lang",
            "thai2002=tha",
            "--mode",
            "force-ocr",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let why = r["failures"]["thai2002"].as_str().unwrap();
    assert!(why.contains("apt-get install tesseract-ocr-tha"), "{why}");
    assert_eq!(r["citekeys"]["successful"], 2);
    let job = r["job_id"].as_str().unwrap();
    let page: Value = crate::page_json(&ctx, "dutch2001", job, 1);
    assert_eq!(page["languages"], "nld+eng");
    // The same language for the whole run stops before any work.
    let o = recto(&ctx, &["ocr", "--citekeys", "plain2003", "--lang", "tha"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("apt-get install tesseract-ocr-tha"),
        "{}",
        stderr(&o)
    );
    // A per-citekey language for a citekey the job does not take.
    let o = recto(
        &ctx,
        &["ocr", "--citekeys", "plain2003", "--lang", "nobody=deu"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The dry run's estimate comes from this data directory's past OCR jobs
/// once there are some (CPU seconds an OCRed page), and says so.
#[test]
fn dry_run_estimates_are_calibrated_from_past_jobs() {
    let ctx = TestContext::new();
    let pages: Vec<String> = (1..=5)
        .map(|i| format!("Page {i} of a short paper on calibration."))
        .collect();
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    let d = ctx.root().join("in");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("five2020.pdf"), text_pdf(&refs)).unwrap();
    std::fs::write(d.join("next2021.pdf"), text_pdf(&refs)).unwrap();
    json(&recto(
        &ctx,
        &["upload", "--from", d.to_str().unwrap(), "--json"],
    ));
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "five2020",
            "--lang",
            "eng",
            "--mode",
            "force-ocr",
            "--workers",
            "2",
            "--json",
        ],
    );
    let ran = json(&o);
    let want = ran["duration_seconds"].as_f64().unwrap() * 2.0 / 5.0;
    // The record keeps the citekey's worst pages, worst first, each with
    // its page's own mean confidence.
    let worst = ran["per_citekey"]["five2020"]["worst_pages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(worst.len(), 5);
    let confs: Vec<f64> = worst
        .iter()
        .map(|w| w["confidence"].as_f64().unwrap())
        .collect();
    assert!(confs.windows(2).all(|w| w[0] <= w[1]), "{confs:?}");
    let job = ran["job_id"].as_str().unwrap();
    for w in &worst {
        let n = w["page"].as_u64().unwrap() as usize;
        let page = crate::page_json(&ctx, "five2020", job, n);
        let c = page["mean_confidence"].as_f64().unwrap();
        assert!(
            (c - w["confidence"].as_f64().unwrap()).abs() < 0.01,
            "{w} vs {c}"
        );
    }
    let dry = json(&recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "next2021",
            "--mode",
            "force-ocr",
            "--workers",
            "4",
            "--dry-run",
            "--json",
        ],
    ));
    assert_eq!(dry["calibrated_from"], "past jobs (1)");
    let rate = dry["seconds_per_ocr_page"].as_f64().unwrap();
    assert!((rate - want).abs() < 0.01, "{rate} vs {want}");
    let est = dry["estimated_seconds"].as_f64().unwrap();
    assert!((est - rate * 5.0 / 4.0).abs() < 0.02, "{est}");
}
