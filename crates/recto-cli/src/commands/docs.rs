//! `recto completions` and `recto man`: the shell completions and man
//! pages, generated from the same clap types that parse the command line,
//! so they cannot drift from it.

use std::path::Path;

use clap::CommandFactory;

use super::Outcome;
use crate::cli::Cli;
use crate::output;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "recto", &mut buf);
    output::text(&String::from_utf8(buf)?)?;
    Ok(Outcome::Success)
}

/// The man page on stdout, or `recto.1` and `recto-<command>.1` for every
/// command in `dir`.
pub fn man(dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)?;
            output::line(format!("man pages written to {}", dir.display()))?;
        }
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            output::text(&String::from_utf8(buf)?)?;
        }
    }
    Ok(Outcome::Success)
}
