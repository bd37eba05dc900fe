//! Sharded OCR jobs on a real one-node Slurm (`scripts/slurm.sh`, gated by
//! RECTO_TEST_SLURM): an array of shards merged by a dependent job, a
//! cancelled task resubmitted, a broken PDF failing alone, a refused
//! submission leaving no job running.

use super::shard::*;
use super::toc::{upload, write_pdf};
use super::{recto, recto_env, stderr, stdout, step_meta};
use recto_test_support::{TestContext, repo_root};
use serde_json::Value;
use std::process::Command;

/// `SLURM_CONF` of the one-node cluster, started by `scripts/slurm.sh`
/// when it is not running (it installs Debian's packages when missing).
fn slurm() -> Option<Vec<(&'static str, String)>> {
    if !recto_test_support::gated("RECTO_TEST_SLURM", "a one-node Slurm (root)") {
        return None;
    }
    static CONF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let conf = CONF.get_or_init(|| {
        let dir = repo_root().join("target/slurm");
        let o = Command::new("bash")
            .arg(repo_root().join("scripts/slurm.sh"))
            .arg("start")
            .arg(&dir)
            .output()
            .expect("run scripts/slurm.sh");
        assert!(
            o.status.success(),
            "scripts/slurm.sh start failed (it needs root for slurmd and Debian's slurmctld, slurmd, munge):\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        dir.join("slurm.conf").display().to_string()
    });
    Some(vec![("SLURM_CONF", conf.clone())])
}

fn submit(
    ctx: &TestContext,
    keys: &[String],
    shards: usize,
    env: &[(&str, String)],
) -> (String, Value) {
    let v = json_of(&recto_env(
        ctx,
        &[
            "slurm",
            "ocr",
            "--citekeys",
            &keys.join(","),
            "--lang",
            "eng",
            "--workers",
            &shards.to_string(),
            "--cpus-per-task",
            "1",
            "--json",
        ],
        env,
    ));
    (v["job_id"].as_str().unwrap().to_owned(), v)
}

/// Wait for the job's record to leave `running` with no Slurm task left.
fn wait_for_merge(ctx: &TestContext, job: &str, env: &[(&str, String)], array: &str) {
    wait_until("the finalize job", 600, || {
        let queued = Command::new("squeue")
            .args(["-h", "-j", array])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(true);
        !queued && step_meta(ctx, "ocr", job)["status"] != "running"
    });
}

fn sbatch(env: &[(&str, String)], args: &[&str]) -> String {
    let o = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn slurm_array_of_four_shards_ocrs_forty_pages_like_one_machine() {
    let Some(env) = slurm() else {
        return;
    };
    let ctx = TestContext::new();
    let keys = books(&ctx, 4, 10);
    upload(&ctx);
    let (job, v) = submit(&ctx, &keys, 4, &env);
    let array = v["array_job_id"].as_str().unwrap().to_owned();
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["shards"]["slurm"]["array_job_id"], array.as_str());
    assert_eq!(
        m["shards"]["slurm"]["finalize_job_id"],
        v["finalize_job_id"]
    );
    wait_for_merge(&ctx, &job, &env, &array);
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed", "{m}");
    assert_eq!(m["pages"]["total"], 40);
    assert_eq!(done_and_resumed(&ctx, &job, 4), (40, 0));
    for i in 0..4 {
        let r = shard_record(&ctx, &job, i);
        let run = &r["runs"][0];
        assert!(
            run["slurm_job_id"].as_str().is_some(),
            "shard {i} ran outside Slurm: {r}"
        );
    }
    let st = stdout(&recto_env(&ctx, &["jobs", "status", &job], &env));
    assert!(st.contains("shards:") && st.contains("10/10"), "{st}");
    let reference = one_machine(&ctx, &keys);
    assert_same_as_one_machine(&ctx, &job, &reference, &keys);
}

#[test]
fn slurm_cancelled_shard_resubmitted_completes_with_nothing_done_twice() {
    let Some(env) = slurm() else {
        return;
    };
    let ctx = TestContext::new();
    let keys = books(&ctx, 2, 30);
    upload(&ctx);
    let (job, v) = submit(&ctx, &keys, 2, &env);
    let array = v["array_job_id"].as_str().unwrap().to_owned();
    wait_until("shard 0's first pages", 300, || {
        pages_done(&ctx, &job, 0, &env) >= 3
    });
    let o = Command::new("scancel")
        .arg(format!("{array}_0"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_for_merge(&ctx, &job, &env, &array);
    let before = pages_done(&ctx, &job, 0, &env);
    assert!(
        before < 30,
        "shard 0 ended before it was cancelled; the test needs more pages"
    );
    // The finalize job ran after the array ended: the job failed, naming
    // the cancelled shard and how to finish.
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "failed", "{m}");
    for why in m["failures"].as_object().unwrap().values() {
        let why = why.as_str().unwrap();
        assert!(
            why.contains("shard 0 (interrupted)") && !why.contains("shard 1"),
            "{why}"
        );
    }
    // Resubmit the cancelled task and the merge, as docs/scale.md says.
    let dir = ctx
        .data_dir()
        .join(format!("analytics/ocr/job_metadata/{job}.shards"));
    let again = sbatch(
        &env,
        &["--array=0", dir.join("ocr.sbatch").to_str().unwrap()],
    );
    sbatch(
        &env,
        &[
            &format!("--dependency=afterany:{again}"),
            dir.join("finalize.sbatch").to_str().unwrap(),
        ],
    );
    wait_for_merge(&ctx, &job, &env, &again);
    let m = step_meta(&ctx, "ocr", &job);
    assert_eq!(m["status"], "completed", "{m}");
    let (done, resumed) = done_and_resumed(&ctx, &job, 2);
    assert_eq!(resumed, before);
    assert_eq!(done + resumed, 60, "every page done exactly once");
    assert!(
        shard_record(&ctx, &job, 0)["runs"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
}

#[test]
fn slurm_shard_failing_on_a_broken_pdf_fails_that_citekey_only() {
    let Some(env) = slurm() else {
        return;
    };
    let ctx = TestContext::new();
    let mut keys = books(&ctx, 2, 3);
    write_pdf(&ctx, "broken", BROKEN);
    keys.push("broken".into());
    upload(&ctx);
    let (job, v) = submit(&ctx, &keys, 2, &env);
    wait_for_merge(&ctx, &job, &env, v["array_job_id"].as_str().unwrap());
    let m = step_meta(&ctx, "ocr", &job);
    // Every shard ended: the job is completed, the broken PDF failed beside.
    assert_eq!(m["status"], "completed", "{m}");
    assert_eq!(m["citekeys"]["failed"], 1, "{m}");
    let failures = m["failures"].as_object().unwrap();
    assert_eq!(failures.keys().collect::<Vec<_>>(), ["broken"], "{m}");
    let why = failures["broken"].as_str().unwrap();
    assert!(why.starts_with("shard ") && why.contains("broken"), "{why}");
    for k in ["book0", "book1"] {
        assert_eq!(m["per_citekey"][k]["pages"], 3, "{m}");
        assert!(
            ctx.data_dir()
                .join(format!("analytics/ocr/{k}/current"))
                .exists()
        );
    }
    assert_eq!(m["citekeys"]["successful"], 2);
}

// ----- the per-citekey steps in shards ----------------------------------------

#[test]
fn a_submission_slurm_refuses_leaves_no_job_running() {
    // A stand-in `sbatch` (beside the real cluster of the tests above) that
    // answers --version and refuses every script, as a controller that is
    // down or a partition that does not exist would.
    let ctx = TestContext::new();
    let bin = ctx.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let sbatch = bin.join("sbatch");
    std::fs::write(
        &sbatch,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'slurm 22.05'; exit 0; }\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let keys = books(&ctx, 1, 1);
    upload(&ctx);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = recto_env(
        &ctx,
        &[
            "slurm",
            "ocr",
            "--citekeys",
            &keys[0],
            "--workers",
            "2",
            "--partition",
            "nope",
        ],
        &[("PATH", path)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid partition"), "{}", stderr(&o));
    let jobs: Vec<String> =
        serde_json::from_slice(&recto(&ctx, &["jobs", "list", "--step", "ocr", "--json"]).stdout)
            .unwrap();
    assert_eq!(jobs.len(), 1);
    let m = step_meta(&ctx, "ocr", &jobs[0]);
    assert_eq!(m["status"], "failed", "{m}");
    assert!(
        m["error"].as_str().unwrap().contains("invalid partition"),
        "{m}"
    );
    assert!(
        std::fs::read_to_string(ctx.data_dir().join(format!(
            "analytics/ocr/job_metadata/{}.shards/ocr.sbatch",
            jobs[0]
        )))
        .unwrap()
        .contains("#SBATCH --partition=nope")
    );
}
