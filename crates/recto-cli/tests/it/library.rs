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
    assert!(
        out.contains(&format!("ocr: done ({job}, 1 pages)")),
        "{out}"
    );
    assert!(
        out.contains("doe2019") && out.contains("ocr: pending"),
        "{out}"
    );
    assert!(out.ends_with("3 citekeys: 2 done, 1 pending\n"), "{out}");

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
