//! `recto export`: the export step.

use recto_steps::driver::Request;
use recto_steps::export::{ExportCitekey, ExportStep, Format};

use super::Outcome;
use super::citekey_step::{self, Printing, Report};
use crate::cli::ExportArgs;
use crate::config::Config;

pub fn run(args: ExportArgs, config: &Config) -> anyhow::Result<Outcome> {
    let formats = args
        .format
        .iter()
        .map(|f| Format::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let step = ExportStep {
        formats,
        cache_dir: config.data_dir.join("cache").join("sources"),
        password: args.password.clone(),
        decrypt: args.decrypt,
        bookmarks: !args.no_bookmarks,
        rotate_pages: !args.no_rotate_pages,
        deskew_pages: !args.no_deskew_pages,
    };
    let req = Request {
        selection: args.which.selection(),
        input_job: args.ocr_job_id.clone(),
        sharding: args.which.sharding(&args.sharding)?,
        output: args.out.clone(),
    };
    let printing = Printing {
        json: args.json,
        quiet: args.quiet,
    };
    let Some(flat) = args.flat.clone() else {
        return citekey_step::run(&step, &req, printing, config);
    };
    let registry = config.registry();
    citekey_step::run_then(&step, &req, printing, config, |out| {
        let written = recto_steps::export::write_flat(&registry, &out.recorded.per_citekey, &flat)?;
        if !printing.quiet && !printing.json {
            crate::output::line(format!(
                "{} written to {}",
                crate::output::count(written.len(), "file"),
                flat.display()
            ))?;
        }
        Ok(())
    })
}

impl Report for ExportStep {
    fn line(key: &str, c: &ExportCitekey) -> String {
        let files: Vec<&str> = c.files.keys().map(String::as_str).collect();
        format!("{key}: {} in {}", files.join(", "), c.dir)
    }
}
