//! A sharded OCR job on Slurm: the array script (one task per shard), the
//! finalize script (run after every task ended, in any state), and their
//! submission with `sbatch`.
//!
//! The scripts name the recto binary, the data directory and the job; no
//! secret goes in them: store credentials and a PDF password reach the
//! tasks through the environment `sbatch` passes on (`--export=ALL`, its
//! default).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Slurm could not be asked (no `sbatch`, or it refused the script).
#[derive(Debug, thiserror::Error)]
#[error("slurm: {0}")]
pub struct SlurmError(String);

/// What the scripts ask Slurm for.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// Array tasks: the job's shards.
    pub shards: usize,
    pub cpus_per_task: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub mem: Option<String>,
    /// The recto binary the tasks run (this one, on the shared filesystem).
    pub exe: PathBuf,
    pub data_dir: PathBuf,
}

/// Quote for a POSIX shell (a path with a NUL byte cannot be named in a
/// script at all; it is left as the shell would refuse it).
fn quote(s: &str) -> String {
    shlex::try_quote(s).map_or_else(|_| s.to_owned(), |q| q.into_owned())
}

fn header(name: &str, opts: &SlurmOptions, out: &Path) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={name}\n"));
    if let Some(p) = &opts.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &opts.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(m) = &opts.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    s.push_str(&format!("#SBATCH --output={}\n", out.display()));
    s.push_str("#SBATCH --open-mode=append\n");
    s
}

fn env(opts: &SlurmOptions) -> String {
    format!(
        "export RECTO_DATA_DIR={}\nexport OMP_THREAD_LIMIT=1\n",
        quote(&opts.data_dir.display().to_string())
    )
}

/// The array script: task `i` runs shard `i`; a requeued task (node
/// failure, pre-emption) resumes its shard.
pub fn array_script(job: &str, dir: &Path, opts: &SlurmOptions) -> String {
    let mut s = header(
        &format!("recto-ocr-{job}"),
        opts,
        &dir.join("slurm-%A_%a.out"),
    );
    s.push_str(&format!(
        "#SBATCH --array=0-{}\n",
        opts.shards.saturating_sub(1)
    ));
    s.push_str(&format!(
        "#SBATCH --cpus-per-task={}\n",
        opts.cpus_per_task.max(1)
    ));
    s.push_str("#SBATCH --requeue\n");
    s.push_str(&format!(
        "# recto ocr job {job}: one task per shard (written by recto slurm ocr)\n"
    ));
    s.push_str(&env(opts));
    s.push_str(&format!(
        "exec {} ocr --quiet --job-id {job} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --workers \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        quote(&opts.exe.display().to_string()),
        opts.shards
    ));
    s
}

/// The finalize script: merges the shards into the job's record.
pub fn finalize_script(job: &str, dir: &Path, opts: &SlurmOptions) -> String {
    let mut s = header(
        &format!("recto-ocr-{job}-finalize"),
        opts,
        &dir.join("slurm-finalize-%j.out"),
    );
    s.push_str("#SBATCH --cpus-per-task=1\n");
    s.push_str(&format!(
        "# recto ocr job {job}: merge the shards once every task has ended\n"
    ));
    s.push_str(&env(opts));
    s.push_str(&format!(
        "exec {} ocr --quiet --finalize {job}\n",
        quote(&opts.exe.display().to_string())
    ));
    s
}

/// Whether `sbatch` can be run here (checked before a job is planned, so
/// that no job is recorded that nothing will run).
pub fn available() -> Result<(), SlurmError> {
    match Command::new("sbatch").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(SlurmError(format!(
            "sbatch --version failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))),
        Err(e) => Err(SlurmError(format!(
            "cannot run sbatch ({e}): is this a Slurm login node? (--dry-run prints the scripts)"
        ))),
    }
}

/// `sbatch --parsable [extra] script`: the Slurm job id.
pub fn submit(script: &Path, extra: &[String]) -> Result<String, SlurmError> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .map_err(|e| {
            SlurmError(format!(
                "cannot run sbatch ({e}): is this a Slurm login node? (--dry-run prints the scripts)"
            ))
        })?;
    if !out.status.success() {
        return Err(SlurmError(format!(
            "sbatch {} refused it: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `id` or `id;cluster`.
    let id = text.trim().split(';').next().unwrap_or("").to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlurmError(format!("sbatch printed no job id: {text:?}")));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_job_shards_and_resources_and_quote_paths() {
        let opts = SlurmOptions {
            shards: 4,
            cpus_per_task: 2,
            partition: Some("short".into()),
            time: Some("01:00:00".into()),
            mem: Some("4G".into()),
            exe: "/opt/it's/recto".into(),
            data_dir: "/shared/data".into(),
        };
        let s = array_script("2026-01-01_21-45-14", Path::new("/d"), &opts);
        for want in [
            "#SBATCH --array=0-3\n",
            "#SBATCH --cpus-per-task=2\n",
            "#SBATCH --partition=short\n",
            "#SBATCH --time=01:00:00\n",
            "#SBATCH --mem=4G\n",
            "#SBATCH --requeue\n",
            "export RECTO_DATA_DIR=/shared/data\n",
        ] {
            assert!(s.contains(want), "{want:?} not in\n{s}");
        }
        // The binary's path with a quote in it comes back whole from a
        // shell's reading of the exec line.
        let exec = s.lines().find(|l| l.starts_with("exec ")).unwrap();
        let words = shlex::split(exec).unwrap();
        assert_eq!(words[1], "/opt/it's/recto", "{exec}");
        assert!(
            exec.ends_with("ocr --quiet --job-id 2026-01-01_21-45-14 --shard \"${SLURM_ARRAY_TASK_ID}/4\" --workers \"${SLURM_CPUS_PER_TASK:-1}\""),
            "{exec}"
        );
        let f = finalize_script("2026-01-01_21-45-14", Path::new("/d"), &opts);
        assert!(
            f.contains("ocr --quiet --finalize 2026-01-01_21-45-14\n"),
            "{f}"
        );
        assert!(!f.contains("--array"), "{f}");
    }
}
