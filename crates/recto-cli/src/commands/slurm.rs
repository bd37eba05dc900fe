//! `recto slurm ocr`: one OCR job as a Slurm array and its finalize job.

use crate::slurm::{self, SlurmOptions};
use recto_steps::ocr::shard::{self, SlurmIds};

use super::{CliError, Outcome};
use crate::cli::SlurmOcrArgs;
use crate::config::Config;
use crate::output;

pub fn ocr(args: SlurmOcrArgs, config: &Config) -> anyhow::Result<Outcome> {
    let o = &args.ocr;
    for (given, flag) in [
        (o.resume.is_some(), "--resume"),
        (o.shard.is_some(), "--shard"),
        (o.shards.is_some(), "--shards"),
        (o.finalize.is_some(), "--finalize"),
        (o.output.is_some(), "--output"),
    ] {
        if given {
            anyhow::bail!(CliError::Usage(format!(
                "recto slurm ocr plans a new job: {flag} is not for it (--workers sets the shards)"
            )));
        }
    }
    let shards = o.workers.unwrap_or(4);
    if shards == 0 || args.cpus_per_task == 0 {
        anyhow::bail!(CliError::Usage(
            "--workers and --cpus-per-task must be at least 1".into()
        ));
    }
    let exe = std::env::current_exe()?;
    let data_dir = std::path::absolute(&config.data_dir)?;
    let opts = SlurmOptions {
        shards,
        cpus_per_task: args.cpus_per_task,
        partition: args.partition.clone(),
        time: args.time.clone(),
        mem: args.mem.clone(),
        exe,
        data_dir,
    };
    let mut req = super::ocr::request(o, config)?;
    // Pages at once within a task: its CPUs.
    req.workers = Some(args.cpus_per_task);
    let registry = config.registry();
    if o.dry_run {
        // Nothing recorded: the scripts as they would be, for a job id to come.
        let job = "<job-id>";
        let dir = registry
            .layout()
            .step_metadata_dir(&recto_registry::StepName::parse("ocr")?)
            .join(format!("{job}.shards"));
        let array = slurm::array_script(job, &dir, &opts);
        let fin = slurm::finalize_script(job, &dir, &opts);
        if o.json {
            output::json(&serde_json::json!({"array_script": array, "finalize_script": fin}))?;
        } else {
            output::text(&format!(
                "# the array ({shards} shards): sbatch --parsable {dir}/ocr.sbatch\n{array}\n# then, after every task (afterany): sbatch --dependency=afterany:<array id> {dir}/finalize.sbatch\n{fin}\n# dry run: nothing recorded or submitted\n",
                dir = dir.display()
            ))?;
        }
        return Ok(Outcome::Success);
    }
    slurm::available()?;
    let rt = super::runtime()?;
    let (job, plan) = rt.block_on(shard::plan_sharded(&registry, &req, shards))?;
    let dir = shard::shards_dir(&registry, &job);
    let array_path = dir.join("ocr.sbatch");
    let fin_path = dir.join("finalize.sbatch");
    let write = |p: &std::path::Path, text: String| {
        recto_fs::write_atomic(p, text.as_bytes(), recto_fs::Durability::Synced)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    };
    write(&array_path, slurm::array_script(job.as_str(), &dir, &opts))?;
    write(&fin_path, slurm::finalize_script(job.as_str(), &dir, &opts))?;
    // A submission Slurm refuses leaves no job recorded as running.
    let submitted = slurm::submit(&array_path, &[]).and_then(|array_id| {
        slurm::submit(&fin_path, &[format!("--dependency=afterany:{array_id}")])
            .map(|fin_id| (array_id, fin_id))
    });
    let (array_id, fin_id) = match submitted {
        Ok(ids) => ids,
        Err(e) => {
            shard::abandon(&registry, &job, &e.to_string())?;
            return Err(e.into());
        }
    };
    shard::record_slurm(
        &registry,
        &job,
        SlurmIds {
            array_job_id: array_id.clone(),
            finalize_job_id: fin_id.clone(),
            script: array_path.display().to_string(),
            finalize_script: fin_path.display().to_string(),
        },
    )?;
    if o.json {
        output::json(&serde_json::json!({
            "job_id": job.as_str(),
            "shards": shards,
            "array_job_id": array_id,
            "finalize_job_id": fin_id,
            "plan": plan,
        }))?;
    } else if o.quiet {
        output::line(job.as_str())?;
    } else {
        super::ocr::print_plan(&job, &plan, false, false)?;
        output::line(format!(
            "submitted: array {array_id} ({shards} tasks), finalize {fin_id} (afterany); follow with recto jobs status {job}"
        ))?;
    }
    Ok(Outcome::Success)
}
