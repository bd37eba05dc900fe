//! The `recto` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    recto_cli::ensure_single_threaded_openmp();
    recto_cli::handle_interrupts();
    ExitCode::from(recto_cli::run_cli(std::env::args_os()))
}
