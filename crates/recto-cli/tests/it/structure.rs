//! The shape of the code, checked on the source tree and on `cargo
//! metadata`: which crates may reach which (the read side links no engine,
//! Python does not go through the CLI), no two source files that import
//! each other, and no source file that has outgrown one idea.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use recto_test_support::repo_root;
use serde_json::Value;

/// Every package the workspace's crates reach, by name: `name -> direct
/// normal dependencies` (build and dev dependencies left out).
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // This machine's platform only: the others' dependencies need not be
    // downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .current_dir(repo_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let from = names[node["id"].as_str().unwrap()].to_owned();
        let deps = graph.entry(from).or_default();
        for d in node["deps"].as_array().unwrap() {
            let normal = d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                deps.insert(names[d["pkg"].as_str().unwrap()].to_owned());
            }
        }
    }
    graph
}

/// Everything `name` links, itself excluded.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(n) = todo.pop() {
        for d in graph.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn the_read_side_links_no_engine_store_or_step() {
    let graph = dependency_graph();
    let engines = [
        "recto-steps",
        "recto-ocr",
        "recto-store",
        "recto-cli",
        "mupdf",
        "mupdf-sys",
        "tesseract-sys",
        "leptonica-sys",
        "object_store",
    ];
    for reader in ["recto-library", "recto-web"] {
        let linked = reaches(&graph, reader);
        let bad: Vec<&&str> = engines.iter().filter(|e| linked.contains(**e)).collect();
        assert!(bad.is_empty(), "{reader} links {bad:?}");
    }
    // Python calls the library and the steps, not the command line.
    assert!(
        !graph["recto-py"].contains("recto-cli"),
        "recto-py depends on recto-cli"
    );
    // The registry core knows nothing of OCR, storage, search or the CLI.
    let registry = reaches(&graph, "recto-registry");
    for banned in [
        "recto-ocr",
        "recto-store",
        "recto-steps",
        "recto-search",
        "clap",
    ] {
        assert!(!registry.contains(banned), "recto-registry links {banned}");
    }
}

/// The crate's source files by module path (`ocr::plan` for
/// `src/ocr/plan.rs`; `src/lib.rs` is the crate root, ``).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                out.insert(parts.join("::"), p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The module a path inside the crate resolves to: the longest prefix of
/// `segments` that names a file.
fn resolve(mods: &BTreeMap<String, PathBuf>, segments: &[&str]) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| mods.contains_key(m))
}

/// The modules `file` (module `me`) names through `crate::` and `super::`
/// paths, test modules inside it included (they are in the same file).
fn imports(mods: &BTreeMap<String, PathBuf>, me: &str, text: &str) -> BTreeSet<String> {
    // Code only: a doc link to another module is not an import.
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut out = BTreeSet::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    for (at, _) in text.match_indices("crate::") {
        if at > 0 && text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `recto_crate::`, not this crate
        }
        let rest: String = text[at + 7..].chars().take_while(|c| ident(*c)).collect();
        let segs: Vec<&str> = rest.split("::").filter(|s| !s.is_empty()).collect();
        out.extend(resolve(mods, &segs));
    }
    // `super::` from a file's top level (not from its `mod tests`).
    let parent: Vec<&str> = me.split("::").filter(|s| !s.is_empty()).collect();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("use super::") else {
            continue;
        };
        let rest: String = rest.chars().take_while(|c| ident(*c)).collect();
        let mut segs: Vec<&str> = parent[..parent.len().saturating_sub(1)].to_vec();
        segs.extend(rest.split("::").filter(|s| !s.is_empty()));
        out.extend(resolve(mods, &segs));
    }
    out.remove(me);
    out
}

#[test]
fn no_two_source_files_import_each_other() {
    let mut cycles = Vec::new();
    for krate in std::fs::read_dir(repo_root().join("crates"))
        .unwrap()
        .flatten()
    {
        let src = krate.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let mods = modules(&src);
        let edges: BTreeMap<&String, BTreeSet<String>> = mods
            .iter()
            .map(|(m, p)| (m, imports(&mods, m, &std::fs::read_to_string(p).unwrap())))
            .collect();
        for (a, to) in &edges {
            for b in to {
                if a.as_str() < b.as_str() && edges.get(b).is_some_and(|e| e.contains(*a)) {
                    cycles.push(format!(
                        "{}: {a} <-> {b}",
                        krate.file_name().to_string_lossy()
                    ));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "files that import each other: {cycles:#?}"
    );
}

#[test]
fn the_import_check_sees_a_cycle() {
    // The check above, on a made-up crate where two files import each other.
    let mods: BTreeMap<String, PathBuf> = ["", "a", "b", "b::c"]
        .iter()
        .map(|m| (m.to_string(), PathBuf::new()))
        .collect();
    assert_eq!(
        imports(
            &mods,
            "a",
            "use crate::b::c::Thing;\nfn f() { crate::b::g() }"
        ),
        BTreeSet::from(["b::c".to_string(), "b".to_string()])
    );
    assert_eq!(
        imports(&mods, "a", "/// See [`crate::b`].\nfn f() {}"),
        BTreeSet::new()
    );
    assert_eq!(
        imports(&mods, "b::c", "use super::x;\nuse super::super::a;"),
        BTreeSet::from(["b".to_string()])
    );
}

/// Every `.rs` file under `dir`.
fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files
}

/// No source or test file over 800 lines: a file holds one idea.
#[test]
fn no_source_file_outgrows_one_idea() {
    const MAX_LINES: usize = 800;
    let root = repo_root();
    let mut over = Vec::new();
    for f in rust_sources(&root.join("crates")) {
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        if lines > MAX_LINES {
            let rel = f.strip_prefix(&root).unwrap().display().to_string();
            over.push(format!("{rel}: {lines}"));
        }
    }
    assert!(over.is_empty(), "files over {MAX_LINES} lines: {over:?}");
}

/// The lines of each function in `text` that opens at the start of a line
/// (`fn`, `pub fn`, `async fn` ...), from its `fn` line to the brace that
/// closes it at the same indentation: (name, lines).
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let head = line.trim_start();
        let head = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find_map(|p| head.strip_prefix(p))
            .unwrap_or(head);
        let head = head.strip_prefix("async ").unwrap_or(head);
        let Some(rest) = head.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.trim_end() == close)
            .map_or(lines.len(), |j| i + 1 + j);
        out.push((name, end - i + 1));
    }
    out
}

#[test]
fn function_lengths_are_measured_from_fn_to_its_closing_brace() {
    let text = "fn a() {\n    x;\n}\n\n    pub async fn b(\n        y: u8,\n    ) {\n        if y {\n        }\n    }\nfn c();\n";
    assert_eq!(
        function_lengths(text),
        [("a".to_owned(), 3), ("b".to_owned(), 6)]
    );
}

/// No function in the crates' sources (`src/`; tests and benchmarks are
/// scripts of steps) over 110 lines: a function does one thing a reader
/// can hold (~100 lines, with room for a long match).
#[test]
fn no_function_outgrows_a_reading() {
    const MAX_LINES: usize = 110;
    let root = repo_root();
    let mut over = Vec::new();
    for f in rust_sources(&root.join("crates")) {
        if !f.components().any(|c| c.as_os_str() == "src") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (name, n) in function_lengths(&text) {
            if n > MAX_LINES {
                let rel = f.strip_prefix(&root).unwrap().display().to_string();
                over.push(format!("{rel}: {name} ({n} lines)"));
            }
        }
    }
    assert!(
        over.is_empty(),
        "functions over {MAX_LINES} lines: {over:?}"
    );
}
