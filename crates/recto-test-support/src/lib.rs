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

/// A real S3 server (Garage, single node) on 127.0.0.1, started by
/// `scripts/garage.sh` for one test and stopped (by its pid) when dropped.
#[derive(Debug)]
pub struct S3Server {
    dir: tempfile::TempDir,
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub pid: u32,
}

impl S3Server {
    /// Start a fresh server with an empty bucket. Builds Garage on first use
    /// (see `scripts/garage.sh install`).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("recto-garage-")
            .tempdir()
            .expect("temp dir");
        let out = std::process::Command::new(repo_root().join("scripts/garage.sh"))
            .arg("start")
            .arg(dir.path())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run scripts/garage.sh");
        assert!(out.status.success(), "scripts/garage.sh start failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("RECTO_TEST_S3_{k}=")))
                .unwrap_or_else(|| panic!("garage.sh printed no {k}: {text}"))
                .to_owned()
        };
        S3Server {
            endpoint: get("ENDPOINT"),
            bucket: get("BUCKET"),
            access_key: get("ACCESS_KEY"),
            secret_key: get("SECRET_KEY"),
            region: get("REGION"),
            pid: get("PID").parse().expect("pid"),
            dir,
        }
    }

    /// `s3://<bucket>` plus an optional prefix.
    pub fn url(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }

    /// Environment for a `recto` process talking to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("RECTO_ENDPOINT_URL", self.endpoint.clone()),
            ("RECTO_REGION", self.region.clone()),
        ]
    }

    /// Stop the server now (to test what happens when it goes away).
    pub fn stop(&self) {
        let _ = std::process::Command::new(repo_root().join("scripts/garage.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
