//! The commands around the pipeline: `recto doctor`, `recto completions`,
//! `recto man`, checked with the real shells and tools they are for.

use recto_test_support::TestContext;

use crate::{recto, recto_env, stderr, stdout};

#[test]
fn doctor_checks_the_machine_and_names_what_fails() {
    let ctx = TestContext::new();
    std::fs::create_dir_all(ctx.data_dir()).unwrap();
    let o = recto(&ctx, &["doctor"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("ok    tesseract 5."), "{out}");
    assert!(out.contains("eng"), "{out}");
    assert!(
        out.contains("data directory") && out.contains("writable"),
        "{out}"
    );
    assert!(out.contains("disk free under"), "{out}");
    // A store that does not answer (nothing listens on port 9): FAIL, exit 1.
    let o = recto_env(
        &ctx,
        &[
            "doctor",
            "--store",
            "s3://nobucket",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        &[
            ("RECTO_S3_MAX_RETRIES", "0".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret-value".into()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL  store s3://nobucket"), "{out}");
    assert!(stderr(&o).contains("1 check failed"), "{}", stderr(&o));
    // No secret in what it prints.
    assert!(!out.contains("test-secret-value") && !stderr(&o).contains("test-secret-value"));
}

#[test]
fn completions_are_valid_for_their_shells() {
    let ctx = TestContext::new();
    for (shell, check) in [
        ("bash", ["bash", "-n"]),
        ("zsh", ["zsh", "-n"]),
        ("fish", ["fish", "-n"]),
    ] {
        let o = recto(&ctx, &["completions", shell]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        // Every command is completed, `run` and `watch` too.
        // Each command as a word of its own (`run` is inside `--dry-run`).
        let words: std::collections::BTreeSet<&str> = text
            .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
            .collect();
        for cmd in ["upload", "ocr", "run", "watch", "status", "doctor"] {
            assert!(words.contains(cmd), "{shell}: {cmd}");
        }
        let file = ctx.root().join(format!("recto.{shell}"));
        std::fs::write(&file, &text).unwrap();
        match std::process::Command::new(check[0])
            .arg(check[1])
            .arg(&file)
            .output()
        {
            Ok(r) => assert!(
                r.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&r.stderr)
            ),
            // A skip says so, with why.
            #[allow(clippy::print_stderr)]
            Err(e) => eprintln!("skipped the {shell} syntax check: {e}"),
        }
    }
    let o = recto(&ctx, &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_pages_render() {
    let ctx = TestContext::new();
    let o = recto(&ctx, &["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie") || page.contains(".TH recto 1"),
        "{page}"
    );
    assert!(page.contains("doctor") && page.contains("watch"), "{page}");
    let dir = ctx.root().join("man1");
    let o = recto(&ctx, &["man", "--dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for cmd in [
        "recto.1",
        "recto-run.1",
        "recto-status.1",
        "recto-jobs-list.1",
    ] {
        assert!(dir.join(cmd).is_file(), "{cmd}");
    }
    // groff reads it, where it is installed.
    if let Ok(r) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .arg(dir.join("recto-run.1"))
        .output()
    {
        let text = String::from_utf8_lossy(&r.stdout);
        assert!(r.status.success() && text.contains("pending"), "{text}");
    }
}
