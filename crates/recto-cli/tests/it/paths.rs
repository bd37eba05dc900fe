//! Recorded folders: relative to the data directory in every record, and
//! found from any working directory (text, a step reading another's
//! result, a resume).

use recto_test_support::{TestContext, text_pdf};

use crate::record::{meta, upload};
use crate::{recto, recto_command, stderr, stdout};

#[test]
fn recorded_folders_are_relative_to_the_data_dir_and_found_from_anywhere() {
    let ctx = TestContext::new();
    let pdf = ctx.root().join("a.pdf");
    std::fs::write(&pdf, text_pdf(&["Relative paths keep their word."])).unwrap();
    upload(&ctx, &[("a2020", pdf)]);
    // Run with the data directory named relative to the working directory.
    let run_in = |dir: &std::path::Path, data: &str, args: &[&str]| {
        recto_command(&ctx, args, &[])
            .current_dir(dir)
            .env("RECTO_DATA_DIR", data)
            .output()
            .unwrap()
    };
    let ocr = ["ocr", "--citekeys", "a2020", "--lang", "eng", "--quiet"];
    let o = run_in(ctx.root(), "data", &ocr);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(
        ctx.root(),
        "data",
        &["toc", "--citekeys", "a2020", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let latest = |step: &str| {
        let o = recto(&ctx, &["jobs", "list", "--step", step, "--json"]);
        let ids: Vec<String> = serde_json::from_slice(&o.stdout).unwrap();
        ids.last().unwrap().clone()
    };
    let (ocr_job, toc_job) = (latest("ocr"), latest("toc"));
    // The records name folders inside the data directory, relative to it.
    assert_eq!(meta(&ctx, "ocr", &ocr_job)["output_dir"], "analytics/ocr");
    let toc = meta(&ctx, "toc", &toc_job);
    assert_eq!(toc["output_dir"], "analytics/toc");
    assert_eq!(
        toc["per_citekey"]["a2020"]["dir"],
        format!("analytics/toc/a2020/{toc_job}")
    );
    // From another working directory the same data directory reads and
    // runs on: text, a segmentation reading the toc, a resume of the OCR.
    let elsewhere = ctx.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let o = run_in(&elsewhere, "../data", &["text", "a2020"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Relative paths"), "{}", stdout(&o));
    let o = run_in(
        &elsewhere,
        "../data",
        &["segment", "--citekeys", "a2020", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(
        &elsewhere,
        "../data",
        &["ocr", "--resume", &ocr_job, "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !elsewhere.join("data").exists(),
        "nothing written beside the working directory"
    );
}
