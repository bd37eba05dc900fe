//! The shared test context of recto's integration tests: a temporary data
//! directory per test, and helpers to find the repository's scripts and the
//! shared corpus.

use std::path::{Path, PathBuf};

/// A temporary working area for one test, removed when dropped.
#[derive(Debug)]
pub struct TestContext {
    dir: tempfile::TempDir,
}

impl TestContext {
    pub fn new() -> Self {
        TestContext {
            dir: tempfile::Builder::new()
                .prefix("recto-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// The folder of this test.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory (`<root>/data`), not created yet.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// `../shared/corpus` beside the repository, when it is there.
pub fn corpus_dir() -> Option<PathBuf> {
    let p = repo_root().join("../shared/corpus");
    p.is_dir().then_some(p)
}
