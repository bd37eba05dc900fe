//! ARCHITECTURE.md's invariants that a test can check on the source tree:
//! each assertion here fails when the code breaks the stated rule.

use std::path::{Path, PathBuf};

use recto_test_support::repo_root;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn crate_dir(name: &str) -> PathBuf {
    repo_root().join("crates").join(name)
}

/// The `[dependencies]` table of a crate's manifest, as dependency names.
fn dependencies(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(crate_dir(name).join("Cargo.toml")).unwrap();
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((dep, _)) = line.split_once(['=', '.']) {
            out.push(dep.trim().to_owned());
        }
    }
    out
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let missing: Vec<PathBuf> = rust_files(&repo_root().join("crates"))
        .into_iter()
        .filter(|p| {
            !std::fs::read_to_string(p)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .collect();
    assert!(missing.is_empty(), "files without a //! doc: {missing:?}");
}

#[test]
fn layering_of_crates_holds() {
    // recto-registry does no network I/O and knows nothing of OCR, storage
    // or the CLI.
    let registry = dependencies("recto-registry");
    for banned in ["object_store", "tokio", "reqwest", "hyper", "clap"] {
        assert!(
            !registry.iter().any(|d| d == banned),
            "recto-registry depends on {banned}"
        );
    }
    assert!(
        registry
            .iter()
            .all(|d| !d.starts_with("recto-") || d == "recto-fs"),
        "{registry:?}"
    );
    // One atomic writer, with no native or networked dependency.
    assert_eq!(dependencies("recto-fs"), ["libc", "tempfile"]);
    // recto-ocr knows nothing of jobs, the registry or storage.
    let ocr = dependencies("recto-ocr");
    for banned in [
        "recto-registry",
        "recto-store",
        "recto-steps",
        "object_store",
        "tokio",
    ] {
        assert!(
            !ocr.iter().any(|d| d == banned),
            "recto-ocr depends on {banned}"
        );
    }
    // The page JSON types need no native library.
    assert_eq!(dependencies("recto-page"), ["serde"]);
    // The TOC analysis reads page JSON types only: no native library, no
    // store, no registry.
    assert_eq!(
        dependencies("recto-toc"),
        ["recto-page", "serde", "strsim", "unicode-normalization"]
    );
    assert_eq!(dependencies("recto-segment"), ["recto-toc", "serde"]);
    // The search index knows pages, not the registry, steps or storage.
    assert_eq!(
        dependencies("recto-search"),
        ["recto-page", "serde", "serde_json", "tantivy", "thiserror"]
    );
    // The web app reads through the registry and the library's read side;
    // it talks to no store and runs no engine (structure.rs checks the
    // whole graph).
    let web = dependencies("recto-web");
    for banned in ["recto-store", "recto-ocr", "object_store", "mupdf", "clap"] {
        assert!(
            !web.iter().any(|d| d == banned),
            "recto-web depends on {banned}"
        );
    }
    // Only the CLI (and the Python module, which wraps it) know clap.
    for name in [
        "recto-registry",
        "recto-store",
        "recto-steps",
        "recto-ocr",
        "recto-page",
        "recto-toc",
        "recto-segment",
        "recto-search",
        "recto-web",
    ] {
        assert!(
            !dependencies(name)
                .iter()
                .any(|d| d == "clap" || d == "anyhow"),
            "{name}"
        );
    }
}

#[test]
fn only_the_cli_prints() {
    for krate in [
        "recto-registry",
        "recto-store",
        "recto-steps",
        "recto-ocr",
        "recto-page",
        "recto-search",
        "recto-web",
        "recto-py",
    ] {
        for f in rust_files(&crate_dir(krate).join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            for mac in ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("] {
                assert!(!text.contains(mac), "{} uses {mac}", f.display());
            }
        }
    }
}

#[test]
fn clap_types_stay_in_the_cli_modules() {
    // The clap types live in cli.rs and cli/; only lib.rs (parsing) and the
    // command modules (turning them into step requests) may name them.
    for f in rust_files(&crate_dir("recto-cli").join("src")) {
        let rel = f
            .strip_prefix(crate_dir("recto-cli"))
            .unwrap()
            .display()
            .to_string();
        let allowed = rel == "src/cli.rs"
            || rel.starts_with("src/cli/")
            || rel == "src/lib.rs"
            || rel.starts_with("src/commands/")
            || rel == "src/config.rs";
        let text = std::fs::read_to_string(&f).unwrap();
        if !allowed {
            assert!(!text.contains("crate::cli"), "{rel} names clap types");
            assert!(!text.contains("use clap"), "{rel} uses clap");
        }
    }
}

#[test]
fn steps_use_the_status_enum() {
    for f in rust_files(&crate_dir("recto-steps").join("src")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for literal in ["\"completed\"", "\"running\"", "\"pending\""] {
            assert!(
                !text.contains(literal),
                "{} writes the status {literal} by hand",
                f.display()
            );
        }
    }
}
