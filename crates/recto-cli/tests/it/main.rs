//! Integration tests of the `recto` binary: real processes, real data
//! directories, output compared with snapshots.

mod registry_cmds;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use recto_test_support::TestContext;

/// Run `recto` with `args` against the test's data directory.
pub fn recto(ctx: &TestContext, args: &[&str]) -> Output {
    recto_stdin(ctx, args, None)
}

pub fn recto_stdin(ctx: &TestContext, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_recto"))
        .args(args)
        .current_dir(ctx.root())
        .env("RECTO_DATA_DIR", ctx.data_dir())
        .env_remove("RECTO_PIPELINE")
        .env_remove("RECTO_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run recto");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Write a JSON file into the test folder and return its path.
pub fn write_json(ctx: &TestContext, name: &str, v: &serde_json::Value) -> String {
    let p = ctx.root().join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_str().unwrap().to_owned()
}

/// Replace the test's temp folder in output so snapshots are stable.
pub fn redact(ctx: &TestContext, s: &str) -> String {
    s.replace(ctx.root().to_str().unwrap(), "[TMP]")
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
