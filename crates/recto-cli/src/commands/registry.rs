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
            // The search index is derived data too: rebuilt when it exists.
            let search = if recto_library::search::index_dir(&reg).exists() {
                let req = recto_steps::search::IndexRequest {
                    selection: recto_steps::harness::Selection::All,
                    rebuild: true,
                };
                Some(recto_steps::search::run_index(
                    &reg,
                    &req,
                    &recto_steps::progress::NoProgress,
                )?)
            } else {
                None
            };
            if json {
                output::json(&report)?;
            } else {
                if let Some(s) = &search {
                    output::line(format!(
                        "rebuilt the search index: {} pages of {} citekeys",
                        s.pages,
                        s.indexed.len()
                    ))?;
                }
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
