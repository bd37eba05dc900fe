//! `recto registry rebuild`.

use super::Outcome;
use crate::cli::RegistryCommand;
use crate::config::Config;
use crate::output;

pub fn run(cmd: RegistryCommand, config: &Config) -> anyhow::Result<Outcome> {
    let reg = config.registry();
    match cmd {
        RegistryCommand::Rebuild { json } => {
            let report = reg.rebuild_central_registry()?;
            if json {
                output::json(&report)?;
            } else {
                output::line(format!(
                    "rebuilt {} job registries from {} metadata files",
                    report.jobs, report.records
                ))?;
                for p in &report.problems {
                    tracing::error!("skipped {}: {}", p.path.display(), p.reason);
                }
            }
            Ok(if report.problems.is_empty() {
                Outcome::Success
            } else {
                Outcome::Partial
            })
        }
    }
}
