//! `recto ocr` end to end: upload, then OCR from the recorded store.

use std::path::PathBuf;

use recto_test_support::{S3Server, TestContext, encrypted_pdf, require_corpus, text_pdf};
use serde_json::Value;

use crate::{recto, recto_command, recto_env, stderr, stdout};

const BORN: &str = "Recto reads every page\nof the scholarly library\nwith its own text layer";

/// An encrypted PDF (user password `openpassword`), generated.
pub fn encrypted_fixture(ctx: &TestContext) -> PathBuf {
    let p = ctx.root().join("enc-src.pdf");
    std::fs::write(
        &p,
        encrypted_pdf(
            &text_pdf(&["A sealed letter, readable with its password only."]),
            "openpassword",
        ),
    )
    .unwrap();
    p
}

/// A long born-digital book, generated: `pages` pages of text.
pub fn long_pdf(ctx: &TestContext, pages: usize) -> PathBuf {
    let texts: Vec<String> = (1..=pages)
        .map(|i| format!("Chapter text on page {i}\nof a long generated book\nwith several lines"))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let p = ctx.root().join(format!("long{pages}.pdf"));
    std::fs::write(&p, text_pdf(&refs)).unwrap();
    p
}

/// Upload `files` (citekey, source path) and return the upload job id.
fn upload(
    ctx: &TestContext,
    files: &[(&str, PathBuf)],
    env: &[(&str, String)],
    extra: &[&str],
) -> String {
    let dir = ctx.root().join(format!("pdfs{}", files.len()));
    std::fs::create_dir_all(&dir).unwrap();
    for (k, src) in files {
        std::fs::copy(src, dir.join(format!("{k}.pdf"))).unwrap();
    }
    let mut args = vec!["upload", "--from", dir.to_str().unwrap(), "--quiet"];
    args.extend(extra);
    let o = recto_env(ctx, &args, env);
    assert!(
        o.status.success() || o.status.code() == Some(3),
        "{}",
        stderr(&o)
    );
    let jobs = recto(ctx, &["jobs", "latest"]);
    stdout(&jobs).trim().to_owned()
}

fn born_pdf(ctx: &TestContext) -> PathBuf {
    let p = ctx.root().join("born-src.pdf");
    std::fs::write(&p, text_pdf(&[BORN])).unwrap();
    p
}

fn ocr_meta(ctx: &TestContext, job: &str) -> Value {
    crate::step_meta(ctx, "ocr", job)
}

fn job_of(out: &str) -> String {
    out.split_whitespace()
        .nth(2)
        .expect("ocr job <id>:")
        .trim_end_matches(':')
        .to_owned()
}

fn page(ctx: &TestContext, key: &str, job: &str, n: usize) -> Value {
    let p = ctx
        .data_dir()
        .join(format!("analytics/ocr/{key}/{job}/page_{n:04}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[test]
fn ocr_text_layer_and_scan_from_the_local_store() {
    let linn = require_corpus!("scan_ccitt_en_2col_brochure_linn.pdf");
    let ctx = TestContext::new();
    let source = upload(
        &ctx,
        &[("born2020", born_pdf(&ctx)), ("linn1985", linn)],
        &[],
        &[],
    );
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "born2020,linn1985",
            "--lang",
            "eng",
            "--dpi",
            "200",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let m = ocr_meta(&ctx, &job);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["source_job_id"], source.as_str());
    assert_eq!(m["citekeys"]["successful"], 2);
    assert_eq!(m["pages"]["total"], 2);
    assert_eq!(m["pages"]["text_layer"], 1);
    assert_eq!(m["pages"]["ocr"], 1);
    assert_eq!(m["config"]["dpi"], 200);
    assert!(
        m["config"]["engines"]["tesseract"]
            .as_str()
            .unwrap()
            .starts_with('5')
    );
    let born = page(&ctx, "born2020", &job, 1);
    assert_eq!(born["source"], "text_layer");
    assert!(born["text"].as_str().unwrap().contains("scholarly library"));
    let scan = page(&ctx, "linn1985", &job, 1);
    assert_eq!(scan["source"], "ocr");
    let text = scan["text"].as_str().unwrap().to_lowercase();
    assert!(
        text.contains("linnsequencer") || text.contains("sequencer"),
        "{text}"
    );
    assert!(
        ctx.data_dir()
            .join(format!("analytics/ocr/linn1985/{job}/fulltext.txt"))
            .is_file()
    );

    let st = recto(&ctx, &["jobs", "status", &job, "--json"]);
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["steps_completed"], serde_json::json!(["ocr"]));
    assert_eq!(st["source_job_id"], source.as_str());
    let o = recto(&ctx, &["jobs", "citekey", "linn1985"]);
    assert_eq!(
        stdout(&o),
        format!("{source} > source (upload): completed\n{job} > ocr: completed\n")
    );
}

#[test]
fn source_selection_errors_name_citekeys_and_jobs() {
    let ctx = TestContext::new();
    let a = upload(&ctx, &[("born2020", born_pdf(&ctx))], &[], &[]);
    let o = recto(
        &ctx,
        &["ocr", "--citekeys", "born2020,nobody", "--lang", "eng"],
    );
    // A citekey in no upload is "not found" (4), named; each known citekey
    // is read from its own newest upload (batches may meet in one job).
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert!(err.contains("unknown citekey \"nobody\""), "{err}");
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "nobody",
            "--source-job-id",
            &a,
            "--lang",
            "eng",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("source job {a} does not hold citekey(s) nobody")),
        "{err}"
    );
    assert!(
        err.contains("hint:") && err.contains("--source-job-id"),
        "{err}"
    );
    // A language that is not installed is a usage error (2).
    let o = recto(&ctx, &["ocr", "--citekeys", "born2020", "--lang", "xxx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not installed: xxx"), "{}", stderr(&o));
    let o = recto(&ctx, &["ocr", "--citekeys", "../x", "--lang", "eng"]);
    assert!(stderr(&o).contains("invalid citekey"), "{}", stderr(&o));
    assert!(
        !ctx.data_dir().join("analytics/ocr/job_metadata").exists(),
        "nothing recorded"
    );
}

#[test]
fn checksum_mismatch_and_encryption_fail_that_citekey_only() {
    let ctx = TestContext::new();
    let src = upload(
        &ctx,
        &[
            ("born2020", born_pdf(&ctx)),
            ("enc2020", encrypted_fixture(&ctx)),
            ("tampered", born_pdf(&ctx)),
        ],
        &[],
        &[],
    );
    let meta: Value = serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join(format!("sources/job_metadata/{src}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let obj = ctx
        .data_dir()
        .join("store")
        .join(meta["objects"]["tampered"].as_str().unwrap());
    std::fs::write(
        &obj,
        text_pdf(&["Something else entirely, swapped in the store."]),
    )
    .unwrap();
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "born2020,enc2020,tampered",
            "--lang",
            "eng",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    // The library says what is wrong; the CLI says which flag helps.
    assert!(
        err.contains("enc2020:") && err.contains("encrypted and no password was given"),
        "{err}"
    );
    // ... naming the user's own file besides the stored copy.
    assert!(
        err.contains("(uploaded from ") && err.contains("enc2020.pdf)"),
        "{err}"
    );
    assert!(
        err.contains("hint: give the password") && err.contains("--password"),
        "{err}"
    );
    let recorded = meta["checksums"]["tampered"].as_str().unwrap();
    assert!(
        err.contains("checksum mismatch") && err.contains(recorded),
        "{err}"
    );
    let job = job_of(&stdout(&o));
    let m = ocr_meta(&ctx, &job);
    // The run reached its end: completed, its failures beside (the spec's
    // `citekeys: {successful, failed}` under `completed`); exit 3 = partial.
    assert_eq!(m["status"], "completed");
    assert_eq!(m["citekeys"]["successful"], 1);
    assert_eq!(m["citekeys"]["failed"], 2);
    assert_eq!(m["failures"].as_object().unwrap().len(), 2);
    assert_eq!(page(&ctx, "born2020", &job, 1)["source"], "text_layer");
    let o = recto(&ctx, &["jobs", "status", &job]);
    assert!(
        stdout(&o).contains("completed (2 failed)"),
        "{}",
        stdout(&o)
    );
    // `jobs list` says the same, with how many citekeys and how long.
    let list = stdout(&recto(&ctx, &["jobs", "list"]));
    assert!(
        list.contains(&format!("{job}  ocr: completed (3 citekeys, 2 failed, ")),
        "{list}"
    );

    // Pending = no completed result on the newest upload: the two failed
    // citekeys are pending again, the done one is not; `--failed` takes
    // exactly those; a third citekeys never run is pending, not failed.
    upload(&ctx, &[("later2021", born_pdf(&ctx))], &[], &[]);
    let planned = |flag: &str| -> Vec<String> {
        let o = recto(&ctx, &["ocr", flag, "--dry-run", "--json"]);
        assert!(o.status.success(), "{flag}: {}", stderr(&o));
        let plan: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let mut keys: Vec<String> = plan["citekeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["citekey"].as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(planned("--pending"), ["enc2020", "later2021", "tampered"]);
    assert_eq!(planned("--failed"), ["enc2020", "tampered"]);
    // `recto status KEY` says why, and the one command that fixes it: the
    // first step without a completed result (the sync of a done OCR).
    let o = recto(&ctx, &["status", "enc2020", "later2021", "born2020"]);
    let out = stdout(&o);
    assert!(out.contains("encrypted and no password was given"), "{out}");
    for fix in [
        "fix: recto ocr --citekeys enc2020".to_owned(),
        "fix: recto ocr --citekeys later2021".to_owned(),
        format!("fix: recto sync-ocr --job-id {job}"),
    ] {
        assert!(out.contains(&fix), "{fix}: {out}");
    }
    // Without names, only the failed citekeys get theirs.
    let out = stdout(&recto(&ctx, &["status"]));
    // A stored copy that no longer matches its checksum is not fixed by
    // running again: the fix is a good copy.
    assert!(
        out.contains("fix: replace its PDF with a good copy, then: recto upload --from DIR --citekeys tampered"),
        "{out}"
    );
    assert!(
        out.contains("fix: recto ocr --citekeys enc2020 --password PASSWORD"),
        "{out}"
    );
    assert!(!out.contains("--citekeys later2021"), "{out}");

    let o = recto(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "enc2020",
            "--lang",
            "eng",
            "--password",
            "openpassword",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn killed_run_is_stale_then_resumed() {
    let ctx = TestContext::new();
    upload(&ctx, &[("geotopo", long_pdf(&ctx, 117))], &[], &[]);
    // Held after 10 pages: killed midway on any machine.
    let hold = recto_test_support::Hold::new(&ctx, "ocr-page", 10);
    let mut child = recto_command(
        &ctx,
        &[
            "ocr",
            "--citekeys",
            "geotopo",
            "--lang",
            "eng",
            "--mode",
            "text-layer-only",
            "-j",
            "1",
            "--quiet",
        ],
        &[hold.env()],
    )
    .env_remove("OMP_THREAD_LIMIT")
    .spawn()
    .unwrap();
    // Kill it once its first 10 pages are written.
    let written = || crate::pages_written(&ctx, "geotopo");
    crate::wait_for_pages(&ctx, "geotopo", 10);
    // The binary re-executed itself (same pid) with OpenMP limited to one
    // thread, although it was started without the variable.
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|kv| kv == b"OMP_THREAD_LIMIT=1"),
        "OMP_THREAD_LIMIT=1 missing from the running process's environment"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let done = written();
    assert_eq!(done, 10, "killed after its 10th page");
    let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
    let st: Value =
        serde_json::from_slice(&recto(&ctx, &["jobs", "status", &job, "--json"]).stdout).unwrap();
    assert_eq!(st["steps_stale"], serde_json::json!(["ocr"]), "{st}");
    // Every page file on disk is whole.
    let dir = ctx.data_dir().join(format!("analytics/ocr/geotopo/{job}"));
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }
    // The resume takes the recorded settings (mode text-layer-only, eng);
    // repeating them is allowed, as are options that do not shape output.
    let o = recto(
        &ctx,
        &[
            "ocr",
            "--resume",
            &job,
            "--lang",
            "eng",
            "--mode",
            "text-layer-only",
            "--workers",
            "2",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = ocr_meta(&ctx, &job);
    assert_eq!(m["config"]["mode"], "text-layer-only");
    assert_eq!(m["status"], "completed");
    assert_eq!(m["pages"]["total"], 117);
    assert!(m["pages"]["resumed"].as_u64().unwrap() >= 10);
    let full = std::fs::read_to_string(dir.join("fulltext.txt")).unwrap();
    assert_eq!(full.split('\u{c}').count(), 117);
}

#[test]
fn ocr_reads_sources_from_the_recorded_s3_bucket() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let url = server.url("lib");
    upload(
        &ctx,
        &[("born2020", born_pdf(&ctx))],
        &server.env(),
        &["--store", &url],
    );
    // No store flags: the upload job says where the source is.
    let mut env = server.env();
    env.retain(|(k, _)| k.starts_with("AWS_"));
    let o = recto_env(
        &ctx,
        &["ocr", "--citekeys", "born2020", "--lang", "eng"],
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = ocr_meta(&ctx, &job_of(&stdout(&o)));
    assert_eq!(m["source_store"], url.as_str());
    assert_eq!(m["pages"]["text_layer"], 1);
}

/// Word F1 of `got` against `want`: the multisets of their words.
fn word_f1(got: &str, want: &str) -> f64 {
    use std::collections::HashMap;
    let count = |s: &str| {
        let mut m: HashMap<String, i64> = HashMap::new();
        for w in s.split_whitespace() {
            *m.entry(w.replace('ſ', "s")).or_default() += 1;
        }
        m
    };
    let (g, w) = (count(got), count(want));
    let both: i64 = g
        .iter()
        .map(|(k, n)| (*n).min(*w.get(k).unwrap_or(&0)))
        .sum();
    let (ng, nw): (i64, i64) = (g.values().sum(), w.values().sum());
    if both == 0 {
        return 0.0;
    }
    let (p, r) = (both as f64 / ng as f64, both as f64 / nw as f64);
    2.0 * p * r / (p + r)
}

/// A 1784 print set in Fraktur, read with `--lang deu`: OSD finds the
/// script, the pages are read with the Fraktur model added (recorded), and
/// the text is far closer to the ground truth than with `--no-fraktur`.
#[test]
fn pages_set_in_fraktur_are_read_with_a_fraktur_model() {
    let kant = require_corpus!("scan_jpeg_de_fraktur_1784_kant_2p.pdf");
    let gt = std::fs::read_to_string(
        recto_test_support::corpus_dir()
            .unwrap()
            .join("gt/scan_jpeg_de_fraktur_1784_kant_2p.txt"),
    )
    .unwrap();
    let ctx = TestContext::new();
    upload(&ctx, &[("kant1784", kant)], &[], &[]);
    let mut f1 = Vec::new();
    for extra in [None, Some("--no-fraktur")] {
        let mut args = vec!["ocr", "--citekeys", "kant1784", "--lang", "deu", "--quiet"];
        args.extend(extra);
        let o = recto(&ctx, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let job = stdout(&recto(&ctx, &["jobs", "latest"])).trim().to_owned();
        let mut text = String::new();
        for n in 1..=2 {
            let page = crate::page_json(&ctx, "kant1784", &job, n);
            assert_eq!(page["osd"]["script"], "Fraktur", "page {n}");
            assert_eq!(page["languages"], "deu");
            let used = page["languages_used"].as_str();
            if extra.is_none() {
                assert_eq!(used, Some("Fraktur+deu"), "page {n}");
            } else {
                assert_eq!(used, None, "page {n}");
            }
            text.push_str(page["text"].as_str().unwrap());
            text.push('\n');
        }
        f1.push(word_f1(&text, &gt));
        // The hOCR names the languages the pages were read with.
        let o = recto(
            &ctx,
            &[
                "export",
                "--format",
                "hocr",
                "--citekeys",
                "kant1784",
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let hocr = crate::export::export_file(&ctx, "kant1784", "kant1784.hocr");
        let (langs, scripts) = if extra.is_none() {
            ("Fraktur deu", "Latf Latn")
        } else {
            ("deu", "Latn")
        };
        assert!(
            hocr.contains(&format!("name=\"ocr-langs\" content=\"{langs}\""))
                && hocr.contains(&format!("name=\"ocr-scripts\" content=\"{scripts}\"")),
            "{}",
            &hocr[..1200.min(hocr.len())]
        );
    }
    // Measured: 0.65 with the model, 0.50 without (docs/benchmarks.md).
    assert!(f1[0] > f1[1] + 0.1, "word F1 with Fraktur {f1:?}");
}
